/**
 * Does one actual operand fit one operand specifier of the opcode table (SDM Vol. 2 Appendix A.2
 * notation, see src/cpu/isa/types.ts)? Answers what the fit implies: the operand size it pins (a 16- or
 * 32-bit register in a "v" slot) and the memory size the slot stands for.
 *
 * Deviations from the plain notation, all where NASM and the SDM agree:
 * - MOV to/from a segment register: the memory form is always 16 bits and takes no 66 prefix; the
 *   register of MOV Sreg, r/m may be 16 or 32 bits without a prefix (SDM MOV, "Move to/from Sreg").
 * - SLDT/STR/SMSW with a register destination follow the operand size (66 for a 16-bit register).
 * - LAR/LSL accept a 32-bit source register for their r/m16 operand.
 * - A far pointer in memory (Mp) of JMP/CALL needs an explicit size (fword = m16:32, dword = m16:16
 *   only with o16()); an unsized [mem] is the near indirect form, as in NASM.
 * Leaves out: the string-operand specifiers (X/Y), which no row uses.
 */
import type { IsaRow, OperandSpec } from "../../cpu/isa/index.ts";
import type { FarOperand, LabelRef, MemOperand, Operand, RegOperand } from "./operands.ts";

/** How far a row got before failing: wrong kind of operand < wrong size < value out of range. */
export const enum Stage { TYPE = 0, SIZE = 1, RANGE = 2 }

export interface Fail {
  stage: Stage;
  msg: string;
}

/** What a fitting operand implies. memSize: bytes, "os" (operand size), "os+2" (far ptr), "2os" (BOUND), "any". */
export interface Fit {
  pin?: 16 | 32;
  memSize?: number | "os" | "os+2" | "2os" | "any";
}

export const isReg = (o: Operand): o is RegOperand => typeof o === "object" && (o as RegOperand).kind === "reg";
export const isMem = (o: Operand): o is MemOperand => typeof o === "object" && (o as MemOperand).kind === "mem";
export const isFar = (o: Operand): o is FarOperand => typeof o === "object" && (o as FarOperand).kind === "far";
export const isLabel = (o: Operand): o is LabelRef =>
  typeof o === "string" || (typeof o === "object" && o !== null && "label" in o);

const STORE_EW = new Set(["sldt", "str", "smsw"]);
const LAR_LSL = new Set(["lar", "lsl"]);
/** Mnemonics whose unsized memory operand takes the default operand size (NASM: near indirect). */
export const DEFAULT_SIZE_MEM = new Set(["jmp", "call"]);

const typeFail = (msg = ""): Fail => ({ stage: Stage.TYPE, msg });
const sizeFail = (msg = ""): Fail => ({ stage: Stage.SIZE, msg });

function gpr(op: Operand, types: readonly string[], pin = false): Fit | Fail {
  if (!isReg(op)) return typeFail();
  if (!types.includes(op.type)) {
    return op.type === "r8" || op.type === "r16" || op.type === "r32" ? sizeFail() : typeFail();
  }
  if (!pin) return {};
  return { pin: op.type === "r16" ? 16 : 32 };
}

function memFit(op: MemOperand, size: number | "os"): Fit | Fail {
  if (op.size === undefined) return { memSize: size };
  if (size === "os") {
    if (op.size === 2) return { pin: 16, memSize: "os" };
    if (op.size === 4) return { pin: 32, memSize: "os" };
    return sizeFail();
  }
  return op.size === size ? { memSize: size } : sizeFail();
}

function fixedReg(op: Operand, name: string, pin?: 16 | 32): Fit | Fail {
  if (!isReg(op)) return typeFail();
  return op.name === name ? (pin ? { pin } : {}) : typeFail();
}

/** Match operand `op` against specifier `spec` of `row`. `forced`: an explicit o16()/o32(). */
export function matchOperand(spec: OperandSpec, op: Operand, row: IsaRow, forced?: 16 | 32): Fit | Fail {
  const segRow = row.operands.includes("Sw");
  switch (spec) {
    case "Eb": return isMem(op) ? memFit(op, 1) : gpr(op, ["r8"]);
    case "Ew":
      if (isMem(op)) return memFit(op, 2);
      if (STORE_EW.has(row.mnemonic)) return gpr(op, ["r16", "r32"], true);
      return gpr(op, LAR_LSL.has(row.mnemonic) ? ["r16", "r32"] : ["r16"]);
    case "Ed": return isMem(op) ? memFit(op, 4) : gpr(op, ["r32"]);
    case "Ev":
      if (isMem(op)) return memFit(op, segRow ? 2 : "os");
      return gpr(op, ["r16", "r32"], !(segRow && row.operands[0] === "Sw"));
    case "M": return isMem(op) ? { memSize: "any" } : typeFail();
    case "Mb": return isMem(op) ? memFit(op, 1) : typeFail();
    case "Mw": return isMem(op) ? memFit(op, 2) : typeFail();
    case "Md": return isMem(op) ? memFit(op, 4) : typeFail();
    case "Mv": return isMem(op) ? memFit(op, "os") : typeFail();
    case "Mq": return isMem(op) ? memFit(op, 8) : typeFail();
    case "Mo": return isMem(op) ? memFit(op, 16) : typeFail();
    case "Ms": return isMem(op) ? memFit(op, 6) : typeFail();
    case "Mp": {
      if (!isMem(op)) return typeFail();
      const branch = DEFAULT_SIZE_MEM.has(row.mnemonic);
      if (op.size === 6) return { pin: 32, memSize: 6 };
      if (op.size === 4) return branch && forced !== 16 ? typeFail() : { pin: 16, memSize: 4 };
      if (op.size === undefined) return branch ? typeFail() : { memSize: "os+2" };
      return sizeFail();
    }
    case "Ma": {
      if (!isMem(op)) return typeFail();
      if (op.size === 8) return { pin: 32, memSize: 8 };
      if (op.size === 4) return { pin: 16, memSize: 4 };
      return op.size === undefined ? { memSize: "2os" } : sizeFail();
    }
    case "Rd": return gpr(op, ["r32"]);
    case "Gb": case "Zb": return gpr(op, ["r8"]);
    case "Gw": return gpr(op, ["r16"]);
    case "Gd": return gpr(op, ["r32"]);
    // BSWAP r32 is undefined with a 16-bit operand size: in 16-bit code it needs the 66 prefix.
    case "Zd": return gpr(op, ["r32"], true);
    case "Gv": case "Zv": return gpr(op, ["r16", "r32"], true);
    case "Sw": return isReg(op) && op.type === "sreg" ? {} : typeFail();
    case "Cd": return isReg(op) && op.type === "creg" ? {} : typeFail();
    case "Dd": return isReg(op) && op.type === "dreg" ? {} : typeFail();
    case "AL": return fixedReg(op, "al");
    case "AX": return fixedReg(op, "ax");
    case "CL": return fixedReg(op, "cl");
    case "DX": return fixedReg(op, "dx");
    case "eAX":
      if (isReg(op) && op.name === "eax") return { pin: 32 };
      return fixedReg(op, "ax", 16);
    case "ES": return fixedReg(op, "es");
    case "CS": return fixedReg(op, "cs");
    case "SS": return fixedReg(op, "ss");
    case "DS": return fixedReg(op, "ds");
    case "FS": return fixedReg(op, "fs");
    case "GS": return fixedReg(op, "gs");
    case "1": return op === 1 ? {} : typeFail();
    case "Ibs": return typeof op === "number" ? {} : typeFail();
    case "Ib": case "Iw": case "Id": case "Iv": case "Jb": case "Jv":
      return typeof op === "number" || isLabel(op) ? {} : typeFail();
    case "Ap": return isFar(op) ? {} : typeFail();
    case "Ob": case "Ov":
      if (!isMem(op) || op.base || op.index) return typeFail();
      return memFit(op, spec === "Ob" ? 1 : "os");
    default: return typeFail();
  }
}

export function isFail(x: Fit | Fail): x is Fail {
  return (x as Fail).stage !== undefined;
}
