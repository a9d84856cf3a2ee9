/**
 * One IA-32 core: architectural state (core-state.ts) plus the execution engine.
 *
 * run(budget) executes whole decoded blocks (block-cache.ts) until the instruction budget is used, the
 * core halts or shuts down, or the board asks it to stop; it returns why it stopped (shared/DESIGN.md
 * §3). EIP is set to the next instruction before each handler runs, so control transfers simply
 * overwrite it and a fault restores the faulting instruction's EIP before delivery (SDM Vol. 3A 6.5:
 * faults report the faulting instruction, traps the next one).
 *
 * Cycle accounting here is the static cost of each instruction plus what handlers add; the platform
 * layer replaces the costs with a CPU profile's table and the cache model's latencies.
 */
import { Brk, CoreState, type CoreOptions } from "./core-state.ts";
import { Block, BlockCache, COMPILE_THRESHOLD, MAX_BLOCK_INSNS } from "./block-cache.ts";
import { compileBlock } from "./block-compiler.ts";
import { Decoder } from "./decoder.ts";
import { CpuFault, fault, Vector } from "./exceptions.ts";
import type { Insn } from "./insn.ts";
import { deliverEvent, EventKind } from "./interrupts.ts";
import { Eflags, Seg } from "./registers.ts";
import { SimulationError } from "./simulation-error.ts";
import { EXEC_TABLE } from "./execute/index.ts";
import { costOf } from "./timing.ts";

const RECENT_SLOTS = 4096;

const raiseUd = (): never => fault(Vector.UD);

export type StopReason = "budget" | "halt" | "shutdown" | "exit";

export class Core extends CoreState {
  readonly blocks: BlockCache;
  private readonly decoder = new Decoder((i, row) => {
    i.cost = costOf(row.cls);
    const f = EXEC_TABLE[row.exec];
    return f ? f(i, row) : raiseUd;
  });
  /** Why the last run() stopped with "exit" (set by the board through requestExit). */
  exitCode = 0;
  /** Index in its block of the instruction that faulted (set by compiled blocks). */
  faultIndex = 0;
  /** Compile hot blocks (false: interpret only, for comparison and debugging). */
  jit = true;
  /** Direct-mapped cache in front of the block map, for transfers no link predicts (RET, jump tables). */
  private readonly recent: (Block | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);

  constructor(opts: CoreOptions) {
    super(opts);
    this.blocks = new BlockCache(this.ramSize);
    this.onCodeWrite = (pa, len) => {
      const page = pa >>> 12;
      const hit = this.blocks.invalidateRange(pa, len);
      if (hit && !this.blocks.hasBlocks(page)) this.codePage[page] = 0;
      return hit;
    };
  }

  /** Ask the core to stop after the current instruction with StopReason "exit". */
  requestExit(code: number): void {
    this.exitCode = code;
    this.brk |= Brk.EXIT;
  }

  /** Ask the core to leave run() at the next instruction boundary (interrupt pending, end of quantum). */
  requestStop(): void {
    this.brk |= Brk.EXTERNAL;
  }

  /** Execute up to `budget` instructions. */
  run(budget: number): StopReason {
    const stopAt = this.icount + budget;
    let prev: Block | null = null;
    for (;;) {
      if (this.shutdown) return "shutdown";
      if (this.halted) return "halt";
      const brk = this.brk;
      if (brk !== 0) {
        this.brk = 0;
        if (brk & Brk.EXIT) return "exit";
        if (brk & Brk.SHUTDOWN) return "shutdown";
        if (brk & Brk.HALT) return "halt";
        if (brk & Brk.EXTERNAL) return "budget";
        prev = null; // SMC or REFETCH: follow no link
      }
      const left = stopAt - this.icount;
      if (left <= 0) return "budget";
      const b = this.nextBlock(prev);
      this.execBlock(b, left < b.insns.length ? left : b.insns.length);
      prev = b;
    }
  }

  private nextBlock(prev: Block | null): Block {
    const eip = this.eip;
    const gen = this.blocks.linkGen;
    if (prev !== null && prev.linkGen === gen) {
      if (prev.link1Eip === eip && prev.link1 !== null) return prev.link1;
      if (prev.link2Eip === eip && prev.link2 !== null) return prev.link2;
    }
    const csBase = this.segBase[1]; // CS
    const pa = (csBase + eip) >>> 0;
    const slot = (pa ^ (pa >>> 11)) & (RECENT_SLOTS - 1);
    let b = this.recent[slot];
    if (b === undefined || b.pa !== pa || !b.valid || b.csBase !== csBase || b.code32 !== this.cs32) {
      b = this.blocks.lookup(pa, csBase, this.cs32) ?? this.decodeBlock(pa, csBase, eip);
      this.recent[slot] = b;
    }
    if (prev !== null && this.blocks.linkGen === gen) {
      if (prev.linkGen !== gen) {
        prev.linkGen = gen;
        prev.link1 = b;
        prev.link1Eip = eip;
        prev.link2 = null;
        prev.link2Eip = -1;
      } else if (prev.link1 === null) {
        prev.link1 = b;
        prev.link1Eip = eip;
      } else {
        prev.link2 = b;
        prev.link2Eip = eip;
      }
    }
    return b;
  }

  private decodeBlock(pa: number, csBase: number, eip: number): Block {
    const code32 = this.cs32;
    const insns: Insn[] = [];
    const page0 = pa >>> 12;
    let pages = [page0];
    let off = eip;
    let endPa = pa;
    for (;;) {
      const i = this.decoder.decode(this, csBase, off, code32);
      insns.push(i);
      endPa = (csBase + off + i.len - 1) >>> 0;
      if (endPa >>> 12 !== page0 && pages.length === 1) pages = [page0, endPa >>> 12];
      off = i.nextEip;
      if (i.row === null || i.row.end !== undefined) break;
      if (i.rep !== 0 && i.row.rep !== undefined) break; // REP string ops set EIP themselves
      if (insns.length >= MAX_BLOCK_INSNS) break;
      if (((csBase + off) >>> 12) !== page0 || pages.length > 1) break;
    }
    let before = 0;
    for (const i of insns) {
      i.cyclesBefore = before;
      before += i.cost;
    }
    const b = new Block(insns, eip, pa, csBase, code32, pages, endPa);
    for (const p of pages) {
      if (p * 4096 < this.ramSize) this.codePage[p] = 1;
    }
    this.blocks.insert(b);
    return b;
  }

  private execBlock(b: Block, n: number): void {
    const insns = b.insns;
    if (n === insns.length) {
      if (b.fn !== null) {
        this.runCompiled(b);
        return;
      }
      if (++b.runs === COMPILE_THRESHOLD && this.jit) b.fn = compileBlock(b);
    }
    let k = 0;
    try {
      while (k < n) {
        const i = insns[k];
        this.eip = i.nextEip;
        i.exec(this, i);
        k++;
        if (this.brk !== 0) break;
      }
    } catch (e) {
      this.faulted(b, k, e);
      return;
    }
    this.icount += k;
    this.cycles += b.costOf(k);
  }

  private runCompiled(b: Block): void {
    let k: number;
    try {
      k = b.fn!(this);
    } catch (e) {
      this.faulted(b, this.faultIndex, e);
      return;
    }
    this.icount += k;
    this.cycles += k === b.insns.length ? b.cost : b.costOf(k);
  }

  /** Instruction k of block b raised `e`: retire the ones before it and deliver the exception. */
  private faulted(b: Block, k: number, e: unknown): void {
    this.icount += k;
    this.cycles += b.costOf(k);
    const i = b.insns[k];
    this.eip = i.eip;
    if (e instanceof CpuFault) this.raise(e.vector, e.errorCode, i.eip);
    else if (e instanceof SimulationError) throw e;
    else {
      throw new SimulationError(`internal error executing ${i.row?.mnemonic ?? "?"}: ${String(e)}`, {
        core: this.id, eip: i.eip, dump: this.dump(),
      });
    }
  }

  /** Deliver a processor exception whose saved EIP is `eip` (faults: the faulting instruction). */
  raise(vector: number, errorCode: number, eip: number): void {
    deliverEvent(this, vector, errorCode, eip, EventKind.EXCEPTION);
    this.brk |= Brk.REFETCH;
  }

  /** Deliver an external interrupt (the platform calls this when IF=1 and a vector is pending). */
  interrupt(vector: number): void {
    this.halted = false;
    deliverEvent(this, vector, -1, this.eip, EventKind.EXTERNAL);
    this.brk |= Brk.REFETCH;
  }

  /** Multiboot-1 entry state (Multiboot spec 3.2): flat 32-bit protected mode, paging off, IF = 0. */
  resetToFlat32(eip: number): void {
    this.cr0 = 0x60000011; // PE, ET; CD/NW as after reset
    this.setFlatSegments();
    this.eflags = Eflags.FIXED1;
    this.fop = 0;
    this.eip = eip;
    this.halted = false;
    this.shutdown = false;
    this.blocks.clear();
  }

  private setFlatSegments(): void {
    for (let s = 0; s < 6; s++) {
      const code = s === Seg.CS;
      this.segSel[s] = code ? 0x08 : 0x10;
      this.segBase[s] = 0;
      this.segLimit[s] = -1;
      // present, DPL 0, code execute/read or data read/write, accessed; G and D/B set
      this.segAttr[s] = (code ? 0x9b : 0x93) | 0xc000;
    }
    this.cs32 = true;
    this.ss32 = true;
    this.cpl = 0;
  }

}
