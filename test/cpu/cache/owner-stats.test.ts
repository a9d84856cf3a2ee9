/**
 * Per-core and per-owner statistics ("who evicted whom", issue 4), on a trace small enough to count by
 * hand under LRU (Hennessy & Patterson, appendix B), and the determinism of the statistics record
 * (shared/DESIGN.md §4: the same inputs give byte-identical results).
 *
 * Geometry: L1D 512 B 2-way (4 sets: set = line & 3), L2 2 KiB 2-way shared by all (16 sets:
 * set = line & 15). Core 0 belongs to owner 5, core 1 to owner 7.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_READ, ACCESS_WRITE, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { cache, LAT, lineAddr, profile } from "./geometry.ts";

const shape = () => profile({ l1d: cache(512, 2, LAT.l1), l2: cache(2048, 2, LAT.l2, { sharedBy: 0 }) });

function trace(h: MemoryHierarchy) {
  h.setOwner(0, 5);
  h.setOwner(1, 7);
  // Lines 0, 16, 32, 48, 64 all map to L1D set 0 and L2 set 0.
  h.access(0, lineAddr(0), ACCESS_READ); //   L2 set0: [0(5)]
  h.access(0, lineAddr(16), ACCESS_WRITE); // L2 set0: [0(5), 16(5)]; core 0 L1D: 0, 16 (M)
  h.access(1, lineAddr(32), ACCESS_READ); //  L2 evicts 0 (owner 5) by owner 7
  h.access(1, lineAddr(48), ACCESS_READ); //  L2 evicts 16 (owner 5, clean in L2: its M copy is in core 0's L1D)
  h.access(1, lineAddr(64), ACCESS_READ); //  L2 evicts 32 (owner 7); core 1's L1D evicts 32 (owner 7)
}

describe("who evicted whom", () => {
  it("counts evictions per level by evicting and victim owner, and per core", () => {
    const h = new MemoryHierarchy(shape(), 2);
    trace(h);
    const s = h.stats();
    expect(s.evictionsByLevel.l2).toEqual({ "7": { "5": 2, "7": 1 } });
    expect(s.evictionsByLevel.l1d).toEqual({ "7": { "7": 1 } });
    expect(s.evictionsByLevel.l1i).toEqual({});
    expect(s.evictionsByLevel.l3).toBeNull();
    expect(s.evictions).toEqual({ "7": { "5": 2, "7": 2 } });
    expect(s.cores[0].l2).toEqual({ hits: 0, misses: 2, evictions: 0, writebacks: 0 });
    expect(s.cores[1].l2).toEqual({ hits: 0, misses: 3, evictions: 3, writebacks: 0 });
    expect(s.cores[1].l1d).toEqual({ hits: 0, misses: 3, evictions: 1, writebacks: 0 });
    expect(s.cores[0].l3).toBeNull();
    // The line core 0 wrote is still Modified in its own L1D: a non-inclusive L2 does not recall it.
    expect(h.probe(0, "l1d", lineAddr(16))?.state).toBe(3);
  });

  it("a line remembers the owner that filled it, not the one that touches it later", () => {
    const h = new MemoryHierarchy(shape(), 2);
    h.setOwner(0, 5);
    h.access(0, lineAddr(0), ACCESS_READ);
    h.setOwner(0, 9);
    h.access(0, lineAddr(0), ACCESS_READ);
    expect(h.probe(0, "l2", lineAddr(0))?.owner).toBe(5);
    expect(() => h.setOwner(0, 64)).toThrow(RangeError);
    expect(() => h.setOwner(2, 1)).toThrow(RangeError);
  });

  it("the record is deterministic JSON and resetStats zeroes it", () => {
    const a = new MemoryHierarchy(shape(), 2);
    const b = new MemoryHierarchy(shape(), 2);
    trace(a);
    trace(b);
    expect(JSON.stringify(a.stats())).toBe(JSON.stringify(b.stats()));
    expect(Object.keys(a.stats().cores[0])).toEqual(["core", "l1i", "l1d", "l2", "l3", "walks", "transfers", "backInvalidations"]);
    a.resetStats();
    const s = a.stats();
    expect(s.evictions).toEqual({});
    expect(s.cores.every((c) => c.l1d.misses === 0 && c.l2.evictions === 0)).toBe(true);
  });
});
