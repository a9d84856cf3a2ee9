/**
 * debugcon, isa-debug-exit and the POST-code port, checked against the behaviour of QEMU's
 * hw/char/debugcon.c and hw/misc/debugexit.c (readback 0xE9; exit status (v << 1) | 1).
 */
import { describe, expect, it } from "vitest";
import { PortBus } from "../../src/devices/port-bus.ts";
import { Debugcon } from "../../src/devices/debugcon.ts";
import { debugExitStatus, IsaDebugExit } from "../../src/devices/isa-debug-exit.ts";
import { PostCodePort } from "../../src/devices/post-code-port.ts";

describe("debugcon", () => {
  it("sends each written byte to the sink and reads back 0xE9", () => {
    const out: number[] = [];
    const bus = new PortBus();
    bus.map(0xe9, 1, new Debugcon((b) => out.push(b)));
    bus.write(0xe9, 1, 0x48);
    bus.write(0xe9, 1, 0x169);
    expect(out).toEqual([0x48, 0x69]);
    expect(bus.read(0xe9, 1)).toBe(0xe9);
  });

  it("ignores 16- and 32-bit accesses, which read 0 (observed on qemu-system-i386 7.2)", () => {
    const out: number[] = [];
    const bus = new PortBus();
    bus.map(0xe9, 1, new Debugcon((b) => out.push(b)));
    bus.write(0xe9, 2, 0x4241);
    bus.write(0xe9, 4, 0x44434241);
    expect(out).toEqual([]);
    expect(bus.read(0xe9, 2)).toBe(0);
    expect(bus.read(0xe9, 4)).toBe(0);
  });

  it("can be given another readback byte (Bochs and QEMU make it configurable)", () => {
    expect(new Debugcon(() => {}, 0x5a).portRead(0, 1)).toBe(0x5a);
  });
});

describe("isa-debug-exit", () => {
  it.each([
    [0, 1], [1, 3], [0x10, 0x21], [0x31, 0x63], [0x7f, 0xff], [0x80, 0x01], [0xff, 0xff],
  ])("a write of %i ends with status %i ((v << 1) | 1, 8 bits as the host sees it)", (v, status) => {
    expect(debugExitStatus(v)).toBe(status);
  });

  it("reports every width and offset with the value written, whatever the offset; reads 0", () => {
    const got: [number, number][] = [];
    const bus = new PortBus();
    bus.map(0xf4, 4, new IsaDebugExit((status, value) => got.push([status, value])));
    bus.write(0xf4, 1, 0x10);
    bus.write(0xf5, 1, 0x10);
    bus.write(0xf6, 2, 0x1234);
    bus.write(0xf4, 4, 0x80000001);
    expect(got).toEqual([
      [0x21, 0x10], [0x21, 0x10], [0x69, 0x1234], [0x03, 0x80000001],
    ]);
    expect(bus.read(0xf4, 4)).toBe(0);
    expect(bus.read(0xf4, 1)).toBe(0);
  });
});

describe("POST-code port", () => {
  it("passes codes and the offset to the sink and remembers the last one; reads 0xFF", () => {
    const got: [number, number][] = [];
    const post = new PostCodePort((code, off) => got.push([code, off]));
    const bus = new PortBus();
    bus.map(0x80, 1, post);
    expect(post.lastCode).toBe(-1);
    bus.write(0x80, 1, 0x55);
    bus.write(0x80, 1, 0xaa);
    expect(got).toEqual([[0x55, 0], [0xaa, 0]]);
    expect(post.lastCode).toBe(0xaa);
    expect(bus.read(0x80, 1)).toBe(0xff);
  });
});
