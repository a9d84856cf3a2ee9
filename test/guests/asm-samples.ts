/**
 * Representative operands for every assembler-selectable row of the opcode table, used by the
 * objdump cross-check (asm-objdump.test.ts): for each row, mode (16/32) and operand size, a register
 * variant and a memory variant of the r/m operand, plus REP/LOCK variants where the row takes them.
 * Register numbers differ per slot (r/m = 7, reg = 1, opcode-embedded = 5) so a swapped field shows.
 */
import { ISA, type IsaRow, type OperandSpec } from "../../src/cpu/isa/index.ts";
import {
  al, ax, bh, bp, bx, ch, cl, cr3, cx, di, dl, dr7, dx, eax, ebp, ebx, ecx, edi, edx, es, esi, esp, cs, ss,
  ds, fs, gs, si,
  far, byte, word, dword, fword, qword, oword, ptr, type MemOperand, type MemSpec, type Operand,
} from "../../src/guests/asm/operands.ts";

const SIZED = { 1: byte, 2: word, 4: dword, 6: fword, 8: qword, 16: oword } as const;

function memRef(size: MemOperand["size"], s: MemSpec): MemOperand {
  return size === undefined ? ptr(s) : SIZED[size](s);
}

export interface Sample {
  row: IsaRow;
  bits: 16 | 32;
  os: 16 | 32;
  mnemonic: string;
  ops: Operand[];
  prefix?: "rep" | "repne" | "lock";
  /** Ask for the operand size explicitly (o16()/o32()) even when it is the mode's default. */
  force?: boolean;
}

/** SLDT/STR/SMSW: a register destination follows the operand size, memory is always a word. */
const STORE_EW = new Set(["sldt", "str", "smsw"]);
/** A far pointer in memory needs an explicit size with JMP/CALL (an unsized one is near). */
const FAR_BRANCH = (row: IsaRow) => row.operands[0] === "Mp" && (row.mnemonic === "jmp" || row.mnemonic === "call");

/** Specifiers whose size follows the operand size. */
const OS_SPECS = new Set<OperandSpec>(["Ev", "Gv", "Iv", "Ibs", "Zv", "eAX", "Ov", "Jv", "Mv", "Mp", "Ma", "Ap"]);
const E_SPECS = new Set<OperandSpec>(["Eb", "Ew", "Ed", "Ev"]);

function memOf(size: MemOperand["size"], bits: 16 | 32): MemOperand {
  const s: MemSpec = bits === 32 ? { base: ebx, index: esi, scale: 4, disp: 0x40 } : { base: bp, index: di, disp: 0x1234 };
  return memRef(size, s);
}

function sample(spec: OperandSpec, os: 16 | 32, bits: 16 | 32, memVariant: boolean, row: IsaRow, addr: number): Operand | undefined {
  const v = (r16: Operand, r32: Operand) => (os === 16 ? r16 : r32);
  switch (spec) {
    case "Eb": return memVariant ? memOf(1, bits) : bh;
    case "Ew": return memVariant ? memOf(2, bits) : STORE_EW.has(row.mnemonic) ? v(di, edi) : di;
    case "Ed": return memVariant ? memOf(4, bits) : edi;
    case "Ev": {
      // MOV to/from Sreg: the memory operand is a word whatever the operand size (SDM MOV).
      if (memVariant) return memOf(row.operands.includes("Sw") ? 2 : os === 16 ? 2 : 4, bits);
      return v(di, edi);
    }
    case "M": return memOf(undefined, bits);
    case "Mb": return memOf(1, bits);
    case "Mw": return memOf(2, bits);
    case "Md": return memOf(4, bits);
    case "Mv": return memOf(os === 16 ? 2 : 4, bits);
    case "Mq": return memOf(8, bits);
    case "Mo": return memOf(16, bits);
    case "Ms": return memOf(6, bits);
    case "Mp": return memOf(os === 16 ? 4 : 6, bits);
    case "Ma": return memOf(os === 16 ? 4 : 8, bits);
    case "Rd": return esi;
    case "Gb": return cl;
    case "Gw": return cx;
    case "Gd": return ecx;
    case "Gv": return v(cx, ecx);
    case "Sw": return ss;
    case "Cd": return cr3;
    case "Dd": return dr7;
    case "Zb": return ch;
    case "Zv": return v(bp, ebp);
    case "Zd": return ebp;
    case "AL": return al;
    case "AX": return ax;
    case "eAX": return v(ax, eax);
    case "CL": return cl;
    case "DX": return dx;
    case "1": return 1;
    case "ES": return es;
    case "CS": return cs;
    case "SS": return ss;
    case "DS": return ds;
    case "FS": return fs;
    case "GS": return gs;
    case "Ib": return row.mnemonic === "enter" ? 2 : 0x12;
    case "Ibs": return 0x7e;
    case "Iw": return 0x1234;
    case "Id": return 0x12345678;
    case "Iv": return v(0x1234, 0x12345678);
    case "Jb": return addr + 0x10;
    case "Jv": return (addr + 0x1000) & (bits === 16 && os === 16 ? 0xffff : 0xffffffff);
    case "Ap": return far(0x1234, os === 16 ? 0x5678 : 0x12345678);
    case "Ob": return memRef(1, { disp: bits === 16 ? 0x1234 : 0x12345678 });
    case "Ov": return memRef(os === 16 ? 2 : 4, { disp: bits === 16 ? 0x1234 : 0x12345678 });
    default: return dl;
  }
}

/** Every selectable row in `bits`-bit mode; `addrOf(k)` gives the address sample k will be placed at. */
export function samplesFor(bits: 16 | 32, addrOf: (k: number) => number): Sample[] {
  const out: Sample[] = [];
  for (const row of ISA) {
    if (row.noAsm) continue;
    // MOV Sreg, r/m ignores the operand size (no 66 prefix is ever needed).
    const sizeless = row.exec === "movToSeg";
    const osList: (16 | 32)[] = row.osize ? [row.osize] : row.operands.includes("Zd") ? [32]
      : !sizeless && (STORE_EW.has(row.mnemonic) || row.operands.some((s) => OS_SPECS.has(s))) ? [16, 32] : [bits];
    const hasE = row.operands.some((s) => E_SPECS.has(s));
    for (const os of osList) {
      for (const memVariant of hasE ? [false, true] : [false]) {
        // MOV r/m16, Sreg: the memory form is a word at any operand size, so only the default size.
        if (memVariant && (row.exec === "movFromSeg" || STORE_EW.has(row.mnemonic)) && os !== bits) continue;
        const prefixes: Sample["prefix"][] = [undefined];
        if (row.rep) prefixes.push(row.rep === "repe" ? "repne" : "rep");
        if (row.lockable && (memVariant || !hasE)) prefixes.push("lock");
        for (const prefix of prefixes) {
          const ops = row.operands.map((s) => sample(s, os, bits, memVariant, row, addrOf(out.length)));
          out.push({ row, bits, os, mnemonic: row.mnemonic, ops: ops as Operand[], prefix, force: FAR_BRANCH(row) });
        }
      }
    }
  }
  return out;
}

/** `mov cx/ecx, [mem]` over every ModRM/SIB addressing form (SDM Vol. 2 Tables 2-1, 2-2, 2-3). */
export interface AddrSample {
  bits: 16 | 32;
  mem: MemOperand;
}

const R32 = [eax, ecx, edx, ebx, esp, ebp, esi, edi];
const DISPS32 = [0, 0x7f, -0x80, 0x80, -0x81, 0x12345678];
const DISPS16 = [0, 0x7f, -0x80, 0x80, 0x1234, -0x1234];

export function addressingSamples(bits: 16 | 32): AddrSample[] {
  const out: AddrSample[] = [];
  const add = (size: 2 | 4, s: MemSpec) => out.push({ bits, mem: memRef(size, s) });
  if (bits === 32) {
    for (const base of [undefined, ...R32]) {
      for (const index of [undefined, ...R32.filter((r) => r !== esp)]) {
        for (const scale of index ? ([1, 2, 4, 8] as const) : ([1] as const)) {
          for (const disp of DISPS32) add(4, { base, index, scale, disp });
        }
      }
    }
    // An unscaled ESP "index" is encodable only as the base; segment overrides; 16-bit addressing (67).
    for (const disp of [0, 8]) add(4, { base: eax, index: esp, disp });
    for (const seg of [es, cs, ss, ds, fs, gs]) add(4, { seg, base: ebx, disp: 4 });
    add(4, { seg: fs, disp: 0x10 });
    for (const disp of [0, 0x10, 0x1234]) {
      add(4, { base: bx, index: si, disp });
      add(4, { base: bp, disp });
      add(4, { base: di, disp });
    }
  } else {
    for (const base of [undefined, bx, bp]) {
      for (const index of [undefined, si, di]) {
        for (const disp of DISPS16) add(2, { base, index, disp });
      }
    }
    add(2, { base: si, index: bx, disp: 2 });
    for (const seg of [es, ss, fs, gs]) add(2, { seg, base: bx, index: si, disp: 4 });
    for (const disp of [0, 0x10, 0x12345678]) {
      add(2, { base: ebx, disp });
      add(2, { base: ebp, disp });
      add(2, { base: esp, disp });
      add(2, { index: esi, scale: 4, disp });
      add(2, { base: eax, index: ebx, scale: 2, disp });
    }
  }
  return out;
}
