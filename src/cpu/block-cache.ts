/**
 * Decoded basic blocks, cached by physical address (decode once, execute many times).
 *
 * A block is a run of instructions that ends at a control transfer or a state change (the table's
 * `end`), at 32 instructions, or before an instruction that starts on the next page. Blocks are found by
 * (physical address, CS base, CS.D); blocks also link to their successors so that a loop does not look
 * anything up. A store to a page holding code invalidates every block on that page (self-modifying
 * code; SDM Vol. 3A 8.1.3) and bumps the link generation so no stale link is followed.
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
  constructor(
    readonly insns: Insn[],
    readonly startEip: number,
    readonly pa: number,
    readonly csBase: number,
    readonly code32: boolean,
    /** Physical pages the block's bytes lie on (one or two). */
    readonly pages: readonly number[],
  ) {
    let sum = 0;
    for (const i of insns) sum += i.cost;
    this.cost = sum;
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

export class BlockCache {
  private readonly map32 = new Map<number, Block>();
  private readonly map16 = new Map<number, Block>();
  private readonly byPage = new Map<number, Block[]>();
  /** Incremented whenever links may be stale (invalidation, CS or mapping change). */
  linkGen = 0;
  blocksDecoded = 0;
  invalidations = 0;

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
    this.blocksDecoded++;
  }

  /** Drop every block on the page of `pa`. Returns true if any block was dropped. */
  invalidatePage(page: number): boolean {
    const l = this.byPage.get(page);
    if (!l) return false;
    this.byPage.delete(page);
    for (const b of l) {
      b.valid = false;
      const m = b.code32 ? this.map32 : this.map16;
      if (m.get(b.pa) === b) m.delete(b.pa);
    }
    this.linkGen++;
    this.invalidations++;
    return true;
  }

  clear(): void {
    for (const p of [...this.byPage.keys()]) this.invalidatePage(p);
    this.map16.clear();
    this.map32.clear();
    this.linkGen++;
  }
}
