/**
 * Decoded basic blocks, cached by physical address (decode once, execute many times).
 *
 * A block is a run of instructions that ends at a control transfer or a state change (the table's
 * `end`), at 32 instructions, or before an instruction that starts on the next page or may cross into it
 * (such an instruction is a block of its own, whose bytes lie on two physical pages that paging need not
 * place side by side). Blocks are found by (physical address, CS base, CS.D) and the core also checks the
 * linear start and CS limit (two linear pages may map one physical page); blocks also link to their successors so that a loop does not look
 * anything up. A store that overlaps a block's bytes (tracked per 64-byte line) invalidates that block
 * (self-modifying code; SDM Vol. 3A 8.1.3) and bumps the link generation so no stale link is followed.
 */
import type { Insn } from "./insn.ts";
import type { BlockFn } from "./block-compiler.ts";

export const MAX_BLOCK_INSNS = 32;

export class Block {
  valid = true;
  /** Successor links: followed when EIP equals the link's start and linkGen is current. */
  link1: Block | null = null;
  link1Eip = -1;
  link2: Block | null = null;
  link2Eip = -1;
  linkGen = -1;
  /** Executions so far by the interpreter; at COMPILE_THRESHOLD the block is compiled. */
  runs = 0;
  fn: BlockFn | null = null;
  /** Sum of the static costs of all instructions. */
  readonly cost: number;
  /** Physical pages the block's bytes lie on (one or two). */
  readonly pages: readonly number[];
  constructor(
    readonly insns: Insn[],
    readonly startEip: number,
    readonly pa: number,
    readonly csBase: number,
    readonly code32: boolean,
    /** Physical base of the second page when the block's (only) instruction crosses a page, else -1. */
    readonly pa2: number,
    /** Physical address of the block's last byte (on the second page when pa2 >= 0). */
    readonly endPa: number,
    /** CS limit the block was decoded under (fetches beyond it decode as #GP). */
    readonly csLimit: number,
  ) {
    let sum = 0;
    for (const i of insns) sum += i.cost;
    this.cost = sum;
    this.pages = pa2 >= 0 ? [pa >>> 12, pa2 >>> 12] : [pa >>> 12];
  }

  /** Whether the block's bytes overlap the physical range [pa, end]. */
  overlaps(pa: number, end: number): boolean {
    if (this.pa2 < 0) return this.pa <= end && this.endPa >= pa;
    const firstEnd = this.pa | 0xfff;
    return (this.pa <= end && firstEnd >= pa) || (this.pa2 <= end && this.endPa >= pa);
  }

  /** Static cost of the first k instructions. */
  costOf(k: number): number {
    if (k === this.insns.length) return this.cost;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += this.insns[j].cost;
    return sum;
  }
}

/** Interpreted executions before a block is compiled (compiling costs ~tens of microseconds). */
export const COMPILE_THRESHOLD = 16;

/** Granularity of self-modifying-code detection: a store invalidates only blocks on its 64-byte line. */
const LINE_SHIFT = 6;

export class BlockCache {
  private readonly map32 = new Map<number, Block>();
  private readonly map16 = new Map<number, Block>();
  private readonly byPage = new Map<number, Block[]>();
  /** Number of cached blocks covering each 64-byte line of RAM. */
  private readonly codeLine: Uint16Array;
  /** Incremented whenever links may be stale (invalidation, CS or mapping change). */
  linkGen = 0;
  blocksDecoded = 0;
  invalidations = 0;

  constructor(ramBytes: number) {
    this.codeLine = new Uint16Array((ramBytes >>> LINE_SHIFT) + 2);
  }

  lookup(pa: number, csBase: number, code32: boolean): Block | undefined {
    const b = (code32 ? this.map32 : this.map16).get(pa);
    return b !== undefined && b.csBase === csBase ? b : undefined;
  }

  insert(b: Block): void {
    (b.code32 ? this.map32 : this.map16).set(b.pa, b);
    for (const p of b.pages) {
      let l = this.byPage.get(p);
      if (!l) this.byPage.set(p, (l = []));
      l.push(b);
    }
    this.markLines(b, 1);
    this.blocksDecoded++;
  }

  private markLines(b: Block, delta: number): void {
    if (b.pa2 < 0) {
      this.markRange(b.pa, b.endPa, delta);
    } else {
      this.markRange(b.pa, b.pa | 0xfff, delta);
      this.markRange(b.pa2, b.endPa, delta);
    }
  }

  private markRange(pa: number, endPa: number, delta: number): void {
    const last = Math.min(endPa >>> LINE_SHIFT, this.codeLine.length - 1);
    for (let l = pa >>> LINE_SHIFT; l <= last; l++) this.codeLine[l] += delta;
  }

  /**
   * A store wrote [pa, pa + len) (within one page). Drops the blocks whose bytes it overlaps; returns
   * true if it dropped any (the caller then stops the current block: it may be one of them).
   */
  invalidateRange(pa: number, len: number): boolean {
    const end = pa + len - 1;
    let hit = false;
    for (let l = pa >>> LINE_SHIFT; l <= end >>> LINE_SHIFT && l < this.codeLine.length; l++) {
      if (this.codeLine[l] !== 0) hit = true;
    }
    if (!hit) return false;
    const list = this.byPage.get(pa >>> 12);
    if (!list) return false;
    let dropped = false;
    for (const b of list) {
      if (b.valid && b.overlaps(pa, end)) {
        this.drop(b);
        dropped = true;
      }
    }
    if (dropped) {
      this.prune(pa >>> 12);
      this.linkGen++;
      this.invalidations++;
    }
    return dropped;
  }

  /** Whether any valid block still lies on the page. */
  hasBlocks(page: number): boolean {
    return this.byPage.has(page);
  }

  private drop(b: Block): void {
    b.valid = false;
    const m = b.code32 ? this.map32 : this.map16;
    if (m.get(b.pa) === b) m.delete(b.pa);
    this.markLines(b, -1);
  }

  private prune(page: number): void {
    const list = this.byPage.get(page);
    if (!list) return;
    const live = list.filter((b) => b.valid);
    if (live.length === 0) this.byPage.delete(page);
    else this.byPage.set(page, live);
  }

  clear(): void {
    for (const list of this.byPage.values()) for (const b of list) if (b.valid) this.drop(b);
    this.byPage.clear();
    this.map16.clear();
    this.map32.clear();
    this.linkGen++;
  }
}
