/**
 * Counters of the cache model (issue 4, "Statistics per core and per owner ... so a report can say who
 * evicted whom"): per core and level hits, misses, evictions and writebacks; per core page-walk accesses,
 * cross-core transfers (a snoop that found the line Modified in another core's private cache, SDM Vol. 3A
 * 11.4) and back-invalidations (lines dropped from private caches because the inclusive L3 evicted them);
 * and per level evictions[evictor owner][victim owner].
 *
 * Attribution: a hit or miss belongs to the core that accessed; an eviction and the writeback of a dirty
 * victim belong to the core whose fill (or WBINVD) caused them, also in a shared level.
 * Counters are doubles (exact up to 2^53). The record stats() builds is plain JSON with a fixed key order.
 * The owner matrix counts every line a fill removed, including back-invalidated private copies; the
 * per-core `evictions` count replacements only.
 *
 * Leaves out: per-instance and per-slice counters, occupancy per owner (Intel CMT, SDM Vol. 3B 17.18)
 * and memory-bandwidth counters.
 */

export const LEVEL_L1I = 0, LEVEL_L1D = 1, LEVEL_L2 = 2, LEVEL_L3 = 3;
export const LEVEL_NAMES = ["l1i", "l1d", "l2", "l3"] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

export const F_HITS = 0, F_MISSES = 1, F_EVICTIONS = 2, F_WRITEBACKS = 3;
export const X_WALKS = 0, X_TRANSFERS = 1, X_BACK_INVALIDATIONS = 2;

/** Owner ids are 0 .. MAX_OWNERS - 1 (a partition id fits). */
export const MAX_OWNERS = 64;

export interface LevelCounters {
  hits: number;
  misses: number;
  evictions: number;
  writebacks: number;
}

export interface CoreCacheStats {
  core: number;
  l1i: LevelCounters;
  l1d: LevelCounters;
  l2: LevelCounters;
  l3: LevelCounters | null;
  /** Page-walk accesses (kind ACCESS_WALK); also counted as L1D accesses. */
  walks: number;
  /** Accesses that found the line Modified in another core's private cache. */
  transfers: number;
  /** Lines this core's fills evicted from the inclusive L3 that were also dropped from private caches. */
  backInvalidations: number;
}

/** evictions[evictor owner][victim owner], only non-zero pairs, owners in ascending order. */
export type OwnerMatrix = Record<string, Record<string, number>>;

export interface CacheStats {
  cores: CoreCacheStats[];
  /** All levels together. */
  evictions: OwnerMatrix;
  evictionsByLevel: { l1i: OwnerMatrix; l1d: OwnerMatrix; l2: OwnerMatrix; l3: OwnerMatrix | null };
}

export class CacheCounters {
  /** [core][level][field]: index (core * 4 + level) * 4 + field. */
  readonly level: Float64Array;
  /** [core][extra]: index core * 3 + extra. */
  readonly extra: Float64Array;
  /** [level][evictor][victim]: index (level * MAX_OWNERS + evictor) * MAX_OWNERS + victim. */
  readonly owners: Float64Array;

  constructor(readonly cores: number) {
    this.level = new Float64Array(cores * 16);
    this.extra = new Float64Array(cores * 3);
    this.owners = new Float64Array(4 * MAX_OWNERS * MAX_OWNERS);
  }

  reset(): void {
    this.level.fill(0);
    this.extra.fill(0);
    this.owners.fill(0);
  }

  /** The JSON record; `filterHits[core]` = [L1I, L1D] hits the core counted on its filters. */
  snapshot(hasL3: boolean, filterHits: ReadonlyArray<readonly [number, number]>): CacheStats {
    const lc = (core: number, lv: number, extraHits: number): LevelCounters => {
      const b = (core * 4 + lv) * 4;
      return {
        hits: this.level[b + F_HITS] + extraHits,
        misses: this.level[b + F_MISSES],
        evictions: this.level[b + F_EVICTIONS],
        writebacks: this.level[b + F_WRITEBACKS],
      };
    };
    const cores: CoreCacheStats[] = [];
    for (let c = 0; c < this.cores; c++) {
      cores.push({
        core: c,
        l1i: lc(c, LEVEL_L1I, filterHits[c][0]),
        l1d: lc(c, LEVEL_L1D, filterHits[c][1]),
        l2: lc(c, LEVEL_L2, 0),
        l3: hasL3 ? lc(c, LEVEL_L3, 0) : null,
        walks: this.extra[c * 3 + X_WALKS],
        transfers: this.extra[c * 3 + X_TRANSFERS],
        backInvalidations: this.extra[c * 3 + X_BACK_INVALIDATIONS],
      });
    }
    const total = new Float64Array(MAX_OWNERS * MAX_OWNERS);
    const matrix = (lv: number): OwnerMatrix => {
      const out: OwnerMatrix = {};
      for (let by = 0; by < MAX_OWNERS; by++) {
        for (let of = 0; of < MAX_OWNERS; of++) {
          const n = this.owners[(lv * MAX_OWNERS + by) * MAX_OWNERS + of];
          if (n === 0) continue;
          total[by * MAX_OWNERS + of] += n;
          (out[String(by)] ??= {})[String(of)] = n;
        }
      }
      return out;
    };
    const byLevel = { l1i: matrix(LEVEL_L1I), l1d: matrix(LEVEL_L1D), l2: matrix(LEVEL_L2), l3: hasL3 ? matrix(LEVEL_L3) : null };
    const evictions: OwnerMatrix = {};
    for (let by = 0; by < MAX_OWNERS; by++) {
      for (let of = 0; of < MAX_OWNERS; of++) {
        const n = total[by * MAX_OWNERS + of];
        if (n !== 0) (evictions[String(by)] ??= {})[String(of)] = n;
      }
    }
    return { cores, evictions, evictionsByLevel: byLevel };
  }
}
