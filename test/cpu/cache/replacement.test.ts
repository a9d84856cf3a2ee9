/**
 * Hit/miss/eviction counts of hand-computed traces, LRU and tree-PLRU.
 *
 * References: LRU as defined in any cache text (Hennessy & Patterson, "Computer Architecture", appendix B:
 * replace the block unused for the longest time; invalid blocks are filled first). Tree-PLRU as the
 * Intel486 data sheet describes its on-chip cache ("Cache Replacement": bits B0, B1, B2 per 4-way set;
 * an access to way 0 or 1 sets B0 = 1, to way 2 or 3 clears it; way 0 sets B1, way 1 clears it; way 2
 * sets B2, way 3 clears it; the victim is chosen by B0 = 0 -> {B1 = 0 -> way 0, else way 1},
 * B0 = 1 -> {B2 = 0 -> way 2, else way 3}), i.e. each node bit points to the pseudo-least-recently-used
 * half. Every expected value below is worked out by hand in the comments, not taken from the model.
 *
 * Latencies (geometry.ts): L1 4, L2 12, memory 200 -> an L1 miss that hits L2 costs 8, one that goes to
 * memory 196.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_READ, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { CacheLevel } from "../../../src/cpu/cache/cache-level.ts";
import { cache, LAT, lineAddr, profile } from "./geometry.ts";
import type { Replacement } from "../../../src/cpu/profile.ts";

function run(l1d: ReturnType<typeof cache>, lines: number[]) {
  const h = new MemoryHierarchy(profile({ l1d }), 1);
  const costs = lines.map((l) => h.access(0, lineAddr(l), ACCESS_READ));
  return { h, costs, l1d: h.stats().cores[0].l1d };
}

const MISS_MEM = LAT.mem - LAT.l1; // 196
const MISS_L2 = LAT.l2 - LAT.l1; // 8

describe("4 sets x 2 ways (512 B L1D): set = line & 3", () => {
  // Trace (line numbers; set 0: 0, 4, 8; set 1: 1, 5):
  //  0 miss (set0 = {0})          1 miss (set1 = {1})        4 miss (set0 = {0,4}, LRU 0)
  //  0 hit (LRU 4)                8 miss, evicts 4 (LRU 0)   5 miss (set1 = {1,5}, LRU 1)
  //  1 hit (LRU 5)                4 miss, evicts 0 (LRU 8)   0 miss, evicts 8 (LRU 4)
  //  8 miss, evicts 4
  // => 2 hits, 8 misses, 4 evictions. Misses to never-seen lines (0,1,4,8,5) go to memory; the
  // re-misses of 4, 0, 8 hit the 64 KiB L2.
  const trace = [0, 1, 4, 0, 8, 5, 1, 4, 0, 8];
  const costs = [MISS_MEM, MISS_MEM, MISS_MEM, 0, MISS_MEM, MISS_MEM, 0, MISS_L2, MISS_L2, MISS_L2];

  it.each<Replacement>(["lru", "tree-plru"])("%s (with 2 ways tree-PLRU is exactly LRU)", (replacement) => {
    const r = run(cache(512, 2, LAT.l1, { replacement }), trace);
    expect(r.l1d).toEqual({ hits: 2, misses: 8, evictions: 4, writebacks: 0 });
    expect(r.costs).toEqual(costs);
    expect(r.h.stats().cores[0].l2).toEqual({ hits: 3, misses: 5, evictions: 0, writebacks: 0 });
  });
});

describe("4 sets x 4 ways (1 KiB L1D): LRU and tree-PLRU part ways", () => {
  // Set 0 lines A=0, B=4, C=8, D=12, E=16. Trace A B C D A E B C.
  const [A, B, C, D, E] = [0, 4, 8, 12, 16];
  const trace = [A, B, C, D, A, E, B, C];

  it("LRU: E evicts B, B evicts C, C evicts D -> 1 hit, 7 misses, 3 evictions", () => {
    // Fills A w0, B w1, C w2, D w3; A hit -> recency A D C B; E evicts B (w1) -> E A D C;
    // B evicts C (w2) -> B E A D; C evicts D (w3).
    const r = run(cache(1024, 4, LAT.l1, { replacement: "lru" }), trace);
    expect(r.l1d).toEqual({ hits: 1, misses: 7, evictions: 3, writebacks: 0 });
    const ways = [A, E, B, C].map((l) => r.h.probe(0, "l1d", lineAddr(l))?.way);
    expect(ways).toEqual([0, 1, 2, 3]);
    expect(r.h.probe(0, "l1d", lineAddr(D))).toBeNull();
  });

  it("tree-PLRU (Intel486 B0..B2): E evicts C, B hits, C evicts D -> 2 hits, 6 misses, 2 evictions", () => {
    // Bits after the fills A w0 (B0=1,B1=1), B w1 (B0=1,B1=0), C w2 (B0=0,B2=1), D w3 (B0=0,B2=0);
    // A hit: B0=1, B1=1. E: B0=1 -> pair {2,3}, B2=0 -> way 2 (C). E w2: B0=0, B2=1.
    // B hit (w1): B0=1, B1=0. C: B0=1 -> pair {2,3}, B2=1 -> way 3 (D).
    const r = run(cache(1024, 4, LAT.l1, { replacement: "tree-plru" }), trace);
    expect(r.l1d).toEqual({ hits: 2, misses: 6, evictions: 2, writebacks: 0 });
    const ways = [A, B, E, C].map((l) => r.h.probe(0, "l1d", lineAddr(l))?.way);
    expect(ways).toEqual([0, 1, 2, 3]);
    expect(r.h.probe(0, "l1d", lineAddr(D))).toBeNull();
  });
});

describe("3 ways (a tree of 4 leaves, leaf 3 absent): 4 sets x 3 ways = 768 B", () => {
  // Set 0 lines A=0, B=4, C=8, D=12. Trace A B C A D C B.
  const [A, B, C, D] = [0, 4, 8, 12];
  const trace = [A, B, C, A, D, C, B];

  it("LRU: D evicts B, C hits, B evicts A -> 2 hits, 5 misses, 2 evictions", () => {
    // Fills A w0, B w1, C w2; A hit -> A C B; D evicts B (w1) -> D A C; C hit -> C D A; B evicts A (w0).
    const r = run(cache(768, 3, LAT.l1, { replacement: "lru" }), trace);
    expect(r.l1d).toEqual({ hits: 2, misses: 5, evictions: 2, writebacks: 0 });
    expect([B, D, C].map((l) => r.h.probe(0, "l1d", lineAddr(l))?.way)).toEqual([0, 1, 2]);
  });

  it("tree-PLRU: the walk never enters the empty leaf -> 1 hit, 6 misses, 3 evictions", () => {
    // A w0 (B0=1,B1=1), B w1 (B0=1,B1=0), C w2 (B0=0,B2=1); A hit (B0=1,B1=1).
    // D: B0=1 -> {2,(3)}; B2=1 points at the absent way 3, so way 2 (C). D w2: B0=0, B2=1.
    // C: B0=0 -> {0,1}, B1=1 -> way 1 (B). C w1: B0=1, B1=0.
    // B: B0=1 -> {2,(3)} -> way 2 (D).
    const r = run(cache(768, 3, LAT.l1, { replacement: "tree-plru" }), trace);
    expect(r.l1d).toEqual({ hits: 1, misses: 6, evictions: 3, writebacks: 0 });
    expect([A, C, B].map((l) => r.h.probe(0, "l1d", lineAddr(l))?.way)).toEqual([0, 1, 2]);
  });
});

describe("victim selection inside a way mask (CAT fills only the allowed ways)", () => {
  // One 4-way set, all ways valid, touched in the order w0 w1 w2 w3 w0.
  function level(replacement: Replacement): CacheLevel {
    const l = new CacheLevel("l2", cache(256, 4, 10, { replacement }), 1);
    l.state.fill(1);
    for (const w of [0, 1, 2, 3, 0]) l.touch(0, w);
    return l;
  }

  it.each([
    // LRU recency after the touches: w0 w3 w2 w1 -> LRU of all is w1; of {2,3} is w2; of {3} is w3.
    ["lru", 0b1111, 1],
    ["lru", 0b1100, 2],
    ["lru", 0b1000, 3],
    ["lru", 0b0001, 0],
    // PLRU bits: B0=1, B1=1, B2=0 (w3 cleared B2, then w0 set B0 and B1).
    // All ways: B0=1 -> {2,3}, B2=0 -> w2. Mask {0,1}: the right half has no allowed way -> left, B1=1 -> w1.
    // Mask {3}: right half, B2=0 points at w2 (not allowed) -> w3. Mask {0,2}: B0=1 -> right, B2=0 -> w2.
    ["tree-plru", 0b1111, 2],
    ["tree-plru", 0b0011, 1],
    ["tree-plru", 0b1000, 3],
    ["tree-plru", 0b0101, 2],
  ] as const)("%s, mask %i -> way %i", (replacement, mask, way) => {
    expect(level(replacement).victim(0, mask)).toBe(way);
  });

  it("an invalid allowed way is filled before any policy choice (lowest index)", () => {
    const l = level("lru");
    l.state[2] = 0;
    l.state[3] = 0;
    expect(l.victim(0, 0b1111)).toBe(2);
    expect(l.victim(0, 0b1000)).toBe(3);
    expect(l.victim(0, 0b0011)).toBe(1);
  });
});

describe("geometry validation", () => {
  it.each([
    ["a 32-byte L1 line", { l1d: { ...cache(1024, 2, 4), lineBytes: 32 } }],
    ["a 128-byte L1I line", { l1i: { ...cache(1024, 2, 4), lineBytes: 128 } }],
    ["sets that are not a power of two", { l1d: cache(3 * 2 * 64, 2, 4) }],
    ["a size that is not whole sets", { l2: cache(1000, 8, 12) }],
    ["a sliced L1", { l1d: cache(1024, 2, 4, { slices: 2 }) }],
  ])("%s is a RangeError", (_n, shape) => {
    expect(() => new MemoryHierarchy(profile(shape), 2)).toThrow(RangeError);
  });
});
