/**
 * TLB capacity and LRU replacement (tlb-model.ts), on hand-computed traces.
 *
 * References: SDM Vol. 3A 4.10.2 (TLBs cache translations of 4 KiB pages and of large pages separately;
 * which entries are kept is implementation-specific), the TLB geometries CPUID leaf 2 reports (e.g.
 * "Data TLB: 4 KByte pages, 4-way set associative, 64 entries"), and LRU as in Hennessy & Patterson,
 * appendix B (set = page number modulo the number of sets).
 */
import { describe, expect, it } from "vitest";
import { TlbModel } from "../../../src/cpu/cache/tlb-model.ts";

describe("4 KiB pages: 8 entries, 2-way -> 4 sets, set = page & 3", () => {
  it("evicts the LRU page of the set and reports it", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    expect(t.insert(0, false)).toBe(-1);
    expect(t.insert(4, false)).toBe(-1);
    expect(t.insert(1, false)).toBe(-1); // set 1: no effect on set 0
    expect(t.insert(8, false)).toBe(0); // set 0 = {0, 4}, LRU 0
    expect(t.has(0, false)).toBe(false);
    expect(t.has(4, false)).toBe(true);
    expect(t.touch(4, false)).toBe(true); // 4 becomes MRU, 8 LRU
    expect(t.insert(0, false)).toBe(8);
    expect(t.insert(4, false)).toBe(-1); // already held: only made MRU
    expect(t.insert(12, false)).toBe(0);
    expect(t.touch(99, false)).toBe(false);
  });

  it("invalidate frees the entry (refilled without eviction); flush empties everything", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    t.insert(0, false);
    t.insert(4, false);
    t.invalidate(0, false);
    expect(t.has(0, false)).toBe(false);
    expect(t.insert(8, false)).toBe(-1);
    t.flush();
    expect([0, 4, 8].some((p) => t.has(p, false))).toBe(false);
  });
});

describe("large pages and other geometries", () => {
  it("large pages have their own array: 2 entries, 2-way -> 1 set", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 2 });
    expect(t.insert(1, true)).toBe(-1);
    expect(t.insert(2, true)).toBe(-1);
    expect(t.has(1, false)).toBe(false);
    expect(t.insert(3, true)).toBe(1);
    expect(t.has(2, true)).toBe(true);
    t.insert(5, false);
    t.flush();
    expect(t.has(2, true) || t.has(5, false)).toBe(false);
  });

  it("12 entries, 4-way -> 3 sets (not a power of two): set = page mod 3", () => {
    const t = new TlbModel({ entries: 12, ways: 4, largeEntries: 4 });
    for (const p of [0, 3, 6, 9]) expect(t.insert(p, false)).toBe(-1);
    expect(t.insert(1, false)).toBe(-1); // set 1
    expect(t.insert(12, false)).toBe(0); // set 0 full: LRU page 0
  });

  it("with no large-page entries a large page cannot be held", () => {
    const t = new TlbModel({ entries: 64, ways: 4, largeEntries: 0 });
    expect(t.insert(7, true)).toBe(7);
    expect(t.has(7, true)).toBe(false);
  });

  it("entries that are not whole sets make the array fully associative (Nehalem ITLB: 7 large entries, 4 ways)", () => {
    const t = new TlbModel({ entries: 64, ways: 4, largeEntries: 7 });
    for (let p = 0; p < 7; p++) expect(t.insert(p * 4, true)).toBe(-1); // all in "set 0" if it were 4-way
    expect(t.insert(100, true)).toBe(0);
    expect(() => new TlbModel({ entries: 300, ways: 7, largeEntries: 0 })).toThrow(RangeError);
  });
});
