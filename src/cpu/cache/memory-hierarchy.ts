/**
 * The cache hierarchy of a multi-core package as a timing model (issue 4, "Caches and TLBs"): per core
 * L1I and L1D, an L2 per core / per pair / per package, an optional L3, their coherence, CAT way masks,
 * page colours, WBINVD/INVD and CR0.CD. Tags and states only: the data always lives in RAM, so the model
 * decides what an access costs, never what it reads.
 *
 * Follows: SDM Vol. 3A 11.1-11.4 (cache organisation, write-back with write-allocate, the MESI line states
 * of 11.4 between the cores' private caches), 11.5.3 with Table 11-5 (CR0.CD = 1: no-fill mode, hits are
 * served, misses do not allocate), Vol. 2 WBINVD / INVD, Vol. 3B 17.19 (Cache Allocation Technology:
 * a CLOS per logical processor, a capacity bit mask per CLOS that restricts the ways a fill may allocate
 * into, while hits anywhere still hit).
 *
 * The protocol, per access of one 64-byte line by core c (the caller splits line-crossing accesses):
 * - L1 hit: replacement state updated; a write to S invalidates the other copies (an upgrade, charged
 *   nothing: the store buffer hides it), a write to E or S makes the line M. Cost 0.
 * - L1 miss: the other cores' private caches (their L1I, L1D, and the L2/L3 instances not on c's path)
 *   are snooped. A write invalidates every other copy; a read or fetch downgrades M and E copies to S,
 *   an M copy's data being written back to the next level of its core that holds the line (else memory).
 *   Either way, finding the line Modified elsewhere adds crossCoreTransferCycles. The line is then looked
 *   up in c's L2, then L3, then memory; the cost is that level's latency minus the L1 latency, and every
 *   level that missed is filled (unless CR0.CD is set for c). The L1D line becomes M (write), S (a copy
 *   exists elsewhere) or E; an L1I line is S.
 * - A dirty victim is written back to the next level of the same path that holds the line (marked
 *   dirty there), else to memory; writebacks do not allocate and are not charged to the access (the
 *   write-back buffers hide them).
 *
 * Inclusion: the L3 (when present) is inclusive of the private caches of the cores that share it, as on
 * Intel client parts from Nehalem to Skylake (SDM Vol. 3A 11.1, Table 11-1 notes; Intel optimization
 * manual 2.4.x "inclusive L3"): an L3 eviction back-invalidates those copies. Pass inclusiveL3: false for
 * a non-inclusive LLC (Skylake-SP). The L2 is non-inclusive / non-exclusive: an L2 eviction leaves the L1
 * copies alone, as in the Core 2 family, whose shared L2 is not strictly inclusive, and the private L2 of
 * Nehalem and later.
 *
 * CAT: the mask of the core's CLOS limits the ways of every L2 and L3 fill (a private L2 too, as L2 CAT
 * does on parts whose L2 is per core or per module); L1 fills use all ways. Hits are never restricted.
 *
 * The core's own L1I is not invalidated by its own stores (the block cache of the core handles
 * self-modifying code functionally); the other cores' L1I copies are, as a store invalidates every other
 * copy.
 *
 * Snooping: with one inclusive L3 the L3 entries carry a sharer mask per L2 instance (the "core valid
 * bits" of Intel's inclusive LLC), so a miss looks only where the line may be; otherwise (no L3, a
 * non-inclusive one, several L3 instances) every other core's private caches are looked up, O(cores)
 * host work per miss. Both give the same results (test/cpu/cache/filters.test.ts compares them).
 *
 * Filters (core-cache-view.ts): each core answers hits on the MRU and second-MRU line of an L1 set
 * itself. A level-2 hit swaps the core's two entries but does not tell the model, so the model's
 * replacement state of that set may lag by exactly one touch: the true MRU line is the one in the
 * core's level-1 entry. That is exact for LRU and tree-PLRU because, with two lines x, y used in turn,
 * the state after "... x y x y" equals the state after "... x y" (cache-level.ts), so one touch always
 * catches up: sync (syncD / syncI) applies it when the level-1 line is the set's mru2 line. sync runs
 * before anything reads or changes a set's replacement state or lines: at the start of access() for
 * the accessing core's set; before another core's access invalidates, downgrades or back-invalidates a
 * line in it (while the line still has its tag); before probe(); and before WBINVD/INVD (for the
 * replacement state that probe() shows: costs could not tell, as every way of a flushed set is refilled,
 * and so touched, before any victim is chosen). Between a sync and the refresh of the filters the model
 * and the filters may disagree, so no sync may run there for that set (access() runs none: its snoops
 * sync only other cores' sets, and a back-invalidation of its own core's lines can only happen in
 * lower(), before the fill).
 *
 * Leaves out: hardware prefetchers, the store buffer and fill buffers (misses are serialised), memory
 * types other than WB (MTRRs/PAT), CR0.NW, bandwidth and queueing, snoop latency differences between
 * the directory and broadcast, and the ring/mesh distance to a slice (every slice has the level's
 * latency).
 */
import type { CpuProfile } from "../profile.ts";
import * as lv from "./cache-level.ts";
import { CacheLevel } from "./cache-level.ts";
import * as st from "./cache-stats.ts";
import { CacheCounters, type CacheStats, type LevelName } from "./cache-stats.ts";
import { CoreCacheView } from "./core-cache-view.ts";
import { isLegalWayMask } from "./way-mask.ts";

export const ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_FETCH = 2, ACCESS_WALK = 3;

/** The profile fields the hierarchy reads (a whole CpuProfile fits). */
export type HierarchyProfile = Pick<CpuProfile, "caches" | "memoryLatencyCycles" | "crossCoreTransferCycles">;

export interface HierarchyOptions {
  /** L3 inclusive of the private caches (default true; see the header). */
  inclusiveL3?: boolean;
  /** Classes of service of CAT (default 16, as CPUID.10H reports COS_MAX = 15 on Skylake-SP). */
  closCount?: number;
  /** WBINVD: fixed cycles (default 2000; not a measured figure) plus cycles per dirty line written back
   * (default 16: 64 B at 4 B per core cycle, about 10 GB/s at 2.4 GHz). */
  wbinvdFixedCycles?: number;
  wbinvdPerDirtyLineCycles?: number;
  /** INVD: fixed cycles (default 2000). */
  invdFixedCycles?: number;
  /** Use the snoop directory kept in an inclusive L3 (default true; false snoops every core: the same
   * results, slower; for testing the directory). */
  directory?: boolean;
}

export type { CacheStats } from "./cache-stats.ts";

// Local copies of the numeric constants of cache-level.ts and cache-stats.ts: under tsx an imported
// binding is a getter call on every use, too slow for the access path. Checked equal at load.
const INVALID = 0, SHARED = 1, EXCLUSIVE = 2, MODIFIED = 3, LINE_SHIFT = 6;
const LEVEL_L1I = 0, LEVEL_L1D = 1, LEVEL_L2 = 2, LEVEL_L3 = 3;
const F_HITS = 0, F_MISSES = 1, F_EVICTIONS = 2, F_WRITEBACKS = 3;
const X_WALKS = 0, X_TRANSFERS = 1, X_BACK_INVALIDATIONS = 2;
const MAX_OWNERS = 64;
if (
  [INVALID, SHARED, EXCLUSIVE, MODIFIED, LINE_SHIFT].join() !== [lv.INVALID, lv.SHARED, lv.EXCLUSIVE, lv.MODIFIED, lv.LINE_SHIFT].join() ||
  [LEVEL_L1I, LEVEL_L1D, LEVEL_L2, LEVEL_L3, F_HITS, F_MISSES, F_EVICTIONS, F_WRITEBACKS, X_WALKS, X_TRANSFERS, X_BACK_INVALIDATIONS, MAX_OWNERS].join() !==
    [st.LEVEL_L1I, st.LEVEL_L1D, st.LEVEL_L2, st.LEVEL_L3, st.F_HITS, st.F_MISSES, st.F_EVICTIONS, st.F_WRITEBACKS, st.X_WALKS, st.X_TRANSFERS, st.X_BACK_INVALIDATIONS, st.MAX_OWNERS].join()
) {
  throw new Error("memory-hierarchy: local constants out of step with cache-level.ts / cache-stats.ts");
}

const NO_WAY = 255;
/** Snoop results. */
const FOUND = 1, FOUND_MODIFIED = 2;

export class MemoryHierarchy {
  readonly views: CoreCacheView[];
  /** Every core's filter entries (core-cache-view.ts) at 2 * global L1 set; the views are windows on them. */
  private readonly dFilters: Int32Array;
  private readonly iFilters: Int32Array;
  readonly coreCount: number;
  readonly closCount: number;
  readonly l1i: CacheLevel;
  readonly l1d: CacheLevel;
  readonly l2: CacheLevel;
  readonly l3: CacheLevel | null;
  readonly inclusiveL3: boolean;
  /** L2 / L3 instance of each core. */
  private readonly l2Inst: Int32Array;
  private readonly l3Inst: Int32Array;
  /** The cores of each L2 instance: l2Core[i] .. l2Core[i] + l2Count[i] - 1. */
  private readonly l2Core: Int32Array;
  private readonly l2Count: Int32Array;
  /**
   * Snoop directory (with one inclusive L3 instance and at most 32 L2 instances): per L3 entry, bit i set
   * when L2 instance i or an L1 of its cores may hold the line. A superset: set when the L2 instance
   * fills the line, cleared when a snoop finds no copy there (or invalidates them all) and when the L3
   * entry goes. A clear bit means no copy, so a miss snoops only the instances its bits name, and a line
   * absent from the L3 is in no private cache at all. Without it every miss snoops every other core.
   */
  private readonly directory: boolean;
  private readonly sharers: Int32Array;
  private readonly ownerOf: Uint8Array;
  private readonly closOf: Uint8Array;
  private readonly l2Masks: Int32Array;
  private readonly l3Masks: Int32Array;
  private readonly cacheDisabled: Uint8Array;
  private readonly counters: CacheCounters;
  private readonly memCostD: number;
  private readonly l2CostD: number;
  private readonly l3CostD: number;
  private readonly memCostI: number;
  private readonly l2CostI: number;
  private readonly l3CostI: number;
  private readonly transferCycles: number;
  private readonly wbinvdFixed: number;
  private readonly wbinvdPerLine: number;
  private readonly invdFixed: number;
  /** Set by the read snoops: another private cache holds the line. */
  private sharedElsewhere = false;

  constructor(profile: HierarchyProfile, coreCount: number, options: HierarchyOptions = {}) {
    if (!Number.isInteger(coreCount) || coreCount < 1 || coreCount > MAX_OWNERS) {
      throw new RangeError(`memory hierarchy: ${coreCount} cores (1..${MAX_OWNERS})`);
    }
    const c = profile.caches;
    for (const [name, g] of [["l1i", c.l1i], ["l1d", c.l1d]] as const) {
      if (g.lineBytes !== 64) throw new RangeError(`cache ${name}: line size ${g.lineBytes} B, L1 lines must be 64 B`);
      if ((g.slices ?? 1) !== 1) throw new RangeError(`cache ${name}: an L1 cache is not sliced`);
    }
    this.coreCount = coreCount;
    this.l1i = new CacheLevel("l1i", c.l1i, coreCount);
    this.l1d = new CacheLevel("l1d", c.l1d, coreCount);
    const instancesOf = (sharedBy: number) => (sharedBy === 0 ? 1 : Math.ceil(coreCount / sharedBy));
    const instOf = (sharedBy: number, core: number) => (sharedBy === 0 ? 0 : Math.floor(core / sharedBy));
    for (const [name, g] of [["l2", c.l2], ["l3", c.l3]] as const) {
      if (g !== null && (!Number.isInteger(g.sharedBy) || g.sharedBy < 0)) throw new RangeError(`cache ${name}: sharedBy ${g.sharedBy}`);
    }
    this.l2 = new CacheLevel("l2", c.l2, instancesOf(c.l2.sharedBy));
    this.l3 = c.l3 === null ? null : new CacheLevel("l3", c.l3, instancesOf(c.l3.sharedBy));
    this.inclusiveL3 = this.l3 !== null && (options.inclusiveL3 ?? true);
    this.l2Inst = new Int32Array(coreCount);
    this.l3Inst = new Int32Array(coreCount);
    this.l2Core = new Int32Array(this.l2.instances).fill(-1);
    this.l2Count = new Int32Array(this.l2.instances);
    for (let k = 0; k < coreCount; k++) {
      this.l2Inst[k] = instOf(c.l2.sharedBy, k);
      this.l3Inst[k] = c.l3 === null ? 0 : instOf(c.l3.sharedBy, k);
      if (this.l2Core[this.l2Inst[k]] < 0) this.l2Core[this.l2Inst[k]] = k;
      this.l2Count[this.l2Inst[k]]++;
    }
    this.directory = this.inclusiveL3 && this.l3!.instances === 1 && this.l2.instances <= 32 && options.directory !== false;
    this.sharers = new Int32Array(this.directory ? this.l3!.tags.length : 0);
    this.dFilters = new Int32Array(2 * this.l1d.totalSets);
    this.iFilters = new Int32Array(2 * this.l1i.totalSets);
    this.views = [];
    for (let k = 0; k < coreCount; k++) {
      const d = 2 * this.l1d.setsPerInstance, i = 2 * this.l1i.setsPerInstance;
      this.views.push(new CoreCacheView(k, this.dFilters.subarray(k * d, (k + 1) * d), this.iFilters.subarray(k * i, (k + 1) * i)));
    }
    this.ownerOf = new Uint8Array(coreCount);
    for (let k = 0; k < coreCount; k++) this.ownerOf[k] = k;
    const clos = options.closCount ?? 16;
    if (!Number.isInteger(clos) || clos < 1 || clos > 256) throw new RangeError(`memory hierarchy: ${clos} classes of service`);
    this.closCount = clos;
    this.closOf = new Uint8Array(coreCount);
    this.l2Masks = new Int32Array(clos).fill(this.l2.allWays);
    this.l3Masks = new Int32Array(clos).fill(this.l3 === null ? 0 : this.l3.allWays);
    this.cacheDisabled = new Uint8Array(coreCount);
    this.counters = new CacheCounters(coreCount);
    const mem = profile.memoryLatencyCycles;
    const l3lat = this.l3 === null ? mem : this.l3.latencyCycles;
    const pos = (n: number) => Math.max(0, n);
    this.l2CostD = pos(this.l2.latencyCycles - this.l1d.latencyCycles);
    this.l3CostD = pos(l3lat - this.l1d.latencyCycles);
    this.memCostD = pos(mem - this.l1d.latencyCycles);
    this.l2CostI = pos(this.l2.latencyCycles - this.l1i.latencyCycles);
    this.l3CostI = pos(l3lat - this.l1i.latencyCycles);
    this.memCostI = pos(mem - this.l1i.latencyCycles);
    this.transferCycles = profile.crossCoreTransferCycles;
    this.wbinvdFixed = options.wbinvdFixedCycles ?? 2000;
    this.wbinvdPerLine = options.wbinvdPerDirtyLineCycles ?? 16;
    this.invdFixed = options.invdFixedCycles ?? 2000;
  }

  // ---------------------------------------------------------------------------------------------
  // The access path

  access(core: number, pa: number, kind: number): number {
    const line = pa >>> LINE_SHIFT;
    if (kind === ACCESS_FETCH) return this.fetch(core, line);
    const l1 = this.l1d;
    const set = core * l1.setsPerInstance + (line & l1.setMask);
    this.syncD(set);
    const way = l1.find(set, line);
    const lc = this.counters.level;
    const cb = (core * 4 + LEVEL_L1D) * 4;
    if (kind === ACCESS_WALK) this.counters.extra[core * 3 + X_WALKS]++;
    if (way >= 0) {
      lc[cb + F_HITS]++;
      l1.touch(set, way);
      if (kind === ACCESS_WRITE) {
        const e = set * l1.ways + way;
        const st = l1.state[e];
        if (st !== MODIFIED) {
          if (st === SHARED) this.snoop(core, line, true, this.l3EntryForSnoop(line));
          l1.state[e] = MODIFIED;
        }
      }
      this.refreshD(set);
      return 0;
    }
    lc[cb + F_MISSES]++;
    const write = kind === ACCESS_WRITE;
    const cd = this.cacheDisabled[core] !== 0;
    const e3 = this.l3EntryForSnoop(line);
    const modifiedElsewhere = this.snoop(core, line, write, e3);
    const level = this.lower(core, line, write && cd, e3);
    let cost = level === LEVEL_L2 ? this.l2CostD : level === LEVEL_L3 ? this.l3CostD : this.memCostD;
    if (!cd) {
      const st = write ? MODIFIED : this.sharedElsewhere ? SHARED : EXCLUSIVE;
      this.fill(LEVEL_L1D, l1, set, core, line, st, l1.allWays);
    }
    this.refreshD(set);
    if (modifiedElsewhere) {
      this.counters.extra[core * 3 + X_TRANSFERS]++;
      cost += this.transferCycles;
    }
    return cost;
  }

  private fetch(core: number, line: number): number {
    const l1 = this.l1i;
    const set = core * l1.setsPerInstance + (line & l1.setMask);
    this.syncI(set);
    const way = l1.find(set, line);
    const lc = this.counters.level;
    const cb = (core * 4 + LEVEL_L1I) * 4;
    if (way >= 0) {
      lc[cb + F_HITS]++;
      l1.touch(set, way);
      this.refreshI(set);
      return 0;
    }
    lc[cb + F_MISSES]++;
    const cd = this.cacheDisabled[core] !== 0;
    const e3 = this.l3EntryForSnoop(line);
    const modifiedElsewhere = this.snoop(core, line, false, e3);
    const level = this.lower(core, line, false, e3);
    let cost = level === LEVEL_L2 ? this.l2CostI : level === LEVEL_L3 ? this.l3CostI : this.memCostI;
    if (!cd) this.fill(LEVEL_L1I, l1, set, core, line, SHARED, l1.allWays);
    this.refreshI(set);
    if (modifiedElsewhere) {
      this.counters.extra[core * 3 + X_TRANSFERS]++;
      cost += this.transferCycles;
    }
    return cost;
  }

  /** With the directory: the L3 entry of `line` (-1 when absent); -2 when there is no directory. */
  private l3EntryForSnoop(line: number): number {
    if (!this.directory) return -2;
    const l3 = this.l3!;
    const s3 = l3.setOf(0, line);
    const w3 = l3.find(s3, line);
    return w3 < 0 ? -1 : s3 * l3.ways + w3;
  }

  /**
   * Look `line` up below the L1 of `core`: returns the level that served it (LEVEL_L2, LEVEL_L3, or -1 for
   * memory) and fills the levels that missed (not under CR0.CD). `dirtyOnHit`: a no-fill write that hits
   * an outer level updates it there (Table 11-5: write hits update the cache). `e3`: the line's L3 entry
   * as l3EntryForSnoop found it (the snoop does not move L3 lines).
   */
  private lower(core: number, line: number, dirtyOnHit: boolean, e3: number): number {
    const lc = this.counters.level;
    const cb = core * 16;
    const l2 = this.l2;
    const s2 = l2.setOf(this.l2Inst[core], line);
    const w2 = l2.find(s2, line);
    if (w2 >= 0) {
      lc[cb + LEVEL_L2 * 4 + F_HITS]++;
      l2.touch(s2, w2);
      if (dirtyOnHit) l2.state[s2 * l2.ways + w2] = MODIFIED;
      return LEVEL_L2;
    }
    lc[cb + LEVEL_L2 * 4 + F_MISSES]++;
    const cd = this.cacheDisabled[core] !== 0;
    let served = -1;
    const l3 = this.l3;
    if (l3 !== null) {
      if (e3 === -2) {
        const s3 = l3.setOf(this.l3Inst[core], line);
        const w3 = l3.find(s3, line);
        e3 = w3 < 0 ? -1 : s3 * l3.ways + w3;
      }
      if (e3 >= 0) {
        lc[cb + LEVEL_L3 * 4 + F_HITS]++;
        const ways = l3.ways;
        const s3 = (e3 / ways) | 0;
        l3.touch(s3, e3 - s3 * ways);
        if (dirtyOnHit) l3.state[e3] = MODIFIED;
        served = LEVEL_L3;
      } else {
        lc[cb + LEVEL_L3 * 4 + F_MISSES]++;
        if (!cd) e3 = this.fill(LEVEL_L3, l3, l3.setOf(this.l3Inst[core], line), core, line, SHARED, this.l3Masks[this.closOf[core]]);
      }
      if (this.directory && !cd) this.sharers[e3] |= 1 << this.l2Inst[core];
    }
    if (!cd) this.fill(LEVEL_L2, l2, s2, core, line, SHARED, this.l2Masks[this.closOf[core]]);
    return served;
  }

  /** Allocate `line` in `set` of `lvl` among the ways of `allowed`, evicting a victim if needed. Returns the entry. */
  private fill(levelIdx: number, lvl: CacheLevel, set: number, core: number, line: number, st: number, allowed: number): number {
    const w = lvl.victim(set, allowed);
    const e = set * lvl.ways + w;
    if (lvl.state[e] !== INVALID) this.evict(levelIdx, lvl, set, e, core);
    lvl.tags[e] = line;
    lvl.state[e] = st;
    lvl.owner[e] = this.ownerOf[core];
    lvl.touch(set, w);
    return e;
  }

  /** Replace entry `e` (of `set`) of `lvl` because `core` fills into it. */
  private evict(levelIdx: number, lvl: CacheLevel, set: number, e: number, core: number): void {
    const victimLine = lvl.tags[e];
    const cn = this.counters;
    const cb = (core * 4 + levelIdx) * 4;
    cn.level[cb + F_EVICTIONS]++;
    cn.owners[(levelIdx * MAX_OWNERS + this.ownerOf[core]) * MAX_OWNERS + lvl.owner[e]]++;
    const dirty = lvl.state[e] === MODIFIED;
    lvl.tags[e] = -1;
    lvl.state[e] = INVALID;
    if (dirty) {
      cn.level[cb + F_WRITEBACKS]++;
      this.writeBackBelow(levelIdx, this.pathCoreOf(levelIdx, lvl, set, core), victimLine);
    }
    if (levelIdx === LEVEL_L3 && this.inclusiveL3) {
      const inst = (set / lvl.setsPerInstance) | 0;
      if (this.directory) {
        const mask = this.sharers[e];
        this.sharers[e] = 0;
        if (mask !== 0) this.backInvalidate(inst, victimLine, core, mask);
      } else {
        this.backInvalidate(inst, victimLine, core, -1);
      }
    }
  }

  /** A core whose path contains `set` of `lvl` (the accessing core for private levels and its own shared instances). */
  private pathCoreOf(levelIdx: number, lvl: CacheLevel, set: number, core: number): number {
    if (levelIdx !== LEVEL_L2) return levelIdx === LEVEL_L3 ? core : (set / lvl.setsPerInstance) | 0;
    return this.l2Core[(set / lvl.setsPerInstance) | 0];
  }

  /** Dirty data of `line` leaves `fromLevel` on the path of `core`: mark the next level holding it dirty. */
  private writeBackBelow(fromLevel: number, core: number, line: number): void {
    if (fromLevel === LEVEL_L1D || fromLevel === LEVEL_L1I) {
      const l2 = this.l2;
      const s2 = l2.setOf(this.l2Inst[core], line);
      const w2 = l2.find(s2, line);
      if (w2 >= 0) {
        l2.state[s2 * l2.ways + w2] = MODIFIED;
        return;
      }
    }
    const l3 = this.l3;
    if (l3 !== null && fromLevel !== LEVEL_L3) {
      const s3 = l3.setOf(this.l3Inst[core], line);
      const w3 = l3.find(s3, line);
      if (w3 >= 0) l3.state[s3 * l3.ways + w3] = MODIFIED;
    }
    // Otherwise the data goes to memory, which holds it already.
  }

  /**
   * The inclusive L3 instance `inst` dropped `line`: drop it from the private caches below it, i.e. of the
   * L2 instances in `mask` (the directory's bits; -1 = every L2 instance under `inst`).
   */
  private backInvalidate(inst: number, line: number, evictor: number, mask: number): void {
    const evOwner = this.ownerOf[evictor];
    const l1d = this.l1d, l1i = this.l1i, l2 = this.l2;
    for (let i = 0; i < l2.instances; i++) {
      const first = this.l2Core[i];
      if (mask === -1 ? this.l3Inst[first] !== inst : (mask & (1 << i)) === 0) continue;
      for (let k = first; k < first + this.l2Count[i]; k++) {
        const sd = k * l1d.setsPerInstance + (line & l1d.setMask);
        const wd = l1d.find(sd, line);
        if (wd >= 0) {
          this.syncD(sd);
          this.dropBack(LEVEL_L1D, l1d, sd * l1d.ways + wd, evictor, evOwner);
          this.refreshD(sd);
        }
        const si = k * l1i.setsPerInstance + (line & l1i.setMask);
        const wi = l1i.find(si, line);
        if (wi >= 0) {
          this.syncI(si);
          this.dropBack(LEVEL_L1I, l1i, si * l1i.ways + wi, evictor, evOwner);
          this.refreshI(si);
        }
      }
      const s2 = l2.setOf(i, line);
      const w2 = l2.find(s2, line);
      if (w2 >= 0) this.dropBack(LEVEL_L2, l2, s2 * l2.ways + w2, evictor, evOwner);
    }
  }

  private dropBack(levelIdx: number, lvl: CacheLevel, e: number, evictor: number, evOwner: number): void {
    const cn = this.counters;
    cn.extra[evictor * 3 + X_BACK_INVALIDATIONS]++;
    cn.owners[(levelIdx * MAX_OWNERS + evOwner) * MAX_OWNERS + lvl.owner[e]]++;
    if (lvl.state[e] === MODIFIED) cn.level[(evictor * 4 + levelIdx) * 4 + F_WRITEBACKS]++;
    lvl.tags[e] = -1;
    lvl.state[e] = INVALID;
  }

  // ---------------------------------------------------------------------------------------------
  // Coherence between the private caches (SDM Vol. 3A 11.4, MESI)

  /**
   * The snoop of an access by `core` that is not an L1 hit needing nothing: a write invalidates every
   * other copy, a read or fetch downgrades M and E copies to S (an M copy's data is written back below
   * it). Sets sharedElsewhere; returns true when another copy was Modified. `e3`: the line's L3 entry with
   * the directory (-1: in no private cache), -2 without it (snoop every other core).
   */
  private snoop(core: number, line: number, write: boolean, e3: number): boolean {
    let r = 0;
    const own2 = this.l2Inst[core];
    if (e3 === -1) {
      r = 0;
    } else if (e3 >= 0) {
      let mask = this.sharers[e3];
      while (mask !== 0) {
        const bit = mask & -mask;
        mask ^= bit;
        const i = 31 - Math.clz32(bit);
        let ri = 0;
        const first = this.l2Core[i], end = first + this.l2Count[i];
        for (let k = first; k < end; k++) if (k !== core) ri |= write ? this.invalidateL1s(k, line) : this.downgradeL1s(k, line, core);
        if (i !== own2) {
          ri |= write ? this.invalidateIn(this.l2, i, line) : this.downgradeIn(LEVEL_L2, this.l2, i, line);
          // Nothing left below instance i: its bit goes.
          if (write || ri === 0) this.sharers[e3] &= ~bit;
        }
        r |= ri;
      }
    } else {
      for (let k = 0; k < this.coreCount; k++) if (k !== core) r |= write ? this.invalidateL1s(k, line) : this.downgradeL1s(k, line, core);
      const l2 = this.l2;
      if (l2.instances > 1) {
        for (let i = 0; i < l2.instances; i++) {
          if (i !== own2) r |= write ? this.invalidateIn(l2, i, line) : this.downgradeIn(LEVEL_L2, l2, i, line);
        }
      }
      const l3 = this.l3;
      if (l3 !== null && l3.instances > 1) {
        const own3 = this.l3Inst[core];
        for (let i = 0; i < l3.instances; i++) {
          if (i !== own3) r |= write ? this.invalidateIn(l3, i, line) : this.downgradeIn(LEVEL_L3, l3, i, line);
        }
      }
    }
    this.sharedElsewhere = (r & FOUND) !== 0;
    return (r & FOUND_MODIFIED) !== 0;
  }

  /** Invalidate `line` in core k's L1D and L1I. */
  private invalidateL1s(k: number, line: number): number {
    let r = 0;
    const l1d = this.l1d, l1i = this.l1i;
    const sd = k * l1d.setsPerInstance + (line & l1d.setMask);
    const wd = l1d.find(sd, line);
    if (wd >= 0) {
      this.syncD(sd);
      const e = sd * l1d.ways + wd;
      r = l1d.state[e] === MODIFIED ? FOUND | FOUND_MODIFIED : FOUND;
      l1d.tags[e] = -1;
      l1d.state[e] = INVALID;
      this.refreshD(sd);
    }
    const si = k * l1i.setsPerInstance + (line & l1i.setMask);
    const wi = l1i.find(si, line);
    if (wi >= 0) {
      this.syncI(si);
      const e = si * l1i.ways + wi;
      r |= FOUND;
      l1i.tags[e] = -1;
      l1i.state[e] = INVALID;
      this.refreshI(si);
    }
    return r;
  }

  /** A read by `requester`: core k's L1D copy becomes S (M written back below it); L1I copies stay. */
  private downgradeL1s(k: number, line: number, requester: number): number {
    const l1d = this.l1d, l1i = this.l1i;
    const sd = k * l1d.setsPerInstance + (line & l1d.setMask);
    const wd = l1d.find(sd, line);
    if (wd >= 0) {
      this.syncD(sd);
      const e = sd * l1d.ways + wd;
      const st = l1d.state[e];
      if (st === MODIFIED) {
        l1d.state[e] = SHARED;
        this.counters.level[(requester * 4 + LEVEL_L1D) * 4 + F_WRITEBACKS]++;
        this.writeBackBelow(LEVEL_L1D, k, line);
        this.refreshD(sd);
        return FOUND | FOUND_MODIFIED;
      }
      if (st === EXCLUSIVE) l1d.state[e] = SHARED;
      return FOUND;
    }
    return l1i.find(k * l1i.setsPerInstance + (line & l1i.setMask), line) >= 0 ? FOUND : 0;
  }

  /** Invalidate `line` in instance `i` of an outer level. */
  private invalidateIn(lvl: CacheLevel, i: number, line: number): number {
    const s = lvl.setOf(i, line);
    const w = lvl.find(s, line);
    if (w < 0) return 0;
    const e = s * lvl.ways + w;
    const r = lvl.state[e] === MODIFIED ? FOUND | FOUND_MODIFIED : FOUND;
    lvl.tags[e] = -1;
    lvl.state[e] = INVALID;
    return r;
  }

  /** A read elsewhere: a dirty copy in instance `i` of an outer level becomes clean (written back below). */
  private downgradeIn(levelIdx: number, lvl: CacheLevel, i: number, line: number): number {
    const s = lvl.setOf(i, line);
    const w = lvl.find(s, line);
    if (w < 0) return 0;
    const e = s * lvl.ways + w;
    if (lvl.state[e] !== MODIFIED) return FOUND;
    lvl.state[e] = SHARED;
    if (levelIdx === LEVEL_L2) this.writeBackBelow(LEVEL_L2, this.l2Core[i], line);
    return FOUND | FOUND_MODIFIED;
  }

  // ---------------------------------------------------------------------------------------------
  // Filters (core-cache-view.ts)

  /**
   * Apply the touch the filters owe the model in L1D `set` (global; see the header): the level-1 line is
   * the true MRU; when it is the model's mru2 line, a level-2 hit swapped it in unseen.
   */
  private syncD(set: number): void {
    syncSet(this.l1d, this.dFilters, set);
  }

  /** syncD for the L1I and the fetch filters. */
  private syncI(set: number): void {
    syncSet(this.l1i, this.iFilters, set);
  }

  /** Sync every L1D and L1I set of `core` (before a whole-cache operation). */
  private syncAll(core: number): void {
    const d = this.l1d.setsPerInstance, i = this.l1i.setsPerInstance;
    for (let s = core * d; s < (core + 1) * d; s++) this.syncD(s);
    for (let s = core * i; s < (core + 1) * i; s++) this.syncI(s);
  }

  /** Both filter levels of L1D `set` (global), from the set's mru and mru2 ways (core-cache-view.ts). */
  private refreshD(set: number): void {
    const l1 = this.l1d;
    const base = set * l1.ways;
    let f1 = 0, f2 = 0;
    const m = l1.mru[set];
    if (m !== NO_WAY) {
      const st = l1.state[base + m];
      if (st !== INVALID) f1 = (l1.tags[base + m] << LINE_SHIFT) | (st === MODIFIED ? 63 : 62);
    }
    const m2 = l1.mru2[set];
    if (m2 !== NO_WAY) {
      const st = l1.state[base + m2];
      if (st !== INVALID) f2 = (l1.tags[base + m2] << LINE_SHIFT) | (st === MODIFIED ? 63 : 62);
    }
    this.dFilters[set << 1] = f1;
    this.dFilters[(set << 1) + 1] = f2;
  }

  /** Both fetch-filter levels of L1I `set` (global). */
  private refreshI(set: number): void {
    const l1 = this.l1i;
    const base = set * l1.ways;
    let f1 = 0, f2 = 0;
    const m = l1.mru[set];
    if (m !== NO_WAY && l1.state[base + m] !== INVALID) f1 = (l1.tags[base + m] << LINE_SHIFT) | 63;
    const m2 = l1.mru2[set];
    if (m2 !== NO_WAY && l1.state[base + m2] !== INVALID) f2 = (l1.tags[base + m2] << LINE_SHIFT) | 63;
    this.iFilters[set << 1] = f1;
    this.iFilters[(set << 1) + 1] = f2;
  }

  // ---------------------------------------------------------------------------------------------
  // Owners, CAT, colours

  setOwner(core: number, owner: number): void {
    this.checkCore(core);
    if (!Number.isInteger(owner) || owner < 0 || owner >= MAX_OWNERS) throw new RangeError(`cache owner ${owner} (0..${MAX_OWNERS - 1})`);
    this.ownerOf[core] = owner;
  }

  ownerOfCore(core: number): number {
    this.checkCore(core);
    return this.ownerOf[core];
  }

  /** IA32_PQR_ASSOC.CLOS of `core` (SDM Vol. 3B 17.19.5). */
  setClos(core: number, clos: number): void {
    this.checkCore(core);
    if (!Number.isInteger(clos) || clos < 0 || clos >= this.closCount) throw new RangeError(`CLOS ${clos} (0..${this.closCount - 1})`);
    this.closOf[core] = clos;
  }

  closOfCore(core: number): number {
    this.checkCore(core);
    return this.closOf[core];
  }

  /** Whether the hierarchy has `level` (an L3 is optional). */
  hasLevel(level: "l2" | "l3"): boolean {
    return level === "l2" || this.l3 !== null;
  }

  /** Ways of `level` (the CBM length CPUID.10H reports). */
  waysOf(level: "l2" | "l3"): number {
    return this.shared(level).ways;
  }

  /** IA32_L2/L3_QOS_MASK_n: false (and nothing changes) for an absent level, a CLOS out of range or an
   * illegal mask (SDM Vol. 3B 17.19.4.2: zero, non-contiguous or wider than the CBM length). */
  setWayMask(level: "l2" | "l3", clos: number, mask: number): boolean {
    const lvl = level === "l2" ? this.l2 : this.l3;
    if (lvl === null || !Number.isInteger(clos) || clos < 0 || clos >= this.closCount) return false;
    if (!isLegalWayMask(mask, lvl.ways)) return false;
    (level === "l2" ? this.l2Masks : this.l3Masks)[clos] = mask | 0;
    return true;
  }

  wayMask(level: "l2" | "l3", clos: number): number {
    this.shared(level);
    if (!Number.isInteger(clos) || clos < 0 || clos >= this.closCount) throw new RangeError(`CLOS ${clos} (0..${this.closCount - 1})`);
    return (level === "l2" ? this.l2Masks : this.l3Masks)[clos] >>> 0;
  }

  /** Page colours of `level`: the set-index bits above the 4 KiB page offset (1 when there are none). */
  colours(level: "l2" | "l3"): number {
    const lvl = this.shared(level);
    return Math.max(1, (lvl.setsPerSlice << LINE_SHIFT) >>> 12);
  }

  colourOf(level: "l2" | "l3", pa: number): number {
    return (pa >>> 12) & (this.colours(level) - 1);
  }

  private shared(level: "l2" | "l3"): CacheLevel {
    const lvl = level === "l2" ? this.l2 : level === "l3" ? this.l3 : undefined;
    if (lvl === undefined) throw new RangeError(`cache level '${level as string}' (l2 or l3)`);
    if (lvl === null) throw new RangeError("cache l3: this hierarchy has no L3");
    return lvl;
  }

  private checkCore(core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.coreCount) throw new RangeError(`core ${core} (0..${this.coreCount - 1})`);
  }

  // ---------------------------------------------------------------------------------------------
  // WBINVD, INVD, CR0.CD

  /**
   * WBINVD on `core` (SDM Vol. 2 WBINVD): write back the dirty lines of its L1I/L1D, its L2 instance and
   * its L3 instance and invalidate them; an inclusive L3 takes the private caches of every core sharing
   * it along (their dirty lines are written back too). Another core's private L1 under a shared,
   * non-inclusive L2 keeps its lines. Returns wbinvdFixedCycles + dirty lines x wbinvdPerDirtyLineCycles.
   */
  wbinvd(core: number): number {
    this.checkCore(core);
    const dirty = this.flushScope(core, true);
    return this.wbinvdFixed + dirty * this.wbinvdPerLine;
  }

  /**
   * INVD on `core` (SDM Vol. 2 INVD): invalidate the same caches as WBINVD without writing anything back.
   * On hardware the modified data is lost; in this model stores have already reached RAM, so INVD costs
   * time and empties the caches but loses no data (a guest relying on the loss would see a difference).
   */
  invd(core: number): number {
    this.checkCore(core);
    this.flushScope(core, false);
    return this.invdFixed;
  }

  /** CR0.CD of `core` (SDM Vol. 3A 11.5.3, Table 11-5 no-fill mode): hits are served, misses do not allocate. */
  setCacheDisabled(core: number, disabled: boolean): void {
    this.checkCore(core);
    this.cacheDisabled[core] = disabled ? 1 : 0;
  }

  private flushScope(core: number, writeBack: boolean): number {
    let dirty = 0;
    const cores: number[] = [core];
    if (this.l3 !== null && this.inclusiveL3) {
      for (let k = 0; k < this.coreCount; k++) if (k !== core && this.l3Inst[k] === this.l3Inst[core]) cores.push(k);
    }
    for (const k of cores) this.syncAll(k);
    const l2Done = new Set<number>();
    for (const k of cores) {
      dirty += this.flushInstance(LEVEL_L1I, this.l1i, k, core, writeBack);
      dirty += this.flushInstance(LEVEL_L1D, this.l1d, k, core, writeBack);
      this.views[k].clear();
      if (!l2Done.has(this.l2Inst[k])) {
        l2Done.add(this.l2Inst[k]);
        dirty += this.flushInstance(LEVEL_L2, this.l2, this.l2Inst[k], core, writeBack);
      }
    }
    if (this.l3 !== null) dirty += this.flushInstance(LEVEL_L3, this.l3, this.l3Inst[core], core, writeBack);
    return dirty;
  }

  private flushInstance(levelIdx: number, lvl: CacheLevel, inst: number, core: number, writeBack: boolean): number {
    const from = inst * lvl.setsPerInstance * lvl.ways;
    const to = from + lvl.setsPerInstance * lvl.ways;
    let dirty = 0;
    for (let e = from; e < to; e++) {
      if (lvl.state[e] === MODIFIED) dirty++;
      lvl.tags[e] = -1;
      lvl.state[e] = INVALID;
    }
    if (levelIdx === LEVEL_L3 && this.directory) this.sharers.fill(0, from, to);
    if (writeBack) this.counters.level[(core * 4 + levelIdx) * 4 + F_WRITEBACKS] += dirty;
    return dirty;
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics and inspection

  stats(): CacheStats {
    return this.counters.snapshot(
      this.l3 !== null,
      this.views.map((v) => [v.iFilterHits, v.dFilterHits] as const),
    );
  }

  resetStats(): void {
    this.counters.reset();
    for (const v of this.views) {
      v.dFilterHits = 0;
      v.iFilterHits = 0;
    }
  }

  /**
   * Where `pa`'s line sits in the `level` instance on `core`'s path: its state (INVALID/SHARED/EXCLUSIVE/
   * MODIFIED; outer levels use SHARED for clean), whether it is the set's MRU way, and its owner; null
   * when absent. For tests and reports; not on the hot path.
   */
  probe(core: number, level: LevelName, pa: number): { state: number; mru: boolean; owner: number; set: number; way: number } | null {
    this.checkCore(core);
    const line = pa >>> LINE_SHIFT;
    const lvl = level === "l1i" ? this.l1i : level === "l1d" ? this.l1d : level === "l2" ? this.l2 : this.l3;
    if (lvl === null) return null;
    const inst = level === "l1i" || level === "l1d" ? core : level === "l2" ? this.l2Inst[core] : this.l3Inst[core];
    const set = lvl.setOf(inst, line);
    // The replacement state the model shows must include the touch the core's filters may owe it.
    if (lvl === this.l1d) this.syncD(set);
    else if (lvl === this.l1i) this.syncI(set);
    const way = lvl.find(set, line);
    if (way < 0) return null;
    const e = set * lvl.ways + way;
    return { state: lvl.state[e], mru: lvl.mru[set] === way, owner: lvl.owner[e], set, way };
  }
}

/** The deferred touch of one L1 set (syncD / syncI): the level-1 filter line is the true MRU; when it is
 * the model's mru2 line, a level-2 filter hit swapped it in unseen. */
function syncSet(l1: CacheLevel, filters: Int32Array, set: number): void {
  const f = filters[set << 1];
  if (f === 0) return;
  const w2 = l1.mru2[set];
  if (w2 !== NO_WAY && l1.tags[set * l1.ways + w2] === f >>> LINE_SHIFT) l1.touch(set, w2);
}
