/**
 * The cores' two-level fast-path filters (core-cache-view.ts, filter-check.ts) and the model's deferred
 * touch (MemoryHierarchy's sync), checked on randomized multi-core traces (seeded Rng, so reproducible)
 * and on hand-built sequences.
 *
 * References (not our code): the MESI rule that an L1 read hit in M/E/S and a write hit in M change no
 * line state (SDM Vol. 3A 11.4); the definitions of LRU (the victim is the way used least recently) and
 * of the tree pseudo-LRU of the Intel486 datasheet ("Cache Replacement": each access points the nodes
 * on its way's path away from it), from which the hand-derived victims below follow; and the contract
 * of core-cache-view.ts:
 *
 *   level 1 of a set names the line that is truly most recently used, level 2 the one before it; after
 *   the model's sync they are the model's mru / mru2 lines, valid, with the M bit iff Modified; before
 *   it they are that or (after a level-2 hit) the two swapped; empty = 0.
 *
 * The property the filters exist for: a model driven the way the core drives it (filters first, with
 * the swap, access() only when they miss) gives the same cost for every access and the same statistics
 * as one that sees every access (and snoops every core instead of asking the L3's directory).
 */
import { describe, expect, it } from "vitest";
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WALK, ACCESS_WRITE, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { CacheLevel, INVALID, MODIFIED } from "../../../src/cpu/cache/cache-level.ts";
import { dataFilterHit, fetchFilterHit } from "../../../src/cpu/cache/filter-check.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { cache, LAT, lineAddr, profile } from "./geometry.ts";
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
  // 4-way L1s (a third valid line beside the two the filters name) under a small inclusive L3 (many
  // back-invalidations).
  "4-way L1s, small inclusive L3": profile({
    l1i: cache(512, 4, LAT.l1, { replacement }),
    l1d: cache(512, 4, LAT.l1, { replacement }),
    l2: cache(2048, 4, LAT.l2, { sharedBy: 1, replacement }),
    l3: cache(4096, 8, LAT.l3, { sharedBy: 0, replacement }),
  }),
});

/** The filter entry the contract gives for `way` of global `set` of `lvl` (0: none or invalid). */
function entryOf(lvl: CacheLevel, set: number, way: number, withM: boolean): number {
  if (way === 255) return 0;
  const e = set * lvl.ways + way;
  const st = lvl.state[e];
  if (st === INVALID) return 0;
  return (lvl.tags[e] << 6) | (withM && st !== MODIFIED ? 62 : 63);
}

const hex = (x: number) => (x >>> 0).toString(16);

/**
 * The first violation of the contract on any core, or "". `synced`: the model has caught up (the
 * filters must equal mru/mru2 exactly); otherwise the swapped order is allowed too. Reads the model's
 * arrays only (probe() would sync).
 */
function checkFilters(h: MemoryHierarchy, synced: boolean): { error: string; live: number; pending: number } {
  let live = 0, pending = 0;
  const sides = [
    { lvl: h.l1d, name: "L1D", withM: true, get: (k: number) => [h.views[k].dFilter, h.views[k].dSetMask] as const },
    { lvl: h.l1i, name: "L1I", withM: false, get: (k: number) => [h.views[k].fetchFilter, h.views[k].iSetMask] as const },
  ];
  for (const v of h.views) {
    for (const { lvl, name, withM, get } of sides) {
      const [f, mask] = get(v.core);
      for (let s = 0; s <= mask; s++) {
        const set = v.core * lvl.setsPerInstance + s;
        const f1 = f[2 * s], f2 = f[2 * s + 1];
        const m1 = entryOf(lvl, set, lvl.mru[set], withM), m2 = entryOf(lvl, set, lvl.mru2[set], withM);
        for (const x of [f1, f2]) {
          if (x === 0) continue;
          live++;
          if (((x >>> 6) & mask) !== s || (x & 63) < (withM ? 62 : 63)) return { error: `core ${v.core} ${name} set ${s}: malformed entry ${hex(x)}`, live, pending };
        }
        if (f1 === m1 && f2 === m2) continue;
        if (!synced && f1 === m2 && f2 === m1 && m2 !== 0) {
          pending++;
          continue;
        }
        return {
          error: `core ${v.core} ${name} set ${s}: filters ${hex(f1)}/${hex(f2)}, model mru/mru2 ${hex(m1)}/${hex(m2)}${synced ? " after sync" : ""}`,
          live,
          pending,
        };
      }
    }
  }
  return { error: "", live, pending };
}

/** Make the model catch up on every set of every core (probe() syncs the set it looks at). */
function syncAll(h: MemoryHierarchy): void {
  for (const v of h.views) {
    for (let s = 0; s <= v.dSetMask; s++) h.probe(v.core, "l1d", lineAddr(s));
    for (let s = 0; s <= v.iSetMask; s++) h.probe(v.core, "l1i", lineAddr(s));
  }
}

/** Level-2 filter hits seen by coreAccess (the level-1 entry of the set changed on a hit). */
let level2Hits = 0;

/** What a core does for one access (filter-check.ts, as TimedCore does it), returning the cycles beyond an L1 hit. */
function coreAccess(h: MemoryHierarchy, core: number, pa: number, kind: number): number {
  const v = h.views[core];
  if (kind === ACCESS_FETCH) {
    const i = 2 * ((pa >>> 6) & v.iSetMask), before = v.fetchFilter[i];
    if (fetchFilterHit(v, pa)) {
      v.iFilterHits++;
      if (v.fetchFilter[i] !== before) level2Hits++;
      return 0;
    }
  } else if (kind !== ACCESS_WALK) {
    const i = 2 * ((pa >>> 6) & v.dSetMask), before = v.dFilter[i];
    if (dataFilterHit(v, pa, kind === ACCESS_WRITE)) {
      v.dFilterHits++;
      if (v.dFilter[i] !== before) level2Hits++;
      return 0;
    }
  }
  return h.access(core, pa, kind);
}

describe.each<Replacement>(["lru", "tree-plru"])("filters under %s", (replacement) => {
  // "deferred": the model syncs only when it must; "synced": the test makes it catch up after every
  // step and then requires the filters to be exactly mru/mru2.
  it.each(Object.entries(shapes(replacement)).flatMap(([n, p]) => [[n, false, p], [n, true, p]] as const))(
    "%s (synced after every step: %s): contract after every operation, and filtered + directory = unfiltered + snoop-all",
    (name, synced, prof) => {
      const CORES = 4;
      const filtered = new MemoryHierarchy(prof, CORES);
      // The reference sees every access and snoops every core (no directory in the inclusive L3).
      const plain = new MemoryHierarchy(prof, CORES, { directory: false });
      const rng = new Rng(20240604).fork(`cache-filters.${replacement}.${name}`);
      // A pool of 96 lines: low memory and addresses >= 2^31 (negative as int32), so sharing, conflicts
      // and sign handling all occur.
      const pool: number[] = [];
      for (let k = 0; k < 64; k++) pool.push(k * 64 * 3);
      for (let k = 0; k < 32; k++) pool.push((0xfff00000 + k * 64 * 5) >>> 0);
      let filterHits = 0, live = 0, pending = 0;
      level2Hits = 0;
      // Each core goes back to one of its last two lines half of the time (locality: both levels hit).
      const last = Array.from({ length: CORES }, () => [0, 0]);
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
          const line = rng.int(0, 1) === 0 ? last[core][rng.int(0, 1)] : pool[rng.int(0, pool.length - 1)];
          if (line !== last[core][0]) last[core] = [line, last[core][0]];
          const pa = line + rng.int(0, 63);
          const kind = [ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH, ACCESS_WALK][rng.int(0, 4)];
          const before = filtered.views[core].dFilterHits + filtered.views[core].iFilterHits;
          const a = coreAccess(filtered, core, pa, kind);
          const b = plain.access(core, pa, kind);
          if (a !== b) errors.push(`step ${step}: core ${core} kind ${kind} pa ${hex(pa)}: ${a} with filters, ${b} without`);
          filterHits += filtered.views[core].dFilterHits + filtered.views[core].iFilterHits - before;
        }
        if (synced) syncAll(filtered);
        const c = checkFilters(filtered, synced);
        if (c.error !== "") errors.push(`step ${step}: ${c.error}`);
        live = Math.max(live, c.live);
        pending = Math.max(pending, c.pending);
      }
      expect(errors).toEqual([]);
      expect(filtered.stats()).toEqual(plain.stats());
      // The filters do their job: a good share of the accesses never reach access(), some of them
      // through level 2 ...
      expect(filterHits).toBeGreaterThan(400);
      expect(level2Hits).toBeGreaterThan(50);
      expect(live).toBeGreaterThan(0);
      // ... and without the test's syncs, level-2 hits leave touches pending, which the model applies later.
      if (!synced) expect(pending).toBeGreaterThan(0);
    },
  );

  it("many alternating pairs in one set (the bench loop: read A[i], write A[i + 1024]) on two cores: exact, and few model calls", () => {
    // L1D 4 sets x 4 ways: lines 4k share set 0. Core 0 walks pairs (x, y) of set-0 lines, reading x and
    // writing y 16 times each (one 4-byte element at a time), over 12 pairs (more lines than ways, so
    // pairs evict each other), three passes; core 1 now and then reads or writes one of core 0's lines
    // (a downgrade or an invalidation of a line whose touch may be pending).
    const prof = profile({
      l1d: cache(1024, 4, LAT.l1, { replacement }),
      l2: cache(8192, 4, LAT.l2, { sharedBy: 0, replacement }),
      l3: cache(32768, 8, LAT.l3, { sharedBy: 0, replacement }),
    });
    const filtered = new MemoryHierarchy(prof, 2);
    const plain = new MemoryHierarchy(prof, 2, { directory: false });
    const rng = new Rng(7).fork(`cache-filters.pairs.${replacement}`);
    const errors: string[] = [];
    let accesses = 0, calls = 0, pending = 0;
    level2Hits = 0;
    const run = (core: number, pa: number, kind: number) => {
      accesses++;
      const hitsBefore = filtered.views[core].dFilterHits;
      const a = coreAccess(filtered, core, pa, kind);
      if (filtered.views[core].dFilterHits === hitsBefore) calls++;
      const b = plain.access(core, pa, kind);
      if (a !== b) errors.push(`access ${accesses}: core ${core} kind ${kind} pa ${hex(pa)}: ${a} with filters, ${b} without`);
      const c = checkFilters(filtered, false);
      if (c.error !== "") errors.push(`access ${accesses}: ${c.error}`);
      pending += c.pending;
    };
    for (let pass = 0; pass < 3; pass++) {
      for (let p = 0; p < 12; p++) {
        const x = lineAddr(4 * (2 * p)), y = lineAddr(4 * (2 * p + 1)) + 0x100000;
        for (let k = 0; k < 16; k++) {
          run(0, x + 4 * k, ACCESS_READ);
          run(0, y + 4 * k, ACCESS_WRITE);
          if (rng.int(0, 99) < 3) run(1, rng.int(0, 1) === 0 ? x : y, rng.int(0, 1) === 0 ? ACCESS_READ : ACCESS_WRITE);
        }
      }
    }
    expect(errors).toEqual([]);
    expect(filtered.stats()).toEqual(plain.stats());
    expect(pending).toBeGreaterThan(0);
    expect(level2Hits).toBeGreaterThan(accesses / 2);
    // Without the second level every one of core 0's accesses would call the model (the two lines
    // alternate in one set); with it, only the first touch of each line in a pair and the accesses
    // after core 1's interventions do.
    expect(calls).toBeLessThan(accesses / 8);
  });
});

describe("the deferred touch", () => {
  // 2-way L1D with 4 sets: lines 0, 4, 8 (A, B, C) share set 0.
  const A = lineAddr(0), B = lineAddr(4), C = lineAddr(8);
  const twoWay = (replacement: Replacement) =>
    profile({ l1i: cache(512, 2, LAT.l1, { replacement }), l1d: cache(512, 2, LAT.l1, { replacement }) });

  it.each<Replacement>(["lru", "tree-plru"])("%s: a level-2 hit swaps the levels, and the next miss evicts the truly least recent line", (replacement) => {
    const h = new MemoryHierarchy(twoWay(replacement), 1);
    const v = h.views[0];
    h.access(0, A, ACCESS_READ);
    h.access(0, B, ACCESS_READ);
    expect([v.dFilter[0], v.dFilter[1]]).toEqual([B | 62, A | 62]);
    expect(dataFilterHit(v, A + 8, false)).toBe(true); // level 2: swapped, the model not called
    expect([v.dFilter[0], v.dFilter[1]]).toEqual([A | 62, B | 62]);
    expect(dataFilterHit(v, B, true)).toBe(false); // a write to an E line is not a filter hit in either level
    // True order A, B, A: B is least recently used, so C replaces B (both policies, 2 ways).
    h.access(0, C, ACCESS_READ);
    expect(h.probe(0, "l1d", A)).not.toBeNull();
    expect(h.probe(0, "l1d", B)).toBeNull();
  });

  it.each<Replacement>(["lru", "tree-plru"])("%s: another core's downgrade of the other line does not lose the pending touch", (replacement) => {
    const h = new MemoryHierarchy(twoWay(replacement), 2);
    const v = h.views[0];
    h.access(0, A, ACCESS_WRITE);
    h.access(0, B, ACCESS_WRITE);
    expect([v.dFilter[0], v.dFilter[1]]).toEqual([B | 63, A | 63]);
    expect(dataFilterHit(v, A, true)).toBe(true); // level-2 write hit on M: swapped with its M bit
    expect([v.dFilter[0], v.dFilter[1]]).toEqual([A | 63, B | 63]);
    h.access(1, B, ACCESS_READ); // core 0's B: M -> S, its filters rebuilt
    expect([v.dFilter[0], v.dFilter[1]]).toEqual([A | 63, B | 62]);
    expect(h.probe(0, "l1d", A)?.mru).toBe(true);
    h.access(0, C, ACCESS_READ); // true order A, B, A: B goes
    expect(h.probe(0, "l1d", A)).not.toBeNull();
    expect(h.probe(0, "l1d", B)).toBeNull();
  });

  // A third line of the set leaves core 0's caches because of another core while C's touch is pending:
  // the model must apply the touch before it rebuilds the filters, or it keeps the order D, C. L1s of
  // 4 sets x 4 ways; lines 0, 4, 8, 12, 16, 20, 24 (A..G) share set 0 and fill ways 0..3 in order.
  // Hand-derived: true order C D B A; B leaves; E fills B's way. LRU: F evicts A, G evicts D. Tree-PLRU
  // (after A B C D every node points left; C then points the root left and node 3 right; E points the
  // root right): F evicts D (way 3), G evicts A. Either way C stays and D goes; without the deferred
  // touch C would go.
  const L = (n: number) => lineAddr(n);
  const [a, b, c, d, e, f, g] = [0, 4, 8, 12, 16, 20, 24].map(L);
  const fourWay = (replacement: Replacement, l3: boolean) =>
    profile({
      l1i: cache(1024, 4, LAT.l1, { replacement }),
      l1d: cache(1024, 4, LAT.l1, { replacement }),
      // With an L3: 16 sets x 2 ways, so lines 52 and 68 push line 4 (B) out of L3 set 4 alone.
      l2: cache(2048, 4, LAT.l2, { sharedBy: 1, replacement }),
      l3: l3 ? cache(2048, 2, LAT.l3, { sharedBy: 0, replacement }) : undefined,
    });
  const sides = [
    ["l1d", ACCESS_READ, (h: MemoryHierarchy, pa: number) => dataFilterHit(h.views[0], pa, false)],
    ["l1i", ACCESS_FETCH, (h: MemoryHierarchy, pa: number) => fetchFilterHit(h.views[0], pa)],
  ] as const;
  const third = (["lru", "tree-plru"] as const).flatMap((r) => sides.map(([lv, kind, hit]) => [r, lv, kind, hit] as const));

  it.each(third)("%s %s: an invalidation of a third line by another core's write keeps the pending touch", (replacement, lv, kind, hit) => {
    const h = new MemoryHierarchy(fourWay(replacement, false), 2);
    for (const x of [a, b, c, d]) h.access(0, x, kind);
    expect(hit(h, c)).toBe(true); // level 2: C's touch pending
    h.access(1, b, ACCESS_WRITE); // core 0's B invalidated
    expect(h.probe(0, lv, b)).toBeNull();
    for (const x of [e, f, g]) h.access(0, x, kind);
    expect(h.probe(0, lv, c)).not.toBeNull();
    expect(h.probe(0, lv, d)).toBeNull();
  });

  it.each(third)("%s %s: a back-invalidation of a third line by the inclusive L3 keeps the pending touch", (replacement, lv, kind, hit) => {
    const h = new MemoryHierarchy(fourWay(replacement, true), 2);
    for (const x of [a, b, c, d]) h.access(0, x, kind);
    expect(hit(h, c)).toBe(true);
    h.access(1, L(52), ACCESS_READ);
    h.access(1, L(68), ACCESS_READ); // L3 set 4 holds B and line 52: B is evicted and back-invalidated
    expect(h.probe(0, lv, b)).toBeNull();
    for (const x of [e, f, g]) h.access(0, x, kind);
    expect(h.probe(0, lv, c)).not.toBeNull();
    expect(h.probe(0, lv, d)).toBeNull();
  });

  it("the fetch filters swap the same way", () => {
    const h = new MemoryHierarchy(twoWay("lru"), 1);
    const v = h.views[0];
    h.access(0, A, ACCESS_FETCH);
    h.access(0, B, ACCESS_FETCH);
    expect(fetchFilterHit(v, A + 1)).toBe(true);
    expect([v.fetchFilter[0], v.fetchFilter[1]]).toEqual([A | 63, B | 63]);
    h.access(0, C, ACCESS_FETCH);
    expect(h.probe(0, "l1i", B)).toBeNull();
    expect(h.probe(0, "l1i", A)?.mru).toBe(false);
    expect(h.probe(0, "l1i", C)?.mru).toBe(true);
  });
});

describe("replacement state with two lines in turn (why one deferred touch is enough)", () => {
  // The LRU and tree-PLRU definitions: after "... x y", touching x then y again leaves every rank /
  // tree bit as it was. Checked from random states for every pair of ways.
  it.each<Replacement>(["lru", "tree-plru"])("%s: the state after ... x y x y equals the state after ... x y", (replacement) => {
    for (const ways of [2, 3, 4, 8, 16]) {
      const rng = new Rng(99).fork(`xyxy.${replacement}.${ways}`);
      for (let trial = 0; trial < 50; trial++) {
        const lvl = new CacheLevel("t", cache(64 * ways, ways, 1, { replacement }), 1);
        for (let k = 0; k < 20; k++) lvl.touch(0, rng.int(0, ways - 1));
        const x = rng.int(0, ways - 1);
        let y = rng.int(0, ways - 2);
        if (y >= x) y++;
        lvl.touch(0, x);
        lvl.touch(0, y);
        const snap = () => [...lvl.rank, lvl.plru[0] ?? 0, lvl.mru[0], lvl.mru2[0]].join();
        const before = snap();
        lvl.touch(0, x);
        expect(lvl.mru[0]).toBe(x);
        expect(lvl.mru2[0]).toBe(y);
        lvl.touch(0, y);
        expect(snap()).toBe(before);
      }
    }
  });
});

describe("filter entries", () => {
  it("appear on a fill, follow the MRU and second-MRU lines, and clear on eviction, invalidation and demotion", () => {
    // L1D 4 sets x 2 ways; lines 0, 4, 8, 12 share set 0. Entry: line address | 62, | 63 when Modified.
    const h = new MemoryHierarchy(profile({ l1d: cache(512, 2, LAT.l1) }), 2);
    const d = h.views[0].dFilter;
    const set0 = () => [d[0], d[1]];
    h.access(0, 0, ACCESS_READ);
    expect(set0()).toEqual([62, 0]);
    h.access(0, 4 * 64, ACCESS_READ);
    expect(set0()).toEqual([(4 * 64) | 62, 62]); // the MRU moved, the old one is level 2
    h.access(0, 0, ACCESS_WRITE); // hit on E: becomes M and MRU
    expect(set0()).toEqual([63, (4 * 64) | 62]);
    h.access(1, 0, ACCESS_READ); // core 1 reads: core 0's M is demoted to S
    expect(set0()).toEqual([62, (4 * 64) | 62]);
    h.access(1, 0, ACCESS_WRITE); // core 1 writes: core 0's copy is invalidated
    expect(set0()).toEqual([0, (4 * 64) | 62]);
    h.access(0, 8 * 64, ACCESS_READ); // fills the invalid way
    h.access(0, 12 * 64, ACCESS_READ); // evicts line 4, MRU is 12, then 8
    expect(set0()).toEqual([(12 * 64) | 62, (8 * 64) | 62]);
    h.wbinvd(0);
    expect([...d, ...h.views[0].fetchFilter].every((x) => x === 0)).toBe(true);
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
