/**
 * RDMSR/WRMSR exits: "use MSR bitmaps" and the four quarters of the MSR-bitmap page.
 *
 * References (not our code):
 * - SDM Vol. 3C 24.6.9 (read bitmap for low MSRs at 000H covering 00000000H-00001FFFH, read high at 400H
 *   covering C0000000H-C0001FFFH, write low at 800H, write high at C00H; one bit per MSR) and 25.1.3 /
 *   Appendix C reasons 31 and 32 (exit if the control is 0, if ECX is in neither range, or if ECX's bit in
 *   the read (write) bitmap of its range is 1);
 * - shared/reference/vmx.md §3c "MSR bitmap" (the same layout, from the Xen patch text);
 * - kvm-unit-tests x86/vmx_tests.c: msr_bmp_init (a zeroed bitmap page with "use MSR bitmaps": no exits for
 *   MSRs in the ranges; test_ctrl_pat/efer then RDMSR/WRMSR PAT and EFER without exits) and
 *   get_msr_bitmap + disable_intercept_for_x2apic_msrs (a page of all ones, then the 64-bit words covering
 *   MSRs 800H-8FFH cleared at offsets 0 and 800H: x2APIC reads and writes pass, everything else exits).
 * Bits are set byte-wise in the tests (bit m%8 of byte m/8 of a quarter), not through the code under test.
 */
import { describe, expect, it } from "vitest";
import {
  MSR_BITMAP_READ_HIGH,
  MSR_BITMAP_READ_LOW,
  MSR_BITMAP_WRITE_HIGH,
  MSR_BITMAP_WRITE_LOW,
  msrAccessExits,
  msrBitmapBitAddress,
  msrBitmapQuarter,
  setMsrIntercept,
} from "../../../src/cpu/vmx/msr-bitmap.ts";
import { PROC_USE_MSR_BITMAPS } from "../../../src/cpu/vmx/vmx-controls.ts";
import { ByteRam } from "./exit-info-ram.ts";

const PAGE = 0x3000;
const USE = PROC_USE_MSR_BITMAPS;
const RD = false;
const WR = true;

/** Sets the bit of `msr` in the quarter at byte `quarter` of the page, as the SDM lays it out. */
function setBit(ram: ByteRam, quarter: number, msr: number): void {
  const n = msr & 0x1fff;
  ram.bytes[PAGE + quarter + (n >> 3)] |= 1 << (n & 7);
}

describe("without 'use MSR bitmaps' every RDMSR and WRMSR exits (SDM 25.1.3)", () => {
  const ram = new ByteRam();
  for (const msr of [0x10, 0x1b, 0x174, 0xc0000080, 0x40000000]) {
    it(`RDMSR/WRMSR ${msr.toString(16)}H exit and read no memory`, () => {
      expect(msrAccessExits(ram, 0, PAGE, msr, RD)).toBe(true);
      expect(msrAccessExits(ram, 0, PAGE, msr, WR)).toBe(true);
      expect(ram.reads).toBe(0);
    });
  }
});

describe("kvm-unit-tests msr_bmp_init: a zeroed page passes every MSR of the two ranges", () => {
  const ram = new ByteRam();
  // [msr, exits] for both RDMSR and WRMSR
  const rows: [string, number, boolean][] = [
    ["IA32_TIME_STAMP_COUNTER 10H", 0x10, false],
    ["IA32_PAT 277H (test_ctrl_pat)", 0x277, false],
    ["last low MSR 1FFFH", 0x1fff, false],
    ["IA32_EFER C0000080H (test_ctrl_efer)", 0xc0000080, false],
    ["IA32_KERNEL_GS_BASE C0000102H", 0xc0000102, false],
    ["last high MSR C0001FFFH", 0xc0001fff, false],
    ["2000H, first MSR above the low range", 0x2000, true],
    ["hypervisor range 40000000H", 0x40000000, true],
    ["BFFFFFFFH, just below the high range", 0xbfffffff, true],
    ["C0002000H, just above the high range", 0xc0002000, true],
    ["FFFFFFFFH", 0xffffffff, true],
  ];
  for (const [name, msr, want] of rows) {
    it(`${name}: ${want ? "exits" : "passes"}`, () => {
      expect(msrAccessExits(ram, USE, PAGE, msr, RD)).toBe(want);
      expect(msrAccessExits(ram, USE, PAGE, msr, WR)).toBe(want);
    });
  }
});

describe("kvm-unit-tests disable_intercept_for_x2apic_msrs: all ones, x2APIC words cleared", () => {
  const ram = new ByteRam();
  ram.bytes.fill(0xff, PAGE, PAGE + 0x1000);
  // for (msr = 0x800; msr < 0x8ff; msr += 64) { word = msr / 64; bitmap[word] = 0; bitmap[word + 0x800/8] = 0; }
  for (let msr = 0x800; msr < 0x8ff; msr += 64) {
    const word = msr / 64;
    ram.bytes.fill(0, PAGE + word * 8, PAGE + word * 8 + 8);
    ram.bytes.fill(0, PAGE + 0x800 + word * 8, PAGE + 0x800 + word * 8 + 8);
  }
  const rows: [string, number, boolean, boolean][] = [
    ["x2APIC ID 802H read", 0x802, RD, false],
    ["x2APIC TPR 808H write", 0x808, WR, false],
    ["x2APIC ICR 830H write", 0x830, WR, false],
    ["x2APIC 800H read (first cleared)", 0x800, RD, false],
    ["x2APIC 8FFH read (last cleared)", 0x8ff, RD, false],
    ["7FFH read, just below", 0x7ff, RD, true],
    ["900H write, just above", 0x900, WR, true],
    ["IA32_APIC_BASE 1BH read", 0x1b, RD, true],
    ["EFER C0000080H read (high quarter untouched)", 0xc0000080, RD, true],
    ["C0000830H write: same low bits but the high write quarter", 0xc0000830, WR, true],
  ];
  for (const [name, msr, write, want] of rows) {
    it(`${name}: ${want ? "exits" : "passes"}`, () => {
      expect(msrAccessExits(ram, USE, PAGE, msr, write)).toBe(want);
    });
  }
});

describe("each quarter decides only its own access kind and range (SDM 24.6.9)", () => {
  // [name, quarter offset of the one bit set, msr whose bit is set, rdmsr(x) exits?, wrmsr(x) exits?, x]
  const rows: [string, number, number, boolean, boolean, number][] = [
    ["read-low bit of 1BH: RDMSR 1BH exits, WRMSR does not", MSR_BITMAP_READ_LOW, 0x1b, true, false, 0x1b],
    ["read-low bit of 1BH does not touch C000001BH", MSR_BITMAP_READ_LOW, 0x1b, false, false, 0xc000001b],
    ["write-low bit of 174H: only WRMSR", MSR_BITMAP_WRITE_LOW, 0x174, false, true, 0x174],
    ["read-high bit of C0000080H: only RDMSR", MSR_BITMAP_READ_HIGH, 0xc0000080, true, false, 0xc0000080],
    ["read-high bit of C0000080H does not touch 80H", MSR_BITMAP_READ_HIGH, 0xc0000080, false, false, 0x80],
    ["write-high bit of C0000080H: only WRMSR", MSR_BITMAP_WRITE_HIGH, 0xc0000080, false, true, 0xc0000080],
    ["write-high bit of C0001FFFH (last bit of the page)", MSR_BITMAP_WRITE_HIGH, 0xc0001fff, false, true, 0xc0001fff],
    ["read-low bit of 0H (first bit of the page)", MSR_BITMAP_READ_LOW, 0x0, true, false, 0x0],
    ["neighbour bit 1CH does not count for 1BH", MSR_BITMAP_READ_LOW, 0x1c, false, false, 0x1b],
  ];
  for (const [name, quarter, setMsr, rd, wr, msr] of rows) {
    it(name, () => {
      const ram = new ByteRam();
      setBit(ram, quarter, setMsr);
      expect(msrAccessExits(ram, USE, PAGE, msr, RD)).toBe(rd);
      expect(msrAccessExits(ram, USE, PAGE, msr, WR)).toBe(wr);
    });
  }
  it("one aligned dword read per check inside the ranges, none outside", () => {
    const ram = new ByteRam();
    msrAccessExits(ram, USE, PAGE, 0xc0000080, WR);
    expect(ram.reads).toBe(1);
    msrAccessExits(ram, USE, PAGE, 0x40000000, RD);
    expect(ram.reads).toBe(1);
  });
});

describe("layout helpers", () => {
  const rows: [number, boolean, number | undefined, number][] = [
    [0x0, RD, PAGE + 0x000, 0],
    [0x1b, RD, PAGE + 0x003, 3],
    [0x1b, WR, PAGE + 0x803, 3],
    [0x1fff, WR, PAGE + 0xbff, 7],
    [0xc0000080, RD, PAGE + 0x410, 0],
    [0xc0000080, WR, PAGE + 0xc10, 0],
    [0xc0001fff, RD, PAGE + 0x7ff, 7],
  ];
  for (const [msr, write, pa, bit] of rows) {
    it(`${write ? "WRMSR" : "RDMSR"} ${msr.toString(16)}H -> byte ${pa?.toString(16)}H bit ${bit}`, () => {
      expect(msrBitmapBitAddress(PAGE, msr, write)).toEqual({ pa, bit });
    });
  }
  it("MSRs outside the ranges have no bit", () => {
    expect(msrBitmapBitAddress(PAGE, 0x2000, RD)).toBeUndefined();
    expect(msrBitmapQuarter(0xc0002000, WR)).toBe(-1);
  });
  it("setMsrIntercept sets the read and write bits separately and refuses MSRs outside the ranges", () => {
    const ram = new ByteRam();
    expect(setMsrIntercept(ram, PAGE, 0xc0000080, { write: true }, true)).toBe(true);
    expect([ram.bit(PAGE + 0x410, 0), ram.bit(PAGE + 0xc10, 0)]).toEqual([false, true]);
    setMsrIntercept(ram, PAGE, 0x1b, { read: true, write: true }, true);
    expect([ram.bit(PAGE + 0x003, 3), ram.bit(PAGE + 0x803, 3)]).toEqual([true, true]);
    setMsrIntercept(ram, PAGE, 0x1b, { read: true }, false);
    expect([ram.bit(PAGE + 0x003, 3), ram.bit(PAGE + 0x803, 3)]).toEqual([false, true]);
    const writes = ram.writes;
    expect(setMsrIntercept(ram, PAGE, 0x40000000, { read: true }, true)).toBe(false);
    expect(ram.writes).toBe(writes);
  });
});

describe("agrees with a byte-level restatement of the SDM rule", () => {
  it("random page contents, MSRs from both ranges, their edges and outside", () => {
    let seed = 777;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const ram = new ByteRam();
    for (let k = PAGE; k < PAGE + 0x1000; k++) ram.bytes[k] = next() & (next() >>> 1) & 0xff;
    let mismatches = 0;
    let passes = 0;
    const msrs = [0, 0x1fff, 0x2000, 0xc0000000, 0xc0001fff, 0xc0002000, 0xbfffffff, 0xffffffff];
    for (let k = 0; k < 2000; k++) msrs.push(next() & 0x1fff, (0xc0000000 | (next() & 0x1fff)) >>> 0, next());
    for (const msr of msrs) {
      for (const write of [RD, WR]) {
        let want = true;
        const inLow = msr <= 0x1fff;
        const inHigh = msr >= 0xc0000000 && msr <= 0xc0001fff;
        if (inLow || inHigh) {
          const quarter = (write ? 0x800 : 0) + (inHigh ? 0x400 : 0);
          const n = msr & 0x1fff;
          want = ((ram.bytes[PAGE + quarter + (n >> 3)] >> (n & 7)) & 1) === 1;
        }
        if (!want) passes++;
        if (msrAccessExits(ram, USE, PAGE, msr, write) !== want) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(passes).toBeGreaterThan(1000);
  });
});
