/**
 * The text GNU objdump (`-M intel`) prints for a sample of asm-samples.ts, so the objdump cross-check
 * can compare whole lines. Spellings follow binutils' i386-dis.c conventions: `DWORD PTR [..]`, `ds:`
 * before absolute addresses, string instructions with their implicit operands, and a `w`/`d` suffix
 * (or a renamed mnemonic: pushaw/pusha, iretw/iret) where the operand size shows nowhere else.
 */
import type { OperandSpec } from "../../src/cpu/isa/index.ts";
import type { MemOperand, Operand } from "../../src/guests/asm/operands.ts";
import type { Sample } from "./asm-samples.ts";

const SIZE = { 1: "BYTE", 2: "WORD", 4: "DWORD", 6: "FWORD", 8: "QWORD", 16: "OWORD" } as const;
const hex = (v: number) => "0x" + (v >>> 0).toString(16);

/** Mnemonics whose operand size is spelled by objdump in the name, per (mode, operand size). */
const SIZED_NAMES: Record<string, string> = {
  "pusha/32": "pushaw", "pushad/32": "pusha", "popa/32": "popaw", "popad/32": "popa",
  "pushf/32": "pushfw", "pushfd/32": "pushf", "popf/32": "popfw", "popfd/32": "popf",
  "iret/32": "iretw", "iretd/32": "iret",
  "pusha/16": "pusha", "pushad/16": "pushad", "popa/16": "popa", "popad/16": "popad",
  "pushf/16": "pushf", "pushfd/16": "pushfd", "popf/16": "popf", "popfd/16": "popfd",
  "iret/16": "iret", "iretd/16": "iretd",
};

/** Rows where objdump adds a size suffix when the operand size is not the mode's default. */
const SUFFIXED = new Set(["jmp/Jv", "call/Jv", "push/Ibs", "push/Iv", "ret/", "ret/Iw", "retf/", "retf/Iw",
  "enter/Iw,Ib", "leave/", "push/ES", "push/CS", "push/SS", "push/DS", "push/FS", "push/GS",
  "pop/ES", "pop/SS", "pop/DS", "pop/FS", "pop/GS"]);

const STRING_FORMS: Record<string, string> = {
  movs: "S es:[DI],S ds:[SI]", cmps: "S ds:[SI],S es:[DI]", stos: "S es:[DI],A", lods: "A,S ds:[SI]",
  scas: "A,S es:[DI]", ins: "S es:[DI],dx", outs: "dx,S ds:[SI]",
};

function memText(m: MemOperand, spec: OperandSpec, s: Sample): string {
  const seg = m.seg ? m.seg.name + ":" : "";
  const parts: string[] = [];
  if (m.base) parts.push(m.base.name);
  if (m.index) parts.push(`${m.index.name}${m.base?.type === "r32" || m.index.type === "r32" ? "*" + m.scale : ""}`);
  const disp = typeof m.disp === "number" ? m.disp : 0;
  let addr: string;
  if (parts.length === 0) addr = `${seg || "ds:"}${hex(disp)}`;
  else addr = `${seg}[${parts.join("+")}${disp ? (disp < 0 ? "-" + hex(-disp) : "+" + hex(disp)) : ""}]`;
  if (spec === "Ob" || spec === "Ov") return addr;
  if (spec === "M" && s.row.mnemonic === "lea") return addr;
  if (spec === "Ms") return addr;
  const size = spec === "M" ? 1 : m.size ?? 1;
  return `${SIZE[size]} PTR ${addr}`;
}

function operandText(op: Operand, spec: OperandSpec, s: Sample): string {
  if (spec === "1") return "1";
  if (typeof op === "number") return hex(spec === "Jv" && s.os === 16 ? op & 0xffff : op);
  if (typeof op === "string" || "label" in op) throw new Error("samples use no labels");
  if (op.kind === "reg") return op.name;
  if (op.kind === "far") return `${hex(op.sel)}:${hex(op.offset as number)}`;
  return memText(op, spec, s);
}

/** The line objdump should print for sample `s`. */
export function objdumpText(s: Sample): string {
  const row = s.row;
  const pre = s.prefix === "repne" ? "repnz " : s.prefix ? s.prefix + " " : "";
  const base = row.mnemonic.slice(0, -1);
  if (row.exec === base && STRING_FORMS[base]) {
    const sz = row.mnemonic.endsWith("b") ? 1 : row.mnemonic.endsWith("w") ? 2 : 4;
    const acc = sz === 1 ? "al" : sz === 2 ? "ax" : "eax";
    const [si, di] = s.bits === 32 ? ["esi", "edi"] : ["si", "di"];
    const ops = STRING_FORMS[base].replace("SI", si).replace("DI", di)
      .replace(/S /g, `${SIZE[sz]} PTR `).replace("A", acc);
    return `${pre}${base} ${ops}`;
  }
  if (row.mnemonic === "xlatb") return `${pre}xlat BYTE PTR ds:[${s.bits === 32 ? "ebx" : "bx"}]`;
  let name = SIZED_NAMES[`${row.mnemonic}/${s.bits}`] ?? row.mnemonic;
  if (s.os !== s.bits && SUFFIXED.has(`${row.mnemonic}/${row.operands.join(",")}`)) name += s.os === 16 ? "w" : "d";
  if (row.operands.includes("Ms")) name += s.bits === 32 ? "d" : "w";
  const ops = s.ops.map((o, k) => operandText(o, row.operands[k], s));
  // LAR/LSL print a register source at the operand size; XCHG prints the r/m operand first.
  if ((row.mnemonic === "lar" || row.mnemonic === "lsl") && !ops[1].includes("[") && s.os === 32) ops[1] = "e" + ops[1];
  if (row.mnemonic === "xchg") ops.sort();
  return `${pre}${name}${ops.length ? " " + ops.join(",") : ""}`;
}

/** objdump's line with the spacing collapsed and XCHG's (commutative) operands in sorted order. */
export function normalizeObjdump(line: string): string {
  const t = line.trim().replace(/\s+/, " ");
  const m = /^((?:lock )?xchg) (.*)$/.exec(t);
  return m ? `${m[1]} ${m[2].split(",").sort().join(",")}` : t;
}
