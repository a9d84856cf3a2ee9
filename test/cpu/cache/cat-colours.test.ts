/**
 * CAT way masks and their MSRs, and page colours.
 *
 * References:
 * - SDM Vol. 3B 17.19.4.2: a capacity bit mask must be non-zero and contiguous, within the CBM length;
 *   writing anything else to IA32_L3_QOS_MASK_n / IA32_L2_QOS_MASK_n raises #GP(0). 17.19.5 and Vol. 4
 *   Table 2-2 (Xeon tables): IA32_PQR_ASSOC C8FH with RMID in bits 9:0 and CLOS in bits 63:32,
 *   IA32_L3_QOS_MASK_n = C90H + n, IA32_L2_QOS_MASK_n = D10H + n; the masks reset to all ones.
 * - Page colours (Kessler & Hill, ACM TOCS 1992; Intel's cache geometry from SDM Vol. 3A 11.1): colours =
 *   (sets per slice x line size) / page size, so a 4 MiB 16-way cache with 64-byte lines has
 *   4 MiB / 16 / 4 KiB = 64 colours (the Core 2 Quad Q6600's L2 half), a 256 KiB 4-way L2 16.
 */
import { describe, expect, it } from "vitest";
import { MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { isLegalWayMask } from "../../../src/cpu/cache/way-mask.ts";
import { attachHierarchy, IA32_L2_QOS_MASK_0, IA32_L3_QOS_MASK_0, IA32_PQR_ASSOC } from "../../../src/cpu/cache/cat-msrs.ts";
import { CoreState } from "../../../src/cpu/core-state.ts";
import { readMsr, writeMsr } from "../../../src/cpu/msr.ts";
import { CpuFault } from "../../../src/cpu/exceptions.ts";
import { cache, LAT, profile } from "./geometry.ts";

const withL3 = () =>
  new MemoryHierarchy(
    profile({ l2: cache(256 * 1024, 4, LAT.l2), l3: cache(8 << 20, 16, LAT.l3, { sharedBy: 0, slices: 4 }) }),
    4,
  );

describe("page colours", () => {
  it.each([
    ["4 MiB, 16-way (Core 2 Quad L2)", cache(4 << 20, 16, 14, { sharedBy: 2 }), 64],
    ["256 KiB, 4-way (Skylake L2)", cache(256 << 10, 4, 12), 16],
    ["6 MiB, 12-way: 8192 sets", cache(6 << 20, 12, 14, { sharedBy: 0 }), 128],
    ["64 KiB, 16-way: 4 KiB per way, no colour bits", cache(64 << 10, 16, 12), 1],
    ["16 KiB, 16-way: 1 KiB per way, still 1", cache(16 << 10, 16, 12), 1],
  ])("%s -> %i colours", (_n, l2, n) => {
    expect(new MemoryHierarchy(profile({ l2 }), 2).colours("l2")).toBe(n);
  });

  it("a sliced L3: 8 MiB 16-way in 4 slices -> 2048 sets per slice -> 32 colours", () => {
    const h = withL3();
    expect(h.colours("l3")).toBe(32);
    expect(h.colours("l2")).toBe(16);
  });

  it("colourOf is the page number modulo the colours", () => {
    const h = new MemoryHierarchy(profile({ l2: cache(4 << 20, 16, 14) }), 1);
    expect(h.colourOf("l2", 0x3f000)).toBe(63);
    expect(h.colourOf("l2", 0x40000)).toBe(0);
    expect(h.colourOf("l2", 0xfffff123)).toBe(63);
    expect(h.colourOf("l2", 0x12345678)).toBe(0x12345 & 63);
  });

  it("asking for an absent L3 is a RangeError", () => {
    const h = new MemoryHierarchy(profile(), 1);
    expect(() => h.colours("l3")).toThrow(RangeError);
    expect(h.hasLevel("l3")).toBe(false);
  });
});

describe("way masks (SDM 17.19.4.2)", () => {
  it.each([
    [0, 16, false, "zero"],
    [0b101, 16, false, "a hole"],
    [0xf0f0, 16, false, "two runs"],
    [0x1_0000, 16, false, "beyond the 16 ways"],
    [0xffff, 16, true, "all 16 ways"],
    [0xf0, 16, true, "ways 4-7"],
    [0x8000, 16, true, "the top way alone"],
    [1, 1, true, "a 1-way cache"],
    [0xffffffff, 32, true, "all of 32 ways"],
    [0x80000001, 32, false, "ends of a 32-bit mask"],
    [0x7ff, 11, true, "11 ways (Skylake-SP CBM length)"],
    [-1, 16, false, "negative"],
    [1.5, 16, false, "not an integer"],
  ])("mask %i on %i ways: %s (%s)", (mask, ways, ok) => {
    expect(isLegalWayMask(mask, ways)).toBe(ok);
  });

  it("setWayMask refuses illegal masks, CLOS out of range and an absent level, changing nothing", () => {
    const h = withL3();
    expect(h.wayMask("l3", 1)).toBe(0xffff);
    expect(h.setWayMask("l3", 1, 0b101)).toBe(false);
    expect(h.setWayMask("l3", 16, 0xf)).toBe(false);
    expect(h.wayMask("l3", 1)).toBe(0xffff);
    expect(h.setWayMask("l2", 1, 0xf)).toBe(true);
    expect(h.setWayMask("l2", 1, 0x1f)).toBe(false); // the L2 has 4 ways
    expect(h.wayMask("l2", 1)).toBe(0xf);
    expect(new MemoryHierarchy(profile(), 1).setWayMask("l3", 0, 1)).toBe(false);
  });
});

describe("CAT MSRs through RDMSR/WRMSR semantics", () => {
  const GP = 13;
  function gp(f: () => unknown): { vector: number; errorCode: number } | null {
    try {
      f();
      return null;
    } catch (e) {
      if (e instanceof CpuFault) return { vector: e.vector, errorCode: e.errorCode };
      throw e;
    }
  }
  const core = (id: number) => new CoreState({ ram: new Uint8Array(4096), id });

  it("IA32_PQR_ASSOC sets the core's CLOS (bits 63:32) and keeps the RMID (bits 9:0)", () => {
    const h = withL3();
    const c = core(2);
    attachHierarchy(c, h, 2);
    expect([...readMsr(c, IA32_PQR_ASSOC)]).toEqual([0, 0]);
    writeMsr(c, IA32_PQR_ASSOC, [5, 3]);
    expect(h.closOfCore(2)).toBe(3);
    expect([...readMsr(c, IA32_PQR_ASSOC)]).toEqual([5, 3]);
    expect(gp(() => writeMsr(c, IA32_PQR_ASSOC, [0, 16]))).toEqual({ vector: GP, errorCode: 0 }); // COS_MAX = 15
    expect(gp(() => writeMsr(c, IA32_PQR_ASSOC, [0x400, 0]))).toEqual({ vector: GP, errorCode: 0 }); // bit 10 reserved
    expect(h.closOfCore(2)).toBe(3);
  });

  it("IA32_L3_QOS_MASK_n reset to all ways, accept contiguous masks, #GP(0) otherwise; package scope", () => {
    const h = withL3();
    const c0 = core(0), c1 = core(1);
    attachHierarchy(c0, h, 0);
    attachHierarchy(c1, h, 1);
    expect([...readMsr(c0, IA32_L3_QOS_MASK_0 + 4)]).toEqual([0xffff, 0]);
    writeMsr(c0, IA32_L3_QOS_MASK_0 + 4, [0x0ff0, 0]);
    expect([...readMsr(c1, IA32_L3_QOS_MASK_0 + 4)]).toEqual([0x0ff0, 0]);
    expect(h.wayMask("l3", 4)).toBe(0x0ff0);
    for (const bad of [[0, 0], [0b1001, 0], [0x1ffff, 0], [0xf, 1]] as const) {
      expect(gp(() => writeMsr(c0, IA32_L3_QOS_MASK_0 + 4, bad))).toEqual({ vector: GP, errorCode: 0 });
    }
    expect(h.wayMask("l3", 4)).toBe(0x0ff0);
    writeMsr(c1, IA32_L2_QOS_MASK_0 + 15, [0b0110, 0]);
    expect(h.wayMask("l2", 15)).toBe(0b0110);
  });

  it("#GP(0) without an attached hierarchy, for an absent L3, and for n beyond the classes of service", () => {
    expect(gp(() => readMsr(core(0), IA32_PQR_ASSOC))).toEqual({ vector: GP, errorCode: 0 });
    const noL3 = new MemoryHierarchy(profile(), 1, { closCount: 4 });
    const c = core(0);
    attachHierarchy(c, noL3, 0);
    expect(gp(() => readMsr(c, IA32_L3_QOS_MASK_0))).toEqual({ vector: GP, errorCode: 0 });
    expect([...readMsr(c, IA32_L2_QOS_MASK_0 + 3)]).toEqual([0xff, 0]); // default L2: 8 ways
    expect(gp(() => readMsr(c, IA32_L2_QOS_MASK_0 + 4))).toEqual({ vector: GP, errorCode: 0 });
    expect(gp(() => writeMsr(c, IA32_PQR_ASSOC, [0, 4]))).toEqual({ vector: GP, errorCode: 0 });
  });
});
