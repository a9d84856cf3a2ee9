/**
 * The parts every guest device driver shares (the driver API of src/guests/drivers/index.ts): the
 * per-device state block, the submit prologue (one operation in flight per device, taken with XCHG so
 * vCPUs can share a device; the submit TSC), the wait loop skeleton (an "immediate completion" flag, the
 * device-specific completion check, PAUSE) and its epilogue (the completion TSC, the abi.ts LogKind.IO
 * record through log_write, release), and register-access helpers.
 *
 * Register accesses are single 32-bit MOVs with a ModRM memory operand (8B /r, 89 /r, C7 /0), never the
 * accumulator's moffs forms A1/A3 (SDM Vol. 2B MOV), the forms the guest<->VMM contract promises for
 * emulated MMIO (vmm/mmio-decode.ts happens to take A0-A3 too); the helpers refuse EAX with an absolute
 * address, which the assembler would encode as moffs. Atomicity follows SDM Vol. 3A 8.1.2.1 (XCHG with
 * memory is locked) and 8.2 (stores are seen in program order, so a record or slot written before its
 * flag is complete when the flag is seen).
 * Leaves out: more than one operation in flight per device, timeouts.
 */
import { type Asm, type RegOperand, dword, eax, ebx, ecx, edi, edx, esi, esp, lbl } from "../asm/index.ts";
import type { GuestDevice, GuestEnv } from "../guest-env.ts";
import { LOG_RECORD_BYTES, LogKind, LogRecord, PV_STATUS_ERROR, PvError } from "../../vmm/abi.ts";

/** The status a wait returns for an operation the driver cannot do in this mode (abi PvError.BAD_OP). */
export const STATUS_BAD_OP = PV_STATUS_ERROR | (PvError.BAD_OP << 8);
/** ... for a device that could not be set up (PV_SETUP refused) or reported an error without a code. */
export const STATUS_DEVICE = PV_STATUS_ERROR | (PvError.DEVICE << 8);
const EFLAGS_IF = 0x200;

/** Options of emitDrivers. */
export interface DriverOptions {
  /**
   * Emits code that loads EDI with the log ring of the vCPU running it (clobbering nothing else). Default:
   * `mov edi, [log_ring_vcpu0]`, right for a kernel that calls drivers on vCPU 0 only. A program that waits
   * on several vCPUs passes its own (one ring per vCPU: log_write is not safe across vCPUs).
   */
  logRing?: (a: Asm) => void;
}

/** What one device's driver is emitted with. */
export class DriverCtx {
  /** Label prefix: the API labels are `${p}_init` ..., internal ones `${p}.name`. */
  readonly p: string;
  private readonly dataEmitters: ((a: Asm) => void)[] = [];
  private readonly vars: string[] = [];

  constructor(
    readonly a: Asm,
    readonly dev: GuestDevice,
    readonly env: GuestEnv,
    readonly logRing: (a: Asm) => void,
  ) {
    this.p = `drv${dev.index}`;
  }

  /** A label of this driver. */
  l(name: string): string {
    return `${this.p}.${name}`;
  }

  /** A dword variable of this driver (declared on first use, zero at load). */
  v(name: string, add = 0): ReturnType<typeof dword> {
    if (!this.vars.includes(name)) this.vars.push(name);
    return dword(lbl(this.l(name), add));
  }

  /** Data emitted after all drivers' code (64-byte aligned blocks, so no code shares a line with it). */
  data(fn: (a: Asm) => void): void {
    this.dataEmitters.push(fn);
  }

  /** Register at `off` of the device's MMIO window. */
  reg(off: number): ReturnType<typeof dword> {
    if (this.dev.mmioGpa === null) throw new Error(`${this.dev.name}: ${this.dev.type} driver needs an MMIO window (mmioGpa)`);
    return dword(this.dev.mmioGpa + off);
  }

  /** `mov r32, [reg]`: one 32-bit register read (not EAX: its moffs form is not decoded by the VMM). */
  rd(r: RegOperand, off: number): void {
    if (r === eax) throw new Error("driver register reads use a ModRM MOV: not EAX with an absolute address");
    this.a.mov(r, this.reg(off));
  }

  /** `mov [reg], r32 / imm32 / label`: one 32-bit register write. */
  wr(off: number, v: RegOperand | number | string): void {
    if (v === eax) throw new Error("driver register writes use a ModRM MOV: not EAX with an absolute address");
    this.a.mov(this.reg(off), typeof v === "number" ? v >>> 0 : v);
  }

  /** Emit the state block: the IO record template and the variables used. */
  emitData(a: Asm): void {
    a.align(64);
    a.label(this.l("rec"));
    a.dw(LogKind.IO, this.dev.index);
    a.times(LOG_RECORD_BYTES - 4);
    for (const fn of this.dataEmitters) fn(a);
    a.align(4);
    for (const name of this.vars) a.label(this.l(name)).dd(0);
    a.align(64);
  }
}

/**
 * `${p}_submit` prologue: EAX = op, EBX = buffer, ECX = bytes, EDX = arg0. Takes the device (busy -> EAX = 1
 * and return), stores op, bytes and the submit TSC in the record, clears the immediate flag and falls
 * into the device body with the four arguments intact. The body ends with `jmp accept` (-> EAX = 0),
 * `jmp reject` (not taken after all: EAX = 1) or `jmp done_imm` with EAX = a status (accepted, completes at
 * once with that status). Also emits those three exits.
 */
export function emitSubmitPrologue(c: DriverCtx): void {
  const { a } = c;
  a.label(`${c.p}_submit`);
  a.push(esi);
  a.mov(esi, eax);
  a.mov(eax, 1);
  a.xchg(eax, c.v("busy"));
  a.test(eax, eax);
  a.jz(c.l("own"));
  a.pop(esi);
  a.ret(); // EAX = 1: busy
  a.label(c.l("own"));
  a.mov(dword(lbl(c.l("rec"), LogRecord.V0)), esi);
  a.mov(dword(lbl(c.l("rec"), LogRecord.V1)), ecx);
  a.push(edx);
  a.rdtsc();
  a.mov(dword(lbl(c.l("rec"), LogRecord.T0)), eax);
  a.mov(dword(lbl(c.l("rec"), LogRecord.T0 + 4)), edx);
  a.pop(edx);
  a.mov(c.v("imm"), 0);
  a.mov(eax, esi);
  a.pop(esi);
}

/** The three ways out of a submit body (see emitSubmitPrologue). */
export function emitSubmitExits(c: DriverCtx): void {
  const { a } = c;
  a.label(c.l("accept"));
  a.xor(eax, eax);
  a.ret();
  a.label(c.l("reject"));
  a.mov(c.v("busy"), 0);
  a.mov(eax, 1);
  a.ret();
  a.label(c.l("done_imm"));
  a.mov(c.v("imm_status"), eax);
  a.mov(c.v("imm"), 1);
  a.xor(eax, eax);
  a.ret();
}

/** How often a wait reads a device register while it waits: with interrupts enabled (the irq routine will
 * end the wait; the poll is a safety net) and with interrupts disabled (the poll is how the wait ends). */
export interface PollPeriods {
  withIrqCycles: number;
  withoutIrqCycles: number;
}

/**
 * `${p}_wait`: EBX, ESI, EDI saved; `setup` runs once, then the loop runs `check` until it jumps to
 * `seen` with EAX = the status (0 ok), with a PAUSE between rounds. With `poll`, the period (chosen by
 * EFLAGS.IF at entry) is kept at [esp + 4] and the next poll deadline at [esp] for pollGate. A wait
 * without an operation in flight returns 0 at once.
 */
export function emitWait(c: DriverCtx, check: () => void, opts: { setup?: () => void; poll?: PollPeriods } = {}): void {
  const { a } = c;
  const poll = opts.poll;
  a.label(`${c.p}_wait`);
  a.cmp(c.v("busy"), 0);
  a.jne(c.l("wait.go"));
  a.xor(eax, eax);
  a.ret();
  a.label(c.l("wait.go"));
  a.push(ebx).push(esi).push(edi);
  if (poll) {
    a.pushfd();
    a.pop(ecx);
    a.mov(ebx, poll.withoutIrqCycles);
    a.test(ecx, EFLAGS_IF);
    a.jz(c.l("wait.period"));
    a.mov(ebx, poll.withIrqCycles);
    a.label(c.l("wait.period"));
    a.push(ebx);
    a.rdtsc();
    a.add(eax, ebx);
    a.push(eax);
  }
  opts.setup?.();
  a.label(c.l("wait.loop"));
  a.cmp(c.v("imm"), 0);
  a.jne(c.l("wait.imm"));
  check();
  a.label(c.l("wait.pause"));
  a.pause();
  a.jmp(c.l("wait.loop"));
  a.label(c.l("wait.imm"));
  a.mov(eax, c.v("imm_status"));
  a.label(c.l("seen"));
  a.mov(dword(lbl(c.l("rec"), LogRecord.V2)), eax);
  a.rdtsc();
  a.mov(dword(lbl(c.l("rec"), LogRecord.T1)), eax);
  a.mov(dword(lbl(c.l("rec"), LogRecord.T1 + 4)), edx);
  a.mov(esi, c.l("rec"));
  if (poll) a.add(esp, 8);
  c.logRing(a);
  a.call("log_write");
  a.mov(eax, dword(lbl(c.l("rec"), LogRecord.V2)));
  a.mov(c.v("busy"), 0);
  a.pop(edi).pop(esi).pop(ebx);
  a.ret();
}

/**
 * Inside a wait check with a poll deadline at [esp] and the period at [esp + 4]: fall through when the
 * deadline has passed (and move it on by the period), else go to the PAUSE. Wrap-safe on the low 32 bits
 * of the TSC (periods are far below 2^31 cycles).
 */
export function pollGate(c: DriverCtx): void {
  const { a } = c;
  a.rdtsc();
  a.sub(eax, dword({ base: esp }));
  a.js(c.l("wait.pause"));
  a.mov(eax, dword(esp, 4));
  a.add(dword({ base: esp }), eax);
}

/** Inside a wait check: EDX = address of a status word (PV slot STATUS, dsp descriptor STATUS): 0 pending,
 * 1 done -> status 0, else the word itself (2 | code << 8). */
export function statusWordCheck(c: DriverCtx, offset: number): void {
  const { a } = c;
  a.mov(eax, dword(edx, offset));
  a.test(eax, eax);
  a.jz(c.l("wait.pause"));
  a.cmp(eax, 1);
  a.jne(c.l("seen"));
  a.xor(eax, eax);
  a.jmp(c.l("seen"));
}

/** Cycles of `us` microseconds at the guest's TSC rate (at least 1). */
export function usToTsc(env: GuestEnv, us: number): number {
  return Math.max(1, Math.round((env.tscHz * us) / 1e6));
}

/** The default log ring of drivers: vCPU 0's (the kernel's variable). */
export function vcpu0LogRing(a: Asm): void {
  a.mov(edi, dword("log_ring_vcpu0"));
}
