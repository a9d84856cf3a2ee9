/**
 * The Machine as the core's SystemBus (shared/DESIGN.md §3): port I/O reaches the devices mapped on its
 * PortBus at the ports the assembler of the machine chose; physical space outside RAM is open bus.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/cpu/machine.ts";
import { Debugcon } from "../../src/devices/debugcon.ts";
import { PortBus } from "../../src/devices/port-bus.ts";

describe("Machine", () => {
  it("routes the core's OUT and IN to the port bus", () => {
    const out: number[] = [];
    const ports = new PortBus();
    ports.map(0x3f8, 1, new Debugcon((b) => out.push(b), 0x42)); // anywhere the board likes
    const m = new Machine({ ramBytes: 1 << 20, ports });
    // mov dx, 0x3f8; mov al, 'Z'; out dx, al; in al, dx; mov [0x1000], al; hlt
    m.ram.set([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x5a, 0xee, 0xec, 0xa2, 0x00, 0x10, 0x00, 0x00, 0xf4], 0x500);
    m.core.resetToFlat32(0x500);
    expect(m.core.run(100)).toBe("halt");
    expect(out).toEqual([0x5a]);
    expect(m.ram[0x1000]).toBe(0x42);
  });

  it("reads all ones and ignores writes outside RAM (open bus)", () => {
    const m = new Machine({ ramBytes: 1 << 20 });
    expect(m.readPhys(0xfee00000, 4)).toBe(-1);
    expect(m.readPhys(0x200000, 2)).toBe(0xffff);
    expect(m.readPhys(0x200000, 1)).toBe(0xff);
    m.writePhys(0x200000, 4, 1);
    expect(m.core.read32(0x200000)).toBe(-1);
  });

  it("refuses a RAM size that is not a positive multiple of 4 KiB", () => {
    expect(() => new Machine({ ramBytes: 1000 })).toThrow(/ramBytes 1000 must be a positive multiple of 4096/);
    expect(() => new Machine({ ramBytes: 0 })).toThrow(/ramBytes 0/);
  });
});
