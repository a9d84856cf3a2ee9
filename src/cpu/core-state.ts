/**
 * The architectural state of one IA-32 logical processor and its memory-access paths.
 *
 * Registers live in typed arrays; EFLAGS is lazy (flags.ts). Memory accesses take a linear address;
 * with paging off (this issue) the physical address equals it. RAM is read directly through a DataView;
 * everything outside RAM goes to the SystemBus. Writes to RAM pages that hold decoded code are reported
 * to the decoded-block cache (self- and cross-modifying code, SDM Vol. 3A 8.1.3).
 *
 * Leaves out: paging and segment limit checks (system-architecture layer), A20 masking.
 */
import { FlagOp, type FlagState, materialize } from "./flags.ts";
import { Eflags } from "./registers.ts";
import { NULL_BUS, type SystemBus } from "./system-bus.ts";

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
  /** State that the block cache depends on changed (CS, mode, paging). */
  REFETCH = 32,
}

// Hot paths use local constants: tsx/esbuild compile each file alone, so an imported const enum member
// (Reg.ESP) is a property load at run time, not an inlined number.
const ESP = 4;
const SS = 2;

export interface CoreOptions {
  /** Guest RAM, physical addresses 0 .. ram.length - 1. Shared by all cores of a machine. */
  ram: Uint8Array;
  bus?: SystemBus;
  /** Core number (APIC ID). */
  id?: number;
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
  cpl = 0;

  // System registers (SDM Vol. 3A 2.4, 2.5)
  cr0 = 0x60000010;
  cr2 = 0;
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
  /** TSC offset/adjust: TSC = cycles + tscOffset. */
  tscOffset = 0;

  // Memory
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  readonly ramSize: number;
  /** Non-zero for each 4 KiB RAM page that holds decoded instructions. */
  readonly codePage: Uint8Array;
  bus: SystemBus;

  // Accounting and run control
  /** Simulated core cycles since reset. */
  cycles = 0;
  /** Instructions retired since reset. */
  icount = 0;
  brk = 0;
  /** Interrupts and single-step traps are blocked until after the next instruction (SDM 6.8.3). */
  interruptShadow = false;
  halted = false;
  shutdown = false;
  /** Called when a store of `len` bytes hits a page with decoded code; returns true when it
   * invalidated decoded instructions. Set by the core's block cache. */
  onCodeWrite: (pa: number, len: number) => boolean = () => false;

  constructor(opts: CoreOptions) {
    this.id = opts.id ?? 0;
    this.ram = opts.ram;
    this.ramView = new DataView(opts.ram.buffer, opts.ram.byteOffset, opts.ram.byteLength);
    this.ramSize = opts.ram.length;
    this.codePage = new Uint8Array(Math.ceil(opts.ram.length / 4096) + 1);
    this.bus = opts.bus ?? NULL_BUS;
  }

  // ---- linear memory access (paging is not modelled yet: physical = linear) ----

  read8(lin: number): number {
    const pa = lin >>> 0;
    if (pa < this.ramSize) return this.ram[pa];
    return this.bus.readPhys(pa, 1) & 0xff;
  }

  read16(lin: number): number {
    const pa = lin >>> 0;
    if (pa < this.ramSize - 1) return this.ramView.getUint16(pa, true);
    return this.read8(lin) | (this.read8(lin + 1) << 8);
  }

  /** Returns a signed 32-bit value. */
  read32(lin: number): number {
    const pa = lin >>> 0;
    if (pa < this.ramSize - 3) return this.ramView.getInt32(pa, true);
    if (pa >= this.ramSize && (pa & 3) === 0) return this.bus.readPhys(pa, 4) | 0;
    return this.read16(lin) | (this.read16(lin + 2) << 16);
  }

  write8(lin: number, v: number): void {
    const pa = lin >>> 0;
    if (pa < this.ramSize) {
      this.ram[pa] = v;
      if (this.codePage[pa >>> 12] !== 0) this.codeWritten(pa, 1);
      return;
    }
    this.bus.writePhys(pa, 1, v & 0xff);
  }

  write16(lin: number, v: number): void {
    const pa = lin >>> 0;
    if (pa < this.ramSize - 1) {
      this.ramView.setUint16(pa, v, true);
      if ((this.codePage[pa >>> 12] | this.codePage[(pa + 1) >>> 12]) !== 0) this.codeWritten(pa, 2);
      return;
    }
    this.write8(lin, v);
    this.write8(lin + 1, v >> 8);
  }

  write32(lin: number, v: number): void {
    const pa = lin >>> 0;
    if (pa < this.ramSize - 3) {
      this.ramView.setInt32(pa, v, true);
      if ((this.codePage[pa >>> 12] | this.codePage[(pa + 3) >>> 12]) !== 0) this.codeWritten(pa, 4);
      return;
    }
    if (pa >= this.ramSize && (pa & 3) === 0) {
      this.bus.writePhys(pa, 4, v);
      return;
    }
    this.write16(lin, v);
    this.write16(lin + 2, v >> 16);
  }

  // ---- implicit supervisor-mode accesses (SDM Vol. 3A 4.6: GDT, LDT, IDT and TSS accesses are
  // supervisor-mode accesses whatever the CPL) ----

  readSys8(lin: number): number {
    return this.read8(lin);
  }

  readSys16(lin: number): number {
    return this.read16(lin);
  }

  readSys32(lin: number): number {
    return this.read32(lin);
  }

  writeSys8(lin: number, v: number): void {
    this.write8(lin, v);
  }

  writeSys16(lin: number, v: number): void {
    this.write16(lin, v);
  }

  writeSys32(lin: number, v: number): void {
    this.write32(lin, v);
  }

  /** MOV SS, POP SS and STI (when it sets IF) block interrupts, NMIs and single-step traps until the
   * next instruction has executed (SDM Vol. 3A 6.8.3). */
  setInterruptShadow(): void {
    this.interruptShadow = true;
  }

  /** The hidden part of segment register `seg` changed (segments.ts calls this after every load). */
  segmentLoaded(_seg: number): void {}

  readN(lin: number, size: number): number {
    return size === 4 ? this.read32(lin) : size === 2 ? this.read16(lin) : this.read8(lin);
  }

  writeN(lin: number, size: number, v: number): void {
    if (size === 4) this.write32(lin, v);
    else if (size === 2) this.write16(lin, v);
    else this.write8(lin, v);
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
    if (this.ss32) {
      const sp = (r[ESP] - size) | 0;
      this.writeN(this.segBase[SS] + sp, size, v);
      r[ESP] = sp;
    } else {
      const sp = (r[ESP] - size) & 0xffff;
      this.writeN(this.segBase[SS] + sp, size, v);
      r[ESP] = (r[ESP] & ~0xffff) | sp;
    }
  }

  /** Read the value on top of the stack without popping it. */
  peek(size: number, offset = 0): number {
    const sp = this.ss32 ? (this.regs[ESP] + offset) | 0 : (this.regs[ESP] + offset) & 0xffff;
    return this.readN(this.segBase[SS] + sp, size);
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
