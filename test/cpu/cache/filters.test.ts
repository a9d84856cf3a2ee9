/**
 * The cores' fast-path filters (core-cache-view.ts): the contract of issue 4's cache brief, checked on
 * randomized multi-core traces (seeded Rng, so reproducible):
 *
 *   readFilter[set] === pa | 63 only while the line is valid in this core's L1D and is its set's MRU line;
 *   writeFilter[set] only while it is also Modified; fetchFilter likewise for the L1I; empty = 0.
 *
 * checked after every operation for every set of every core, and the property the contract exists for:
 * a model driven the way the core drives it (filter first, access() only on a filter miss) produces the
 * same costs and the same statistics as one that sees every access and snoops every core instead of
 * asking the L3's directory. Reference: the contract text and
 * the MESI rule that an L1 read hit in M/E/S and a write hit in M change no state (SDM Vol. 3A 11.4).
 */
import { describe, expect, it } from "vitest";
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WALK, ACCESS_WRITE, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { MODIFIED } from "../../../src/cpu/cache/cache-level.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { cache, LAT, profile } from "./geometry.ts";
import type { Replacement } from "../../../src/cpu/profile.ts";

const shapes = (replacement: Replacement) => ({
  "pair-shared L2, no L3": profile({
    l1i: cache(512, 2, LAT.l1, { replacement }),
    l1d: cache(512, 2, LAT.l1, { replacement }),
    l2: cache(4096, 4, LAT.l2, { sharedBy: 2, replacement }),
  }),
  "private L2, inclusive sliced L3": profile({
    l1i: cache(512, 2, LAT.l1, { replacement }),
    l1d: cache(1024, 4, LAT.l1, { replacement }),
    l2: cache(2048, 4, LAT.l2, { sharedBy: 1, replacement }),
    l3: cache(8192, 8, LAT.l3, { sharedBy: 0, slices: 2, replacement }),
  }),
  "pair-shared L2 under an inclusive L3": profile({
    l1i: cache(512, 2, LAT.l1, { replacement }),
    l1d: cache(512, 2, LAT.l1, { replacement }),
    l2: cache(2048, 4, LAT.l2, { sharedBy: 2, replacement }),
    l3: cache(8192, 4, LAT.l3, { sharedBy: 0, replacement }),
  }),
});

/** The first violation of the filter invariant on any core, or "" (returns the live entries too). */
function checkFilters(h: MemoryHierarchy): { error: string; live: number } {
  let live = 0;
  for (const v of h.views) {
    for (let s = 0; s <= v.dSetMask; s++) {
      const rf = v.readFilter[s], wf = v.writeFilter[s];
      if (wf !== 0 && wf !== rf) return { error: `core ${v.core} set ${s}: writeFilter ${wf} != readFilter ${rf}`, live };
      if (rf === 0) continue;
      live++;
      const pa = (rf & ~63) >>> 0;
      if ((rf & 63) !== 63 || ((pa >>> 6) & v.dSetMask) !== s) return { error: `core ${v.core} set ${s}: malformed entry ${rf}`, live };
      const p = h.probe(v.core, "l1d", pa);
      if (p === null) return { error: `core ${v.core} set ${s}: readFilter names ${pa.toString(16)}, not in L1D`, live };
      if (!p.mru) return { error: `core ${v.core} set ${s}: ${pa.toString(16)} is not the MRU line`, live };
      if (wf !== 0 && p.state !== MODIFIED) return { error: `core ${v.core} set ${s}: writeFilter on state ${p.state}`, live };
    }
    for (let s = 0; s <= v.iSetMask; s++) {
      const ff = v.fetchFilter[s];
      if (ff === 0) continue;
      live++;
      const pa = (ff & ~63) >>> 0;
      if (((pa >>> 6) & v.iSetMask) !== s) return { error: `core ${v.core} L1I set ${s}: malformed entry`, live };
      const p = h.probe(v.core, "l1i", pa);
      if (p === null || !p.mru) return { error: `core ${v.core} L1I set ${s}: ${pa.toString(16)} absent or not MRU`, live };
    }
  }
  return { error: "", live };
}

/** What a core does for one access (the brief's fast path), returning the cycles beyond an L1 hit. */
function coreAccess(h: MemoryHierarchy, core: number, pa: number, kind: number): number {
  const v = h.views[core];
  const key = pa | 63;
  if (kind === ACCESS_FETCH) {
    if (v.fetchFilter[(pa >>> 6) & v.iSetMask] === key) {
      v.iFilterHits++;
      return 0;
    }
  } else if (kind === ACCESS_WRITE) {
    if (v.writeFilter[(pa >>> 6) & v.dSetMask] === key) {
      v.dFilterHits++;
      return 0;
    }
  } else if (kind === ACCESS_READ && v.readFilter[(pa >>> 6) & v.dSetMask] === key) {
    v.dFilterHits++;
    return 0;
  }
  return h.access(core, pa, kind);
}

describe.each<Replacement>(["lru", "tree-plru"])("filters under %s", (replacement) => {
  it.each(Object.entries(shapes(replacement)))("%s: invariant after every operation, and filtered + directory = unfiltered + snoop-all", (_name, prof) => {
    const CORES = 4;
    const filtered = new MemoryHierarchy(prof, CORES);
    // The reference sees every access and snoops every core (no directory in the inclusive L3).
    const plain = new MemoryHierarchy(prof, CORES, { directory: false });
    const rng = new Rng(20240604).fork(`cache-filters.${replacement}.${_name}`);
    // A pool of 96 lines: low memory and addresses >= 2^31 (negative as int32), so sharing, conflicts
    // and sign handling all occur.
    const pool: number[] = [];
    for (let k = 0; k < 64; k++) pool.push(k * 64 * 3);
    for (let k = 0; k < 32; k++) pool.push((0xfff00000 + k * 64 * 5) >>> 0);
    let filterHits = 0, live = 0;
    // Each core repeats its previous line half of the time (locality, so the filters get hits).
    const last = new Array<number>(CORES).fill(0);
    const errors: string[] = [];
    for (let step = 0; step < 5000 && errors.length === 0; step++) {
      const r = rng.int(0, 999);
      const core = rng.int(0, CORES - 1);
      if (r < 3) {
        expect(filtered.wbinvd(core)).toBe(plain.wbinvd(core));
      } else if (r < 5) {
        expect(filtered.invd(core)).toBe(plain.invd(core));
      } else if (r < 10) {
        const on = rng.int(0, 1) === 1;
        filtered.setCacheDisabled(core, on);
        plain.setCacheDisabled(core, on);
      } else {
        const line = rng.int(0, 1) === 0 ? last[core] : pool[rng.int(0, pool.length - 1)];
        last[core] = line;
        const pa = line + rng.int(0, 63);
        const kind = [ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH, ACCESS_WALK][rng.int(0, 4)];
        const before = filtered.views[core].dFilterHits + filtered.views[core].iFilterHits;
        const a = coreAccess(filtered, core, pa, kind);
        const b = plain.access(core, pa, kind);
        if (a !== b) errors.push(`step ${step}: core ${core} kind ${kind} pa ${pa.toString(16)}: ${a} with filters, ${b} without`);
        filterHits += filtered.views[core].dFilterHits + filtered.views[core].iFilterHits - before;
      }
      const c = checkFilters(filtered);
      if (c.error !== "") errors.push(`step ${step}: ${c.error}`);
      live = Math.max(live, c.live);
    }
    expect(errors).toEqual([]);
    expect(filtered.stats()).toEqual(plain.stats());
    // The filters do their job: a good share of the accesses never reach access().
    expect(filterHits).toBeGreaterThan(500);
    expect(live).toBeGreaterThan(0);
  });
});

describe("filter entries", () => {
  it("appear on a fill, follow the MRU line, and clear on eviction, invalidation and demotion", () => {
    // L1D 4 sets x 2 ways; lines 0 and 4 share set 0.
    const h = new MemoryHierarchy(profile({ l1d: cache(512, 2, LAT.l1) }), 2);
    const v0 = h.views[0];
    h.access(0, 0, ACCESS_READ);
    expect(v0.readFilter[0]).toBe(0 | 63);
    expect(v0.writeFilter[0]).toBe(0);
    h.access(0, 4 * 64, ACCESS_READ);
    expect(v0.readFilter[0]).toBe((4 * 64) | 63); // the MRU moved
    h.access(0, 0, ACCESS_WRITE); // hit on E: becomes M and MRU
    expect(v0.writeFilter[0]).toBe(63);
    h.access(1, 0, ACCESS_READ); // core 1 reads: core 0's M is demoted to S
    expect(v0.readFilter[0]).toBe(63);
    expect(v0.writeFilter[0]).toBe(0);
    h.access(1, 0, ACCESS_WRITE); // core 1 writes: core 0's copy is invalidated
    expect(v0.readFilter[0]).toBe(0);
    h.access(0, 8 * 64, ACCESS_READ);
    h.access(0, 12 * 64, ACCESS_READ); // evicts line 4, MRU is 12
    expect(v0.readFilter[0]).toBe((12 * 64) | 63);
    h.wbinvd(0);
    expect([...v0.readFilter, ...v0.writeFilter, ...v0.fetchFilter].every((x) => x === 0)).toBe(true);
  });

  it("count as L1 hits in the statistics", () => {
    const h = new MemoryHierarchy(profile(), 1);
    h.access(0, 0, ACCESS_READ);
    h.views[0].dFilterHits += 5;
    h.views[0].iFilterHits += 2;
    const s = h.stats().cores[0];
    expect(s.l1d.hits).toBe(5);
    expect(s.l1i.hits).toBe(2);
    h.resetStats();
    expect(h.views[0].dFilterHits).toBe(0);
    expect(h.stats().cores[0].l1d).toEqual({ hits: 0, misses: 0, evictions: 0, writebacks: 0 });
  });
});
