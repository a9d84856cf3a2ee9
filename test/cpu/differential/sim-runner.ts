/**
 * Runs differential-test cases on vmxsim's core with the same memory layout as the native harness
 * (layout.ts): 4 MiB RAM, flat 32-bit protected mode, code at CODE_ADDR ending in HLT, the data window
 * at DATA_ADDR. The reference is the host CPU (host-runner.ts); this side also derives, while stepping
 * one instruction at a time, which flags the SDM leaves undefined (flag-effects.ts) and whether the
 * case reads an undefined flag (then its outcome is unpredictable and it is not compared).
 *
 * Exceptions: faults reach Core.raise, which this runner's core subclass records instead of delivering
 * (the host reports the state at the faulting instruction too). INT3 and INTO go through the IDT (built
 * here, gates to HLT stubs); the runner pops the frame and puts back the stack bytes it overwrote, so
 * the outcome matches the host's signal report (EIP after the instruction, state unchanged).
 *
 * Every case also runs as whole blocks (the normal run loop) and, for some cases, often enough that its
 * blocks are compiled (COMPILE_THRESHOLD); both must end in exactly the state of the stepped run.
 */
import { Core } from "../../../src/cpu/core.ts";
import { COMPILE_THRESHOLD } from "../../../src/cpu/block-cache.ts";
import { flagEffect } from "./flag-effects.ts";
import {
  CODE_ADDR, DATA_ADDR, DATA_SIZE, type DiffCase, fillWindow, flagNames, type InsnInfo, type Outcome,
} from "./layout.ts";

const RAM_SIZE = 4 << 20;
const GDT = 0x1000;
const IDT = 0x2000;
const STUBS = 0x3000;
const VECTORS = 32;
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
  faultEip = 0;
  override raise(vector: number, _errorCode: number, eip: number): void {
    this.faultVector = vector;
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

  constructor(opts: { jitEvery?: number } = {}) {
    this.jitEvery = opts.jitEvery ?? 8;
    const dv = new DataView(this.ram.buffer);
    // GDT: null, 0x08 flat 32-bit code, 0x10 flat data.
    dv.setUint32(GDT + 8, 0x0000ffff, true);
    dv.setUint32(GDT + 12, 0x00cf9b00, true);
    dv.setUint32(GDT + 16, 0x0000ffff, true);
    dv.setUint32(GDT + 20, 0x00cf9300, true);
    // IDT: 32-bit interrupt gates, DPL 3, to one HLT stub per vector.
    for (let v = 0; v < VECTORS; v++) {
      const off = STUBS + v * 16;
      dv.setUint32(IDT + v * 8, (0x08 << 16) | (off & 0xffff), true);
      dv.setUint32(IDT + v * 8 + 4, (off & 0xffff0000) | 0xee00, true);
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
    } else {
      k.eip = CODE_ADDR;
      k.halted = false;
      k.shutdown = false;
      k.brk = 0;
    }
    k.gdtBase = GDT;
    k.gdtLimit = 23;
    k.idtBase = IDT;
    k.idtLimit = VECTORS * 8 - 1;
    for (let r = 0; r < 8; r++) k.regs[r] = c.regs[r];
    k.eflags = (c.eflags & ~0x3028) | 0x202; // IF = 1 as in host user mode; IOPL 0
    k.fop = 0;
    k.faultVector = -1;
    this.ram.set(this.initial, DATA_ADDR);
  }

  private snapshot(kind: Outcome["kind"], vector: number, eip: number): Outcome {
    const k = this.core;
    return {
      kind,
      vector,
      eip,
      regs: Array.from(k.regs.subarray(0, 8)),
      eflags: k.getEflags(),
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
    if (k.faultVector >= 0) return this.snapshot("exception", k.faultVector, k.faultEip);
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
    const end = CODE_ADDR + c.code.length;
    let undef = 0;
    let skip: string | undefined;
    let undefSource: string | undefined;
    for (let n = 0; n < MAX_STEPS; n++) {
      const eip = k.eip;
      if (eip === end) return { ...this.snapshot("end", -1, 0), undefinedFlags: undef, skip, undefSource };
      const info = byOff.get(eip - CODE_ADDR);
      if (info === undefined) {
        skip ??= `execution reached 0x${eip.toString(16)}, which is no instruction start of the case`;
        k.run(1);
        continue;
      }
      const eff = flagEffect(info, k.regs[1] & 0xff, k.regs[1]);
      if ((eff.read & undef) !== 0) skip ??= `'${info.text}' reads flags left undefined (${flagNames(eff.read & undef)})`;
      if (eff.resultUndefined) skip ??= `'${info.text}': result undefined for this count`;
      const softInt = info.mnem === "int3" || info.mnem === "into";
      const esp = k.regs[4];
      const below = softInt ? this.ram.slice(esp - 16, esp) : undefined;
      k.run(1);
      if (k.faultVector >= 0) {
        return { ...this.snapshot("exception", k.faultVector, k.faultEip), undefinedFlags: undef, skip, undefSource };
      }
      if (k.eip >= STUBS && k.eip < STUBS + VECTORS * 16) {
        // INT3 / INTO delivered through the IDT: undo the frame, report like the host's signal.
        const ret = k.read32(k.regs[4]);
        const flags = k.read32(esp - 4);
        k.regs[4] = esp;
        if (below) this.ram.set(below, esp - 16);
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
  const fl = (a.eflags ^ b.eflags) & 0x244fd5;
  if (fl !== 0) return `eflags ${flagNames(fl)} differ`;
  if (!Buffer.from(a.window.buffer, a.window.byteOffset, DATA_SIZE).equals(b.window)) {
    for (let i = 0; i < DATA_SIZE; i++) if (a.window[i] !== b.window[i]) return `memory at +0x${i.toString(16)}`;
  }
  return undefined;
}
