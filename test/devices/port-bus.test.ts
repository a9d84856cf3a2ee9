/** The port dispatcher: mapping, offsets, open bus, splitting of accesses wider than a device takes. */
import { describe, expect, it } from "vitest";
import { PortBus, type PortAccessSize, type PortDevice } from "../../src/devices/port-bus.ts";

class Recorder implements PortDevice {
  readonly log: string[] = [];
  constructor(readonly name: string, readonly maxAccessSize: PortAccessSize = 4, private readonly value = 0x12345678) {}
  portRead(offset: number, size: PortAccessSize): number {
    this.log.push(`r${size}@${offset}`);
    return this.value >>> (8 * offset);
  }
  portWrite(offset: number, size: PortAccessSize, value: number): void {
    this.log.push(`w${size}@${offset}=${(value >>> 0).toString(16)}`);
  }
}

describe("PortBus", () => {
  it("reads all ones from unclaimed ports and ignores writes to them", () => {
    const bus = new PortBus();
    expect(bus.read(0x3f8, 1)).toBe(0xff);
    expect(bus.read(0x3f8, 2)).toBe(0xffff);
    expect(bus.read(0x3f8, 4)).toBe(-1);
    bus.write(0x3f8, 4, 0x1234);
  });

  it("gives a device offsets into its range, not port numbers", () => {
    const bus = new PortBus();
    const d = new Recorder("dev");
    bus.map(0x100, 8, d);
    bus.write(0x103, 1, 0xab);
    bus.read(0x104, 2);
    expect(d.log).toEqual(["w1@3=ab", "r2@4"]);
  });

  it("hands a whole access to a device that takes it and masks the value to the access size", () => {
    const bus = new PortBus();
    const d = new Recorder("dev", 4, 0xcafebabe);
    bus.map(0x100, 4, d);
    expect(bus.read(0x100, 4)).toBe(0xcafebabe | 0);
    expect(bus.read(0x100, 1)).toBe(0xbe);
    bus.write(0x100, 2, 0x12345);
    expect(d.log).toEqual(["r4@0", "r1@0", "w2@0=2345"]);
  });

  // Observed with qemu-system-i386 7.2 (-nodefaults, isa-debug-exit at 0xf4 iosize 4, debugcon at 0xe9):
  // "in ax, dx" at 0xe9 gives 0x0000; "in ax, 0xe8" gives 0xffff; "out 0xe8, ax" prints nothing;
  // "out 0xf6, eax" and "out 0xf2, eax" do not exit; "out 0xf7, al" does.
  it("drops an access wider than the device accepts: reads 0, writes nothing (QEMU)", () => {
    const bus = new PortBus();
    const d = new Recorder("narrow", 1, 0x44332211);
    bus.map(0x200, 4, d);
    expect(bus.read(0x200, 4)).toBe(0);
    expect(bus.read(0x200, 2)).toBe(0);
    bus.write(0x200, 2, 0xbeef);
    expect(bus.read(0x203, 1)).toBe(0x44);
    expect(d.log).toEqual(["r1@3"]);
  });

  it("drops an access that runs past the end of the range or is unaligned; routes by the first port", () => {
    const bus = new PortBus();
    const d = new Recorder("exit", 4);
    bus.map(0xf4, 4, d);
    bus.write(0xf6, 4, 5); // past the end
    bus.write(0xf5, 2, 6); // unaligned
    bus.write(0xf2, 4, 7); // starts on an unclaimed port: open bus, although it covers 0xf4-0xf5
    expect(bus.read(0xf3, 2)).toBe(0xffff);
    bus.write(0xf7, 1, 8);
    bus.write(0xf6, 2, 9);
    expect(d.log).toEqual(["w1@3=8", "w2@2=9"]);
  });

  it("lets a device accept unaligned accesses when it says so", () => {
    const bus = new PortBus();
    const d = Object.assign(new Recorder("u", 4), { unalignedAccess: true });
    bus.map(0x300, 4, d);
    bus.write(0x301, 2, 1);
    expect(d.log).toEqual(["w2@1=1"]);
  });

  it("refuses overlapping mappings and ranges outside the port space, naming both devices", () => {
    const bus = new PortBus();
    bus.map(0xf4, 4, new Recorder("isa-debug-exit"));
    expect(() => bus.map(0xf6, 2, new Recorder("other"))).toThrow(/other at 0xf6-0xf7 overlaps isa-debug-exit at 0xf4-0xf7/);
    expect(() => bus.map(0xfffe, 4, new Recorder("tail"))).toThrow(/leaves the port space/);
    expect(() => bus.map(-1, 1, new Recorder("neg"))).toThrow(/not a port number/);
    expect(bus.mappings().map((m) => m.device.name)).toEqual(["isa-debug-exit"]);
  });

  it("wraps port numbers at 16 bits", () => {
    const bus = new PortBus();
    const d = new Recorder("dev");
    bus.map(0x10, 1, d);
    bus.write(0x10010, 1, 1);
    expect(d.log).toEqual(["w1@0=1"]);
  });
});
