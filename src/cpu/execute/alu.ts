/**
 * ADD OR ADC SBB AND SUB XOR CMP, TEST, INC, DEC, NOT, NEG (SDM Vol. 2 instruction pages).
 * Every (operation, size, operand form) is a separately compiled handler (codegen.ts); flags are lazy
 * (flags.ts): the handler records the operation, operands and result.
 */
import type { IsaRow } from "../isa/types.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { compile, flagSize, memRead, memWrite, regRead, regWrite } from "./codegen.ts";

/** Body computing r from a and b and recording the lazy flags; `write` tells whether r is stored. */
const ALU_BODY: readonly { body: string; write: boolean }[] = [
  { body: "const r = (a + b) | 0; c.fop = 1; c.fa = a; c.fb = b; c.fres = r;", write: true }, // ADD
  { body: "const r = a | b; c.fop = 5; c.fres = r;", write: true }, // OR
  { body: "const cf = getCF(c); const r = (a + b + cf) | 0; c.fop = 2; c.fa = a; c.fb = b; c.fres = r; c.fcf = cf;", write: true }, // ADC
  { body: "const cf = getCF(c); const r = (a - b - cf) | 0; c.fop = 4; c.fa = a; c.fb = b; c.fres = r; c.fcf = cf;", write: true }, // SBB
  { body: "const r = a & b; c.fop = 5; c.fres = r;", write: true }, // AND
  { body: "const r = (a - b) | 0; c.fop = 3; c.fa = a; c.fb = b; c.fres = r;", write: true }, // SUB
  { body: "const r = a ^ b; c.fop = 5; c.fres = r;", write: true }, // XOR
  { body: "const r = (a - b) | 0; c.fop = 3; c.fa = a; c.fb = b; c.fres = r;", write: false }, // CMP
];
const TEST_BODY = { body: "const r = a & b; c.fop = 5; c.fres = r;", write: false };

type Form = "E,G" | "G,E" | "E,I" | "A,I";

function formOf(row: IsaRow): Form {
  const [d, s] = row.operands;
  if (d === "AL" || d === "eAX") return "A,I";
  if (s[0] === "I") return "E,I";
  if (d[0] === "G") return "G,E";
  return "E,G";
}

/** Build the handler for a two-operand ALU-style instruction. */
function binary(name: string, op: { body: string; write: boolean }, i: Insn, row: IsaRow): ExecFn {
  const size = i.osize;
  const form = formOf(row);
  const fs = flagSize(size);
  const { body, write } = op;
  const mem = i.rm < 0 && form !== "A,I";
  let src: string;
  let pre = "";
  let dstRead: string;
  let dstWrite: (v: string) => string;
  switch (form) {
    case "A,I":
      dstRead = regRead(size, "0");
      dstWrite = (v) => regWrite(size, "0", v);
      src = "i.imm";
      break;
    case "E,I":
    case "E,G":
      src = form === "E,I" ? "i.imm" : regRead(size, "i.reg");
      if (mem) {
        pre = "const lin = ea(c, i);";
        dstRead = memRead(size);
        dstWrite = (v) => memWrite(size, v);
      } else {
        dstRead = regRead(size, "i.rm");
        dstWrite = (v) => regWrite(size, "i.rm", v);
      }
      break;
    case "G,E":
      dstRead = regRead(size, "i.reg");
      dstWrite = (v) => regWrite(size, "i.reg", v);
      src = mem ? memRead(size, "ea(c, i)") : regRead(size, "i.rm");
      break;
  }
  return compile(
    `${name}${size * 8}_${form.replace(",", "")}${mem ? "m" : "r"}`,
    `${pre} const a = ${dstRead}; const b = ${src}; ${body} ${fs} ${write ? dstWrite("r") : ""}`,
  );
}

/** Unary forms on Eb/Ev or the opcode register (Zv): INC, DEC, NOT, NEG. */
function unary(name: string, body: string, i: Insn, row: IsaRow, setsFlags = true): ExecFn {
  const size = i.osize;
  const z = row.operands[0][0] === "Z";
  const mem = !z && i.rm < 0;
  const reg = z ? "i.reg" : "i.rm";
  const read = mem ? memRead(size) : regRead(size, reg);
  const write = mem ? memWrite(size, "r") : regWrite(size, reg, "r");
  return compile(
    `${name}${size * 8}${mem ? "m" : "r"}`,
    `${mem ? "const lin = ea(c, i);" : ""} const a = ${read}; ${body} ${setsFlags ? flagSize(size) : ""} ${write}`,
  );
}

export const ALU_EXEC: ExecTable = {
  alu: (i, row) => binary(["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"][i.param], ALU_BODY[i.param], i, row),
  test: (i, row) => binary("test", TEST_BODY, i, row),
  incdec: (i, row) =>
    unary(
      i.param === 0 ? "inc" : "dec",
      `const cf = getCF(c); const r = (a ${i.param === 0 ? "+" : "-"} 1) | 0; c.fop = ${i.param === 0 ? 6 : 7}; c.fa = a; c.fb = 1; c.fres = r; c.fcf = cf;`,
      i,
      row,
    ),
  not: (i, row) => unary("not", "const r = ~a;", i, row, false),
  neg: (i, row) => unary("neg", "const r = (0 - a) | 0; c.fop = 3; c.fa = 0; c.fb = a; c.fres = r;", i, row),
};
