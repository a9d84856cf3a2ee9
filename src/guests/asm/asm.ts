/**
 * The assembler guests are written in: records instructions, labels and data in program order and
 * builds a flat image at an origin, like `nasm -f bin` with `org`. Forward references start with the
 * shortest encoding and only ever grow until the layout is stable (branch relaxation), so the result is
 * the minimal-size encoding NASM's default -Ox multi-pass optimiser produces.
 * Instruction encoding follows SDM Vol. 2 chapter 2 (see forms.ts, encoder.ts, addressing.ts).
 * Leaves out: expressions between labels (only label + constant), sections other than one flat image,
 * relocations, and NASM's size-forcing keywords other than o16()/o32().
 */
import { fitsBits } from "./addressing.ts";
import { dependsOnLabels, encodeForm, formLength, type Resolve } from "./encoder.ts";
import { captureSite, fail, type Site } from "./errors.ts";
import { selectForms, type Form, type Prefixes } from "./forms.ts";
import { MNEMONICS, type MnemonicMethods } from "./mnemonics.ts";
import { isMem } from "./operand-match.ts";
import type { LabelRef, Operand, RegOperand } from "./operands.ts";

export interface AsmOptions {
  /** Default operand and address size of the first section (the CS D bit it will run with). */
  bits?: 16 | 32;
  /** Absolute address of the first byte of the image. */
  origin?: number;
}

export interface AsmImage {
  bytes: Uint8Array;
  origin: number;
  /** Every user label -> absolute address. */
  symbols: Record<string, number>;
  /** Entry point: the label given to entry(), else the origin. */
  entry: number;
}

type Item =
  | { kind: "insn"; site?: Site; mnemonic: string; forms: Form[]; dynamic: boolean; choice: number; addr: number }
  | { kind: "label"; site?: Site; name: string; addr: number }
  | { kind: "data"; site?: Site; width: 1 | 2 | 4; values: readonly (number | LabelRef)[]; addr: number }
  | { kind: "org"; site: Site; target: number; addr: number }
  | { kind: "align"; site?: Site; n: number; fill: number; addr: number };

const MAX_PASSES = 1000;

export class Asm {
  private readonly items: Item[] = [];
  private readonly labelNames = new Set<string>();
  private readonly internal = new Set<string>();
  /** Absolute address of the image's first byte. */
  readonly origin: number;
  private curBits: 16 | 32;
  private pending: Prefixes = {};
  private entryLabel: { site: Site; l: LabelRef } | undefined;
  private hereCount = 0;
  private readonly beforeBuild: ((a: Asm) => void)[] = [];
  private readonly afterBuild: ((img: AsmImage) => void)[] = [];
  private hooksRun = false;

  constructor(opts: AsmOptions = {}) {
    this.curBits = opts.bits ?? 32;
    this.origin = opts.origin ?? 0;
    if (!Number.isInteger(this.origin) || this.origin < 0 || this.origin > 0xffffffff) {
      throw new RangeError(`Asm: origin ${this.origin} is not a 32-bit address`);
    }
  }

  /** Assemble one instruction: a.insn("add", eax, 1). Mnemonic methods (a.add(eax, 1)) call this. */
  insn(mnemonic: string, ...ops: Operand[]): this {
    const m = mnemonic.toLowerCase();
    const pre = this.pending;
    this.pending = {};
    for (const op of ops) checkOperand(m, op);
    const sel = selectForms(m, ops, this.curBits, pre, formLength);
    if (sel.error) fail(undefined, m, sel.error);
    const forms = sel.forms.filter((f) => prefixFits(f, ops, pre));
    if (forms.length === 0) fail(undefined, m, prefixProblem(pre));
    // Without labels the shortest form is final (numbers were range-checked when selecting) and no
    // error can surface at build time, so only label-dependent instructions keep their source line.
    const dynamic = dependsOnLabels(forms[0]);
    this.items.push(dynamic
      ? { kind: "insn", site: captureSite(), mnemonic: m, forms, dynamic, choice: 0, addr: 0 }
      : { kind: "insn", mnemonic: m, forms: [forms[0]], dynamic, choice: 0, addr: 0 });
    return this;
  }

  // ---- prefixes for the next instruction ----
  rep(): this { return this.prefix({ rep: "rep" }); }
  repe(): this { return this.prefix({ rep: "repe" }); }
  repz(): this { return this.prefix({ rep: "repe" }); }
  repne(): this { return this.prefix({ rep: "repne" }); }
  repnz(): this { return this.prefix({ rep: "repne" }); }
  lock(): this { return this.prefix({ lock: true }); }
  /** Force a 16- or 32-bit operand size (66 prefix when it differs from the section): push word, jmp dword far. */
  o16(): this { return this.prefix({ osize: 16 }); }
  o32(): this { return this.prefix({ osize: 32 }); }
  /** Segment override for an instruction without a memory operand (string instructions: fs movsb). */
  seg(s: RegOperand): this {
    if (s?.kind !== "reg" || s.type !== "sreg") fail(undefined, "seg", "expects a segment register");
    return this.prefix({ seg: s });
  }

  private prefix(p: Prefixes): this {
    this.pending = { ...this.pending, ...p };
    return this;
  }

  // ---- directives ----
  label(name: string): this {
    this.noPendingPrefix("label");
    if (typeof name !== "string" || name === "") fail(undefined, "label", "label name must be a non-empty string");
    if (this.labelNames.has(name)) fail(undefined, "label", `duplicate label '${name}'`);
    this.labelNames.add(name);
    this.items.push({ kind: "label", name, addr: 0 });
    return this;
  }

  /** A fresh label at the current position (`$` in NASM): a.jmp(a.here()) loops forever. */
  here(): LabelRef {
    const name = `$here${this.hereCount++}`;
    this.internal.add(name);
    this.labelNames.add(name);
    this.noPendingPrefix("here");
    this.items.push({ kind: "label", name, addr: 0 });
    return name;
  }

  /** Switch the default operand/address size of the code that follows. */
  bits(b: 16 | 32): this {
    this.noPendingPrefix("bits");
    if (b !== 16 && b !== 32) fail(undefined, "bits", `bits must be 16 or 32, got ${b}`);
    this.curBits = b;
    return this;
  }

  /** Pad with zeros up to absolute address `addr` (an error if the image is already past it). */
  org(addr: number): this {
    this.noPendingPrefix("org");
    if (!Number.isInteger(addr) || addr < 0) fail(undefined, "org", `bad address ${addr}`);
    this.items.push({ kind: "org", site: captureSite(), target: addr, addr: 0 });
    return this;
  }

  align(n: number, fill = 0): this {
    this.noPendingPrefix("align");
    if (!Number.isInteger(n) || n < 1) fail(undefined, "align", `bad alignment ${n}`);
    if (!fitsBits(fill, 8)) fail(undefined, "align", `fill ${fill} is not a byte`);
    this.items.push({ kind: "align", n, fill: fill & 0xff, addr: 0 });
    return this;
  }

  /** Bytes: numbers (-128..255), strings (UTF-8 text), or labels with an addend (lbl("x", 1)). */
  db(...vals: (number | string | LabelRef)[]): this {
    const out: (number | LabelRef)[] = [];
    for (const v of vals) {
      if (typeof v === "string") out.push(...new TextEncoder().encode(v));
      else out.push(v);
    }
    return this.data(1, out);
  }

  /** 16-bit words: numbers or labels (absolute address). */
  dw(...vals: (number | LabelRef)[]): this {
    return this.data(2, vals);
  }

  /** 32-bit dwords: numbers or labels (absolute address). */
  dd(...vals: (number | LabelRef)[]): this {
    return this.data(4, vals);
  }

  times(n: number, byte = 0): this {
    if (!Number.isInteger(n) || n < 0) fail(undefined, "times", `bad count ${n}`);
    return this.data(1, new Array<number>(n).fill(byte));
  }

  /** The image's entry point (default: the origin). */
  entry(l: LabelRef): this {
    this.entryLabel = { site: captureSite(), l };
    return this;
  }

  /** Hooks for wrappers (multiboot.ts): `before` runs once when building starts, `after` sees the image. */
  onBuild(before?: (a: Asm) => void, after?: (img: AsmImage) => void): this {
    if (before) this.beforeBuild.push(before);
    if (after) this.afterBuild.push(after);
    return this;
  }

  private data(width: 1 | 2 | 4, values: readonly (number | LabelRef)[]): this {
    const what = width === 1 ? "db" : width === 2 ? "dw" : "dd";
    this.noPendingPrefix(what);
    let labels = false;
    for (const v of values) {
      if (typeof v === "number") {
        if (!fitsBits(v, width * 8)) fail(undefined, what, `value ${v} out of range for ${width * 8} bits`);
      } else if (typeof v === "string" || typeof v?.label === "string") labels = true;
      else fail(undefined, what, `bad value ${String(v)}`);
    }
    this.items.push({ kind: "data", site: labels ? captureSite() : undefined, width, values, addr: 0 });
    return this;
  }

  private noPendingPrefix(what: string): void {
    if (Object.keys(this.pending).length) fail(undefined, what, "a prefix must be followed by an instruction");
  }

  // ---- building ----
  build(): AsmImage {
    if (!this.hooksRun) {
      this.hooksRun = true;
      for (const h of this.beforeBuild) h(this);
    }
    this.noPendingPrefix("build");
    const labels = new Map<string, number>();
    const resolver = (item: Item): Resolve => (l) => {
      const name = typeof l === "string" ? l : l.label;
      const v = labels.get(name);
      if (v === undefined) fail(item.site, item.kind === "insn" ? item.mnemonic : item.kind, `undefined label '${name}'`);
      return typeof l === "string" ? v : v + l.add;
    };
    for (let pass = 0; ; pass++) {
      if (pass === MAX_PASSES) throw new Error("Asm: layout does not converge");
      const end = this.layout(labels);
      let changed = false;
      for (const it of this.items) {
        if (it.kind !== "insn" || !it.dynamic) continue;
        for (;;) {
          const e = encodeForm(it.forms[it.choice], it.addr, resolver(it));
          if (!e.problem) break;
          if (it.choice + 1 >= it.forms.length) fail(it.site, it.mnemonic, e.problem);
          it.choice++;
          changed = true;
        }
      }
      if (!changed) return this.emit(labels, end, resolver);
    }
  }

  private layout(labels: Map<string, number>): number {
    let addr = this.origin;
    for (const it of this.items) {
      it.addr = addr;
      switch (it.kind) {
        case "label": labels.set(it.name, addr); break;
        case "insn": addr += it.forms[it.choice].len; break;
        case "data": addr += it.width * it.values.length; break;
        case "org":
          if (addr > it.target) fail(it.site, "org", `already at 0x${addr.toString(16)}, past 0x${it.target.toString(16)}`);
          addr = it.target;
          break;
        case "align": addr = Math.ceil(addr / it.n) * it.n; break;
      }
    }
    return addr;
  }

  private emit(labels: Map<string, number>, end: number, resolver: (it: Item) => Resolve): AsmImage {
    const bytes = new Uint8Array(end - this.origin);
    for (const it of this.items) {
      let at = it.addr - this.origin;
      if (it.kind === "insn") {
        const f = it.forms[it.choice];
        const e = encodeForm(f, it.addr, resolver(it));
        if (e.bytes.length !== f.len) throw new Error(`Asm: ${it.mnemonic} encoded ${e.bytes.length} bytes, sized ${f.len}`);
        bytes.set(e.bytes, at);
      } else if (it.kind === "data") {
        const resolve = resolver(it);
        for (const v of it.values) {
          const x = typeof v === "number" ? v : resolve(v);
          if (!fitsBits(x, it.width * 8)) fail(it.site, "data", `value ${x} out of range for ${it.width * 8} bits`);
          for (let k = 0; k < it.width; k++) bytes[at++] = Math.floor(x / 2 ** (8 * k)) & 0xff;
        }
      } else if (it.kind === "align") bytes.fill(it.fill, at, Math.ceil(it.addr / it.n) * it.n - this.origin);
    }
    const symbols: Record<string, number> = {};
    for (const [name, v] of labels) if (!this.internal.has(name)) symbols[name] = v;
    const e = this.entryLabel;
    const entry = e ? resolver({ kind: "label", site: e.site, name: "entry", addr: 0 })(e.l) : this.origin;
    const img: AsmImage = { bytes, origin: this.origin, symbols, entry };
    for (const h of this.afterBuild) h(img);
    return img;
  }
}

export interface Asm extends MnemonicMethods<Asm> {}

for (const m of MNEMONICS) {
  Object.defineProperty(Asm.prototype, m, {
    value: function (this: Asm, ...ops: Operand[]) {
      return this.insn(m, ...ops);
    },
    writable: true,
    configurable: true,
  });
}

function checkOperand(m: string, op: Operand): void {
  if (typeof op === "number" && !Number.isInteger(op)) fail(undefined, m, `immediate ${op} is not an integer`);
  if (op === undefined || op === null || (typeof op !== "number" && typeof op !== "string" && typeof op !== "object")) {
    fail(undefined, m, `bad operand ${String(op)}`);
  }
}

function prefixFits(f: Form, ops: readonly Operand[], pre: Prefixes): boolean {
  if (pre.rep === "rep" && !f.row.rep) return false;
  if ((pre.rep === "repe" || pre.rep === "repne") && f.row.rep !== "repe") return false;
  if (pre.lock && (!f.row.lockable || !isMem(f.ops[0]))) return false;
  if (pre.seg && ops.some(isMem)) return false;
  return true;
}

function prefixProblem(pre: Prefixes): string {
  if (pre.lock) return "LOCK needs a lockable instruction with a memory destination";
  if (pre.seg) return "seg() is for instructions without a memory operand; put seg in the operand";
  return `${pre.rep?.toUpperCase()} is not meaningful with this instruction`;
}
