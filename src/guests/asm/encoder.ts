/**
 * Form -> bytes: prefixes, opcode (with the register in the low bits for "Z" operands), ModRM, SIB,
 * displacement, then immediates in operand order (SDM Vol. 2 2.1, Figure 2-1 instruction format).
 * A label-dependent value that does not fit its field (rel8 out of range, a 16-bit address above 64 KiB)
 * is reported as a `problem`, so the caller can try a longer form.
 * Leaves out: nothing of the table; which form to use is decided elsewhere (forms.ts, asm.ts).
 */
import { rowNeedsModrm, type OperandSpec } from "../../cpu/isa/index.ts";
import { fitsBits, toSigned } from "./addressing.ts";
import type { Form } from "./forms.ts";
import { isFar, isLabel, isMem, isReg } from "./operand-match.ts";
import type { LabelRef, Operand } from "./operands.ts";

export type Resolve = (l: LabelRef) => number;

export interface Encoded {
  bytes: number[];
  /** Why this form cannot be used with the current label values. */
  problem?: string;
}

const REG_FIELD = new Set<OperandSpec>(["Gb", "Gw", "Gd", "Gv", "Sw", "Cd", "Dd"]);
const RM_FIELD = new Set<OperandSpec>([
  "Eb", "Ew", "Ed", "Ev", "M", "Mb", "Mw", "Md", "Mv", "Mp", "Ma", "Ms", "Mq", "Mo", "Rd",
]);

function le(out: number[], v: number, size: number): void {
  for (let k = 0; k < size; k++) out.push(Math.floor(v / 2 ** (8 * k)) & 0xff);
}

interface State {
  resolve: Resolve;
  problem: string | undefined;
}

/** A number or label value for a `bits`-wide field; records a problem when it does not fit. */
function value(st: State, o: number | LabelRef, bits: number, what: string): number {
  const v = typeof o === "number" ? o : st.resolve(o);
  if (!fitsBits(v, bits)) st.problem ??= `${what} ${typeof o === "number" ? o : labelName(o)} = ${v} out of range for ${bits} bits`;
  return v;
}

/** Encode `f` placed at absolute address `addr`. With `resolve` returning 0 it gives the exact length. */
export function encodeForm(f: Form, addr: number, resolve: Resolve): Encoded {
  const { row, ops, os } = f;
  const out = [...f.prefix];
  const st: State = { resolve, problem: undefined };
  const opcode = [...row.opcode];
  const z = row.operands.findIndex((s) => s[0] === "Z");
  if (z >= 0) opcode[opcode.length - 1] += (ops[z] as { num: number }).num;
  out.push(...opcode);
  if (rowNeedsModrm(row)) {
    if (row.modrmByte !== undefined) out.push(row.modrmByte);
    else {
      const g = row.operands.findIndex((s) => REG_FIELD.has(s));
      const reg = row.ext ?? (g >= 0 ? (ops[g] as { num: number }).num : 0);
      const e = row.operands.findIndex((s) => RM_FIELD.has(s));
      const rmOp = ops[e];
      if (isReg(rmOp)) out.push(0xc0 | (reg << 3) | rmOp.num);
      else if (f.mem) {
        const m = f.mem;
        out.push((m.mod << 6) | (reg << 3) | m.rm);
        if (m.sib >= 0) out.push(m.sib);
        if (m.dispSize) le(out, value(st, m.disp, m.dispSize * 8, "displacement"), m.dispSize);
      }
    }
  }
  for (let k = 0; k < ops.length; k++) {
    const spec = row.operands[k];
    const op = ops[k] as Operand;
    switch (spec) {
      case "Ib": le(out, value(st, op as number | LabelRef, 8, "immediate"), 1); break;
      case "Ibs": {
        // Sign-extended to the operand size: 0xFFFFFFFF is -1 for a 32-bit operation (NASM agrees).
        const v = toSigned(value(st, op as number | LabelRef, os, "immediate"), os);
        if (v < -128 || v > 127) st.problem ??= `immediate ${v} does not fit a sign-extended byte`;
        le(out, v, 1);
        break;
      }
      case "Iw": le(out, value(st, op as number | LabelRef, 16, "immediate"), 2); break;
      case "Id": le(out, value(st, op as number | LabelRef, 32, "immediate"), 4); break;
      case "Iv": le(out, value(st, op as number | LabelRef, os, "immediate"), os / 8); break;
      case "Jb": case "Jv": {
        const size = spec === "Jb" ? 1 : os / 8;
        const target = typeof op === "number" ? op : resolve(op as LabelRef);
        const rel = target - (addr + f.len);
        if (size === 1 && (rel < -128 || rel > 127)) st.problem ??= `jump target out of rel8 range (${rel})`;
        le(out, rel, size);
        break;
      }
      case "Ap":
        if (isFar(op)) {
          le(out, value(st, op.offset, os, "far offset"), os / 8);
          le(out, op.sel, 2);
        }
        break;
      case "Ob": case "Ov":
        if (isMem(op)) le(out, value(st, op.disp, f.as, "address"), f.as / 8);
        break;
      default:
        break;
    }
  }
  return { bytes: out, problem: st.problem };
}

/** Exact encoded length of `f`, without encoding it (label values never change a form's length). */
export function formLength(f: Form): number {
  const { row, os } = f;
  let n = f.prefix.length + row.opcode.length;
  if (rowNeedsModrm(row)) {
    n += 1;
    if (f.mem && row.modrmByte === undefined && !f.ops.some((o, k) => isReg(o) && RM_FIELD.has(row.operands[k]))) {
      n += (f.mem.sib >= 0 ? 1 : 0) + f.mem.dispSize;
    }
  }
  for (const spec of row.operands) {
    switch (spec) {
      case "Ib": case "Ibs": case "Jb": n += 1; break;
      case "Iw": n += 2; break;
      case "Id": n += 4; break;
      case "Iv": case "Jv": n += os / 8; break;
      case "Ap": n += os / 8 + 2; break;
      case "Ob": case "Ov": n += f.as / 8; break;
      default: break;
    }
  }
  return n;
}

/** Whether the form's bytes (and validity) depend on label values or on its own address. */
export function dependsOnLabels(f: Form): boolean {
  return f.row.operands.some((s) => s === "Jb" || s === "Jv") || f.ops.some((o) =>
    isLabel(o) || (isMem(o) && typeof o.disp !== "number") || (isFar(o) && typeof o.offset !== "number"));
}

function labelName(l: LabelRef): string {
  return isLabel(l) && typeof l !== "string" ? `${l.label}${l.add >= 0 ? "+" : ""}${l.add}` : String(l);
}
