/**
 * The translation lookaside buffer: cached linear-to-physical translations with their access rights
 * (SDM Vol. 3A 4.10.2), kept as four direct arrays indexed by linear page number so that a hit costs one
 * array load on the memory fast path (core-state.ts).
 *
 * Each array answers one question: "may a supervisor/user read/write this page, and where is it?". An
 * entry is (physical page base XOR linear page base) | 1, so the physical address of `lin` is
 * entry ^ lin ^ 1; 0 means "no usable translation, walk the page tables" (paging.ts). A write entry is
 * only filled once the page's dirty bit is set, so the first write to a clean page walks and sets D
 * (SDM 4.8). With paging off every array is the shared identity map.
 *
 * Invalidation follows SDM 4.10.4.1: INVLPG drops one page (global or not), MOV to CR3 drops the
 * non-global entries, and changes of CR0.PG/WP and CR4.PGE/PSE drop everything. The model caches every
 * translation it has used until such an event (as many entries as pages: a stale entry after a PTE change
 * without INVLPG is what the SDM permits, not what it requires; guests must not rely on either).
 * Filled pages are remembered in lists so that a flush touches only what was filled.
 *
 * With EPT (SDM Vol. 3C 28.3.1, "combined mappings"), an entry translates a guest-linear page to a host-physical
 * page with the AND of the guest's rights and the EPT permissions (vmx/ept-core.ts): an EPT read-only page gets
 * no write entry, and a page whose EPT entries lack X gets no read entries (TlbRight.NO_EXEC) because instruction
 * fetch looks up the read view (core.ts): every access to such a page walks, and the walk checks X for a fetch.
 * The TLB holds one context at a time (it is flushed at every VM entry and exit); the timing model of a core
 * with caches (cache/tlb-model.ts) keeps translations tagged by VPID, and refills them from the last walk's
 * record (`last*`).
 *
 * Leaves out: the finite size and replacement of a real TLB and its miss cost (the platform issue's cache
 * model charges those), paging-structure caches, PCIDs.
 */

const PAGES = 1 << 20;
/** Beyond this many remembered fills a flush clears the whole arrays instead. */
const TRACK_LIMIT = 8192;

let identity: Int32Array | null = null;

/** The paging-off translation: every page maps to itself, readable and writable at any CPL. */
export function identityMap(): Int32Array {
  if (identity === null) identity = new Int32Array(PAGES).fill(1);
  return identity;
}

export const enum TlbRight {
  SUP_READ = 1,
  SUP_WRITE = 2,
  USER_READ = 4,
  USER_WRITE = 8,
  /** EPT denies instruction fetch (SDM Vol. 3C 28.2.3.2): the read views are not filled, so fetches walk. */
  NO_EXEC = 16,
  /** In `lastRights` only: the translation is global (CR4.PGE and G). */
  GLOBAL = 32,
}

// Local numeric constants (imported const enum members are property loads under tsx).
const NO_EXEC = 16;
const GLOBAL = 32;

export class Tlb {
  readonly supRead = new Int32Array(PAGES);
  readonly supWrite = new Int32Array(PAGES);
  readonly userRead = new Int32Array(PAGES);
  readonly userWrite = new Int32Array(PAGES);
  private readonly localPages = new Int32Array(TRACK_LIMIT);
  private readonly globalPages = new Int32Array(TRACK_LIMIT);
  private localCount = 0;
  private globalCount = 0;
  /** Translations filled since creation (walks that succeeded, refills), for statistics. */
  fills = 0;
  flushes = 0;
  /** Page-walk passes started (paging.ts, vmx/ept-core.ts): one per guest page walk and one per EPT walk, so a
   * 2-D walk counts 1 + its EPT walks. A core with a cost model charges its fixed walk cost per pass. */
  walks = 0;
  /** The last fill (linear page, physical page base, rights | GLOBAL), or lastPage = -1 when that page has
   * been invalidated since: what a TLB timing model records for a later refill. */
  lastPage = -1;
  lastPaBase = 0;
  lastRights = 0;

  /** Record the translation of linear page `page` to physical page base `paBase` with `rights`. */
  fill(page: number, paBase: number, rights: number, global: boolean): void {
    const e = (paBase ^ (page << 12)) | 1;
    const read = (rights & NO_EXEC) === 0;
    this.supRead[page] = read && (rights & TlbRight.SUP_READ) !== 0 ? e : 0;
    this.supWrite[page] = rights & TlbRight.SUP_WRITE ? e : 0;
    this.userRead[page] = read && (rights & TlbRight.USER_READ) !== 0 ? e : 0;
    this.userWrite[page] = rights & TlbRight.USER_WRITE ? e : 0;
    this.lastPage = page;
    this.lastPaBase = paBase;
    this.lastRights = global ? rights | GLOBAL : rights & ~GLOBAL;
    this.fills++;
    if (global) {
      if (this.globalCount < TRACK_LIMIT) this.globalPages[this.globalCount] = page;
      this.globalCount++;
    } else {
      if (this.localCount < TRACK_LIMIT) this.localPages[this.localCount] = page;
      this.localCount++;
    }
  }

  /** INVLPG: drop the page's translation, global or not. */
  invalidatePage(page: number): void {
    this.clearPage(page);
  }

  /** MOV to CR3: drop every translation that is not global. */
  flushNonGlobal(): void {
    this.flushes++;
    if (this.localCount > TRACK_LIMIT) {
      this.clearAll();
      return;
    }
    for (let k = 0; k < this.localCount; k++) this.clearPage(this.localPages[k]);
    this.localCount = 0;
  }

  /** Changes of CR0.PG/WP or CR4.PGE/PSE: drop everything. */
  flushAll(): void {
    this.flushes++;
    if (this.localCount > TRACK_LIMIT || this.globalCount > TRACK_LIMIT) {
      this.clearAll();
      return;
    }
    for (let k = 0; k < this.localCount; k++) this.clearPage(this.localPages[k]);
    for (let k = 0; k < this.globalCount; k++) this.clearPage(this.globalPages[k]);
    this.localCount = 0;
    this.globalCount = 0;
  }

  private clearPage(page: number): void {
    if (page === this.lastPage) this.lastPage = -1;
    this.supRead[page] = 0;
    this.supWrite[page] = 0;
    this.userRead[page] = 0;
    this.userWrite[page] = 0;
  }

  private clearAll(): void {
    this.lastPage = -1;
    this.supRead.fill(0);
    this.supWrite.fill(0);
    this.userRead.fill(0);
    this.userWrite.fill(0);
    this.localCount = 0;
    this.globalCount = 0;
  }
}
