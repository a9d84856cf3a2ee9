/**
 * Coherence between the cores' private caches, step by step.
 *
 * Reference: the MESI line states and transitions of Intel SDM Vol. 3A 11.4 (a read miss of a line
 * another cache holds Modified is served after that cache writes it back and keeps it Shared; a write
 * invalidates every other copy; a write hit to Exclusive becomes Modified without a bus transaction,
 * a write hit to Shared invalidates the other copies first), 11.1 (L1I contents are kept coherent with
 * stores from other processors), and the cost rule of the issue: the serving level's latency minus the
 * L1 latency, plus crossCoreTransferCycles when another core held the line Modified.
 * Latencies (geometry.ts): L1 4, L2 12, L3 40, memory 200, transfer 60.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { EXCLUSIVE, MODIFIED, SHARED } from "../../../src/cpu/cache/cache-level.ts";
import { cache, LAT, profile } from "./geometry.ts";

const X = 0x1000;
const MEM = LAT.mem - LAT.l1; // 196
const L2 = LAT.l2 - LAT.l1; // 8
const L3 = LAT.l3 - LAT.l1; // 36
const T = LAT.transfer;

/** Core 2 Quad-like: L2 shared by the pair, no L3. */
const pair = () => new MemoryHierarchy(profile({ l1d: cache(4096, 2, LAT.l1), l2: cache(64 * 1024, 8, LAT.l2, { sharedBy: 2 }) }), 4);
/** Skylake-like: private L2, inclusive shared L3. */
const privateL2 = () =>
  new MemoryHierarchy(
    profile({ l1d: cache(4096, 2, LAT.l1), l2: cache(16 * 1024, 4, LAT.l2, { sharedBy: 1 }), l3: cache(256 * 1024, 8, LAT.l3, { sharedBy: 0, slices: 2 }) }),
    2,
  );

const state = (h: MemoryHierarchy, core: number, level: "l1i" | "l1d" | "l2" | "l3", pa: number) => h.probe(core, level, pa)?.state ?? 0;

describe("MESI between two cores sharing an L2", () => {
  it("walks E -> S -> M -> S (transfer) -> M -> I (transfer) as SDM 11.4 prescribes", () => {
    const h = pair();
    // Core 0 reads X: nobody has it -> memory, Exclusive.
    expect(h.access(0, X, ACCESS_READ)).toBe(MEM);
    expect(state(h, 0, "l1d", X)).toBe(EXCLUSIVE);
    // Core 1 reads X: L2 hit; both copies Shared.
    expect(h.access(1, X, ACCESS_READ)).toBe(L2);
    expect([state(h, 0, "l1d", X), state(h, 1, "l1d", X)]).toEqual([SHARED, SHARED]);
    // Core 0 writes X: an L1 hit (cost 0) that invalidates core 1's copy.
    expect(h.access(0, X, ACCESS_WRITE)).toBe(0);
    expect(state(h, 0, "l1d", X)).toBe(MODIFIED);
    expect(h.probe(1, "l1d", X)).toBeNull();
    // Core 1 reads X: Modified in core 0 -> written back (into the L2), both Shared, + transfer.
    expect(h.access(1, X, ACCESS_READ)).toBe(L2 + T);
    expect([state(h, 0, "l1d", X), state(h, 1, "l1d", X)]).toEqual([SHARED, SHARED]);
    expect(state(h, 0, "l2", X)).toBe(MODIFIED);
    // Core 1 writes X (hit, Shared -> Modified), then core 0 writes it: a miss that takes the
    // Modified line from core 1 (transfer) and leaves core 1 Invalid.
    expect(h.access(1, X, ACCESS_WRITE)).toBe(0);
    expect(h.probe(0, "l1d", X)).toBeNull();
    expect(h.access(0, X, ACCESS_WRITE)).toBe(L2 + T);
    expect(state(h, 0, "l1d", X)).toBe(MODIFIED);
    expect(h.probe(1, "l1d", X)).toBeNull();
    const s = h.stats();
    expect([s.cores[0].transfers, s.cores[1].transfers]).toEqual([1, 1]);
  });

  it("a write hit to Exclusive becomes Modified silently; a later read elsewhere pays the transfer", () => {
    const h = pair();
    h.access(0, X, ACCESS_READ);
    expect(h.access(0, X, ACCESS_WRITE)).toBe(0);
    expect(state(h, 0, "l1d", X)).toBe(MODIFIED);
    // Core 2 is in the other pair: its L2 misses, so memory + transfer.
    expect(h.access(2, X, ACCESS_READ)).toBe(MEM + T);
    expect(state(h, 0, "l1d", X)).toBe(SHARED);
    expect(state(h, 2, "l1d", X)).toBe(SHARED);
  });

  it("another core's instruction fetch downgrades a Modified line; a store invalidates the other L1I", () => {
    const h = pair();
    h.access(0, X, ACCESS_WRITE);
    // Core 1 fetches X: L1I miss, L2 hit (12 - 4) + transfer; core 0 keeps it Shared.
    expect(h.access(1, X, ACCESS_FETCH)).toBe(L2 + T);
    expect(state(h, 0, "l1d", X)).toBe(SHARED);
    expect(state(h, 1, "l1i", X)).toBe(SHARED);
    // Core 0 stores to X again: its Shared copy upgrades and core 1's L1I copy goes.
    expect(h.access(0, X, ACCESS_WRITE)).toBe(0);
    expect(h.probe(1, "l1i", X)).toBeNull();
    // A read after an L1I-only copy elsewhere fills Shared, not Exclusive.
    h.access(1, X + 64, ACCESS_FETCH);
    h.access(0, X + 64, ACCESS_READ);
    expect(state(h, 0, "l1d", X + 64)).toBe(SHARED);
  });
});

describe("private L2s under an inclusive L3", () => {
  it("a dirty line in another core's private L2 counts as Modified elsewhere", () => {
    const h = privateL2();
    expect(h.access(0, X, ACCESS_WRITE)).toBe(MEM);
    // Two more lines of the same 2-way L1D set (32 sets: stride 2 KiB) push X out of core 0's L1D;
    // it is written back into core 0's L2, which now holds it Modified.
    h.access(0, X + 2048, ACCESS_READ);
    h.access(0, X + 4096, ACCESS_READ);
    expect(h.probe(0, "l1d", X)).toBeNull();
    expect(state(h, 0, "l2", X)).toBe(MODIFIED);
    expect(h.stats().cores[0].l1d.writebacks).toBe(1);
    // Core 1 reads X: its L2 misses, the L3 has it (inclusive) -> 40 - 4, plus the transfer from core 0's L2.
    expect(h.access(1, X, ACCESS_READ)).toBe(L3 + T);
    expect(state(h, 0, "l2", X)).toBe(SHARED);
    expect(state(h, 0, "l3", X)).toBe(MODIFIED);
    // A copy in another private L2 makes the new L1D copy Shared, so core 1's write must invalidate it.
    expect(state(h, 1, "l1d", X)).toBe(SHARED);
    expect(h.access(1, X, ACCESS_WRITE)).toBe(0);
    expect(h.probe(0, "l2", X)).toBeNull();
  });

  it("CAT masks restrict fills only: a core hits a line in a way outside its mask", () => {
    const h = privateL2();
    h.access(0, X, ACCESS_READ); // filled by CLOS 0 (all ways): way 0 of its L3 set
    expect(h.probe(0, "l3", X)?.way).toBe(0);
    expect(h.setWayMask("l3", 3, 0xf0)).toBe(true);
    h.setClos(1, 3);
    expect(h.access(1, X, ACCESS_READ)).toBe(L3);
  });
});
