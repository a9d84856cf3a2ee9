/**
 * The architectural state of one IA-32 logical processor and its memory-access paths.
 *
 * Registers live in typed arrays; EFLAGS is lazy (flags.ts). Memory accesses take a linear address and
 * translate it through the TLB (tlb.ts; page walks in paging.ts, SDM Vol. 3A 4.3); RAM is read directly
 * through a DataView, everything outside RAM goes to the SystemBus. Writes to RAM pages that hold
 * decoded code are reported to the decoded-block cache (self- and cross-modifying code, SDM 8.1.3);
 * writes to ROM pages are discarded. Segment checks (limit, type, alignment) are applied by whoever forms
 * the linear address (execute/operands.ts ea(), the stack operations here, string instructions) through
 * segCheck/segment-checks.ts.
 *
 * Leaves out: A20 masking, memory types.
 */
import { FlagOp, type FlagState, materialize } from "./flags.ts";
import { Eflags } from "./registers.ts";
import type { LocalApic } from "./lapic.ts";
import type { VmxState } from "./vmx/vmx-state.ts";
import type { InstructionCosts } from "./profile.ts";
import { DEFAULT_INSTRUCTION_COSTS } from "./timing.ts";
import { NULL_BUS, type SystemBus } from "./system-bus.ts";
import { walk } from "./paging.ts";
import { identityMap, Tlb } from "./tlb.ts";
import type { EptContext } from "./vmx/ept-core.ts";
import { checkSegmentAccess, segmentNeedsChecks } from "./segment-checks.ts";
import { apicPageFetch, apicPageRead, apicPageWrite } from "./vmx/apicv-core.ts";

/** Reasons the run loop must stop after the current instruction (bits of CoreState.brk). */
export const enum Brk {
  HALT = 1,
  SHUTDOWN = 2,
  /** The board asked the run to end (debug-exit port, breakpoint, ...). */
  EXIT = 4,
  /** A store hit a page holding decoded code: the current block may be stale. */
  SMC = 8,
  /** Something outside the core needs attention (interrupt pending, end of quantum). */
  EXTERNAL = 16,
  /** A VM exit happened and the embedded (TypeScript) VMM handles it: run() returns "vmexit". */
  VMEXIT = 128,
  /** State that the block cache depends on changed (CS, mode, paging). */
  REFETCH = 32,
  /** An input or shadow needs the instruction-boundary logic (interrupt, NMI, STI/MOV SS shadow). */
  EVENT = 64,
}

// Hot paths use local constants: tsx/esbuild compile each file alone, so an imported const enum member
// (Reg.ESP) is a property load at run time, not an inlined number.
const ESP = 4;
const SS = 2;

/** Bits of CoreState.pageFlags. */
export const enum PageFlag {
  /** The page holds decoded instructions: stores must be reported to the block cache. */
  CODE = 1,
  /** Read-only memory: stores are discarded. */
  ROM = 2,
}

export interface CoreOptions {
  /** Guest RAM, physical addresses 0 .. ram.length - 1. Shared by all cores of a machine. */
  ram: Uint8Array;
  bus?: SystemBus;
  /** Core number (APIC ID). */
  id?: number;
  /** Instruction cost table (default: timing.ts DEFAULT_INSTRUCTION_COSTS). */
  costs?: InstructionCosts;
  /** Page flags shared by all cores of a machine (code and ROM pages are properties of physical memory). */
  pageFlags?: Uint8Array;
}

export class CoreState implements FlagState {
  readonly id: number;
  /** EAX..EDI, then slot 8 which is always zero (addressing forms without base/index). */
  readonly regs = new Int32Array(9);
  eip = 0;

  // FlagState (see flags.ts)
  eflags = Eflags.FIXED1;
  fop = FlagOp.NONE as number;
  fa = 0;
  fb = 0;
  fres = 0;
  fmask = -1;
  fsign = 0x80000000 | 0;
  fcf = 0;

  // Segment registers and their hidden descriptor caches (SDM Vol. 3A 3.4.3)
  readonly segSel = new Uint16Array(6);
  readonly segBase = new Int32Array(6);
  readonly segLimit = new Int32Array(6);
  /** Access-rights bytes as in the descriptor (type, S, DPL, P) and flags (G, D/B) in bits 8-15. */
  readonly segAttr = new Uint16Array(6);
  /** CS.D: 32-bit default operand and address size. */
  cs32 = true;
  /** SS.B: 32-bit stack pointer (ESP rather than SP). */
  ss32 = true;
  private _cpl = 0;

  // System registers (SDM Vol. 3A 2.4, 2.5)
  cr0 = 0x60000010;
  cr2 = 0;
  /** CR2 before the last page fault loaded it: a #PF that causes a VM exit leaves CR2 unchanged (SDM Vol. 3C 25.2). */
  cr2Before = 0;
  cr3 = 0;
  cr4 = 0;
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;
  ldtrSel = 0;
  ldtrBase = 0;
  ldtrLimit = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0;
  /** System type of the TSS in TR (hidden part): 11 busy 32-bit, 3 busy 16-bit (SDM 3.5 Table 3-2). */
  trType = 11;
  /** TSC offset/adjust: TSC = cycles + tscOffset. */
  tscOffset = 0;

  // Memory
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  readonly ramSize: number;
  /** PageFlag bits for each 4 KiB RAM page: decoded instructions on it, read-only memory. */
  readonly pageFlags: Uint8Array;
  /** The TLB (null while paging is off) and its current read/write views for this CPL (tlb.ts). */
  tlb: Tlb | null = null;
  private tlbStore: Tlb | null = null;
  tlbR: Int32Array = identityMap();
  tlbW: Int32Array = identityMap();
  /** EPT while the core runs a guest with "enable EPT" (vmx/ept-core.ts, SDM Vol. 3C 28.2), else null: every
   * guest-physical address goes through it, and the TLB is on even with guest paging off. */
  ept: EptContext | null = null;
  /** The current VPID (SDM Vol. 3C 28.1): 0 in root operation and for guests without "enable VPID". */
  vpid = 0;
  /** Per segment register: 0 when accesses need no check (segment-checks.ts), else 1. */
  readonly segCheck = new Uint8Array(6);
  bus: SystemBus;
  /** The instruction cost table, and the two of its entries that handlers add at run time. */
  readonly costs: InstructionCosts;
  readonly branchTakenExtra: number;
  readonly repPerElement: number;
  /** This core's local APIC (SDM Vol. 3A chapter 10), attached by the machine; null on a bare core. */
  lapic: LocalApic | null = null;
  /** VMX support and state (SDM Vol. 3C chapter 23): null when the processor has no VMX (CPUID.1:ECX.VMX = 0). */
  vmx: VmxState | null = null;
  /** In VMX non-root operation: instructions and events check their VM-exit conditions (SDM Vol. 3C 25). */
  nonRoot = false;
  /** Physical page number of the APIC-access page while the guest runs with "virtualize APIC accesses"
   * (SDM Vol. 3C 29.4), else -1: translations to it are not cached, and accesses to it are virtualized. */
  apicAccessPage = -1;

  // Accounting and run control
  /** Simulated core cycles since reset. */
  cycles = 0;
  /** Instructions retired since reset. */
  icount = 0;
  brk = 0;
  /** Events blocked at the next instruction boundary (SDM 6.8.3): 0 none, 1 maskable interrupts (after
   * STI), 2 interrupts, NMI and debug traps (after MOV SS / POP SS). */
  inhibit = 0;
  /** The shadow the executing instruction runs in (the `inhibit` value its boundary cleared): 2 while the
   * instruction right after MOV SS / POP SS executes, 1 after STI, else 0 (VM entry error 26, SDM 26.1; the
   * interruptibility state a VM exit saves, 27.3.4). */
  shadowInForce = 0;
  /** NMIs are blocked from the delivery of one until the next IRET (SDM 6.7.1). */
  nmiBlocked = false;
  /** A single-step #DB trap is due at the next instruction boundary (SDM Vol. 3B 17.3.1.4). */
  singleStepDue = false;
  halted = false;
  shutdown = false;
  /** In the wait-for-SIPI state after INIT (application processors; SDM 8.4.2, 9.1 Table 9-1). */
  waitingForSipi = false;
  /** Called when a store of `len` bytes hits a page with decoded code; returns true when it
   * invalidated decoded instructions. Set by the core's block cache. */
  onCodeWrite: (pa: number, len: number) => boolean = () => false;

  constructor(opts: CoreOptions) {
    this.id = opts.id ?? 0;
    this.ram = opts.ram;
    this.ramView = new DataView(opts.ram.buffer, opts.ram.byteOffset, opts.ram.byteLength);
    this.ramSize = opts.ram.length;
    this.pageFlags = opts.pageFlags ?? new Uint8Array(Math.ceil(opts.ram.length / 4096) + 1);
    this.costs = opts.costs ?? DEFAULT_INSTRUCTION_COSTS;
    this.branchTakenExtra = this.costs.branchTakenExtra;
    this.repPerElement = this.costs.repPerElement;
    this.bus = opts.bus ?? NULL_BUS;
  }

  // ---- linear memory access (SDM Vol. 3A 3.1: segment base + offset = linear; 4.3: linear -> physical) ----
  //
  // Fast path: the current TLB view answers in one load (0 = walk needed), the physical address is in
  // RAM, the access stays within its page, and (stores) the page holds neither decoded code nor ROM.
  // Everything else takes the *Slow paths below, which are exact.

  read8(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) return this.ram[pa];
    }
    return this.readSlow(lin, 1, false);
  }

  read16(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) !== 0xfff) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) return this.ramView.getUint16(pa, true);
    }
    return this.readSlow(lin, 2, false);
  }

  /** Returns a signed 32-bit value. */
  read32(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) <= 0xffc) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize) return this.ramView.getInt32(pa, true);
    }
    return this.readSlow(lin, 4, false) | 0;
  }

  write8(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        this.ram[pa] = v;
        return;
      }
    }
    this.writeSlow(lin, 1, v, false);
  }

  write16(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) !== 0xfff) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        this.ramView.setUint16(pa, v, true);
        return;
      }
    }
    this.writeSlow(lin, 2, v, false);
  }

  write32(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e !== 0 && (lin & 0xfff) <= 0xffc) {
      const pa = (e ^ lin ^ 1) >>> 0;
      if (pa < this.ramSize && this.pageFlags[pa >>> 12] === 0) {
        this.ramView.setInt32(pa, v, true);
        return;
      }
    }
    this.writeSlow(lin, 4, v, false);
  }

  /** An instruction byte for the decoder: a read through the TLB like read8, but not a data access (a
   * core with a cache model charges instruction fetch per line of each block run, not per decoded byte). */
  fetchCodeByte(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    const pa = e !== 0 ? (e ^ lin ^ 1) >>> 0 : this.translate(lin, false, false);
    if ((pa >>> 12) === this.apicAccessPage) apicPageFetch(this, pa); // always an APIC-access exit (SDM 29.4.2)
    return pa < this.ramSize ? this.ram[pa] : this.bus.readPhys(pa, 1) & 0xff;
  }

  readN(lin: number, size: number): number {
    return size === 4 ? this.read32(lin) : size === 2 ? this.read16(lin) : this.read8(lin);
  }

  writeN(lin: number, size: number, v: number): void {
    if (size === 4) this.write32(lin, v);
    else if (size === 2) this.write16(lin, v);
    else this.write8(lin, v);
  }

  // ---- implicit supervisor-mode accesses (SDM Vol. 3A 4.6: GDT, LDT, IDT and TSS accesses are
  // supervisor-mode accesses whatever the CPL) ----

  readSys8(lin: number): number {
    return this.readSlow(lin, 1, true);
  }

  readSys16(lin: number): number {
    return this.readSlow(lin, 2, true);
  }

  readSys32(lin: number): number {
    return this.readSlow(lin, 4, true) | 0;
  }

  writeSys8(lin: number, v: number): void {
    this.writeSlow(lin, 1, v, true);
  }

  writeSys16(lin: number, v: number): void {
    this.writeSlow(lin, 2, v, true);
  }

  writeSys32(lin: number, v: number): void {
    this.writeSlow(lin, 4, v, true);
  }

  /**
   * Physical address of `lin` for a read or write; `sys` marks an implicit supervisor-mode access, `data` a data
   * read (readSlow): a read without it is an instruction fetch (core.ts, fetchCodeByte), which only EPT treats
   * differently (vmx/ept-core.ts). Walks the page tables on a TLB miss (may raise #PF, or exit on EPT).
   */
  translate(lin: number, write: boolean, sys: boolean, data = false): number {
    if (this.tlb === null) return lin >>> 0;
    const t = this.tlb;
    const user = !sys && this._cpl === 3;
    const view = user ? (write ? t.userWrite : t.userRead) : write ? t.supWrite : t.supRead;
    const e = view[lin >>> 12];
    if (e !== 0) return (e ^ lin ^ 1) >>> 0;
    const pa = walk(this, lin, write, user, !write && !data);
    // A translation to the APIC-access page is not cached: every access must reach readPhys/writePhys.
    if ((pa >>> 12) === this.apicAccessPage) t.invalidatePage(lin >>> 12);
    return pa;
  }

  private readSlow(lin: number, size: number, sys: boolean): number {
    const inPage = 4096 - (lin & 0xfff);
    const pa = this.translate(lin, false, sys, true);
    if (size <= inPage) return this.readPhys(pa, size);
    // Crosses a page: both translations must succeed before the access (SDM 4.7 reports the first
    // faulting byte's page in CR2).
    const pa2 = this.translate((lin + inPage) | 0, false, sys, true);
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.readPhys(k < inPage ? pa + k : pa2 + k - inPage, 1) << (8 * k);
    return size === 4 ? v | 0 : v;
  }

  private writeSlow(lin: number, size: number, v: number, sys: boolean): void {
    const inPage = 4096 - (lin & 0xfff);
    const pa = this.translate(lin, true, sys);
    if (size <= inPage) {
      this.writePhys(pa, size, v);
      return;
    }
    const pa2 = this.translate((lin + inPage) | 0, true, sys);
    for (let k = 0; k < size; k++) this.writePhys(k < inPage ? pa + k : pa2 + k - inPage, 1, v >> (8 * k));
  }

  /** Read `size` bytes (1, 2 or 4, within one page) at a physical address: RAM or the system bus. */
  readPhys(pa: number, size: number): number {
    if ((pa >>> 12) === this.apicAccessPage) return apicPageRead(this, pa, size);
    if (pa + size <= this.ramSize) {
      return size === 4 ? this.ramView.getInt32(pa, true) : size === 2 ? this.ramView.getUint16(pa, true) : this.ram[pa];
    }
    if (pa >= this.ramSize && (pa & (size - 1)) === 0) {
      const v = this.bus.readPhys(pa, size as 1 | 2 | 4);
      return size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff;
    }
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.readPhys(pa + k, 1) << (8 * k);
    return size === 4 ? v | 0 : v;
  }

  /** Write `size` bytes (within one page) at a physical address: ROM pages ignore stores (SDM 11.3: a
   * write to ROM has no effect); stores to pages with decoded code are reported to the block cache. */
  writePhys(pa: number, size: number, v: number): void {
    if ((pa >>> 12) === this.apicAccessPage) {
      apicPageWrite(this, pa, size, v);
      return;
    }
    if (pa + size <= this.ramSize) {
      const flags = this.pageFlags[pa >>> 12];
      if ((flags & PageFlag.ROM) !== 0) return;
      if (size === 4) this.ramView.setInt32(pa, v, true);
      else if (size === 2) this.ramView.setUint16(pa, v, true);
      else this.ram[pa] = v;
      if ((flags & PageFlag.CODE) !== 0) this.codeWritten(pa, size);
      return;
    }
    if (pa >= this.ramSize && (pa & (size - 1)) === 0) {
      this.bus.writePhys(pa, size as 1 | 2 | 4, size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff);
      return;
    }
    for (let k = 0; k < size; k++) this.writePhys(pa + k, 1, v >> (8 * k));
  }

  readPhys32(pa: number): number {
    return this.readPhys(pa, 4);
  }

  writePhys32(pa: number, v: number): void {
    this.writePhys(pa, 4, v);
  }

  /** Make the RAM pages covering [pa, pa + bytes) read-only memory: stores to them are discarded. */
  setRomRange(pa: number, bytes: number): void {
    for (let p = pa >>> 12; p <= (pa + bytes - 1) >>> 12 && p < this.pageFlags.length; p++) {
      this.pageFlags[p] |= PageFlag.ROM;
    }
  }

  // ---- paging state (SDM Vol. 3A 4.1, 4.10.4) ----

  /** CR0.PG or CR0.PE changed (or a VM entry or exit loaded them): enable or disable translation through the
   * TLB, which EPT keeps on (SDM Vol. 3C 28.2.1: with guest paging off, linear = guest-physical). */
  pagingModeChanged(): void {
    const on = (this.cr0 & 0x80000001) === (0x80000001 | 0) || this.ept !== null;
    if (on) {
      // The arrays (16 MiB) are allocated once and kept while paging is off, emptied.
      this.tlb = this.tlbStore ??= new Tlb();
      this.tlb.flushAll();
    } else {
      this.tlb = null;
    }
    this.selectTlbView();
    this.mappingsChanged();
  }

  /** INVLPG: drop the translation of the page holding `lin` (SDM Vol. 2 INVLPG). */
  invalidatePage(lin: number): void {
    if (this.tlb !== null) this.tlb.invalidatePage(lin >>> 12);
    this.mappingsChanged();
  }

  /** MOV to CR3 (non-global entries) or a change of CR0.WP, CR4.PGE/PSE (all entries). */
  flushTlb(includingGlobal: boolean): void {
    if (this.tlb !== null) {
      if (includingGlobal) this.tlb.flushAll();
      else this.tlb.flushNonGlobal();
    }
    this.mappingsChanged();
  }

  /** WBINVD (writeBack) or INVD: the cache model's part (a core without one has nothing to do). Returns
   * the cycles it took. SDM Vol. 2 WBINVD/INVD. */
  cacheFlush(_writeBack: boolean): number {
    return 0;
  }

  /** CR0.CD changed (SDM Vol. 3A 11.5.3): the cache model's part. */
  cacheModeChanged(): void {}

  /** A bulk string transfer touched `bytes` of RAM at `pa`: the cache model's part. */
  touchRange(_pa: number, _bytes: number, _write: boolean): void {}

  /** INVVPID individual-address: the translations of `vpid` for the page of `lin` (SDM Vol. 3C 28.3.3.3). The
   * functional TLB holds only the current context's translations (it is flushed at every VM transition), so
   * dropping the page is exact; a core with a TLB timing model tags its entries with the VPID. */
  invalidateVpidPage(_vpid: number, lin: number): void {
    this.invalidatePage(lin);
  }

  /** INVVPID single-context (vpid >= 0, optionally keeping global translations) or all-context (vpid = -1). */
  invalidateVpid(_vpid: number, retainGlobals: boolean): void {
    this.flushTlb(!retainGlobals);
  }

  /** VM entry put the core in VMX non-root operation / a VM exit took it out (the core overrides these). */
  enteredNonRoot(): void {}
  leftNonRoot(): void {}

  /** Translations changed: decoded-block links may now lead elsewhere (the core overrides this). */
  protected mappingsChanged(): void {
    this.brk |= Brk.REFETCH;
  }

  private selectTlbView(): void {
    const t = this.tlb;
    if (t === null) {
      this.tlbR = this.tlbW = identityMap();
    } else if (this._cpl === 3) {
      this.tlbR = t.userRead;
      this.tlbW = t.userWrite;
    } else {
      this.tlbR = t.supRead;
      this.tlbW = t.supWrite;
    }
  }

  /** MOV SS, POP SS and STI (when it sets IF) block interrupts, NMIs and single-step traps until the
   * next instruction has executed (SDM Vol. 3A 6.8.3). */
  setInterruptShadow(): void {
    this.inhibit = 2;
    this.brk |= Brk.EVENT;
  }

  /** STI that sets IF: maskable interrupts wait until after the next instruction (SDM Vol. 2 STI). */
  setStiShadow(): void {
    if (this.inhibit === 0) this.inhibit = 1;
    this.brk |= Brk.EVENT;
  }

  /** The hidden part of segment register `seg` changed (segments.ts calls this after every load). */
  segmentLoaded(seg: number): void {
    this.segCheck[seg] = segmentNeedsChecks(this, seg);
  }

  /** Current privilege level (CS.RPL in protected mode). Changing it switches the TLB's user or
   * supervisor view and the alignment-check state. */
  get cpl(): number {
    return this._cpl;
  }

  set cpl(v: number) {
    if (v === this._cpl) return;
    const userChanged = (v === 3) !== (this._cpl === 3);
    this._cpl = v;
    this.selectTlbView();
    this.refreshSegmentChecks();
    // Block links were made under the other view's fetch rights: a link may not skip the U/S check.
    if (userChanged) this.mappingsChanged();
  }

  /** Recompute the fast-path flags of all six segment registers (mode, CPL, CR0.AM or EFLAGS.AC changed). */
  refreshSegmentChecks(): void {
    for (let s = 0; s < 6; s++) this.segCheck[s] = segmentNeedsChecks(this, s);
  }

  /** Checked access to offset `off` of segment `seg` (for handlers that form addresses themselves). */
  checkSegment(seg: number, off: number, size: number, write: boolean): void {
    if (this.segCheck[seg] !== 0) checkSegmentAccess(this, seg, off, size, write);
  }

  private codeWritten(pa: number, len: number): void {
    // A store that straddles a page boundary is reported as two stores, one per page.
    const split = 4096 - (pa & 4095);
    let hit = false;
    if (split < len) {
      hit = this.onCodeWrite(pa, split);
      hit = this.onCodeWrite(pa + split, len - split) || hit;
    } else {
      hit = this.onCodeWrite(pa, len);
    }
    if (hit) this.brk |= Brk.SMC;
  }

  // ---- registers by size ----

  getReg(n: number, size: number): number {
    if (size === 4) return this.regs[n];
    if (size === 2) return this.regs[n] & 0xffff;
    return n < 4 ? this.regs[n] & 0xff : (this.regs[n - 4] >> 8) & 0xff;
  }

  setReg(n: number, size: number, v: number): void {
    const r = this.regs;
    if (size === 4) r[n] = v;
    else if (size === 2) r[n] = (r[n] & ~0xffff) | (v & 0xffff);
    else if (n < 4) r[n] = (r[n] & ~0xff) | (v & 0xff);
    else r[n - 4] = (r[n - 4] & ~0xff00) | ((v & 0xff) << 8);
  }

  // ---- stack (SDM Vol. 1 6.2; the stack-address size is SS.B) ----

  push(size: number, v: number): void {
    const r = this.regs;
    const sp = this.ss32 ? (r[ESP] - size) | 0 : (r[ESP] - size) & 0xffff;
    if (this.segCheck[SS] !== 0) checkSegmentAccess(this, SS, sp, size, true);
    this.writeN((this.segBase[SS] + sp) | 0, size, v);
    r[ESP] = this.ss32 ? sp : (r[ESP] & ~0xffff) | sp;
  }

  /** Read the value on top of the stack without popping it. */
  peek(size: number, offset = 0): number {
    const sp = this.ss32 ? (this.regs[ESP] + offset) | 0 : (this.regs[ESP] + offset) & 0xffff;
    if (this.segCheck[SS] !== 0) checkSegmentAccess(this, SS, sp, size, false);
    return this.readN((this.segBase[SS] + sp) | 0, size);
  }

  /** Move the stack pointer by delta, honouring SS.B. */
  adjustSp(delta: number): void {
    const r = this.regs;
    if (this.ss32) r[ESP] = (r[ESP] + delta) | 0;
    else r[ESP] = (r[ESP] & ~0xffff) | ((r[ESP] + delta) & 0xffff);
  }

  pop(size: number): number {
    const v = this.peek(size);
    this.adjustSp(size);
    return v;
  }

  // ---- flags ----

  getEflags(): number {
    return materialize(this);
  }

  /** Replace EFLAGS bits selected by mask (bit 1 always reads as one). */
  setEflags(v: number, mask: number): void {
    const e = materialize(this);
    this.eflags = ((e & ~mask) | (v & mask) | Eflags.FIXED1) & ~(0x8 | 0x20 | 0x8000);
    const changed = e ^ this.eflags;
    if ((changed & Eflags.AC) !== 0) this.refreshSegmentChecks(); // alignment checking
    if ((changed & (Eflags.TF | Eflags.IF | Eflags.RF)) !== 0) this.brk |= Brk.EVENT; // boundary logic
  }

  get protectedMode(): boolean {
    return (this.cr0 & 1) !== 0;
  }

  /** TSC as of the start of the current block (handlers: use tscAt(i) for the exact cycle). */
  get tsc(): number {
    return this.cycles + this.tscOffset;
  }

  /** TSC at the moment instruction `i` executes (its block's earlier instructions included). */
  tscAt(i: { cyclesBefore: number }): number {
    return this.cycles + i.cyclesBefore + this.tscOffset;
  }

  /** Register dump in the format of the triple-fault and SimulationError reports. */
  dump(): string {
    const h = (v: number, w = 8) => (v >>> 0).toString(16).padStart(w, "0");
    const r = this.regs;
    const e = this.getEflags();
    const seg = ["es", "cs", "ss", "ds", "fs", "gs"]
      .map((n, i) => `${n}=${h(this.segSel[i], 4)}(base ${h(this.segBase[i])} limit ${h(this.segLimit[i])})`)
      .join(" ");
    return (
      `eax=${h(r[0])} ecx=${h(r[1])} edx=${h(r[2])} ebx=${h(r[3])}\n` +
      `esp=${h(r[4])} ebp=${h(r[5])} esi=${h(r[6])} edi=${h(r[7])}\n` +
      `eip=${h(this.eip)} eflags=${h(e)} cpl=${this.cpl} cr0=${h(this.cr0)} cr2=${h(this.cr2)} cr3=${h(this.cr3)} cr4=${h(this.cr4)}\n` +
      `${seg}\n` +
      `gdt=${h(this.gdtBase)}/${h(this.gdtLimit, 4)} idt=${h(this.idtBase)}/${h(this.idtLimit, 4)}`
    );
  }
}
