/**
 * Address-hashed slices of a shared level (cache-level.ts header): the slice is the XOR-fold of the
 * line-address bits above the set index (log2(slices) bits at a time; for a count that is not a power
 * of two, 8 bits scaled to the count), and the set within the slice is the ordinary index bits.
 *
 * References: the definition of an XOR-folding hash (Knuth, TAOCP vol. 3, 6.4: folding a key by
 * exclusive-or of its fields), computed here field by field on the bits, independently of the model's
 * halving shortcut; and Kessler & Hill (ACM TOCS 1992) for what page colours must keep: the same set
 * index bits in every slice, so that disjoint colours are disjoint sets whatever the slice.
 */
import { describe, expect, it } from "vitest";
import { CacheLevel } from "../../../src/cpu/cache/cache-level.ts";
import { cache } from "./geometry.ts";

/** XOR of the `width`-bit fields of `x`, from the bits as a string (no shifts shared with the model). */
function foldByFields(x: number, width: number): number {
  const bits = x.toString(2);
  let h = 0;
  for (let end = bits.length; end > 0; end -= width) h ^= parseInt(bits.slice(Math.max(0, end - width), end), 2);
  return h;
}

describe("slice hash", () => {
  it.each([2, 4, 16])("%i slices: the XOR-fold of the bits above the set index", (slices) => {
    // 2048 sets per slice (11 index bits), as a Skylake client L3 slice.
    const l = new CacheLevel("l3", cache(slices * 2048 * 16 * 64, 16, 40, { sharedBy: 0, slices }), 1);
    const width = Math.log2(slices);
    for (let line = 0; line < 1 << 26; line += 40_009) expect(l.sliceOf(line)).toBe(foldByFields(line >>> 11, width));
  });

  it("8 slices (3-bit fields)", () => {
    const l = new CacheLevel("l3", cache(8 * 1024 * 8 * 64, 8, 40, { sharedBy: 0, slices: 8 }), 1);
    for (let line = 0; line < 1 << 26; line += 40_009) expect(l.sliceOf(line)).toBe(foldByFields(line >>> 10, 3));
  });

  it.each([3, 6, 10])("%i slices: 8-bit fold scaled to the count, shares within slices/256 of even", (slices) => {
    const l = new CacheLevel("l3", cache(slices * 1024 * 8 * 64, 8, 40, { sharedBy: 0, slices }), 1);
    const counts = new Array<number>(slices).fill(0);
    // One line per value of the bits above the 10 index bits: 0 .. N-1.
    const N = 1 << 14;
    for (let k = 0; k < N; k++) {
      const line = k << 10;
      const s = l.sliceOf(line);
      expect(s).toBe((foldByFields(line >>> 10, 8) * slices) >>> 8);
      counts[s]++;
    }
    // 256 fold values over `slices` slices: each gets floor or ceil of 256/slices of them.
    for (const c of counts) expect(Math.abs(c - N / slices) / (N / slices)).toBeLessThan(slices / 256 + 0.01);
  });

  it("the set within the slice is the index bits, in every slice (colours survive slicing)", () => {
    const l = new CacheLevel("l3", cache(4 * 2048 * 16 * 64, 16, 40, { sharedBy: 0, slices: 4 }), 1);
    for (let line = 0; line < 1 << 26; line += 12_345) {
      const set = l.setOf(0, line);
      expect(set & 2047).toBe(line & 2047);
      expect(set >>> 11).toBe(l.sliceOf(line));
    }
  });
});
