/**
 * TLB capacity and replacement as a timing model (SDM Vol. 3A 4.10.2 "Translation Lookaside Buffers";
 * the geometry of each part is in the profile's TlbGeometry, as CPUID leaf 2 / 18H report it): which
 * linear pages a core's ITLB or DTLB holds, so that the functional TLB (tlb.ts, which caches every
 * translation until an SDM-defined flush) can drop a translation when the modelled TLB evicts it, and the
 * next access pays a page walk.
 *
 * Two set-associative arrays with true LRU: 4 KiB pages (entries / ways sets, page number = lin >>> 12)
 * and large pages (page number = lin >>> 22 for 4 MiB pages). The set is page & (sets - 1) when the set
 * count is a power of two, page % sets otherwise. An array whose entries are not a whole number of
 * `ways`-way sets (Nehalem's 7 large-page ITLB entries per thread, 4 ways given) is fully associative;
 * with largeEntries = 0 a large page cannot be held (insert returns the page itself, as evicted at once).
 *
 * Leaves out: the second-level (shared) TLB, PCID, global-page preference in replacement, and splintering
 * of large pages into 4 KiB entries.
 */
import type { TlbGeometry } from "../profile.ts";

class TlbArray {
  readonly sets: number;
  readonly ways: number;
  readonly pages: Int32Array;
  readonly rank: Uint8Array;
  private readonly pow2: boolean;

  constructor(entries: number, ways: number, what: string) {
    if (!Number.isInteger(entries) || entries < 0) throw new RangeError(`${what}: ${entries} entries`);
    if (entries === 0) {
      this.sets = 0;
      this.ways = 0;
    } else {
      if (!Number.isInteger(ways) || ways < 1) throw new RangeError(`${what}: ${ways} ways`);
      // Not whole sets (Nehalem's 7 large-page ITLB entries with 4 ways): fully associative.
      const w = entries % ways === 0 ? ways : entries;
      if (w > 255) throw new RangeError(`${what}: ${entries} entries in ${ways}-way sets (at most 255 ways)`);
      this.ways = w;
      this.sets = entries / w;
    }
    this.pages = new Int32Array(entries).fill(-1);
    this.rank = new Uint8Array(entries);
    for (let e = 0; e < entries; e++) this.rank[e] = e % (this.ways || 1);
    this.pow2 = (this.sets & (this.sets - 1)) === 0;
  }

  private setOf(page: number): number {
    return this.pow2 ? page & (this.sets - 1) : page % this.sets;
  }

  private find(base: number, page: number): number {
    for (let w = 0; w < this.ways; w++) if (this.pages[base + w] === page) return w;
    return -1;
  }

  private touch(base: number, way: number): void {
    const r = this.rank[base + way];
    for (let w = 0; w < this.ways; w++) if (this.rank[base + w] < r) this.rank[base + w]++;
    this.rank[base + way] = 0;
  }

  insert(page: number): number {
    if (this.sets === 0) return page;
    const base = this.setOf(page) * this.ways;
    const hit = this.find(base, page);
    if (hit >= 0) {
      this.touch(base, hit);
      return -1;
    }
    let victim = -1;
    for (let w = 0; w < this.ways; w++) {
      if (this.pages[base + w] === -1) {
        victim = w;
        break;
      }
    }
    if (victim < 0) {
      let best = -1;
      for (let w = 0; w < this.ways; w++) {
        if (this.rank[base + w] > best) {
          best = this.rank[base + w];
          victim = w;
        }
      }
    }
    const evicted = this.pages[base + victim];
    this.pages[base + victim] = page;
    this.touch(base, victim);
    return evicted;
  }

  has(page: number): boolean {
    return this.sets !== 0 && this.find(this.setOf(page) * this.ways, page) >= 0;
  }

  touchPage(page: number): boolean {
    if (this.sets === 0) return false;
    const base = this.setOf(page) * this.ways;
    const w = this.find(base, page);
    if (w < 0) return false;
    this.touch(base, w);
    return true;
  }

  invalidate(page: number): void {
    if (this.sets === 0) return;
    const base = this.setOf(page) * this.ways;
    const w = this.find(base, page);
    if (w >= 0) this.pages[base + w] = -1;
  }

  flush(): void {
    this.pages.fill(-1);
  }
}

export class TlbModel {
  private readonly small: TlbArray;
  private readonly large: TlbArray;

  constructor(g: TlbGeometry) {
    this.small = new TlbArray(g.entries, g.ways, "tlb (4 KiB pages)");
    this.large = new TlbArray(g.largeEntries, g.ways, "tlb (large pages)");
  }

  /** Insert linear page `page` (large: page = lin >>> 22). Returns the evicted page (same kind) or -1;
   * a page already held is only made most recently used. */
  insert(page: number, large: boolean): number {
    return large ? this.large.insert(page) : this.small.insert(page);
  }

  has(page: number, large: boolean): boolean {
    return large ? this.large.has(page) : this.small.has(page);
  }

  /** A hit: make `page` most recently used. Returns false when it is not held. Callers that see TLB hits
   * only in the functional TLB and never call this get FIFO-by-insertion replacement instead of LRU. */
  touch(page: number, large: boolean): boolean {
    return large ? this.large.touchPage(page) : this.small.touchPage(page);
  }

  flush(): void {
    this.small.flush();
    this.large.flush();
  }

  invalidate(page: number, large: boolean): void {
    if (large) this.large.invalidate(page);
    else this.small.invalidate(page);
  }
}
