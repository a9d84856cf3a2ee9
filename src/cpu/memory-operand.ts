/**
 * What an instruction's ModRM memory operand (or moffs operand) accesses: how many bytes, and whether it
 * is written. The decoder records this in each Insn so that the effective-address calculation can apply
 * the segment checks of SDM Vol. 3A 5.3 (limit) and 5.5-5.6 (segment type: no writes through code or
 * read-only data segments, no reads through execute-only code) without every handler doing it.
 *
 * Derived from the opcode table: the memory operand is written when it is the destination (first
 * operand), except for the instructions that only read their first operand (CMP, TEST, BT, PUSH, CALL,
 * JMP, MUL/DIV, LGDT ... ). "M" operands (LEA, INVLPG) and the multi-byte NOP access no memory.
 * Handlers whose accesses go beyond one operand (BT with a register bit offset, string instructions,
 * stack operations) check their own accesses.
 */
import type { IsaRow, OperandSpec } from "./isa/types.ts";

/** Rows whose first operand is a memory source, not a destination. */
const READS_FIRST = new Set([
  "cmp", "test", "bt", "push", "call", "jmp", "mul", "imul", "div", "idiv", "lgdt", "lidt", "lldt", "ltr",
  "lmsw", "verr", "verw", "vmxon", "vmclear", "vmptrld",
]);

/** Operands that do not touch memory at all. */
const NO_ACCESS = new Set(["lea", "invlpg", "nop"]);

interface MemOperand {
  spec: OperandSpec | null;
  write: boolean;
}

const cache = new Map<IsaRow, MemOperand>();

function isMemSpec(o: OperandSpec): boolean {
  return o === "Eb" || o === "Ew" || o === "Ed" || o === "Ev" || o === "Ob" || o === "Ov" || (o[0] === "M");
}

function describe(row: IsaRow): MemOperand {
  let m = cache.get(row);
  if (m === undefined) {
    const k = row.operands.findIndex(isMemSpec);
    m = k < 0 || NO_ACCESS.has(row.mnemonic)
      ? { spec: null, write: false }
      : { spec: row.operands[k], write: k === 0 && !READS_FIRST.has(row.mnemonic) };
    cache.set(row, m);
  }
  return m;
}

/** Bytes the memory operand covers for an operand size of `opsize` bytes (0: no access). */
export function memOperandSize(row: IsaRow, opsize: number): number {
  const spec = describe(row).spec;
  // MOV to/from a segment register moves 16 bits in memory whatever the operand size (SDM Vol. 2 MOV).
  if (spec !== null && spec[0] === "E" && row.operands.includes("Sw")) return 2;
  switch (spec) {
    case null: case "M": return 0;
    case "Eb": case "Mb": case "Ob": return 1;
    case "Ew": case "Mw": return 2;
    case "Ed": case "Md": return 4;
    case "Mp": return 2 + opsize;
    case "Ma": return 2 * opsize;
    case "Ms": return 6;
    case "Mq": return 8;
    case "Mo": return 16;
    default: return opsize; // Ev, Mv, Ov
  }
}

/** Whether the instruction writes its memory operand. */
export function writesMemOperand(row: IsaRow): boolean {
  return describe(row).write;
}
