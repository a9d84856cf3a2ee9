/**
 * NASM source text for a sample of asm-samples.ts, so the NASM identity test can assemble the same
 * instructions with NASM (reference: NASM 2.x, `nasm -f bin`). NASM spells the operand size with
 * keywords (`push word 5`, `jmp near word x`, `jmp far dword [m]`), names the 16-bit forms of
 * PUSHA/POPA/PUSHF/POPF/IRET with a `w` suffix, and needs `o16`/`o32` only where nothing else shows
 * the size (RET, ENTER, LEAVE, PUSH/POP Sreg).
 */
import type { OperandSpec } from "../../src/cpu/isa/index.ts";
import type { MemOperand, Operand } from "../../src/guests/asm/operands.ts";
import type { Sample } from "./asm-samples.ts";

const SIZE_KEYWORD: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 8: "qword", 16: "oword" };
const W_SUFFIX = new Set(["pusha", "popa", "pushf", "popf", "iret"]);
const PREFIX_SIZED = new Set(["ret", "retf", "enter", "leave"]);

export const nasmNumber = (v: number) => (v < 0 ? "-0x" + (-v).toString(16) : "0x" + v.toString(16));

export function nasmMem(m: MemOperand): string {
  const parts: string[] = [];
  if (m.base) parts.push(m.base.name);
  if (m.index) parts.push(m.index.name + (m.scale !== 1 ? `*${m.scale}` : ""));
  let expr = parts.join("+");
  const d = m.disp;
  if (typeof d === "number") {
    if (d !== 0 || parts.length === 0) expr += (parts.length && d >= 0 ? "+" : "") + nasmNumber(d);
  } else {
    const name = typeof d === "string" ? d : d.label;
    const add = typeof d === "string" ? 0 : d.add;
    expr += (parts.length ? "+" : "") + name + (add ? (add > 0 ? "+" : "") + add : "");
  }
  return `[${m.seg ? m.seg.name + ":" : ""}${expr}]`;
}

function operand(op: Operand, spec: OperandSpec, s: Sample): string {
  const sizeWord = s.os === 16 ? "word" : "dword";
  const differs = s.os !== s.bits;
  if (typeof op === "number") {
    // NASM relaxes jumps to labels only; a numeric target needs the explicit distance (LOOP/JCXZ: rel8 only).
    if (spec === "Jb") return `${s.row.opcode[0] >= 0xe0 && s.row.opcode[0] <= 0xe3 ? "" : "short "}${nasmNumber(op)}`;
    if (spec === "Jv") return `near ${differs ? sizeWord + " " : ""}${nasmNumber(op)}`;
    if ((spec === "Ibs" || spec === "Iv") && s.row.mnemonic === "push" && differs) return `${sizeWord} ${nasmNumber(op)}`;
    return spec === "1" ? "1" : nasmNumber(op);
  }
  if (typeof op === "string" || "label" in op) return typeof op === "string" ? op : `${op.label}+${op.add}`;
  if (op.kind === "reg") return op.name;
  if (op.kind === "far") return `${differs ? sizeWord + " " : ""}${nasmNumber(op.sel)}:${nasmNumber(op.offset as number)}`;
  const addr = nasmMem(op);
  if (spec === "Mp" && (s.row.mnemonic === "jmp" || s.row.mnemonic === "call")) return `far ${sizeWord} ${addr}`;
  if (spec === "M" || spec === "Ms" || spec === "Ma" || spec === "Mp" || spec === "Ob" || spec === "Ov") return addr;
  // NASM takes the VMX pointer operands (m64) without a size keyword ("vmxon [m]").
  if (spec === "Mq" && s.row.mnemonic.startsWith("vm")) return addr;
  return `${SIZE_KEYWORD[op.size ?? 0] ?? ""} ${addr}`.trim();
}

/** One NASM source line for sample `s`. */
export function nasmLine(s: Sample): string {
  const row = s.row;
  let name = row.mnemonic;
  if (row.osize === 16 && W_SUFFIX.has(name)) name += "w";
  const pre: string[] = [];
  if (s.prefix) pre.push(s.prefix);
  const sregOnly = row.operands.length === 1 && /^[CDEFGS]S$/.test(row.operands[0]);
  if (s.os !== s.bits && (PREFIX_SIZED.has(name) || sregOnly)) pre.push(s.os === 16 ? "o16" : "o32");
  const ops = s.ops.map((o, k) => operand(o, row.operands[k], s));
  return `${pre.join(" ")} ${name} ${ops.join(", ")}`.trim();
}
