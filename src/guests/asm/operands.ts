/**
 * Operands of the assembler DSL (the "TS bytecode" guests are written in): registers, memory
 * references and immediates/labels, as plain immutable objects. Intel operand order, Intel names.
 *
 *   a.mov(eax, dword(ebx, 8));                       // mov eax, [ebx+8]
 *   a.add(dword({ base: ebx, index: ecx, scale: 4, disp: "table" }), 1);
 *   a.jmp("loop");                                   // label reference
 *   a.mov(al, byte({ seg: fs, disp: 0x10 }));        // mov al, fs:[0x10]
 */

export type RegKind = "r8" | "r16" | "r32" | "sreg" | "creg" | "dreg";

export interface RegOperand {
  readonly kind: "reg";
  readonly type: RegKind;
  /** Encoding number (ModRM field value). */
  readonly num: number;
  readonly name: string;
}

/** A label name, or a label with an addend. Resolved when the image is built. */
export type LabelRef = string | { readonly label: string; readonly add: number };

export interface MemOperand {
  readonly kind: "mem";
  /** Access size in bytes; undefined = take it from the other operand ("[ebx]" with "eax"). */
  readonly size: 1 | 2 | 4 | 6 | 8 | 16 | undefined;
  readonly base?: RegOperand;
  readonly index?: RegOperand;
  readonly scale: 1 | 2 | 4 | 8;
  /** Displacement: a number or a label (absolute address) with an optional addend. */
  readonly disp: number | LabelRef;
  /** Segment override. */
  readonly seg?: RegOperand;
}

/** A far pointer immediate sel:offset (JMP FAR / CALL FAR ptr16:16/32). */
export interface FarOperand {
  readonly kind: "far";
  readonly sel: number;
  readonly offset: number | LabelRef;
}

export type Operand = RegOperand | MemOperand | FarOperand | number | LabelRef;

function reg(type: RegKind, num: number, name: string): RegOperand {
  return Object.freeze({ kind: "reg", type, num, name });
}

export const eax = reg("r32", 0, "eax"), ecx = reg("r32", 1, "ecx"), edx = reg("r32", 2, "edx"),
  ebx = reg("r32", 3, "ebx"), esp = reg("r32", 4, "esp"), ebp = reg("r32", 5, "ebp"),
  esi = reg("r32", 6, "esi"), edi = reg("r32", 7, "edi");
export const ax = reg("r16", 0, "ax"), cx = reg("r16", 1, "cx"), dx = reg("r16", 2, "dx"),
  bx = reg("r16", 3, "bx"), sp = reg("r16", 4, "sp"), bp = reg("r16", 5, "bp"),
  si = reg("r16", 6, "si"), di = reg("r16", 7, "di");
export const al = reg("r8", 0, "al"), cl = reg("r8", 1, "cl"), dl = reg("r8", 2, "dl"),
  bl = reg("r8", 3, "bl"), ah = reg("r8", 4, "ah"), ch = reg("r8", 5, "ch"),
  dh = reg("r8", 6, "dh"), bh = reg("r8", 7, "bh");
export const es = reg("sreg", 0, "es"), cs = reg("sreg", 1, "cs"), ss = reg("sreg", 2, "ss"),
  ds = reg("sreg", 3, "ds"), fs = reg("sreg", 4, "fs"), gs = reg("sreg", 5, "gs");
export const cr0 = reg("creg", 0, "cr0"), cr2 = reg("creg", 2, "cr2"), cr3 = reg("creg", 3, "cr3"),
  cr4 = reg("creg", 4, "cr4");
export const dr0 = reg("dreg", 0, "dr0"), dr1 = reg("dreg", 1, "dr1"), dr2 = reg("dreg", 2, "dr2"),
  dr3 = reg("dreg", 3, "dr3"), dr6 = reg("dreg", 6, "dr6"), dr7 = reg("dreg", 7, "dr7");

export const REG32 = [eax, ecx, edx, ebx, esp, ebp, esi, edi] as const;
export const REG16 = [ax, cx, dx, bx, sp, bp, si, di] as const;
export const REG8 = [al, cl, dl, bl, ah, ch, dh, bh] as const;
export const SREG = [es, cs, ss, ds, fs, gs] as const;

/** All registers by name, for the text front end and error messages. */
export const REGISTERS: ReadonlyMap<string, RegOperand> = new Map(
  [...REG32, ...REG16, ...REG8, ...SREG, cr0, cr2, cr3, cr4, dr0, dr1, dr2, dr3, dr6, dr7].map((r) => [r.name, r]),
);

export interface MemSpec {
  base?: RegOperand;
  index?: RegOperand;
  scale?: 1 | 2 | 4 | 8;
  disp?: number | LabelRef;
  seg?: RegOperand;
}

function mem(size: MemOperand["size"], a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef): MemOperand {
  let s: MemSpec;
  if (a === undefined) s = {};
  else if (typeof a === "number" || typeof a === "string" || (typeof a === "object" && "label" in a)) s = { disp: a };
  else if ((a as RegOperand).kind === "reg") s = { base: a as RegOperand, disp };
  else s = a as MemSpec;
  return Object.freeze({
    kind: "mem",
    size,
    base: s.base,
    index: s.index,
    scale: s.scale ?? 1,
    disp: s.disp ?? 0,
    seg: s.seg,
  });
}

/** Memory references by access size: byte(ebx), word(ebx, 2), dword({ base, index, scale, disp, seg }). */
export const byte = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(1, a, disp);
export const word = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(2, a, disp);
export const dword = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(4, a, disp);
/** 6-byte pseudo-descriptor (LGDT/LIDT) or m16:32 far pointer. */
export const fword = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(6, a, disp);
export const qword = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(8, a, disp);
export const oword = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(16, a, disp);
/** Memory reference whose size comes from the other operand or does not matter (LEA, INVLPG). */
export const ptr = (a?: RegOperand | MemSpec | number | LabelRef, disp?: number | LabelRef) => mem(undefined, a, disp);
/** Far pointer immediate for JMP FAR / CALL FAR. */
export const far = (sel: number, offset: number | LabelRef): FarOperand => Object.freeze({ kind: "far", sel, offset });
/** Label reference with an addend: lbl("table", 4). */
export const lbl = (label: string, add = 0): LabelRef => (add === 0 ? label : Object.freeze({ label, add }));
