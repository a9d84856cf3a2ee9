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
 * Leaves out: the finite size and replacement of a real TLB and its miss cost (the platform issue's cache
 * model charges those), paging-structure caches, PCIDs and VPIDs (VT-x issue).
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
}

export class Tlb {
  readonly supRead = new Int32Array(PAGES);
  readonly supWrite = new Int32Array(PAGES);
  readonly userRead = new Int32Array(PAGES);
  readonly userWrite = new Int32Array(PAGES);
  private readonly localPages = new Int32Array(TRACK_LIMIT);
  private readonly globalPages = new Int32Array(TRACK_LIMIT);
  private localCount = 0;
  private globalCount = 0;
  /** Translations filled since creation (walks that succeeded), for statistics. */
  fills = 0;
  flushes = 0;

  /** Record the translation of linear page `page` to physical page base `paBase` with `rights`. */
  fill(page: number, paBase: number, rights: number, global: boolean): void {
    const e = (paBase ^ (page << 12)) | 1;
    this.supRead[page] = rights & TlbRight.SUP_READ ? e : 0;
    this.supWrite[page] = rights & TlbRight.SUP_WRITE ? e : 0;
    this.userRead[page] = rights & TlbRight.USER_READ ? e : 0;
    this.userWrite[page] = rights & TlbRight.USER_WRITE ? e : 0;
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
    this.supRead[page] = 0;
    this.supWrite[page] = 0;
    this.userRead[page] = 0;
    this.userWrite[page] = 0;
  }

  private clearAll(): void {
    this.supRead.fill(0);
    this.supWrite.fill(0);
    this.userRead.fill(0);
    this.userWrite.fill(0);
    this.localCount = 0;
    this.globalCount = 0;
  }
}
