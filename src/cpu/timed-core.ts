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
 * VT-x (SDM Vol. 3C 28.1-28.3): the model's entries are tagged with a context, the current VPID and EPT's
 * EP4TA (cache/tlb-model.ts), and hold their translation. The functional TLB holds one context and is flushed
 * at every VM entry and exit (guest-state.ts loadControlRegisters); the model follows the SDM instead: a
 * transition without VPIDs drops the VPID 0 entries (28.3.3.3: the guest then runs as VPID 0 too), one with
 * VPIDs drops nothing, so after it a functional-TLB miss that the model still holds for the current context is
 * refilled from the model without a walk, its fixed cost or its cache accesses (as a TLB hit). INVLPG, MOV to
 * CR3 and CR0/CR4 changes drop the current context's entries; INVVPID drops its VPID's (invalidateVpid,
 * invalidateVpidPage); INVEPT (which calls flushTlb(true) in root operation) drops every context with EPT.
 * Cost of a walk: pageWalkCycles per pass (Tlb.walks), that is once for the guest's walk and once per EPT walk,
 * so a 2-D walk with 4 KiB guest pages costs 1 + 3 passes (the directory entry's, the table entry's and the
 * final guest-physical address's EPT walks) plus every paging-structure read through the caches (kind WALK);
 * with guest paging off it is one EPT walk. A walk that ends in a fault or an EPT-induced VM exit charges its
 * reads but not the fixed cost.
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
// tlb.ts TlbRight
const TLB_SUP_READ = 1;
const TLB_SUP_WRITE = 2;
const TLB_USER_READ = 4;
const TLB_USER_WRITE = 8;
const TLB_NO_EXEC = 16;
const TLB_GLOBAL = 32;
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
  /** The model's current context (tlb-model.ts) and its VPID. */
  private tlbCtx = 0;
  private tlbVpid = 0;
  /** A functional-TLB miss may be refilled from the model: set once VMX transitions or EPT tagged entries. */
  private refills = false;
  /** Page walks done (translations that walked: statistics). */
  walks = 0;
  /** Functional-TLB misses refilled from the model without a walk (statistics). */
  refilled = 0;
  /** Cycles charged as the fixed cost of walks (pageWalkCycles per pass; statistics). */
  walkCyclesCharged = 0;
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
    // Unsigned line addresses: a block near 4 GiB (the reset vector's ROM alias) must not wrap negative.
    if (b.pa2 < 0) {
      for (let p = (b.pa & ~63) >>> 0; p <= b.endPa; p += 64) this.fetchLine(p);
    } else {
      for (let p = (b.pa & ~63) >>> 0; p <= (b.pa | 0xfff) >>> 0; p += 64) this.fetchLine(p);
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

  override translate(lin: number, write: boolean, sys: boolean, data = false): number {
    const t = this.tlb;
    if (t === null) return lin >>> 0;
    const page = lin >>> 12;
    if (this.refills) {
      const user = !sys && this.cpl === 3;
      const e = (user ? (write ? t.userWrite : t.userRead) : write ? t.supWrite : t.supRead)[page];
      if (e !== 0) return (e ^ lin ^ 1) >>> 0;
      const pa = this.refill(page, lin, write, user, !write && !data);
      if (pa >= 0) return pa;
    }
    const walks = t.walks;
    this.walking = true;
    let pa: number;
    try {
      pa = super.translate(lin, write, sys, data);
    } finally {
      this.walking = false;
    }
    const passes = t.walks - walks;
    if (passes !== 0) {
      // A walk: its fixed cost per pass, and the model takes the page (maybe evicting another of this context).
      this.walks++;
      this.cycles += this.walkCycles * passes;
      this.walkCyclesCharged += this.walkCycles * passes;
      const m = this.tlbModel;
      const kept = t.lastPage === page; // not dropped again right away (the APIC-access page is not cached)
      const evicted = m.insert(page, false, this.tlbCtx, kept ? t.lastPaBase : 0, kept ? t.lastRights : 0);
      if (evicted >= 0 && evicted !== page && m.evictedCtx === this.tlbCtx) t.invalidatePage(evicted);
    }
    return pa;
  }

  /**
   * The functional TLB missed: if the model holds `page` for the current context with the rights the access
   * needs, put its translation back into the functional TLB (a TLB hit: nothing charged) and return the
   * physical address; else -1 (walk). A page without EPT execute permission is never refilled for a fetch (the
   * walk checks X), and is returned without a fill for a data read (tlb.ts NO_EXEC).
   */
  private refill(page: number, lin: number, write: boolean, user: boolean, fetch: boolean): number {
    const m = this.tlbModel;
    if (!m.find(page, this.tlbCtx)) return -1;
    const rights = m.foundRights;
    const need = user ? (write ? TLB_USER_WRITE : TLB_USER_READ) : write ? TLB_SUP_WRITE : TLB_SUP_READ;
    if ((rights & need) === 0 || (fetch && (rights & TLB_NO_EXEC) !== 0)) return -1;
    const paBase = m.foundPaBase >>> 0;
    this.tlb!.fill(page, paBase, rights, (rights & TLB_GLOBAL) !== 0);
    this.refilled++;
    return (paBase | (lin & 0xfff)) >>> 0;
  }

  override invalidatePage(lin: number): void {
    super.invalidatePage(lin);
    if (this.tlbModel !== undefined) this.tlbModel.invalidate(lin >>> 12, false, this.tlbCtx);
  }

  /** MOV to CR3, CR0.WP, CR4.PGE/PSE: the current context's entries. In VMX root operation a flush of global
   * entries also drops every EPT context's: INVEPT (vmx-operations.ts) comes here; for a host MOV to CR4 that
   * is more than the SDM requires, which it permits (28.3.3.1). */
  override flushTlb(includingGlobal: boolean): void {
    super.flushTlb(includingGlobal);
    const m = this.tlbModel;
    if (m === undefined) return;
    if (m.contexts === 1) {
      m.flush();
      return;
    }
    m.dropContext(this.tlbCtx);
    if (includingGlobal && !this.nonRoot && this.vmx !== null && this.vmx.on) m.dropEp4ta(-1);
  }

  /**
   * CR0.PG/PE changed, or a VM entry or exit loaded CR0/CR3/CR4 (ept-core.ts has set the new VPID and EPT
   * before): the functional TLB is flushed (super); the model drops the entries of the VPID, unless the VPID
   * changed, which only a transition with "enable VPID" does (SDM Vol. 3C 28.3.3.3).
   */
  override pagingModeChanged(): void {
    super.pagingModeChanged();
    const m = this.tlbModel;
    if (m === undefined) return; // the base constructor (reset) runs before this class's fields exist
    const vpid = this.vpid;
    const ept = this.ept;
    if (vpid !== this.tlbVpid || ept !== null) this.refills = true;
    if (m.contexts === 1 && vpid === 0 && ept === null) m.flush();
    else if (vpid === this.tlbVpid) m.dropVpid(vpid);
    this.tlbVpid = vpid;
    this.tlbCtx = m.context(vpid, ept !== null ? ept.ep4ta : -1);
  }

  /** INVVPID single-context / all-context (vpid -1: every VPID but 0), SDM Vol. 3C 28.3.3.3 and INVVPID. */
  override invalidateVpid(vpid: number, retainGlobals: boolean): void {
    this.tlbModel.dropVpid(vpid, retainGlobals);
    if (vpid === this.vpid && vpid !== 0) super.invalidateVpid(vpid, retainGlobals);
  }

  /** INVVPID individual-address: the page in every context of `vpid`. */
  override invalidateVpidPage(vpid: number, lin: number): void {
    this.tlbModel.dropPageOfVpid(lin >>> 12, vpid);
    if (vpid === this.vpid) super.invalidateVpidPage(vpid, lin);
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
