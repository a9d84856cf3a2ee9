/**
 * I/O-instruction exits: "unconditional I/O exiting", "use I/O bitmaps" and bitmaps A/B.
 *
 * References (not our code):
 * - SDM Vol. 3C 25.1.3 (IN/INS/OUT/OUTS: both controls 0 -> no exit; unconditional 1 and bitmaps 0 -> exit;
 *   bitmaps 1 -> exit if the bit of any port accessed is 1, unconditional ignored; an access that wraps
 *   around the 16-bit port space (FFFFH and 0000H) exits) and 24.6.4 (bitmap A ports 0000H-7FFFH, B ports
 *   8000H-FFFFH, one bit per port);
 * - kvm-unit-tests x86/vmx_tests.c iobmp_main / iobmp_exit_handler, replayed stage by stage: the bitmaps are
 *   set byte-wise exactly as the test does (`((u8 *)io_bitmap_a)[0x5000 / 8] = 1 << (0x5000 % 8)`), and the
 *   expected exit / no exit is the test's `report` condition;
 * - shared/reference/vmx.md §3a ("inl 0x4FFF exits when only bit 0x5000 is set", "an access that wraps past
 *   0xFFFF exits even with empty bitmaps", unconditional exiting ignored with bitmaps on).
 * Expected values are written out by hand from those; the oracle in the last block restates the SDM rule
 * one port at a time over bytes.
 */
import { describe, expect, it } from "vitest";
import {
  anyPortBitSet,
  ioAccessExits,
  ioBitmapBitAddress,
  setIoIntercept,
} from "../../../src/cpu/vmx/io-bitmap.ts";
import { PROC_UNCONDITIONAL_IO_EXITING, PROC_USE_IO_BITMAPS } from "../../../src/cpu/vmx/vmx-controls.ts";
import { ByteRam } from "./exit-info-ram.ts";

const A = 0x1000;
const B = 0x2000;
const BITMAPS = PROC_USE_IO_BITMAPS;
const UNCOND = PROC_UNCONDITIONAL_IO_EXITING;

/** Sets `port`'s bit the way kvm-unit-tests does: byte port/8 of its bitmap, bit port%8. */
function setPort(ram: ByteRam, port: number): void {
  const base = port < 0x8000 ? A : B;
  const n = port & 0x7fff;
  ram.bytes[base + (n >> 3)] |= 1 << (n % 8);
}

describe("kvm-unit-tests iobmp_main, stage by stage (bitmaps A/B, unconditional exiting off)", () => {
  const ram = new ByteRam();
  const exits = (port: number, size: number, ctl = BITMAPS) => ioAccessExits(ram, ctl, A, B, port, size);

  it("stage 0: empty bitmaps, inb/outb 0x5000 pass ('I/O bitmap - I/O pass')", () => {
    expect(exits(0x5000, 1)).toBe(false);
    expect(exits(0x5000, 1)).toBe(false);
  });
  it("stages 2-4: io_bitmap_a[0] = 0xFF traps inb 0, outw 0, inl 0", () => {
    ram.bytes[A] = 0xff;
    expect(exits(0, 1)).toBe(true);
    expect(exits(0, 2)).toBe(true);
    expect(exits(0, 4)).toBe(true);
  });
  it("stage 5: bit 0x5000 in bitmap A traps inb 0x5000 ('I/O port, low part')", () => {
    ram.bytes[A + 0x5000 / 8] = 1 << (0x5000 % 8);
    expect(exits(0x5000, 1)).toBe(true);
  });
  it("stage 6: bit 0x1000 of bitmap B traps inb 0x9000 ('I/O port, high part')", () => {
    ram.bytes[B + 0x1000 / 8] = 1 << (0x1000 % 8);
    expect(exits(0x9000, 1)).toBe(true);
  });
  it("stage 7: inl 0x4FFF touches 0x5000 and exits ('partial pass')", () => {
    expect(exits(0x4fff, 4)).toBe(true);
  });
  it("stage 8: with both bitmaps cleared, inl 0xFFFF wraps and exits ('overrun')", () => {
    ram.bytes.fill(0, A, A + 0x1000);
    ram.bytes.fill(0, B, B + 0x1000);
    expect(exits(0xffff, 4)).toBe(true);
  });
  it("stage 9: unconditional + bitmaps, outb 0 with clear bitmaps does not exit ('ignore unconditional')", () => {
    expect(exits(0, 1, UNCOND | BITMAPS)).toBe(false);
  });
  it("stage 10: unconditional without bitmaps, outb 0 exits ('unconditional exiting')", () => {
    expect(exits(0, 1, UNCOND)).toBe(true);
  });
});

describe("SDM 25.1.3 rules, one row each", () => {
  // [name, controls, ports whose bit is set, port, size, exits]
  const rows: [string, number, number[], number, number, boolean][] = [
    ["both controls 0: never exits, bitmaps ignored", 0, [0x60], 0x60, 1, false],
    ["both controls 0: a wrapping access does not exit either", 0, [], 0xffff, 4, false],
    ["unconditional only: exits with empty bitmaps", UNCOND, [], 0x80, 1, true],
    ["unconditional only: exits for any port", UNCOND, [], 0xfffc, 4, true],
    ["bitmaps: the bit of the port itself", BITMAPS, [0x3f8], 0x3f8, 1, true],
    ["bitmaps: a neighbour's bit does not count", BITMAPS, [0x3f9], 0x3f8, 1, false],
    ["bitmaps: word access, second port's bit", BITMAPS, [0x3f9], 0x3f8, 2, true],
    ["bitmaps: dword access, fourth port's bit", BITMAPS, [0x5000], 0x4ffd, 4, true],
    ["bitmaps: dword access ending just before the set bit", BITMAPS, [0x5000], 0x4ffc, 4, false],
    ["bitmaps: byte after the set bit", BITMAPS, [0x5000], 0x5001, 1, false],
    ["bitmaps: dword access across a 32-port boundary (1EH-21H, bit 20H)", BITMAPS, [0x20], 0x1e, 4, true],
    ["bitmaps: the same access with bit 22H only", BITMAPS, [0x22], 0x1e, 4, false],
    ["bitmaps: word at 7FFFH straddles A and B, B's bit 0 (port 8000H)", BITMAPS, [0x8000], 0x7fff, 2, true],
    ["bitmaps: word at 7FFFH, A's last bit (port 7FFFH)", BITMAPS, [0x7fff], 0x7fff, 2, true],
    ["bitmaps: word at 7FFFH, neither bit", BITMAPS, [0x7ffe, 0x8001], 0x7fff, 2, false],
    ["bitmaps: port 8000H is B's bit 0, not A's", BITMAPS, [0x0000], 0x8000, 1, false],
    ["bitmaps: port FFFFH is B's last bit", BITMAPS, [0xffff], 0xffff, 1, true],
    ["bitmaps: byte at FFFFH does not wrap", BITMAPS, [], 0xffff, 1, false],
    ["bitmaps: word at FFFEH ends at FFFFH, no wrap", BITMAPS, [], 0xfffe, 2, false],
    ["bitmaps: word at FFFFH wraps to 0000H and exits", BITMAPS, [], 0xffff, 2, true],
    ["bitmaps: dword at FFFDH wraps and exits", BITMAPS, [], 0xfffd, 4, true],
    ["bitmaps + unconditional: unconditional ignored", BITMAPS | UNCOND, [], 0x70, 1, false],
  ];
  for (const [name, ctl, set, port, size, want] of rows) {
    it(name, () => {
      const ram = new ByteRam();
      for (const p of set) setPort(ram, p);
      expect(ioAccessExits(ram, ctl, A, B, port, size)).toBe(want);
    });
  }
});

describe("cost on the hot path", () => {
  it("reads no memory without 'use I/O bitmaps'", () => {
    const ram = new ByteRam();
    ioAccessExits(ram, UNCOND, A, B, 0x60, 1);
    ioAccessExits(ram, 0, A, B, 0x60, 4);
    expect(ram.reads).toBe(0);
  });
  it("reads one dword for an access inside one dword of a bitmap, two across a dword boundary", () => {
    const ram = new ByteRam();
    ioAccessExits(ram, BITMAPS, A, B, 0x3f8, 4);
    expect(ram.reads).toBe(1);
    ram.reads = 0;
    ioAccessExits(ram, BITMAPS, A, B, 0x7fff, 2);
    expect(ram.reads).toBe(2);
    ram.reads = 0;
    ioAccessExits(ram, BITMAPS, A, B, 0xffff, 2); // the wrap needs no read
    expect(ram.reads).toBe(0);
  });
});

describe("bitmap layout helpers (SDM 24.6.4: bit n of the bitmap is bit n%8 of byte n/8)", () => {
  const rows: [number, number, number][] = [
    [0x0000, A + 0x000, 0],
    [0x0060, A + 0x00c, 0],
    [0x03f9, A + 0x07f, 1],
    [0x7fff, A + 0xfff, 7],
    [0x8000, B + 0x000, 0],
    [0x9000, B + 0x200, 0],
    [0xffff, B + 0xfff, 7],
  ];
  for (const [port, pa, bit] of rows) {
    it(`port ${port.toString(16)}H -> byte ${pa.toString(16)}H bit ${bit}`, () => {
      expect(ioBitmapBitAddress(A, B, port)).toEqual({ pa, bit });
    });
  }
  it("setIoIntercept sets and clears exactly the bits of a port range, across A and B", () => {
    const ram = new ByteRam();
    setIoIntercept(ram, A, B, 0x7ffe, 4, true);
    expect([ram.bit(A + 0xfff, 6), ram.bit(A + 0xfff, 7), ram.bit(B, 0), ram.bit(B, 1)]).toEqual([
      true, true, true, true,
    ]);
    expect([ram.bit(A + 0xfff, 5), ram.bit(B, 2)]).toEqual([false, false]);
    setIoIntercept(ram, A, B, 0x7fff, 2, false);
    expect([ram.bit(A + 0xfff, 6), ram.bit(A + 0xfff, 7), ram.bit(B, 0), ram.bit(B, 1)]).toEqual([
      true, false, false, true,
    ]);
  });
});

describe("agrees with a port-by-port restatement of the SDM rule over many bitmaps", () => {
  /** SDM 25.1.3 over bytes: any port p..p+size-1 with its bit set, or a wrap. */
  function oracle(ram: ByteRam, port: number, size: number): boolean {
    if (port + size > 0x10000) return true;
    for (let p = port; p < port + size; p++) {
      const base = p < 0x8000 ? A : B;
      const n = p & 0x7fff;
      if ((ram.bytes[base + (n >> 3)] >> (n & 7)) & 1) return true;
    }
    return false;
  }
  it("sparse random bitmaps, every size, ports near dword, bitmap and space boundaries and elsewhere", () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    let mismatches = 0;
    let exitsSeen = 0;
    for (let round = 0; round < 20; round++) {
      const ram = new ByteRam();
      for (let k = 0; k < 300; k++) setPort(ram, next() & 0xffff);
      const ports = [0, 1, 29, 30, 31, 32, 0x7ffc, 0x7ffd, 0x7ffe, 0x7fff, 0x8000, 0xfffc, 0xfffd, 0xfffe, 0xffff];
      for (let k = 0; k < 400; k++) ports.push(next() & 0xffff);
      for (const port of ports) {
        for (const size of [1, 2, 4]) {
          const want = oracle(ram, port, size);
          if (want) exitsSeen++;
          if (ioAccessExits(ram, BITMAPS, A, B, port, size) !== want) mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
    expect(exitsSeen).toBeGreaterThan(100); // the bitmaps were not trivially empty
  });
  it("anyPortBitSet covers runs longer than one dword", () => {
    const ram = new ByteRam();
    setPort(ram, 0x45);
    expect(anyPortBitSet(ram, A, B, 0x10, 0x36)).toBe(true);
    expect(anyPortBitSet(ram, A, B, 0x10, 0x35)).toBe(false);
  });
});
