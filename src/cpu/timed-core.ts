/**
 * A core whose memory accesses go through the cache and TLB timing model (issue 4, "Caches and TLBs";
 * cache/memory-hierarchy.ts): data reads and writes, instruction fetch (per 64-byte line of each block
 * run), page-walk reads, and the descriptor-table and stack accesses of the slow paths. The data itself
 * stays in RAM; the model only adds cycles.
 *
 * Cost rule: an instruction's class cost includes one L1 hit per memory operand; an access that misses
 * the L1 adds the latency of the level that hit minus the L1 latency (and a cross-core transfer when
 * another core held the line modified), as access() returns. The common case, a hit on the most recently
 * used or the second most recently used line of its L1 set, is answered by the per-core filter arrays
 * without calling the model (a second-level hit swaps the set's two entries, cache/filter-check.ts; the
 * model keeps those filters exact and catches up on the deferred touch: cache/core-cache-view.ts).
 *
 * TLB: the functional TLB (tlb.ts) caches every translation; this core also keeps a finite TLB model of
 * the profile's DTLB geometry, and drops a translation from the functional TLB when the model evicts it,
 * so the next access walks the page tables again and pays pageWalkCycles plus the walk's cache accesses.
 * One model serves fetches and data (the ITLB is not modelled separately: instruction fetch translates
 * once per decoded block, not per access, so an ITLB would see few lookups).
 *
 * Leaves out: the timing of accesses that cross a 64-byte line inside one operand beyond charging both
 * lines; REP string bulk copies charge their lines once per 64 bytes (string-bulk.ts charges through
 * touchRange); the paging-structure caches.
 */
import { Core, type CoreRunOptions } from "./core.ts";
import type { Block } from "./block-cache.ts";
import type { MemoryHierarchy } from "./cache/memory-hierarchy.ts";
import type { CoreCacheView } from "./cache/core-cache-view.ts";
import { TlbModel } from "./cache/tlb-model.ts";
import type { CpuProfile } from "./profile.ts";
import { attachHierarchy } from "./cache/cat-msrs.ts";
import { readHit2, writeHit2 } from "./cache/filter-check.ts";

// Module-local bindings: under tsx an imported binding is a getter call on every use.
const hitR2 = readHit2;
const hitW2 = writeHit2;

const READ = 0;
const WRITE = 1;
const FETCH = 2;
const WALK = 3;
const CD = 0x40000000;
const BRK_EXTERNAL = 16;

export interface TimedCoreOptions extends CoreRunOptions {
  hierarchy: MemoryHierarchy;
  profile: CpuProfile;
}

export class TimedCore extends Core {
  private readonly mh: MemoryHierarchy;
  private readonly cv: CoreCacheView;
  /** The view's filters and index masks, held on the core itself so the fast path loads one object. */
  private readonly df: Int32Array;
  private readonly ff: Int32Array;
  /** Index of an L1D / L1I set's level-1 filter entry: (pa >>> 5) & dIdx / iIdx (2 entries per set). */
  private readonly dIdx: number;
  private readonly iIdx: number;
  /** Filter hits since the last run() returned (added to the view's counters then). */
  private dHits = 0;
  private iHits = 0;
  private readonly tlbModel: TlbModel;
  private readonly walkCycles: number;
  private walking = false;
  /** Page walks done (statistics). */
  walks = 0;
  /** The limit of the current run (a miss that passes it ends the block early, see run()). */
  private limit = Infinity;

  constructor(opts: TimedCoreOptions) {
    super(opts);
    this.mh = opts.hierarchy;
    this.cv = opts.hierarchy.views[this.id];
    this.df = this.cv.dFilter;
    this.ff = this.cv.fetchFilter;
    this.dIdx = this.cv.dSetMask << 1;
    this.iIdx = this.cv.iSetMask << 1;
    this.tlbModel = new TlbModel(opts.profile.tlb.dtlb);
    this.walkCycles = opts.profile.tlb.pageWalkCycles;
    attachHierarchy(this, opts.hierarchy, this.id);
    this.cacheModeChanged();
  }

  override run(budget: number, cycleLimit = Infinity): ReturnType<Core["run"]> {
    this.limit = cycleLimit;
    try {
      return super.run(budget, cycleLimit);
    } finally {
      this.cv.dFilterHits += this.dHits;
      this.cv.iFilterHits += this.iHits;
      this.dHits = this.iHits = 0;
    }
  }

  /** A miss's latency: charged now; if it carries the core past the run's limit, end the block there. */
  private miss(pa: number, kind: number): void {
    this.cycles += this.mh.access(this.id, pa, kind);
    if (this.cycles >= this.limit) this.brk |= BRK_EXTERNAL;
  }

  /**
   * A read of `size` bytes at `pa` (kind READ or WALK) that the inline filter check did not settle: the
   * filters, else the model; and the second line of a line-crossing access. Kept out of the fast paths
   * so that they stay small enough for V8 to inline them into the compiled blocks (whose inlining budget
   * they share with the instruction handlers).
   */
  private readMore(pa: number, size: number, kind: number): void {
    const d = this.df, i = (pa >>> 5) & this.dIdx, tag = pa | 63;
    if ((d[i] | 1) === tag || hitR2(d, i, tag)) this.dHits++;
    else this.miss(pa, kind);
    if ((pa & 63) + size > 64) this.miss(pa + size - 1, kind);
  }

  /** readMore for a write. */
  private writeMore(pa: number, size: number): void {
    const d = this.df, i = (pa >>> 5) & this.dIdx, tag = pa | 63;
    if (d[i] === tag || hitW2(d, i, tag)) this.dHits++;
    else this.miss(pa, WRITE);
    if ((pa & 63) + size > 64) this.miss(pa + size - 1, WRITE);
  }

  private data(pa: number, size: number): void {
    this.readMore(pa, size, this.walking ? WALK : READ);
  }

  private dataW(pa: number, size: number): void {
    this.writeMore(pa, size);
  }

  // ---- the fast paths of core-state.ts with the cache check added inline: both filter levels for 32-bit
  // accesses (the hot case: a level-2 hit is every access of a loop that uses two lines of one set in
  // turn), level 1 for 8/16-bit ones; the rest through readMore / writeMore ----

  override read8(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) {
        if ((this.df[(pa >>> 5) & this.dIdx] | 1) === (pa | 63)) this.dHits++;
        else this.readMore(pa, 1, 0);
        return this.ram[pa];
      }
    }
    return super.read8(lin);
  }

  override read16(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) !== 0xfff) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) {
        if ((this.df[(pa >>> 5) & this.dIdx] | 1) === (pa | 63) && (pa & 63) !== 63) this.dHits++;
        else this.readMore(pa, 2, 0);
        return this.ramView.getUint16(pa, true);
      }
    }
    return super.read16(lin);
  }

  override read32(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) <= 0xffc) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) {
        const d = this.df, i = (pa >>> 5) & this.dIdx, tag = pa | 63;
        if ((pa & 63) <= 60 && ((d[i] | 1) === tag || hitR2(d, i, tag))) this.dHits++;
        else this.readMore(pa, 4, 0);
        return this.ramView.getInt32(pa, true);
      }
    }
    return super.read32(lin);
  }

  override write8(lin: number, val: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        if (this.df[(pa >>> 5) & this.dIdx] === (pa | 63)) this.dHits++;
        else this.writeMore(pa, 1);
        this.ram[pa] = val;
        return;
      }
    }
    super.write8(lin, val);
  }

  override write16(lin: number, val: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) !== 0xfff) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        if (this.df[(pa >>> 5) & this.dIdx] === (pa | 63) && (pa & 63) !== 63) this.dHits++;
        else this.writeMore(pa, 2);
        this.ramView.setUint16(pa, val, true);
        return;
      }
    }
    super.write16(lin, val);
  }

  override write32(lin: number, val: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) <= 0xffc) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        const d = this.df, i = (pa >>> 5) & this.dIdx, tag = pa | 63;
        if ((pa & 63) <= 60 && (d[i] === tag || hitW2(d, i, tag))) this.dHits++;
        else this.writeMore(pa, 4);
        this.ramView.setInt32(pa, val, true);
        return;
      }
    }
    super.write32(lin, val);
  }

  // ---- the slow paths: every RAM access that did not take a fast path comes through here ----
  // (the fast paths above fall back to super.readN, whose slow path ends here too; the fast path of the
  // base class is never taken for an access the override could not handle, because it checks the same
  // conditions, so no access is charged twice).

  override readPhys(pa: number, size: number): number {
    if (pa + size <= this.ramSize) this.data(pa, size);
    return super.readPhys(pa, size);
  }

  override writePhys(pa: number, size: number, v: number): void {
    if (pa + size <= this.ramSize) this.dataW(pa, size);
    super.writePhys(pa, size, v);
  }

  /** Charge `bytes` of a bulk string transfer at physical `pa` (one access per line). */
  override touchRange(pa: number, bytes: number, write: boolean): void {
    const end = pa + bytes;
    for (let p = pa & ~63; p < end; p += 64) {
      if (p + 64 > this.ramSize) break;
      if (write) this.dataW(p, 1);
      else this.data(p, 1);
    }
  }

  // ---- instruction fetch: the lines of each block, each time it runs ----

  protected override execBlock(b: Block, n: number): void {
    if (b.pa2 < 0) {
      for (let p = b.pa & ~63; p <= b.endPa; p += 64) this.fetchLine(p);
    } else {
      for (let p = b.pa & ~63; p <= (b.pa | 0xfff); p += 64) this.fetchLine(p);
      for (let p = b.pa2; p <= b.endPa; p += 64) this.fetchLine(p);
    }
    // A fetch miss that carries the core past its run's limit: the first instruction now starts at or after
    // the limit, so it waits for the next turn (its line is in the cache by then; the run loop checked the
    // limit before the fetch, so only a miss gets here).
    if (this.cycles >= this.limit) {
      this.brk |= BRK_EXTERNAL;
      return;
    }
    super.execBlock(b, n);
  }

  private fetchLine(p: number): void {
    const f = this.ff, i = (p >>> 5) & this.iIdx, tag = p | 63;
    if (f[i] === tag || hitW2(f, i, tag)) this.iHits++;
    else this.cycles += this.mh.access(this.id, p, FETCH);
  }

  // ---- TLB: walks cost cycles, the finite model evicts translations ----

  override translate(lin: number, write: boolean, sys: boolean): number {
    const t = this.tlb;
    if (t === null) return lin >>> 0;
    const fills = t.fills;
    this.walking = true;
    let pa: number;
    try {
      pa = super.translate(lin, write, sys);
    } finally {
      this.walking = false;
    }
    if (t.fills !== fills) {
      // A walk: its fixed cost, and the model takes the page (maybe evicting another).
      this.walks++;
      this.cycles += this.walkCycles;
      const evicted = this.tlbModel.insert(lin >>> 12, false);
      if (evicted >= 0 && evicted !== lin >>> 12) t.invalidatePage(evicted);
    }
    return pa;
  }

  override invalidatePage(lin: number): void {
    super.invalidatePage(lin);
    if (this.tlbModel !== undefined) this.tlbModel.invalidate(lin >>> 12, false);
  }

  override flushTlb(includingGlobal: boolean): void {
    super.flushTlb(includingGlobal);
    this.tlbModel?.flush();
  }

  override pagingModeChanged(): void {
    super.pagingModeChanged();
    this.tlbModel?.flush();
  }

  // ---- WBINVD, INVD, CR0.CD ----

  override cacheFlush(writeBack: boolean): number {
    return writeBack ? this.mh.wbinvd(this.id) : this.mh.invd(this.id);
  }

  override cacheModeChanged(): void {
    // Called from the base constructor (reset) before this class's fields exist.
    if (this.mh === undefined) return;
    this.mh.setCacheDisabled(this.id, (this.cr0 & CD) !== 0);
  }
}
