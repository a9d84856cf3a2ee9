/**
 * One IA-32 core: architectural state (core-state.ts) plus the execution engine.
 *
 * run(budget) executes whole decoded blocks (block-cache.ts) until the instruction budget is used, the
 * core halts or shuts down, or the board asks it to stop; it returns why it stopped (shared/DESIGN.md
 * §3). EIP is set to the next instruction before each handler runs, so control transfers simply
 * overwrite it and a fault restores the faulting instruction's EIP before delivery (SDM Vol. 3A 6.5:
 * faults report the faulting instruction, traps the next one).
 *
 * Instruction boundaries (SDM Vol. 3A 6.9, priority among simultaneous events): after an instruction
 * that began with EFLAGS.TF set, a single-step #DB trap (DR6.BS); then a pending NMI (blocked until the
 * next IRET); then a maskable interrupt from the INTR input when IF = 1, its vector obtained through the
 * interrupt-acknowledge callback. MOV SS / POP SS block all three for one instruction, STI (when it sets
 * IF) blocks INTR for one instruction (SDM 6.8.3; as Bochs). While TF is set, a shadow is pending or an
 * event is deliverable (or EFLAGS.RF must be cleared after the next instruction), the core steps one
 * instruction at a time; otherwise it runs whole blocks.
 * HLT waits for an NMI or an unmasked INTR.
 *
 * Instruction fetch translates through the TLB like any read at the current CPL (a fetch fault is a
 * #PF or #GP with the instruction's own EIP); decoded blocks are found by physical address and must
 * match the linear start, CS base, limit and size they were decoded for.
 *
 * Cycle accounting here is the static cost of each instruction plus what handlers add; the platform
 * layer replaces the costs with a CPU profile's table and the cache model's latencies.
 *
 * Leaves out: single-step traps between the iterations of a REP string instruction (the trap comes after
 * the whole instruction), data and I/O breakpoints of DR0-DR3, SMI/INIT (platform issue).
 */
import { Brk, CoreState, PageFlag, type CoreOptions } from "./core-state.ts";
import { Block, BlockCache, COMPILE_THRESHOLD, MAX_BLOCK_INSNS } from "./block-cache.ts";
import { compileBlock } from "./block-compiler.ts";
import { Decoder } from "./decoder.ts";
import { CpuFault, fault, Vector } from "./exceptions.ts";
import type { Insn } from "./insn.ts";
import { deliverEvent, EventKind } from "./interrupts.ts";
import { Eflags, Seg } from "./registers.ts";
import { SimulationError } from "./simulation-error.ts";
import { EXEC_TABLE } from "./execute/index.ts";
import { instructionCost } from "./profile.ts";
import { applyPowerOnReset } from "./reset-state.ts";
import { setSegment } from "./segments.ts";
import { debugRegisters } from "./debug-registers.ts";
import { VmExitSignal } from "./vmx/vm-exit-signal.ts";
import { performVmExit } from "./vmx/vm-exit.ts";
import { nonRootBoundary, preemptionDue } from "./vmx/nonroot-boundary.ts";
// MSRs defined by other modules: IA32_APIC_BASE, the x2APIC registers and IA32_TSC_DEADLINE (SDM Vol. 3A
// 10.12), and the CAT MSRs (SDM Vol. 3B 17.19). Imported here, after msr.ts is loaded, so they exist on every core.
import "./x2apic-msrs.ts";
import "./cache/cat-msrs.ts";
import "./vmx/vmx-msrs.ts";

const RECENT_SLOTS = 4096;

const raiseUd = (): never => fault(Vector.UD);
const raiseGp = (): never => fault(Vector.GP, 0);

const TF = 0x100;
const RF = 0x10000;
const IF = 0x200;
/** CoreState.inhibit after MOV SS / POP SS (1, after STI, blocks maskable interrupts only). */
const INHIBIT_ALL = 2;
const DR6_BS = 1 << 14;
// VM-execution and VM-exit control bits (SDM Vol. 3C 24.6.1, 24.6.2, 24.7.1).
const PIN_EXTERNAL_INTERRUPT_EXITING = 1 << 0;
const PROC_INTERRUPT_WINDOW = 1 << 2;
const PROC_NMI_WINDOW = 1 << 22;

export type StopReason = "budget" | "halt" | "shutdown" | "exit" | "vmexit";

export interface CoreRunOptions extends CoreOptions {
  /** A decoded-block cache shared by all cores of a machine (blocks are keyed by physical address and
   * hold no per-core state, so a store by any core invalidates what every core would run). */
  blocks?: BlockCache;
  /** The bootstrap processor (default: id 0). Application processors wait for a SIPI after INIT. */
  bsp?: boolean;
}

export class Core extends CoreState {
  readonly blocks: BlockCache;
  private readonly decoder = new Decoder((i, row) => {
    i.cost = i.rep !== 0 && row.rep !== undefined ? this.costs.repStartup : instructionCost(this.costs, row.cls, i.osize);
    const f = EXEC_TABLE[row.exec];
    return f ? f(i, row) : raiseUd;
  });
  /** Why the last run() stopped with "exit" (set by the board through requestExit). */
  exitCode = 0;
  /** Index in its block of the instruction that faulted (set by compiled blocks). */
  faultIndex = 0;
  /** Compile hot blocks (false: interpret only, for comparison and debugging). */
  jit = true;
  /** The INTR input (level) and a latched NMI (SDM 6.7, 6.7.1); read and consumed by the boundary logic
   * here and in vmx/nonroot-boundary.ts. */
  intrLine = false;
  nmiPending = false;
  /** Returns the vector of the interrupt the INTR input signals (the interrupt-acknowledge cycle). */
  interruptAcknowledge: () => number = () => {
    throw new SimulationError("INTR asserted but no interrupt controller acknowledges it", {
      core: this.id, eip: this.eip, dump: this.dump(),
    });
  };
  /** Direct-mapped cache in front of the block map, for transfers no link predicts (RET, jump tables). */
  private readonly recent: (Block | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);

  /** Bootstrap processor (SDM Vol. 3A 8.4.1). */
  readonly bsp: boolean;
  /** The cycle limit of the current run() (fetch faults at or past it wait for the next turn). */
  private runLimit = Infinity;
  /** The block being executed (for now(): the exact time of the instruction at EIP), else null. */
  private curBlock: Block | null = null;

  constructor(opts: CoreRunOptions) {
    super(opts);
    this.bsp = opts.bsp ?? this.id === 0;
    this.blocks = opts.blocks ?? new BlockCache(this.ramSize);
    this.onCodeWrite = (pa, len) => {
      const page = pa >>> 12;
      const hit = this.blocks.invalidateRange(pa, len);
      if (hit && !this.blocks.hasBlocks(page)) this.pageFlags[page] &= ~PageFlag.CODE;
      return hit;
    };
    this.reset();
  }

  /** Power-up / RESET (SDM Vol. 3A 9.1.1): the reset state, empty TLB and decoded-block cache. */
  reset(): void {
    this.resetState();
    this.blocks.clear();
  }

  private resetState(): void {
    applyPowerOnReset(this);
    this.intrLine = false;
    this.nmiPending = false;
    this.nmiBlocked = false;
    this.singleStepDue = false;
    this.inhibit = 0;
    this.waitingForSipi = false;
    this.recent.fill(undefined);
  }

  /**
   * The INIT signal (SDM Vol. 3A 9.1, Table 9-1 "INIT" column; 8.4): the state of RESET except that
   * CR0.CD/NW, the TSC, the MSRs and the caches keep their values; an application processor then waits
   * for a start-up IPI, the bootstrap processor starts at the reset vector.
   */
  init(): void {
    // SDM Vol. 3C 23.8: INIT is blocked in VMX root operation; 25.2: in non-root operation it is a VM exit.
    if (this.vmx !== null && this.vmx.on) {
      if (this.nonRoot) this.vmExitNow(new VmExitSignal(3));
      return;
    }
    const cdNw = this.cr0 & 0x60000000;
    const tscOffset = this.tscOffset;
    this.resetState();
    this.cr0 = (this.cr0 & ~0x60000000) | cdNw;
    this.cacheModeChanged();
    this.tscOffset = tscOffset;
    if (!this.bsp) {
      this.waitingForSipi = true;
      this.halted = true;
    }
    this.brk |= Brk.REFETCH | Brk.EVENT;
  }

  /**
   * A start-up IPI with vector VV (SDM Vol. 3A 8.4.3, 10.6.1): a processor waiting for SIPI starts in
   * real mode at VV00:0000 (CS base VV000H); otherwise the SIPI is ignored.
   */
  startup(vector: number): void {
    if (!this.waitingForSipi) return;
    if (this.nonRoot) {
      // SDM Vol. 3C 25.2: a SIPI to a guest in the wait-for-SIPI activity state is a VM exit (qualification: vector).
      this.vmExitNow(new VmExitSignal(4, vector & 0xff));
      return;
    }
    const v = vector & 0xff;
    this.waitingForSipi = false;
    this.halted = false;
    setSegment(this, Seg.CS, v << 8, v << 12, 0xffff, 0x9b);
    this.eip = 0;
    this.brk |= Brk.REFETCH | Brk.EVENT;
  }

  /** The exact current cycle: the block's start time plus the static cost of the instructions of the
   * block before the one at EIP (used by devices and the local APIC during an access). */
  now(): number {
    const b = this.curBlock;
    if (b === null) return this.cycles;
    const eip = this.eip;
    for (const i of b.insns) if (i.nextEip === eip) return this.cycles + i.cyclesBefore;
    return this.cycles;
  }

  /** Drive the INTR input (level-triggered): the interrupt is taken when IF = 1 (SDM 6.8.1). */
  setIntr(level: boolean): void {
    this.intrLine = level;
    if (level) this.brk |= Brk.EVENT;
  }

  /** Signal an NMI (edge: latched until delivered; SDM 6.7). */
  nmi(): void {
    this.nmiPending = true;
    this.brk |= Brk.EVENT;
  }

  protected override mappingsChanged(): void {
    this.blocks.linkGen++;
    this.brk |= Brk.REFETCH;
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

  /**
   * Execute up to `budget` instructions, and stop at the first instruction boundary at or after cycle
   * `cycleLimit` (an instruction starting before the limit completes; shared/DESIGN.md §4).
   */
  run(budget: number, runLimit = Infinity): StopReason {
    const stopAt = this.icount + budget;
    this.runLimit = runLimit;
    let prev: Block | null = null;
    if (this.shutdown) return "shutdown";
    // The VMX-preemption timer's deadline is a limit too: the exit comes at the first boundary at or after it.
    let cycleLimit = this.nonRoot ? Math.min(runLimit, this.wakeAt) : runLimit;
    // Whether the next boundary needs the slow path. Everything that can make it true also sets c.brk
    // (setIntr, nmi, the shadows, HLT, setEflags changing TF/IF/RF, VM entry and exit), so it is recomputed only then.
    let slow = this.needsBoundary();
    for (;;) {
      const brk = this.brk;
      if (brk !== 0) {
        this.brk = 0;
        if (brk & Brk.EXIT) return "exit";
        if (brk & Brk.SHUTDOWN || this.shutdown) return "shutdown";
        if (brk & Brk.VMEXIT) return "vmexit";
        prev = null; // SMC, REFETCH, an event or a shadow: follow no link
        if (brk & Brk.EXTERNAL) return "budget";
        slow = this.needsBoundary();
        cycleLimit = this.nonRoot ? Math.min(runLimit, this.wakeAt) : runLimit;
      }
      if (this.nonRoot && this.cycles >= cycleLimit && preemptionDue(this)) {
        this.vmExitNow(new VmExitSignal(52));
        continue;
      }
      if (slow) {
        if (this.cycles >= cycleLimit && !this.halted) return "budget";
        const why = this.boundary(stopAt);
        if (why !== null) return why;
        prev = null;
        slow = this.needsBoundary();
        continue;
      }
      const left = stopAt - this.icount;
      if (left <= 0) return "budget";
      const b = this.fetchBlock(prev);
      if (b === null) {
        prev = null;
        continue;
      }
      let n = left < b.insns.length ? left : b.insns.length;
      // Near the cycle limit (rare): run only the instructions that start before it, none at or after.
      if (this.cycles + b.cost > cycleLimit) {
        if (this.cycles >= cycleLimit) return "budget";
        n = this.insnsBefore(b, n, cycleLimit);
      }
      this.execBlock(b, n);
      prev = b;
    }
  }

  /** How many of the first n instructions of b start before cycle `limit` (at least one). Costs that
   * handlers add while running (cache misses) are in this.cycles, so each check is exact. */
  private insnsBefore(b: Block, n: number, limit: number): number {
    const insns = b.insns;
    let k = 1;
    while (k < n && this.cycles + insns[k].cyclesBefore < limit) k++;
    return k;
  }

  /** Shut down, waiting for SIPI, or halted with nothing that would wake it now (an NMI not blocked,
   * or INTR with IF = 1 or external-interrupt exiting; SDM Vol. 3A 6.7, 8.4.2; Vol. 3C 25.2). A guest
   * waiting for its VMX-preemption timer is idle until `wakeAt`. */
  get idle(): boolean {
    if (this.shutdown || this.waitingForSipi) return !this.nonRoot || this.wakeAt === Infinity;
    if (!this.halted) return false;
    return !(this.nmiPending && !this.nmiBlocked) && !(this.intrLine && ((this.eflags & IF) !== 0 || this.extIntExits));
  }

  /** The cycle at which something inside the core needs it even when halted: the VMX-preemption timer. */
  get wakeAt(): number {
    const v = this.vmx;
    return this.nonRoot && v !== null && v.preemptionDeadline !== null ? v.preemptionDeadline : Infinity;
  }

  /** Whether the next instruction boundary has something to deliver, a shadow, TF/RF, HLT, or a VMX
   * window / pending virtual interrupt in non-root operation. */
  private needsBoundary(): boolean {
    return ((this.eflags & (TF | RF)) | this.inhibit) !== 0 || this.halted || this.singleStepDue ||
      this.nmiPending || (this.intrLine && ((this.eflags & IF) !== 0 || this.extIntExits)) || this.vmxWindows ||
      (this.nonRoot && this.apicvDue());
  }

  /** APIC-write emulation is due, or a virtual interrupt is recognized and RFLAGS.IF lets it in. */
  private apicvDue(): boolean {
    const v = this.vmx!;
    return v.pendingApicWrite >= 0 || (v.virtualInterruptPending && (this.eflags & IF) !== 0);
  }

  /**
   * The slow instruction boundary: deliver what is due in SDM 6.9 priority order, or step exactly one
   * instruction (TF set or a shadow in force). Returns a stop reason, or null to go on.
   */
  private boundary(stopAt: number): StopReason | null {
    if (this.waitingForSipi) return "halt"; // NMI and INTR are held pending (SDM 8.4.2)
    const inhibit = this.inhibit;
    if (this.singleStepDue && inhibit !== INHIBIT_ALL) {
      this.singleStepDue = false;
      debugRegisters(this)[6] |= DR6_BS;
      this.deliverExternalOrTrap(Vector.DB, EventKind.EXCEPTION);
      return null;
    }
    if (this.nonRoot) {
      if (nonRootBoundary(this)) return null;
    } else if (inhibit === 0) {
      if (this.nmiPending && !this.nmiBlocked) {
        this.nmiPending = false;
        this.nmiBlocked = true;
        this.deliverExternalOrTrap(Vector.NMI, EventKind.EXTERNAL);
        return null;
      }
      if (this.intrLine && (this.eflags & IF) !== 0) {
        const vector = this.interruptAcknowledge() & 0xff;
        this.deliverExternalOrTrap(vector, EventKind.EXTERNAL);
        return null;
      }
    }
    if (this.halted) return "halt";
    if (this.icount >= stopAt) return "budget";
    const tf = (this.eflags & TF) !== 0;
    const rf = (this.eflags & RF) !== 0;
    this.inhibit = 0;
    this.shadowInForce = inhibit;
    const before = this.icount;
    const b = this.fetchBlock(null);
    if (b === null) {
      this.shadowInForce = 0;
      return null;
    }
    this.execBlock(b, 1);
    this.shadowInForce = 0;
    if (this.icount > before) {
      // RF lasts for one instruction: it is cleared when the next one completes (SDM Vol. 3B 17.3.1.1).
      if (rf) this.eflags &= ~RF;
      if (tf && !enteredSoftwareInterrupt(b.insns[0], this.eip)) this.singleStepDue = true;
    }
    return null;
  }

  /** Deliver an event at an instruction boundary (saved EIP: the next instruction); wakes from HLT. */
  deliverExternalOrTrap(vector: number, kind: EventKind): void {
    const wasHalted = this.halted;
    this.halted = false;
    try {
      deliverEvent(this, vector, -1, this.eip, kind);
    } catch (e) {
      if (e instanceof CpuFault) this.raise(e.vector, e.errorCode, this.eip);
      else if (e instanceof VmExitSignal) {
        this.halted = wasHalted;
        this.vmExitNow(e);
      } else throw e;
    }
    this.brk |= Brk.REFETCH;
  }

  // ---- VMX non-root operation at instruction boundaries (SDM Vol. 3C 25.2, 25.3, 26.7.5? 6.9 priorities) ----

  /** External-interrupt exiting is on: an interrupt exits whatever RFLAGS.IF says (SDM 25.3). */
  extIntExits = false;
  /** Interrupt-window or NMI-window exiting is on, or a virtual interrupt may be pending. */
  private vmxWindows = false;

  override enteredNonRoot(): void {
    const v = this.vmx!;
    this.extIntExits = (v.pin & PIN_EXTERNAL_INTERRUPT_EXITING) !== 0;
    this.vmxWindows = (v.proc & (PROC_INTERRUPT_WINDOW | PROC_NMI_WINDOW)) !== 0;
    this.brk |= Brk.EVENT | Brk.REFETCH;
  }

  override leftNonRoot(): void {
    this.extIntExits = false;
    this.vmxWindows = false;
    this.brk |= Brk.EVENT | Brk.REFETCH;
  }

  /** Perform a VM exit now (c.eip holds the guest RIP to save). */
  vmExitNow(sig: VmExitSignal): void {
    this.curBlock = null;
    performVmExit(this, sig);
  }

  /**
   * The block at CS:EIP, or null when fetching it faulted (the fault has been delivered). A fetch fault
   * (#PF, or #GP beyond the CS limit) belongs to the instruction at EIP.
   */
  private fetchBlock(prev: Block | null): Block | null {
    try {
      return this.nextBlock(prev);
    } catch (e) {
      if (e instanceof VmExitSignal) {
        this.vmExitNow(e); // an EPT violation or misconfiguration of the fetch (SDM Vol. 3C 28.2.3)
        return null;
      }
      if (!(e instanceof CpuFault)) throw e;
      this.brk |= Brk.REFETCH;
      // At or past the run's cycle limit the boundary belongs to the next turn, where a pending
      // interrupt comes before this fetch fault (SDM Vol. 3A 6.9: priority 5 before 7); the fetch is retried.
      if (this.cycles >= this.runLimit) {
        this.brk |= Brk.EXTERNAL;
        return null;
      }
      this.raise(e.vector, e.errorCode, this.eip);
      return null;
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
    const lin = (csBase + eip) | 0;
    const e = this.tlbR[lin >>> 12];
    const pa = e !== 0 ? (e ^ lin ^ 1) >>> 0 : this.translate(lin, false, false);
    const slot = (pa ^ (pa >>> 11)) & (RECENT_SLOTS - 1);
    let b = this.recent[slot];
    if (b === undefined || b.pa !== pa || !b.valid || b.startEip !== eip || b.csBase !== csBase ||
        b.code32 !== this.cs32 || b.csLimit !== this.segLimit[1] || b.pa2 >= 0) {
      b = this.blocks.lookup(pa, csBase, this.cs32);
      if (b === undefined || b.startEip !== eip || b.csLimit !== this.segLimit[1] || !this.secondPageMatches(b)) {
        b = this.decodeBlock(pa, csBase, eip);
      }
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

  /** A block whose first instruction crosses into a second page is valid only while that page still
   * maps to the same physical page (the translation may fault: the fetch of that instruction faults). */
  private secondPageMatches(b: Block): boolean {
    if (b.pa2 < 0) return true;
    const lin2 = ((b.csBase + b.startEip) | 0xfff) + 1;
    return (this.translate(lin2 | 0, false, false) & ~0xfff) === b.pa2;
  }

  private decodeBlock(pa: number, csBase: number, eip: number): Block {
    const code32 = this.cs32;
    const csLimit = this.segLimit[1] >>> 0;
    const insns: Insn[] = [];
    const page0 = pa >>> 12;
    const linPage0 = ((csBase + eip) | 0) >>> 12;
    let pa2 = -1;
    let off = eip;
    let endPa = pa;
    for (;;) {
      const lin = (csBase + off) | 0;
      // An instruction that may cross into the next page starts a block of its own, so that the second
      // page is translated only when that instruction is about to execute.
      if (insns.length > 0 && (lin & 0xfff) > 0xff0) break;
      const i = this.decoder.decode(this, csBase, off, code32, csLimit);
      insns.push(i);
      const lastLin = (lin + i.len - 1) | 0;
      if (lastLin >>> 12 !== linPage0) {
        pa2 = this.translate(lastLin, false, false) & ~0xfff;
        endPa = pa2 | (lastLin & 0xfff);
      } else {
        endPa = pa + ((lastLin - ((csBase + eip) | 0)) | 0);
      }
      if (i.row !== null && (i.row.operands[0] === "Jb" || i.row.operands[0] === "Jv") && (i.imm >>> 0) > csLimit) {
        i.exec = guardTarget(i.exec, i, csLimit);
      }
      off = i.nextEip;
      if (i.row === null || i.row.end !== undefined) break;
      if (i.rep !== 0 && i.row.rep !== undefined) break; // REP string ops set EIP themselves
      if (insns.length >= MAX_BLOCK_INSNS) break;
      if (((csBase + off) | 0) >>> 12 !== linPage0 || pa2 >= 0) break;
    }
    let before = 0;
    for (const i of insns) {
      i.cyclesBefore = before;
      before += i.cost;
    }
    const b = new Block(insns, eip, pa, csBase, code32, pa2, endPa, this.segLimit[1]);
    this.markCode(page0);
    if (pa2 >= 0) this.markCode(pa2 >>> 12);
    this.blocks.insert(b);
    return b;
  }

  private markCode(page: number): void {
    if (page < this.pageFlags.length - 1) this.pageFlags[page] |= PageFlag.CODE;
  }

  protected execBlock(b: Block, n: number): void {
    const insns = b.insns;
    this.curBlock = b;
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
    this.curBlock = null;
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
    this.curBlock = null;
    this.icount += k;
    this.cycles += k === b.insns.length ? b.cost : b.costOf(k);
  }

  /** Instruction k of block b raised `e`: retire the ones before it and deliver the exception. */
  private faulted(b: Block, k: number, e: unknown): void {
    this.curBlock = null;
    this.icount += k;
    this.cycles += b.costOf(k);
    const i = b.insns[k];
    this.eip = i.eip;
    this.brk |= Brk.REFETCH; // the run loop re-evaluates the boundary state after any fault
    if (e instanceof CpuFault) this.raise(e.vector, e.errorCode, i.eip);
    else if (e instanceof VmExitSignal) {
      // An instruction that exits in non-root operation (SDM Vol. 3C 25.1): the guest RIP is the instruction's.
      e.instructionLength = i.len;
      this.vmExitNow(e);
    } else if (e instanceof SimulationError) throw e;
    else {
      throw new SimulationError(`internal error executing ${i.row?.mnemonic ?? "?"}: ${String(e)}`, {
        core: this.id, eip: i.eip, dump: this.dump(),
      });
    }
  }

  /** Deliver a processor exception whose saved EIP is `eip` (faults: the faulting instruction). */
  raise(vector: number, errorCode: number, eip: number): void {
    try {
      deliverEvent(this, vector, errorCode, eip, EventKind.EXCEPTION);
    } catch (e) {
      if (!(e instanceof VmExitSignal)) throw e;
      // The exception bitmap selected it (or its delivery exited): the guest RIP is the saved EIP.
      this.eip = eip;
      this.vmExitNow(e);
    }
    this.brk |= Brk.REFETCH;
  }

  /** Deliver an external interrupt now, at the current instruction boundary, whatever IF says (tests and
   * callers that model the acknowledge themselves; the platform drives setIntr instead). */
  interrupt(vector: number): void {
    this.deliverExternalOrTrap(vector, EventKind.EXTERNAL);
  }

  /** Multiboot-1 entry state (Multiboot spec 3.2): flat 32-bit protected mode, paging off, IF = 0; the
   * general registers the loader does not set are zero. */
  resetToFlat32(eip: number): void {
    this.regs.fill(0);
    this.cr0 = 0x00000011; // PE, ET; caching enabled (CD = NW = 0), as the firmware before a boot loader leaves it
    this.setFlatSegments();
    this.eflags = Eflags.FIXED1;
    this.fop = 0;
    this.eip = eip;
    this.halted = false;
    this.waitingForSipi = false;
    this.shutdown = false;
    this.pagingModeChanged();
    this.refreshSegmentChecks();
    this.cacheModeChanged();
    this.blocks.clear();
  }

  private setFlatSegments(): void {
    this.cpl = 0;
    for (let s = 0; s < 6; s++) {
      const code = s === Seg.CS;
      // present, DPL 0, code execute/read or data read/write, accessed; G and D/B set
      setSegment(this, s, code ? 0x08 : 0x10, 0, -1, (code ? 0x9b : 0x93) | 0xc000);
    }
  }

}

/**
 * INT n, INT3 and INTO (when it vectors) enter their handler with TF cleared and no single-step trap for
 * the instruction itself (as Bochs; SDM Vol. 3B 17.3.1.4: the handler is not single-stepped).
 */
function enteredSoftwareInterrupt(i: Insn, eipAfter: number): boolean {
  const exec = i.row?.exec;
  return (exec === "int" || exec === "int3" || exec === "into") && eipAfter !== i.nextEip;
}

/**
 * Wrap a relative branch whose target lies beyond the CS limit: taking it raises #GP(0) with the branch's
 * own EIP (SDM Vol. 2 JMP, CALL, Jcc, LOOP: "If the target offset is beyond the code segment limit").
 * JMP and CALL check before anything happens (no return address is pushed); a conditional branch faults
 * only when taken.
 */
function guardTarget(exec: Insn["exec"], i: Insn, csLimit: number): Insn["exec"] {
  if (i.row!.end === "jump") return raiseGp;
  return (c, insn) => {
    const ecx = c.regs[1]; // LOOP decrements ECX first: a fault must leave it as it was (SDM 6.5)
    exec(c, insn);
    if ((c.eip >>> 0) > csLimit) {
      c.regs[1] = ecx;
      raiseGp();
    }
  };
}
