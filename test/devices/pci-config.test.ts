/**
 * PCI configuration space against the PCI Local Bus Specification 3.0: configuration mechanism #1
 * (§3.2.2.3.2: CONFIG_ADDRESS layout, reserved bits reading 0, byte/word/dword CONFIG_DATA accesses),
 * the type 0 header (§6.1-6.2: read-only IDs, command/status with write-1-to-clear error bits,
 * interrupt line/pin), BAR sizing (§6.2.5.1: write all ones, size = ~(value & ~0xF) + 1, unimplemented
 * BARs read 0), the capability list and the MSI capability (§6.7, §6.8.1, §6.8.3.4: the function
 * replaces the low log2(vectors) data bits), and the absent-function master abort (all ones). The host
 * bridge IDs are those of QEMU's pc machine (8086:1237, revision 02, class 060000).
 */
import { describe, expect, it } from "vitest";
import { PortBus } from "../../src/devices/port-bus.ts";
import { PciConfigSpace } from "../../src/devices/pci-config.ts";
import { PciFunction, type PciFunctionOptions } from "../../src/devices/pci-function.ts";
import type { PciMsiConfig } from "../../src/devices/pci-msi.ts";

function board(extra: Partial<PciFunctionOptions> = {}) {
  const pci = new PciConfigSpace();
  const bus = new PortBus();
  bus.map(0xcf8, 8, pci);
  const barChanges: [number, number | null][] = [];
  const msiChanges: PciMsiConfig[] = [];
  const commands: number[] = [];
  const nic = new PciFunction({
    vendorId: 0x8086, deviceId: 0x100e, classCode: 0x020000, revision: 3, subsystemVendorId: 0x1af4, subsystemId: 0x1100,
    bars: [{ kind: "mem32", size: 0x20000 }, { kind: "io", size: 0x40 }, null, { kind: "mem32", size: 0x100000, prefetchable: true }],
    interruptPin: 1, interruptLine: 11, msi: { vectors: 4 },
    onBarChange: (b, a) => barChanges.push([b, a]), onMsiChange: (m) => msiChanges.push(m), onCommandChange: (c) => commands.push(c),
    ...extra,
  });
  pci.add(3, 0, nic);
  const addr = (dev: number, fn: number, reg: number) => (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0;
  const rd = (dev: number, reg: number, size: 1 | 2 | 4 = 4, fn = 0) => {
    bus.write(0xcf8, 4, addr(dev, fn, reg & 0xfc));
    const v = bus.read(0xcfc + (reg & 3), size);
    return size === 4 ? v >>> 0 : v;
  };
  const wr = (dev: number, reg: number, v: number, size: 1 | 2 | 4 = 4, fn = 0) => {
    bus.write(0xcf8, 4, addr(dev, fn, reg & 0xfc));
    bus.write(0xcfc + (reg & 3), size, v);
  };
  return { pci, bus, nic, rd, wr, barChanges, msiChanges, commands };
}

describe("PCI configuration mechanism #1", () => {
  it("latches CONFIG_ADDRESS from dword writes only, reserved bits 30:24 and 1:0 reading 0", () => {
    const b = board();
    b.bus.write(0xcf8, 4, 0xffffffff);
    expect(b.bus.read(0xcf8, 4) >>> 0).toBe(0x80fffffc);
    b.bus.write(0xcf8, 1, 0x00); // a byte write is not CONFIG_ADDRESS
    b.bus.write(0xcfa, 2, 0x0000);
    expect(b.bus.read(0xcf8, 4) >>> 0).toBe(0x80fffffc);
    expect(b.bus.read(0xcf8, 1)).toBe(0xff);
  });

  it("finds the host bridge at 00:00.0 (8086:1237, rev 02, class 060000)", () => {
    const b = board();
    expect(b.rd(0, 0x00)).toBe(0x12378086);
    expect(b.rd(0, 0x08)).toBe(0x06000002);
    expect(b.rd(0, 0x0c)).toBe(0x00000000);
  });

  it("reads all ones for absent devices, functions, other buses and with the enable bit clear", () => {
    const b = board();
    expect(b.rd(1, 0x00)).toBe(0xffffffff);
    expect(b.rd(3, 0x00, 4, 1)).toBe(0xffffffff);
    expect(b.rd(5, 0x00, 2)).toBe(0xffff);
    expect(b.rd(5, 0x02, 1)).toBe(0xff);
    b.bus.write(0xcf8, 4, 0x80010000 | (3 << 11)); // bus 1
    expect(b.bus.read(0xcfc, 4) >>> 0).toBe(0xffffffff);
    b.bus.write(0xcf8, 4, 3 << 11); // bit 31 clear
    expect(b.bus.read(0xcfc, 4) >>> 0).toBe(0xffffffff);
  });

  it("reaches each byte and word of a register through 0xCFC-0xCFF", () => {
    const b = board();
    expect(b.rd(3, 0x00)).toBe(0x100e8086);
    expect(b.rd(3, 0x02, 2)).toBe(0x100e);
    expect(b.rd(3, 0x01, 1)).toBe(0x80);
    expect(b.rd(3, 0x03, 1)).toBe(0x10);
    expect(b.rd(3, 0x08)).toBe(0x02000003); // class 02 00 00, revision 3
    expect(b.rd(3, 0x2c)).toBe(0x11001af4);
    expect(b.rd(3, 0x3c)).toBe(0x0000010b); // pin INTA#, line 11
  });

  it("keeps IDs, class and interrupt pin read-only; interrupt line and cache line size writable", () => {
    const b = board();
    b.wr(3, 0x00, 0x12345678);
    b.wr(3, 0x08, 0xffffffff);
    b.wr(3, 0x3c, 0xffff0005);
    b.wr(3, 0x0c, 0x10, 1);
    expect(b.rd(3, 0x00)).toBe(0x100e8086);
    expect(b.rd(3, 0x08)).toBe(0x02000003);
    expect(b.rd(3, 0x3c)).toBe(0x00000105);
    expect(b.rd(3, 0x0c, 1)).toBe(0x10);
  });

  it("sets header type bit 7 on function 0 once the device has another function", () => {
    const b = board();
    expect(b.rd(3, 0x0e, 1)).toBe(0x00);
    b.pci.add(3, 2, new PciFunction({ vendorId: 0x8086, deviceId: 0x7113, classCode: 0x068000 }));
    expect(b.rd(3, 0x0e, 1)).toBe(0x80);
    expect(b.rd(3, 0x00, 4, 2)).toBe(0x71138086);
    expect(() => b.pci.add(3, 2, new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 }))).toThrow(/taken/);
    expect(b.pci.list().map((e) => [e.device, e.fn])).toEqual([[0, 0], [3, 0], [3, 2]]);
  });
});

describe("PCI command/status and BARs (§6.2.5.1 sizing)", () => {
  const size = (v: number, io: boolean) => (~(v & (io ? ~3 : ~15)) + 1) >>> 0;

  it.each([
    [0, 0xfffe0000, 0x20000, false],
    [1, 0xffffffc1, 0x40, true],
    [3, 0xfff00008, 0x100000, false],
  ])("BAR%i reads %s after writing all ones: %i bytes", (bar, readback, bytes, io) => {
    const b = board();
    b.wr(3, 0x10 + 4 * bar, 0xffffffff);
    const v = b.rd(3, 0x10 + 4 * bar);
    expect(v).toBe(readback);
    expect(size(v, io)).toBe(bytes);
  });

  it("reads 0 from unimplemented BARs even after writing all ones", () => {
    const b = board();
    b.wr(3, 0x18, 0xffffffff);
    b.wr(3, 0x20, 0xffffffff);
    expect([b.rd(3, 0x18), b.rd(3, 0x20), b.rd(3, 0x24)]).toEqual([0, 0, 0]);
  });

  it("reports a BAR's address to the board when decoding is on, and null when it is turned off", () => {
    const b = board();
    b.wr(3, 0x10, 0xfebc0000);
    b.wr(3, 0x14, 0xc001); // type bit stays 1
    expect(b.rd(3, 0x14)).toBe(0xc001);
    expect(b.barChanges).toEqual([]);
    b.wr(3, 0x04, 0x0003, 2);
    expect(b.barChanges).toEqual([[0, 0xfebc0000], [1, 0xc000]]);
    b.wr(3, 0x10, 0xfebe0000); // moved while decoded
    b.wr(3, 0x04, 0x0001, 2); // memory decode off
    expect(b.barChanges.slice(2)).toEqual([[0, 0xfebe0000], [0, null]]);
    expect(b.commands).toEqual([0x0003, 0x0001]);
  });

  it("treats a sizing write with decoding on as not decoded (QEMU pci_bar_address) and restores after", () => {
    const b = board();
    b.wr(3, 0x10, 0xfebc0000);
    b.wr(3, 0x04, 0x0002, 2);
    b.wr(3, 0x10, 0xffffffff);
    b.wr(3, 0x10, 0xfebc0000);
    expect(b.barChanges).toEqual([[0, 0xfebc0000], [0, null], [0, 0xfebc0000]]);
    expect(b.nic.decoded(0)).toBe(0xfebc0000);
  });

  it("keeps only the writable command bits and clears status error bits on a write of 1", () => {
    const b = board();
    b.wr(3, 0x04, 0xffff, 2);
    expect(b.rd(3, 0x04, 2)).toBe(0x0547);
    b.nic.state.config[0x07] |= 0x20; // a latched error (bit 13, received master abort)
    b.wr(3, 0x06, 0x0000, 2);
    expect(b.rd(3, 0x06, 2)).toBe(0x2010);
    b.wr(3, 0x06, 0x2000, 2);
    expect(b.rd(3, 0x06, 2)).toBe(0x0010); // capabilities bit stays
    b.nic.setInterruptStatus(true);
    expect(b.rd(3, 0x06, 2) & 0x08).toBe(0x08);
  });
});

describe("PCI capability list and MSI (§6.7, §6.8.1)", () => {
  it("links the MSI capability from the capabilities pointer, with status bit 4 set", () => {
    const b = board();
    expect(b.rd(3, 0x06, 2) & 0x10).toBe(0x10);
    const ptr = b.rd(3, 0x34, 1);
    expect(ptr).toBe(0x40);
    expect(b.rd(3, ptr, 1)).toBe(0x05);
    expect(b.rd(3, ptr + 1, 1)).toBe(0x00);
    expect(b.rd(3, ptr + 2, 2)).toBe(0x0004); // 4 vectors capable (MMC = 2), 32-bit address, disabled
  });

  it("has no capability list without MSI", () => {
    const b = board({ msi: undefined });
    expect(b.rd(3, 0x06, 2) & 0x10).toBe(0);
    expect(b.rd(3, 0x34, 1)).toBe(0);
  });

  it("lets a driver program address, data, vectors and enable, and tells the device", () => {
    const b = board();
    b.wr(3, 0x44, 0xfee01003); // low two bits are reserved
    b.wr(3, 0x48, 0x4041, 2);
    expect(b.rd(3, 0x44)).toBe(0xfee01000);
    expect(b.nic.msiMessage()).toBe(null); // not enabled
    b.wr(3, 0x42, 0x0021, 2); // enable, 4 vectors
    expect(b.msiChanges.at(-1)).toEqual({ enabled: true, address: 0xfee01000, data: 0x4041, vectors: 4 });
    expect(b.nic.msiMessage(3)).toBe(null); // bus mastering is off
    b.wr(3, 0x04, 0x0006, 2);
    expect(b.nic.msiMessage(3)).toEqual({ address: 0xfee01000, data: 0x4043 });
    expect(b.nic.msiMessage(0)).toEqual({ address: 0xfee01000, data: 0x4040 });
  });

  it("clamps multiple message enable to what the function is capable of", () => {
    const b = board();
    b.wr(3, 0x42, 0x0051, 2); // asks for 32 vectors
    expect(b.rd(3, 0x42, 2)).toBe(0x0025);
    expect(b.nic.msi()!.vectors).toBe(4);
  });

  it("places the data at +0Ch in the 64-bit form, with a writable upper address", () => {
    const b = board({ msi: { address64: true } });
    expect(b.rd(3, 0x42, 2)).toBe(0x0080);
    b.wr(3, 0x44, 0xfee00000);
    b.wr(3, 0x48, 0x00000000);
    b.wr(3, 0x4c, 0x0031, 2);
    b.wr(3, 0x42, 0x0001, 2);
    expect(b.msiChanges.at(-1)).toEqual({ enabled: true, address: 0xfee00000, data: 0x31, vectors: 1 });
  });
});
