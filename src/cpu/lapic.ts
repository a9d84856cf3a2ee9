/**
 * The local APIC of one core (SDM Vol. 3A chapter 10), in xAPIC mode (the 4 KiB MMIO page at
 * IA32_APIC_BASE) and x2APIC mode (the MSRs of x2apic-msrs.ts):
 * - IA32_APIC_BASE (10.4.4) with the enable/x2APIC state transitions of 10.12.5 Figure 10-27;
 *   clearing the global enable returns the APIC to its power-up state (10.4.3, "may return");
 * - ID, version, TPR/APR/PPR, EOI, LDR/DFR, SVR, ISR/TMR/IRR, ESR, ICR, the six LVT entries (timer,
 *   thermal, performance counter, LINT0, LINT1, error), the timer registers (lapic-timer.ts);
 * - interrupt acceptance and priority (10.8): a fixed interrupt sets its IRR bit (and its TMR bit if
 *   level-triggered); INTR is asserted while the highest IRR vector's class (vector >> 4) is above the
 *   PPR's class; acknowledge() moves it to the ISR; EOI clears the highest ISR bit and, for a
 *   level-triggered vector, sends an EOI message to the I/O APICs unless SVR bit 12 suppresses it;
 * - IPIs through the ICR (10.6): fixed, lowest priority, NMI, INIT, INIT level de-assert (a no-op, as
 *   on every processor since the Pentium 4), start-up, and the three shorthands, with the valid
 *   combinations of Table 10-3 (others are not sent; level-triggered IPIs go out as edge-triggered,
 *   Table 10-3 note 2). The ICR's delivery status reads 1 until the message arrives (a write while
 *   it is 1 sends another message: software is expected to wait);
 * - errors (10.5.3): illegal vectors (0-15) sent or received, reserved register accesses (xAPIC), a
 *   lowest-priority IPI on a model that cannot send one; ESR is write-before-read; each error raises
 *   the error LVT interrupt when unmasked;
 * - LINT0/LINT1 inputs (lint()): fixed (edge, or level with remote IRR on LINT0), NMI, INIT and ExtINT
 *   (the 8259's vector through the extIntAcknowledge option; without it ExtINT does nothing). With the
 *   APIC globally disabled the core behaves as one without an APIC (10.4.3): LINT0 is its INTR input
 *   (ExtINT) and LINT1 its NMI input.
 *
 * Software-disabled (SVR bit 8 = 0, 10.4.7.2): LVT entries are masked and stay masked; INIT, NMI,
 * SMI and start-up are still accepted; fixed and lowest-priority messages are not (as KVM's
 * __apic_accept_irq), and IRR contents are held, not delivered (as QEMU's apic_irq_pending).
 *
 * MMIO accesses: 32-bit writes at 16-byte register offsets; reads of 1, 2 or 4 bytes within a
 * register's first dword return those bytes (as Bochs). Other writes are ignored, reads at offsets
 * 4-15 of a register slot return 0; neither is an error (10.4.1: "model specific"). A read or write of a
 * reserved offset returns 0 / is ignored and sets ESR bit 7. In x2APIC mode and when disabled, the
 * MMIO page is not the APIC (mmioActive is false): the machine should route those accesses to memory.
 *
 * Time: the Clock's now() is the core's exact time during its access (the machine's clock), so the
 * timer's current count and the ICR delivery status are exact to the instruction.
 *
 * Version register: 0x00050014 (version 14H, max LVT entry 5: six entries, as Core 2 reports), plus
 * bit 24 when EOI-broadcast suppression is supported (option eoiBroadcastSuppression, default false).
 *
 * Leaves out: SMI (accepted and ignored), thermal and performance-monitoring interrupt sources (the
 * entries exist as registers), focus-processor checking (SVR bit 9 is stored only), the CMCI LVT, the
 * remote read register (reads 0), ExtINT messages from the bus.
 */
import type { Clock } from "../sim/clock.ts";
import type { MmioAccessSize, MmioDevice } from "../devices/mmio-bus.ts";
import type { ApicBus, ApicBusMember, ApicMessage, Shorthand } from "./apic-bus.ts";
import { fault } from "./exceptions.ts";
import { matchesLogicalX2apic, matchesLogicalXapic, x2apicLdr } from "./lapic-destination.ts";
import {
  BROADCAST, ICR_DELIVERY_STATUS, ICR_LEVEL, ICR_LO_WRITABLE, ICR_TRIGGER, isXapicRegister, LVT_COUNT,
  LVT_LEVEL, LVT_MASKED, LVT_POLARITY_LOW, LVT_REMOTE_IRR, LVT_WRITABLE,
  SVR_EOI_SUPPRESS, SVR_ENABLE, TIMER_MODE_SHIFT, TIMER_TSC_DEADLINE_BIT,
} from "./lapic-registers.ts";
import { ApicTimer, type TimerMode } from "./lapic-timer.ts";
import { VectorSet } from "./lapic-vectors.ts";

/** What the local APIC drives on its core (the core implements it). */
export interface ApicCoreLink {
  /** The INTR input (level): an interrupt is deliverable. */
  setIntr(level: boolean): void;
  nmi(): void;
  /** INIT: the core resets (an AP then waits for a start-up IPI). */
  init(): void;
  startup(vector: number): void;
  /** The core's time-stamp counter now. */
  tsc(): number;
}

export interface LocalApicOptions {
  /** Initial APIC ID (the xAPIC ID register after reset; the x2APIC ID). */
  id: number;
  clock: Clock;
  apicBus: ApicBus;
  core: ApicCoreLink;
  /** APIC timer input clock before the divider (CPUID 0x15 crystal, or the bus clock), Hz. */
  timerHz: number;
  tscHz: number;
  /** Bootstrap processor: IA32_APIC_BASE bit 8. */
  bsp: boolean;
  /** TSC-deadline timer mode exists (CPUID.1:ECX[24]). Default false. */
  tscDeadline?: boolean;
  /** x2APIC mode exists (CPUID.1:ECX[21]). Default false. */
  x2apic?: boolean;
  /** EOI-broadcast suppression (version bit 24, SVR bit 12). Default false. */
  eoiBroadcastSuppression?: boolean;
  /** The model can send lowest-priority IPIs (10.6.1 Table 10-3 note 1). Default true. */
  lowestPriorityIpi?: boolean;
  /** The 8259's interrupt-acknowledge (returns the vector), for ExtINT on LINT0. */
  extIntAcknowledge?: () => number;
}

// IA32_APIC_BASE bits (10.4.4 Figure 10-5, 10.12.1 Figure 10-26).
const BASE_BSP = 1 << 8;
const BASE_EXTD = 1 << 10;
const BASE_EN = 1 << 11;
const BASE_ADDR_MASK = 0xfffff000;
const DEFAULT_BASE = 0xfee00000;

const MODE_DISABLED = 0;
const MODE_XAPIC = 1;
const MODE_X2APIC = 2;

// Delivery modes (10.6.1 Figure 10-12, 10.5.1 Figure 10-8).
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_SMI = 2;
const DM_NMI = 4;
const DM_INIT = 5;
const DM_STARTUP = 6;
const DM_EXTINT = 7;

// LVT indices (lapic-registers.ts Lvt) as local numbers.
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_ERROR = 5;

// ESR bits (lapic-registers.ts Esr).
const ESR_REDIRECTABLE = 1 << 4;
const ESR_SEND_ILLEGAL = 1 << 5;
const ESR_RECEIVE_ILLEGAL = 1 << 6;
const ESR_ILLEGAL_REGISTER = 1 << 7;

const GP = 13;

const SHORTHANDS: readonly Shorthand[] = ["none", "self", "all", "others"];

export class LocalApic implements MmioDevice, ApicBusMember {
  readonly name: string;
  readonly initialId: number;
  readonly bsp: boolean;
  readonly tscDeadlineSupported: boolean;
  readonly x2apicSupported: boolean;
  readonly eoiSuppressionSupported: boolean;
  readonly version: number;
  /** Called after IA32_APIC_BASE changes the base or the mode (the machine re-maps the page). */
  onBaseChange: (() => void) | null = null;

  private readonly clock: Clock;
  private readonly bus: ApicBus;
  private readonly core: ApicCoreLink;
  private readonly lowestPriorityIpi: boolean;
  private readonly extIntAcknowledge: (() => number) | null;
  private readonly timer: ApicTimer;

  private mode = MODE_XAPIC;
  private base = DEFAULT_BASE;
  private xapicId: number;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private icrBusyUntil = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  readonly irr = new VectorSet();
  readonly isr = new VectorSet();
  readonly tmr = new VectorSet();
  private readonly lintLevel = [false, false];
  private inErrorDelivery = false;

  constructor(opts: LocalApicOptions) {
    if (!Number.isInteger(opts.id) || opts.id < 0 || opts.id >= 0xffffffff) {
      throw new RangeError(`local APIC: id ${opts.id} is not a valid APIC ID`);
    }
    this.initialId = opts.id;
    this.name = `lapic${opts.id}`;
    this.clock = opts.clock;
    this.bus = opts.apicBus;
    this.core = opts.core;
    this.bsp = opts.bsp;
    this.tscDeadlineSupported = opts.tscDeadline ?? false;
    this.x2apicSupported = opts.x2apic ?? false;
    this.eoiSuppressionSupported = opts.eoiBroadcastSuppression ?? false;
    this.lowestPriorityIpi = opts.lowestPriorityIpi ?? true;
    this.extIntAcknowledge = opts.extIntAcknowledge ?? null;
    this.version = (0x00050014 | (this.eoiSuppressionSupported ? 1 << 24 : 0)) >>> 0;
    this.xapicId = opts.id & 0xff;
    this.timer = new ApicTimer({
      clock: opts.clock,
      timerHz: opts.timerHz,
      tscHz: opts.tscHz,
      tsc: () => this.core.tsc(),
      expire: () => this.localInterrupt(LVT_TIMER),
      label: `${this.name}.timer`,
    });
    this.resetRegisters();
    this.bus.attach(this);
  }

  // ---- reset and INIT (10.4.7.1, 10.4.7.3) ----

  /** Power-up / RESET: xAPIC mode at FEE00000H, ID = initial ID, every register at its reset value. */
  reset(): void {
    this.mode = MODE_XAPIC;
    this.base = DEFAULT_BASE;
    this.xapicId = this.initialId & 0xff;
    this.resetRegisters();
    this.onBaseChange?.();
  }

  /** INIT: as RESET except the APIC ID, IA32_APIC_BASE and the x2APIC mode are kept (10.4.7.3, 10.12.5.1). */
  initReset(): void {
    this.resetRegisters();
  }

  private resetRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.icrBusyUntil = 0;
    this.lvt.fill(LVT_MASKED);
    this.irr.clearAll();
    this.isr.clearAll();
    this.tmr.clearAll();
    this.timer.reset();
    this.updateIntr();
  }

  // ---- state seen by the bus and the machine ----

  get hardwareEnabled(): boolean {
    return this.mode !== MODE_DISABLED;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  get acceptsFixed(): boolean {
    return this.mode !== MODE_DISABLED && (this.svr & SVR_ENABLE) !== 0;
  }

  get x2apicMode(): boolean {
    return this.mode === MODE_X2APIC;
  }

  /** Physical base of the xAPIC page (IA32_APIC_BASE[31:12]). */
  get mmioBase(): number {
    return this.base;
  }

  /** The xAPIC page answers MMIO (globally enabled and not in x2APIC mode). */
  get mmioActive(): boolean {
    return this.mode === MODE_XAPIC;
  }

  get apicId(): number {
    return this.mode === MODE_X2APIC ? this.initialId : this.xapicId;
  }

  get taskPriority(): number {
    return this.tpr;
  }

  /** PPR (10.8.3.1): TPR if its class is at least the highest in-service class, else that class. */
  get ppr(): number {
    const isrv = this.isr.highest();
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** APR (10.6.2.4 Figure 10-15): TPR unless the highest IRR or ISR class is above it. */
  get apr(): number {
    const irrv = Math.max(this.irr.highest(), 0) & 0xf0;
    const isrv = Math.max(this.isr.highest(), 0) & 0xf0;
    const t = this.tpr & 0xf0;
    if (t >= irrv && t > isrv) return this.tpr;
    return Math.max(t, irrv, isrv);
  }

  get spuriousVector(): number {
    return this.svr & 0xff;
  }

  matchesPhysical(dest: number): boolean {
    dest >>>= 0;
    if (dest === BROADCAST) return true;
    if (this.mode === MODE_X2APIC) return dest === this.initialId;
    return dest === 0xff || dest === this.xapicId;
  }

  matchesLogical(dest: number): boolean {
    if (this.mode === MODE_X2APIC) return matchesLogicalX2apic(dest, x2apicLdr(this.initialId));
    return matchesLogicalXapic(dest, this.ldr, this.dfr);
  }

  // ---- IA32_APIC_BASE (10.4.4, 10.12.5) ----

  /** RDMSR IA32_APIC_BASE. */
  readMsrApicBase(): [lo: number, hi: number] {
    const en = this.mode !== MODE_DISABLED ? BASE_EN : 0;
    const extd = this.mode === MODE_X2APIC ? BASE_EXTD : 0;
    return [(this.base | en | extd | (this.bsp ? BASE_BSP : 0)) >>> 0, 0];
  }

  /**
   * WRMSR IA32_APIC_BASE: #GP(0) for reserved bits (MAXPHYADDR is 32: bits 63:32 are reserved; EXTD
   * without x2APIC support) and for the illegal transitions of Figure 10-27 (EN=0 EXTD=1; x2APIC to
   * xAPIC; disabled to x2APIC). BSP is read-only.
   */
  writeMsrApicBase(lo: number, hi: number): void {
    lo >>>= 0;
    const reserved = 0x000002ff | (this.x2apicSupported ? 0 : BASE_EXTD);
    if (hi >>> 0 !== 0 || (lo & reserved) !== 0) fault(GP, 0);
    const en = (lo & BASE_EN) !== 0;
    const extd = (lo & BASE_EXTD) !== 0;
    const next = !en ? (extd ? -1 : MODE_DISABLED) : extd ? MODE_X2APIC : MODE_XAPIC;
    if (next < 0) fault(GP, 0);
    if (this.mode === MODE_X2APIC && next === MODE_XAPIC) fault(GP, 0);
    if (this.mode === MODE_DISABLED && next === MODE_X2APIC) fault(GP, 0);
    const prev = this.mode;
    this.base = (lo & BASE_ADDR_MASK) >>> 0;
    this.mode = next;
    if (next === MODE_DISABLED && prev !== MODE_DISABLED) {
      this.xapicId = this.initialId & 0xff;
      this.resetRegisters();
    }
    this.updateIntr();
    this.onBaseChange?.();
  }

  // ---- IA32_TSC_DEADLINE (10.5.4.1) ----

  readTscDeadline(): [lo: number, hi: number] {
    const d = this.timer.readDeadline();
    return [d >>> 0, Math.floor(d / 4294967296) >>> 0];
  }

  writeTscDeadline(lo: number, hi: number): void {
    this.timer.writeDeadline((hi >>> 0) * 4294967296 + (lo >>> 0));
  }

  /** The core's TSC was written: re-place a TSC-deadline expiry. */
  tscChanged(): void {
    this.timer.tscChanged();
  }

  /** Tick of the next timer expiry event, or null. */
  get timerNextExpiry(): number | null {
    return this.timer.nextExpiry;
  }

  // ---- MMIO (xAPIC mode) ----

  mmioRead(offset: number, size: MmioAccessSize): number {
    if (this.mode !== MODE_XAPIC) return 0;
    const reg = offset & 0xff0;
    if (offset >= 0x400 || !isXapicRegister(reg)) {
      this.error(ESR_ILLEGAL_REGISTER);
      return 0;
    }
    const within = offset & 0xf;
    if (within >= 4) return 0;
    const v = this.readRegister(reg) >>> (within * 8);
    return size === 4 ? v | 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  mmioWrite(offset: number, size: MmioAccessSize, value: number): void {
    if (this.mode !== MODE_XAPIC) return;
    const reg = offset & 0xff0;
    if (offset >= 0x400 || !isXapicRegister(reg)) {
      this.error(ESR_ILLEGAL_REGISTER);
      return;
    }
    if (size !== 4 || (offset & 0xf) !== 0) return;
    this.writeRegister(reg, value >>> 0);
  }

  // ---- registers by offset (shared by MMIO and the x2APIC MSRs) ----

  /** Read the register at 16-byte `offset` as the current mode defines it (0 for unknown offsets). */
  readRegister(offset: number): number {
    const x2 = this.mode === MODE_X2APIC;
    switch (offset) {
      case 0x020: return x2 ? this.initialId : (this.xapicId << 24) >>> 0;
      case 0x030: return this.version;
      case 0x080: return this.tpr;
      case 0x090: return this.apr;
      case 0x0a0: return this.ppr;
      case 0x0d0: return x2 ? x2apicLdr(this.initialId) : this.ldr;
      case 0x0e0: return this.dfr;
      case 0x0f0: return this.svr;
      case 0x280: return this.esr;
      case 0x300:
        return (this.icrLo | (!x2 && this.clock.now() < this.icrBusyUntil ? ICR_DELIVERY_STATUS : 0)) >>> 0;
      case 0x310: return this.icrHi;
      case 0x380: return this.timer.initialCount;
      case 0x390: return this.timer.currentCount();
      case 0x3e0: return this.timer.divideConfig;
    }
    if (offset >= 0x100 && offset < 0x280) {
      const i = (offset - 0x100) >>> 4;
      const set = i < 8 ? this.isr : i < 16 ? this.tmr : this.irr;
      return set.words[i & 7];
    }
    if (offset >= 0x320 && offset <= 0x370) return this.lvt[(offset - 0x320) >>> 4];
    return 0;
  }

  /** Write the register at 16-byte `offset` (read-only and unknown offsets ignore the write). */
  writeRegister(offset: number, value: number): void {
    value >>>= 0;
    const x2 = this.mode === MODE_X2APIC;
    switch (offset) {
      case 0x020:
        if (!x2) this.xapicId = value >>> 24;
        return;
      case 0x080:
        this.tpr = value & 0xff;
        this.updateIntr();
        return;
      case 0x0b0:
        this.eoi();
        return;
      case 0x0d0:
        if (!x2) this.ldr = (value & 0xff000000) >>> 0;
        return;
      case 0x0e0:
        if (!x2) this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case 0x0f0:
        this.writeSvr(value);
        return;
      case 0x280:
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case 0x300:
        this.icrLo = value & ICR_LO_WRITABLE;
        if (x2) this.sendIpi(this.icrLo, this.icrHi);
        else this.sendIpi(this.icrLo, this.icrHi >>> 24);
        return;
      case 0x310:
        this.icrHi = x2 ? value : (value & 0xff000000) >>> 0;
        return;
      case 0x380:
        this.timer.writeInitialCount(value);
        return;
      case 0x3e0:
        this.timer.writeDivideConfig(value);
        return;
      case 0x3f0:
        if (x2) this.selfIpi(value & 0xff);
        return;
    }
    if (offset >= 0x320 && offset <= 0x370) this.writeLvt((offset - 0x320) >>> 4, value);
  }

  /** x2APIC ICR (MSR 830H): both halves in one write, which sends the IPI (10.12.9). */
  writeIcr64(lo: number, hi: number): void {
    this.icrHi = hi >>> 0;
    this.writeRegister(0x300, lo);
  }

  /** Bits of an LVT entry software may set (read-only bits excluded). */
  lvtWritableMask(index: number): number {
    return LVT_WRITABLE[index] | (index === LVT_TIMER && this.tscDeadlineSupported ? TIMER_TSC_DEADLINE_BIT : 0);
  }

  /** Bits of the SVR software may set. */
  get svrWritableMask(): number {
    return 0x3ff | (this.eoiSuppressionSupported ? SVR_EOI_SUPPRESS : 0);
  }

  private writeSvr(value: number): void {
    this.svr = value & this.svrWritableMask;
    if ((this.svr & SVR_ENABLE) === 0) {
      for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
      this.applyTimerLvt();
    }
    this.updateIntr();
  }

  private writeLvt(index: number, value: number): void {
    const keep = this.lvt[index] & LVT_REMOTE_IRR;
    let v = (value & this.lvtWritableMask(index)) | keep;
    if ((this.svr & SVR_ENABLE) === 0) v |= LVT_MASKED;
    this.lvt[index] = v >>> 0;
    if (index === LVT_TIMER) {
      this.applyTimerLvt();
    } else if (index === LVT_LINT0 || index === LVT_LINT0 + 1) {
      this.serviceLint(index - LVT_LINT0);
      this.updateIntr();
    }
  }

  private applyTimerLvt(): void {
    const v = this.lvt[LVT_TIMER];
    const field = (v >>> TIMER_MODE_SHIFT) & 3;
    // 11B is reserved; bit 18 selects TSC-deadline as in Bochs.
    const mode = (field & 2 ? 2 : field) as TimerMode;
    this.timer.setLvt(mode, (v & LVT_MASKED) !== 0);
  }

  // ---- interrupt acceptance, priority, acknowledge, EOI (10.8) ----

  /** Accept a fixed interrupt into the IRR (vectors 0-15 are illegal: ESR bit 6, not accepted). */
  private accept(vector: number, levelTriggered: boolean): void {
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL);
      return;
    }
    this.irr.set(vector);
    if (levelTriggered) this.tmr.set(vector);
    else this.tmr.clear(vector);
    this.updateIntr();
  }

  /** The highest IRR vector if its class is above the PPR's, else -1 (never while software-disabled). */
  private deliverableVector(): number {
    if (this.mode === MODE_DISABLED || (this.svr & SVR_ENABLE) === 0) return -1;
    const v = this.irr.highest();
    if (v < 0 || (v & 0xf0) <= (this.ppr & 0xf0)) return -1;
    return v;
  }

  /** Whether the 8259 (ExtINT through LINT0, or LINT0 as INTR when disabled) asserts INTR. */
  private extIntPending(): boolean {
    if (this.extIntAcknowledge === null) return false;
    if (this.mode === MODE_DISABLED) return this.lintLevel[0];
    const e = this.lvt[LVT_LINT0];
    return (e & LVT_MASKED) === 0 && ((e >>> 8) & 7) === DM_EXTINT && this.lintActive(0);
  }

  /** Drive the core's INTR input from the current state. */
  private updateIntr(): void {
    this.core.setIntr(this.deliverableVector() >= 0 || this.extIntPending());
  }

  /**
   * The core's interrupt-acknowledge cycle: the deliverable vector moves from IRR to ISR; an ExtINT
   * returns the 8259's vector; if nothing is deliverable any more, the spurious vector (10.9), with no
   * ISR bit set.
   */
  acknowledge(): number {
    const v = this.deliverableVector();
    if (v >= 0) {
      this.irr.clear(v);
      this.isr.set(v);
      this.updateIntr();
      return v;
    }
    if (this.extIntPending()) {
      const vector = this.extIntAcknowledge!() & 0xff;
      this.updateIntr();
      return vector;
    }
    this.updateIntr();
    return this.svr & 0xff;
  }

  /** EOI (10.8.5): clear the highest ISR bit; a level-triggered vector sends an EOI message. */
  private eoi(): void {
    const v = this.isr.highest();
    if (v < 0) return;
    this.isr.clear(v);
    if (this.tmr.has(v)) {
      for (let pin = 0; pin < 2; pin++) {
        const e = this.lvt[LVT_LINT0 + pin];
        if ((e & LVT_REMOTE_IRR) !== 0 && (e & 0xff) === v) {
          this.lvt[LVT_LINT0 + pin] = (e & ~LVT_REMOTE_IRR) >>> 0;
          this.serviceLint(pin);
        }
      }
      if ((this.svr & SVR_EOI_SUPPRESS) === 0) this.bus.broadcastEoi(v);
    }
    this.updateIntr();
  }

  // ---- local interrupt sources: LVT entries, LINT pins, errors (10.5) ----

  /** An LVT entry's source fired: deliver per the entry (fixed edge, NMI, INIT; SMI ignored). */
  private localInterrupt(index: number): void {
    const e = this.lvt[index];
    if ((e & LVT_MASKED) !== 0) return;
    const dm = index === LVT_TIMER || index === LVT_ERROR ? DM_FIXED : (e >>> 8) & 7;
    if (dm === DM_FIXED) this.accept(e & 0xff, false);
    else if (dm === DM_NMI) this.core.nmi();
    else if (dm === DM_INIT) this.doInit();
  }

  private lintActive(pin: number): boolean {
    return this.lintLevel[pin] !== ((this.lvt[LVT_LINT0 + pin] & LVT_POLARITY_LOW) !== 0);
  }

  /**
   * Drive the LINT0 (pin 0) or LINT1 (pin 1) input. Edge-triggered modes act on the transition to the
   * active level (LVT polarity bit 13); LINT0 fixed level-triggered delivers while active and its remote
   * IRR is clear (LINT1 is always edge-triggered, 10.5.1).
   */
  lint(pin: 0 | 1, level: boolean): void {
    if (this.lintLevel[pin] === level) return;
    this.lintLevel[pin] = level;
    if (this.mode === MODE_DISABLED) {
      if (pin === 1 && level) this.core.nmi();
      else if (pin === 0) this.updateIntr();
      return;
    }
    const e = this.lvt[LVT_LINT0 + pin];
    const dm = (e >>> 8) & 7;
    if (dm === DM_EXTINT) {
      this.updateIntr();
      return;
    }
    if ((e & LVT_MASKED) !== 0) return;
    const rising = this.lintActive(pin);
    if (dm === DM_FIXED && pin === 0 && (e & LVT_LEVEL) !== 0) this.serviceLint(0);
    else if (rising) this.localInterrupt(LVT_LINT0 + pin);
  }

  /** LINT0 fixed level-triggered: deliver when unmasked, active and remote IRR clear. */
  private serviceLint(pin: number): void {
    if (pin !== 0) return;
    const e = this.lvt[LVT_LINT0];
    if ((e & (LVT_MASKED | LVT_REMOTE_IRR)) !== 0 || (e & LVT_LEVEL) === 0 || ((e >>> 8) & 7) !== DM_FIXED) return;
    if (!this.lintActive(0)) return;
    if ((e & 0xff) >= 16) this.lvt[LVT_LINT0] = (e | LVT_REMOTE_IRR) >>> 0;
    this.accept(e & 0xff, true);
  }

  /** Record an error (10.5.3) and raise the error LVT interrupt. */
  private error(bits: number): void {
    this.esrPending |= bits;
    if (this.inErrorDelivery) return;
    this.inErrorDelivery = true;
    try {
      this.localInterrupt(LVT_ERROR);
    } finally {
      this.inErrorDelivery = false;
    }
  }

  // ---- IPIs (10.6) ----

  /** Send the IPI the ICR describes (`lo` the low dword, `dest` the destination field). */
  private sendIpi(lo: number, dest: number): void {
    const vector = lo & 0xff;
    const dm = (lo >>> 8) & 7;
    const shorthand = SHORTHANDS[(lo >>> 18) & 3];
    // INIT level de-assert (level 0, trigger level): only P6 acted on it (10.6.1); accepted, does nothing.
    if (dm === DM_INIT && (lo & ICR_LEVEL) === 0 && (lo & ICR_TRIGGER) !== 0) return;
    if (dm === 3 || dm === DM_EXTINT) return;
    // Table 10-3: with self and all-including-self only fixed is valid.
    if ((shorthand === "self" || shorthand === "all") && dm !== DM_FIXED) return;
    if (dm === DM_LOWEST && !this.lowestPriorityIpi) {
      this.error(ESR_REDIRECTABLE);
      return;
    }
    if ((dm === DM_FIXED || dm === DM_LOWEST) && vector < 16) this.error(ESR_SEND_ILLEGAL);
    const logical = (lo & 0x800) !== 0;
    const msg: ApicMessage = {
      dest: dest >>> 0,
      destMode: logical ? "logical" : "physical",
      deliveryMode: dm,
      vector,
      level: true,
      trigger: "edge",
      shorthand,
      source: this.initialId,
    };
    this.icrBusyUntil = this.bus.deliver(msg);
  }

  /** x2APIC SELF IPI register (10.12.11): a fixed, edge-triggered IPI to this APIC. */
  selfIpi(vector: number): void {
    if (vector < 16) this.error(ESR_SEND_ILLEGAL);
    this.bus.deliver({
      dest: this.initialId, destMode: "physical", deliveryMode: DM_FIXED, vector, level: true,
      trigger: "edge", shorthand: "self", source: this.initialId,
    });
  }

  /** A message from the bus addressed to this APIC. */
  receive(msg: ApicMessage): void {
    if (this.mode === MODE_DISABLED) return;
    switch (msg.deliveryMode) {
      case DM_FIXED:
      case DM_LOWEST:
        if (!this.acceptsFixed) return;
        if (msg.trigger === "level" && !msg.level) return;
        this.accept(msg.vector & 0xff, msg.trigger === "level");
        return;
      case DM_NMI:
        this.core.nmi();
        return;
      case DM_INIT:
        this.doInit();
        return;
      case DM_STARTUP:
        this.core.startup(msg.vector & 0xff);
        return;
      case DM_SMI:
      default:
        return;
    }
  }

  private doInit(): void {
    this.initReset();
    this.core.init();
  }

  /** Bits of a pending (unread) error, for tests and traces. */
  get pendingErrors(): number {
    return this.esrPending;
  }

  /** LVT entry `index` (Lvt order: timer, thermal, perf, LINT0, LINT1, error) as read. */
  lvtEntry(index: number): number {
    return this.lvt[index];
  }
}

