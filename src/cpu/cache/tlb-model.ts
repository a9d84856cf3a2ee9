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
 * Tags (SDM Vol. 3C 28.3.1, 28.3.3): each entry belongs to a context, a (VPID, EP4TA) pair numbered by
 * `context()` (EP4TA -1: no EPT; the host is VPID 0), and holds the translation that was filled (physical page
 * base and the tlb.ts rights), so that a core can refill its functional TLB, which holds one context at a time,
 * from the entries of the current context that survived a VM entry or exit with VPIDs (28.3.3.3), without a
 * walk. The same page of two contexts takes two entries of its set. What drops entries: `dropVpid` (a
 * transition without VPID, MOV to CR0/CR4, INVVPID single- and all-context), `dropEp4ta` (INVEPT),
 * `dropPageOfVpid` (INVVPID individual-address), `invalidate` (INVLPG), `flush`.
 *
 * Leaves out: the second-level (shared) TLB, PCID, global-page preference in replacement, and splintering
 * of large pages into 4 KiB entries.
 */
import type { TlbGeometry } from "../profile.ts";

/** tlb.ts TlbRight.GLOBAL: the entry survives MOV to CR3 and INVVPID type 3. */
const GLOBAL = 32;

class TlbArray {
  readonly sets: number;
  readonly ways: number;
  readonly pages: Int32Array;
  readonly rank: Uint8Array;
  /** Per entry: its context, and the translation (physical page base, rights) it holds. */
  readonly ctx: Int32Array;
  readonly pa: Int32Array;
  readonly rights: Int32Array;
  /** The context of the entry the last insert evicted. */
  evictedCtx = 0;
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
    this.ctx = new Int32Array(entries);
    this.pa = new Int32Array(entries);
    this.rights = new Int32Array(entries);
    this.rank = new Uint8Array(entries);
    for (let e = 0; e < entries; e++) this.rank[e] = e % (this.ways || 1);
    this.pow2 = (this.sets & (this.sets - 1)) === 0;
  }

  private setOf(page: number): number {
    return this.pow2 ? page & (this.sets - 1) : page % this.sets;
  }

  private find(base: number, page: number, ctx: number): number {
    for (let w = 0; w < this.ways; w++) if (this.pages[base + w] === page && this.ctx[base + w] === ctx) return w;
    return -1;
  }

  private touch(base: number, way: number): void {
    const r = this.rank[base + way];
    for (let w = 0; w < this.ways; w++) if (this.rank[base + w] < r) this.rank[base + w]++;
    this.rank[base + way] = 0;
  }

  insert(page: number, ctx: number, pa: number, rights: number): number {
    this.evictedCtx = ctx;
    if (this.sets === 0) return page;
    const base = this.setOf(page) * this.ways;
    const hit = this.find(base, page, ctx);
    if (hit >= 0) {
      this.pa[base + hit] = pa;
      this.rights[base + hit] = rights;
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
    const e = base + victim;
    const evicted = this.pages[e];
    this.evictedCtx = this.ctx[e];
    this.pages[e] = page;
    this.ctx[e] = ctx;
    this.pa[e] = pa;
    this.rights[e] = rights;
    this.touch(base, victim);
    return evicted;
  }

  has(page: number, ctx: number): boolean {
    return this.sets !== 0 && this.find(this.setOf(page) * this.ways, page, ctx) >= 0;
  }

  /** The entry index holding (page, ctx), made most recently used, or -1. */
  touchPage(page: number, ctx: number): number {
    if (this.sets === 0) return -1;
    const base = this.setOf(page) * this.ways;
    const w = this.find(base, page, ctx);
    if (w < 0) return -1;
    this.touch(base, w);
    return base + w;
  }

  invalidate(page: number, ctx: number): void {
    if (this.sets === 0) return;
    const base = this.setOf(page) * this.ways;
    const w = this.find(base, page, ctx);
    if (w >= 0) this.pages[base + w] = -1;
  }

  /** Drop the entries whose context is marked in `which` (and, with `keepGlobal`, not global); `page` >= 0
   * restricts it to that page. */
  drop(which: Uint8Array, keepGlobal: boolean, page: number): void {
    const n = this.pages.length;
    for (let e = 0; e < n; e++) {
      const p = this.pages[e];
      if (p === -1 || which[this.ctx[e]] === 0) continue;
      if (page >= 0 && p !== page) continue;
      if (keepGlobal && (this.rights[e] & GLOBAL) !== 0) continue;
      this.pages[e] = -1;
    }
  }

  flush(): void {
    this.pages.fill(-1);
  }
}

export class TlbModel {
  private readonly small: TlbArray;
  private readonly large: TlbArray;
  /** Context numbers by key (vpid + 65536 * (ep4ta + 1)), and each context's VPID and EP4TA. */
  private readonly contextIds = new Map<number, number>();
  private readonly ctxVpid: number[] = [0];
  private readonly ctxEp4ta: number[] = [-1];
  /** Scratch: the contexts a drop applies to (one byte per context number). */
  private which = new Uint8Array(8);
  /** The context of the entry the last insert evicted. */
  evictedCtx = 0;
  /** The translation of the entry the last successful `find` returned. */
  foundPaBase = 0;
  foundRights = 0;

  constructor(g: TlbGeometry) {
    this.small = new TlbArray(g.entries, g.ways, "tlb (4 KiB pages)");
    this.large = new TlbArray(g.largeEntries, g.ways, "tlb (large pages)");
    this.contextIds.set(0, 0);
  }

  /** The number of context (vpid, ep4ta); ep4ta -1 without EPT. Context 0 is (0, -1), the host's. */
  context(vpid: number, ep4ta: number): number {
    const key = vpid + 65536 * (ep4ta + 1);
    let id = this.contextIds.get(key);
    if (id === undefined) {
      id = this.ctxVpid.length;
      this.contextIds.set(key, id);
      this.ctxVpid.push(vpid);
      this.ctxEp4ta.push(ep4ta);
      if (id >= this.which.length) this.which = new Uint8Array(this.which.length * 2);
    }
    return id;
  }

  /** Contexts that exist (context 0 included). */
  get contexts(): number {
    return this.ctxVpid.length;
  }

  /** Insert linear page `page` (large: page = lin >>> 22) of context `ctx` with its translation (physical
   * page base, tlb.ts rights | GLOBAL). Returns the evicted page (same kind; `evictedCtx` says whose) or -1;
   * a page already held is made most recently used and takes the new translation. */
  insert(page: number, large: boolean, ctx = 0, paBase = 0, rights = 0): number {
    const a = large ? this.large : this.small;
    const evicted = a.insert(page, ctx, paBase, rights);
    this.evictedCtx = a.evictedCtx;
    return evicted;
  }

  has(page: number, large: boolean, ctx = 0): boolean {
    return large ? this.large.has(page, ctx) : this.small.has(page, ctx);
  }

  /** A hit: make `page` most recently used. Returns false when it is not held. Callers that see TLB hits
   * only in the functional TLB and never call this get FIFO-by-insertion replacement instead of LRU. */
  touch(page: number, large: boolean, ctx = 0): boolean {
    return (large ? this.large.touchPage(page, ctx) : this.small.touchPage(page, ctx)) >= 0;
  }

  /** Look up 4 KiB page `page` of context `ctx`: when held, make it most recently used, set foundPaBase and
   * foundRights, and return true. */
  find(page: number, ctx: number): boolean {
    const a = this.small;
    const e = a.touchPage(page, ctx);
    if (e < 0) return false;
    this.foundPaBase = a.pa[e];
    this.foundRights = a.rights[e];
    return true;
  }

  flush(): void {
    this.small.flush();
    this.large.flush();
  }

  invalidate(page: number, large: boolean, ctx = 0): void {
    if (large) this.large.invalidate(page, ctx);
    else this.small.invalidate(page, ctx);
  }

  /** Drop the entries of every context with VPID `vpid` (-1: every VPID but 0, INVVPID all-context), keeping
   * global ones when asked (INVVPID single-context retaining globals). */
  dropVpid(vpid: number, keepGlobal = false): void {
    this.dropWhere((k) => (vpid < 0 ? this.ctxVpid[k] !== 0 : this.ctxVpid[k] === vpid), keepGlobal, -1);
  }

  /** Drop the entries of every context with EP4TA `ep4ta` (-1: of every context with EPT); INVEPT. */
  dropEp4ta(ep4ta: number): void {
    this.dropWhere((k) => (ep4ta < 0 ? this.ctxEp4ta[k] !== -1 : this.ctxEp4ta[k] === ep4ta), false, -1);
  }

  /** Drop 4 KiB page `page` of every context with VPID `vpid` (INVVPID individual-address). */
  dropPageOfVpid(page: number, vpid: number): void {
    this.dropWhere((k) => this.ctxVpid[k] === vpid, false, page);
  }

  /** Drop every entry of context `ctx`. */
  dropContext(ctx: number): void {
    this.dropWhere((k) => k === ctx, false, -1);
  }

  private dropWhere(match: (ctx: number) => boolean, keepGlobal: boolean, page: number): void {
    const w = this.which;
    let any = false;
    for (let k = 0; k < this.ctxVpid.length; k++) {
      w[k] = match(k) ? 1 : 0;
      if (w[k] !== 0) any = true;
    }
    if (!any) return;
    this.small.drop(w, keepGlobal, page);
    if (page < 0) this.large.drop(w, keepGlobal, -1);
  }
}
