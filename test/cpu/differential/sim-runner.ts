/**
 * Runs differential-test cases on vmxsim's core with the same memory layout as the native harness
 * (layout.ts): 4 MiB RAM, code at CODE_ADDR ending in HLT, the data window at DATA_ADDR, the harness's
 * LDT (16-bit data and code segments for the 16-bit modes, layout.ts Mode), and the same
 * privilege and selectors as a 32-bit Linux process: CPL 3, IOPL 0, CS 0x23, DS/ES/SS 0x2B, FS 0,
 * GS 0x63, with a GDT whose user-visible entries (and DPL-0 entries at the kernel's indices) mirror
 * what LAR/LSL/VERR/VERW show on an x86-64 Linux host. The reference is the host CPU (host-runner.ts);
 * this side also derives, while stepping one instruction at a time, which flags the SDM leaves
 * undefined (flag-effects.ts) and whether the case reads an undefined flag (then its outcome is
 * unpredictable and it is not compared).
 *
 * Exceptions: faults reach Core.raise, which this runner's core subclass records instead of delivering
 * (the host reports the state at the faulting instruction too). INT3, INTO and INT 3/4 go through DPL-3
 * IDT gates (other vectors have DPL-0 gates, so INT n raises #GP(n*8+2) as under Linux) to HLT stubs;
 * the runner pops the frame and puts back the stack bytes it overwrote, so the outcome matches the
 * host's signal report (EIP after the instruction, state unchanged). The final HLT raises #GP at CPL 3,
 * which marks the end of a whole-block run.
 *
 * Every case also runs as whole blocks (the normal run loop) and, for some cases, often enough that its
 * blocks are compiled (COMPILE_THRESHOLD); both must end in exactly the state of the stepped run.
 */
import { Core } from "../../../src/cpu/core.ts";
import { COMPILE_THRESHOLD } from "../../../src/cpu/block-cache.ts";
import { Seg } from "../../../src/cpu/registers.ts";
import { setSegment } from "../../../src/cpu/segments.ts";
import { flagEffect } from "./flag-effects.ts";
import {
  CODE_ADDR, DATA_ADDR, DATA_SIZE, type DiffCase, fillWindow, flagNames, type InsnInfo, Mode, type Outcome,
  SEL_CODE16, SEL_DATA16,
} from "./layout.ts";

const RAM_SIZE = 4 << 20;
const GDT = 0x1000;
const LDT = 0x1800;
const IDT = 0x2000;
const STUBS = 0x3000;
const VECTORS = 256;
/** GDT as an x86-64 Linux kernel sets it up (index: [low dword, high dword]). */
const HOST_GDT: Record<number, [number, number]> = {
  1: [0x0000ffff, 0x00cf9b00], // kernel 32-bit code, DPL 0
  2: [0x0000ffff, 0x00af9b00], // kernel 64-bit code
  3: [0x0000ffff, 0x00cf9300], // kernel data
  4: [0x0000ffff, 0x00cffb00], // 0x23 user 32-bit code
  5: [0x0000ffff, 0x00cff300], // 0x2B user data
  6: [0x0000ffff, 0x00affb00], // 0x33 user 64-bit code
  8: [0x00000067, 0x00008b00], // TSS (busy, DPL 0)
  12: [0x0000ffff, 0x00dff300], // 0x63 TLS (glibc's GS; base not modelled)
  15: [0x00000000, 0x0040f500], // 0x7B CPU/node number in the limit (read-only data)
};
const MAX_STEPS = 20000;

export interface SimOutcome extends Outcome {
  /** EFLAGS bits undefined at the end (or at the exception) per the SDM: not compared. */
  undefinedFlags: number;
  /** Why the case cannot be compared (reads an undefined flag, undefined result), if so. */
  skip?: string;
  /** Mnemonic of the last instruction that left flags undefined (for the undefined-flags note). */
  undefSource?: string;
  /** Block-run or compiled-run disagreement with the stepped run (an engine bug), if any. */
  engine?: string;
}

class DiffCore extends Core {
  faultVector = -1;
  faultErr = -1;
  faultEip = 0;
  override raise(vector: number, errorCode: number, eip: number): void {
    this.faultVector = vector;
    this.faultErr = errorCode;
    this.faultEip = eip;
    this.halted = true;
  }
}

export class SimRunner {
  readonly ram = new Uint8Array(RAM_SIZE);
  readonly core = new DiffCore({ ram: this.ram });
  private readonly initial = new Uint8Array(DATA_SIZE);
  /** Run each n-th case also until its blocks are compiled (0: never). */
  jitEvery: number;
  private count = 0;
  /** EIP of the case's first byte (0 in a 16-bit code segment based at CODE_ADDR), and of the HLT. */
  private eipBase = CODE_ADDR;
  private end = 0;

  constructor(opts: { jitEvery?: number } = {}) {
    this.jitEvery = opts.jitEvery ?? 8;
    const dv = new DataView(this.ram.buffer);
    // LDT as harness.c installs it with modify_ldt: 16-bit data at the window, 16-bit code at CODE_ADDR.
    dv.setUint32(LDT, 0x0000ffff, true);
    dv.setUint32(LDT + 4, 0x0000f300 | ((DATA_ADDR >>> 16) & 0xff) | (DATA_ADDR & 0xff000000), true);
    dv.setUint32(LDT + 8, 0x0000ffff, true);
    dv.setUint32(LDT + 12, 0x0000fb00 | ((CODE_ADDR >>> 16) & 0xff) | (CODE_ADDR & 0xff000000), true);
    for (const [k, [lo, hi]] of Object.entries(HOST_GDT)) {
      dv.setUint32(GDT + Number(k) * 8, lo, true);
      dv.setUint32(GDT + Number(k) * 8 + 4, hi, true);
    }
    // IDT: 32-bit interrupt gates to one HLT stub per vector; DPL 3 only for #BP and #OF, as in Linux.
    for (let v = 0; v < VECTORS; v++) {
      const off = STUBS + v * 16;
      const dpl = v === 3 || v === 4 ? 3 : 0;
      dv.setUint32(IDT + v * 8, (0x23 << 16) | (off & 0xffff), true);
      dv.setUint32(IDT + v * 8 + 4, (off & 0xffff0000) | 0x8e00 | (dpl << 13), true);
      this.ram[off] = 0xf4;
    }
  }

  private load(c: DiffCase, clearBlocks: boolean): void {
    const k = this.core;
    if (clearBlocks) {
      k.resetToFlat32(CODE_ADDR);
      this.ram.fill(0, CODE_ADDR, CODE_ADDR + 0x1000);
      this.ram.set(c.code, CODE_ADDR);
      this.ram[CODE_ADDR + c.code.length] = 0xf4; // HLT
      this.eipBase = c.mode === Mode.CODE16 ? 0 : CODE_ADDR;
      this.end = this.eipBase + c.code.length;
    } else {
      k.halted = false;
      k.shutdown = false;
      k.brk = 0;
    }
    k.eip = this.eipBase;
    k.gdtBase = GDT;
    k.gdtLimit = 16 * 8 - 1;
    k.ldtrSel = 0x50;
    k.ldtrBase = LDT;
    k.ldtrLimit = 2 * 8 - 1;
    k.idtBase = IDT;
    k.idtLimit = VECTORS * 8 - 1;
    // No I/O bitmap (a TR limit below a 32-bit TSS's): every port is denied at CPL 3, as Linux denies them
    // to the host side's user process. (The reset TR, base 0 limit FFFFH, would read a bitmap at 66H.)
    k.trBase = 0;
    k.trLimit = 0;
    // User mode as the host runs the snippet.
    setSegment(k, Seg.CS, 0x23, 0, -1, 0xc0fb);
    k.cpl = 3;
    for (const sg of [Seg.DS, Seg.ES, Seg.SS]) setSegment(k, sg, 0x2b, 0, -1, 0xc0f3);
    setSegment(k, Seg.FS, 0, 0, 0, 0);
    setSegment(k, Seg.GS, 0x63, 0, -1, 0xd0f3);
    if (c.mode !== Mode.FLAT32) {
      for (const sg of [Seg.DS, Seg.ES, Seg.SS]) setSegment(k, sg, SEL_DATA16, DATA_ADDR, 0xffff, 0x00f3);
    }
    if (c.mode === Mode.CODE16) setSegment(k, Seg.CS, SEL_CODE16, CODE_ADDR, 0xffff, 0x00fb);
    k.brk = 0;
    for (let r = 0; r < 8; r++) k.regs[r] = c.regs[r];
    k.eflags = (c.eflags & ~0x3028) | 0x202; // IF = 1 as in host user mode; IOPL 0
    k.faultErr = -1;
    k.fop = 0;
    k.faultVector = -1;
    this.ram.set(this.initial, DATA_ADDR);
  }

  private snapshot(kind: Outcome["kind"], vector: number, eip: number, errorCode = -1): Outcome {
    const k = this.core;
    const sel = k.segSel;
    return {
      kind,
      vector,
      errorCode,
      eip,
      regs: Array.from(k.regs.subarray(0, 8)),
      eflags: k.getEflags(),
      sregs: [sel[Seg.DS], sel[Seg.ES], sel[Seg.FS], sel[Seg.GS], sel[Seg.SS]],
      window: this.ram.slice(DATA_ADDR, DATA_ADDR + DATA_SIZE),
    };
  }

  run(c: DiffCase): SimOutcome {
    fillWindow(this.initial, c.seed);
    const stepped = this.step(c);
    if (stepped.skip === undefined && !stepped.trap) {
      this.load(c, true);
      const b = this.whole();
      const diff = engineDiff(stepped, b);
      if (diff) stepped.engine = `block run differs from stepped run: ${diff}`;
      else if (this.jitEvery > 0 && ++this.count % this.jitEvery === 0) {
        let j = b;
        for (let n = 0; n <= COMPILE_THRESHOLD; n++) {
          this.load(c, false);
          j = this.whole();
        }
        const d2 = engineDiff(stepped, j);
        if (d2) stepped.engine = `compiled block run differs from stepped run: ${d2}`;
      }
    }
    return stepped;
  }

  /** Run with the normal run loop (whole blocks). */
  private whole(): Outcome {
    const k = this.core;
    k.run(MAX_STEPS);
    if (k.faultVector >= 0) {
      if (k.faultEip === this.end && k.faultVector === 13) return this.snapshot("end", -1, 0);
      return this.snapshot("exception", k.faultVector, k.faultEip, k.faultErr);
    }
    if (!k.halted) return this.snapshot("timeout", -1, 0);
    const eip = k.eip - 1;
    if (eip >= STUBS && eip < STUBS + VECTORS * 16) return this.snapshot("exception", (eip - STUBS) >> 4, 0);
    return this.snapshot("end", -1, 0);
  }

  private step(c: DiffCase): SimOutcome & { trap?: boolean } {
    this.load(c, true);
    const k = this.core;
    const byOff = new Map<number, InsnInfo>();
    for (const i of c.insns) byOff.set(i.off, i);
    const end = this.end;
    let undef = 0;
    let skip: string | undefined;
    let undefSource: string | undefined;
    for (let n = 0; n < MAX_STEPS; n++) {
      const eip = k.eip;
      if (eip === end) return { ...this.snapshot("end", -1, 0), undefinedFlags: undef, skip, undefSource };
      const info = byOff.get(eip - this.eipBase);
      if (info === undefined) {
        skip ??= `execution reached 0x${eip.toString(16)}, which is no instruction start of the case`;
        k.run(1);
        continue;
      }
      const eff = flagEffect(info, k.regs[1] & 0xff, k.regs[1]);
      if ((eff.read & undef) !== 0) skip ??= `'${info.text}' reads flags left undefined (${flagNames(eff.read & undef)})`;
      if (eff.resultUndefined) skip ??= `'${info.text}': result undefined for this count`;
      const softInt = info.mnem === "int3" || info.mnem === "into" || info.mnem === "int";
      const esp = k.regs[4];
      const top = (k.segBase[Seg.SS] + (k.ss32 ? esp : esp & 0xffff)) >>> 0; // linear top of stack
      const below = softInt ? this.ram.slice(top - 16, top) : undefined;
      k.run(1);
      if (k.faultVector >= 0) {
        return { ...this.snapshot("exception", k.faultVector, k.faultEip, k.faultErr), undefinedFlags: undef, skip, undefSource };
      }
      if (k.eip >= STUBS && k.eip < STUBS + VECTORS * 16) {
        // INT3 / INTO delivered through the IDT: undo the frame, report like the host's signal.
        const ret = k.read32(top - 12);
        const flags = k.read32(top - 4);
        k.regs[4] = esp;
        if (below) this.ram.set(below, top - 16);
        k.setEflags(flags, 0x3fffff);
        const vector = (k.eip - STUBS) >> 4;
        return { ...this.snapshot("exception", vector, ret), undefinedFlags: undef, skip, undefSource, trap: true };
      }
      undef = (undef & ~eff.defined) | eff.undefined;
      if (eff.undefined !== 0) undefSource = info.mnem;
      else if (undef === 0) undefSource = undefined;
      if (k.halted) return { ...this.snapshot("end", -1, 0), undefinedFlags: undef, skip: skip ?? "halted inside the case", undefSource };
    }
    return { ...this.snapshot("timeout", -1, 0), undefinedFlags: undef, skip, undefSource };
  }
}

/** Exact comparison of two runs of the same engine (all flag bits, since both are deterministic). */
function engineDiff(a: Outcome, b: Outcome): string | undefined {
  if (a.kind === "timeout" && b.kind === "timeout") return undefined;
  if (a.kind !== b.kind || a.vector !== b.vector) return `outcome ${a.kind}/${a.vector} vs ${b.kind}/${b.vector}`;
  if (a.kind === "exception" && a.eip !== b.eip) return `exception eip ${a.eip.toString(16)} vs ${b.eip.toString(16)}`;
  for (let r = 0; r < 8; r++) if (a.regs[r] !== b.regs[r]) return `reg ${r}: ${a.regs[r] >>> 0} vs ${b.regs[r] >>> 0}`;
  for (let r = 0; r < 5; r++) if (a.sregs[r] !== b.sregs[r]) return `selector ${r}: ${a.sregs[r]} vs ${b.sregs[r]}`;
  if (a.errorCode !== b.errorCode) return `error code ${a.errorCode} vs ${b.errorCode}`;
  const fl = (a.eflags ^ b.eflags) & 0x247fd5;
  if (fl !== 0) return `eflags ${flagNames(fl)} differ`;
  if (!Buffer.from(a.window.buffer, a.window.byteOffset, DATA_SIZE).equals(b.window)) {
    for (let i = 0; i < DATA_SIZE; i++) if (a.window[i] !== b.window[i]) return `memory at +0x${i.toString(16)}`;
  }
  return undefined;
}
