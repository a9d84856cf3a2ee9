/**
 * IA-32 instruction decoder, derived entirely from the opcode table (src/cpu/isa).
 *
 * Follows SDM Vol. 2 chapter 2: legacy prefixes (2.1.1; groups 1-4, any order, the last of a group
 * wins), one- and two-byte opcodes (0F map), ModRM and SIB with every 16- and 32-bit addressing form
 * (Tables 2-1, 2-2, 2-3), displacements and immediates of every size. The code segment's D bit gives the
 * default operand and address size; 66/67 toggle them. An instruction longer than 15 bytes raises #GP(0)
 * (SDM Vol. 2 2.3.11); an encoding with no table row, a LOCK prefix on an instruction or form that does
 * not accept it, or a register form where only memory is allowed raise #UD (SDM Vol. 3A 6.15, int 6).
 *
 * Decoding never throws because of the instruction bytes: an undecodable sequence yields an Insn whose
 * handler raises the exception when (and only if) it is executed. Fetch faults are the caller's.
 */
import { ISA, rowNeedsModrm } from "./isa/index.ts";
import type { IsaRow, OperandSpec } from "./isa/types.ts";
import { Insn, type ExecFn } from "./insn.ts";
import { Seg, ZERO_REG } from "./registers.ts";
import { fault, Vector } from "./exceptions.ts";
import type { CoreState } from "./core-state.ts";
import { memOperandSize, writesMemOperand } from "./memory-operand.ts";

/** Returns the handler for a decoded instruction (the executor's factory registry). */
export type HandlerSelector = (i: Insn, row: IsaRow) => ExecFn;

interface DecodeEntry {
  modrm: boolean;
  rows: IsaRow[];
}

const MAX_INSN_LEN = 15;

const udHandler: ExecFn = () => fault(Vector.UD);
const gpHandler: ExecFn = () => fault(Vector.GP, 0);

/** Opcode maps: index 0-255 one-byte opcodes, 256-511 the 0F two-byte map, 512-767 the 0F 38 map. */
function buildMaps(): (DecodeEntry | undefined)[] {
  const map: (DecodeEntry | undefined)[] = new Array(768).fill(undefined);
  const add = (key: number, r: IsaRow) => {
    const e = (map[key] ??= { modrm: rowNeedsModrm(r), rows: [] });
    if (e.modrm !== rowNeedsModrm(r)) throw new Error(`opcode table: ModRM use differs at ${key.toString(16)}`);
    e.rows.push(r);
  };
  for (const r of ISA) {
    const key = r.opcode.length === 1 ? r.opcode[0] : r.opcode.length === 2 ? 256 + r.opcode[1] : 512 + r.opcode[2];
    if (r.opcode.length >= 2 && r.opcode[0] !== 0x0f) throw new Error("opcode table: multi-byte opcode must start 0F");
    if (r.opcode.length === 3 && r.opcode[1] !== 0x38) throw new Error("opcode table: 3-byte opcode must start 0F 38");
    const z = r.operands.some((o) => o[0] === "Z");
    if (z) for (let k = 0; k < 8; k++) add(key + k, r);
    else add(key, r);
  }
  // The most specific rows first: fixed ModRM byte, mandatory prefix, a fixed opcode before an
  // opcode-plus-register family (90 = NOP before XCHG eAX,eAX), then the rest in table order.
  for (const e of map) {
    if (!e) continue;
    const rank = (r: IsaRow) =>
      r.modrmByte !== undefined ? 0 : r.mandatoryPrefix !== undefined ? 1 : r.operands.some((o) => o[0] === "Z") ? 3 : 2;
    e.rows.sort((a, b) => rank(a) - rank(b));
  }
  return map;
}

const MAPS = buildMaps();

/** Operands that never give the operation size: immediates, ports, shift counts, branch offsets. */
const NOT_SIZING = new Set<OperandSpec>(["Ib", "Ibs", "Iw", "Id", "Iv", "DX", "CL", "1", "Jb", "Jv", "Ap"]);

/** The operation size: that of the first operand that is data (byte rows give 1). */
function operationSize(row: IsaRow, opsize: number): number {
  if (row.exec === "movs" || row.exec === "stos" || row.exec === "lods" || row.exec === "cmps" ||
      row.exec === "scas" || row.exec === "ins" || row.exec === "outs") {
    return row.param ?? opsize;
  }
  for (const o of row.operands) if (!NOT_SIZING.has(o)) return specSize(o, opsize);
  return opsize;
}

function isMemOnly(spec: OperandSpec): boolean {
  return spec[0] === "M";
}

function specSize(spec: OperandSpec, opsize: number): number {
  switch (spec) {
    case "Eb": case "Gb": case "Ib": case "Jb": case "Ob": case "Zb": case "AL": case "CL": case "Mb":
    case "Xb": case "Yb":
      return 1;
    case "Ew": case "Gw": case "Iw": case "AX": case "Sw": case "Mw":
      return 2;
    case "Ed": case "Gd": case "Id": case "Zd": case "Md": case "Cd": case "Dd": case "Rd":
      return 4;
    default:
      return opsize;
  }
}

export class Decoder {
  constructor(private readonly select: HandlerSelector) {}

  /**
   * Decode the instruction at offset `eip` of the code segment whose linear base is `csBase`.
   * `code32` is the CS D bit, `csLimit` the CS limit: an instruction with a byte beyond it raises #GP(0)
   * when executed (SDM Vol. 3A 5.3). Bytes are read with c.fetchCodeByte (fetch faults propagate to the caller).
   */
  decode(c: CoreState, csBase: number, eip: number, code32: boolean, csLimit = 0xffffffff): Insn {
    const i = new Insn(udHandler);
    i.eip = eip;
    const ipMask = code32 ? -1 : 0xffff;
    let pos = eip;
    let len = 0;
    const next = (): number => {
      if (len >= MAX_INSN_LEN) throw TOO_LONG;
      if (pos >>> 0 > csLimit) throw TOO_LONG; // beyond the CS limit: #GP(0) too (SDM Vol. 3A 5.3)
      const b = c.fetchCodeByte((csBase + pos) | 0);
      pos = (pos + 1) & ipMask;
      len++;
      return b;
    };
    try {
      this.decodeInto(i, next, code32);
    } catch (e) {
      if (e !== TOO_LONG) throw e;
      i.exec = gpHandler;
      i.row = null;
    }
    i.len = len;
    i.nextEip = pos;
    finishBranchTarget(i);
    return i;
  }

  private decodeInto(i: Insn, next: () => number, code32: boolean): void {
    let opsize = code32 ? 4 : 2;
    let a16 = !code32;
    let seg = -1;
    let rep = 0;
    let lock = false;
    let p66 = false;
    let b: number;
    for (;;) {
      b = next();
      if (b === 0x66) {
        opsize = code32 ? 2 : 4;
        p66 = true;
      }
      else if (b === 0x67) a16 = code32;
      else if (b === 0xf0) lock = true;
      else if (b === 0xf3) rep = 1;
      else if (b === 0xf2) rep = 2;
      else if (b === 0x26) seg = Seg.ES;
      else if (b === 0x2e) seg = Seg.CS;
      else if (b === 0x36) seg = Seg.SS;
      else if (b === 0x3e) seg = Seg.DS;
      else if (b === 0x64) seg = Seg.FS;
      else if (b === 0x65) seg = Seg.GS;
      else break;
    }
    let key = b;
    if (b === 0x0f) {
      const b2 = next();
      key = b2 === 0x38 ? 512 + next() : 256 + b2;
    }
    i.opsize = opsize;
    i.a16 = a16;
    i.rep = rep;
    i.lock = lock;
    const entry = MAPS[key];
    if (!entry) return; // #UD
    let modrm = -1;
    if (entry.modrm) modrm = next();
    const mod = modrm >> 6;
    const regField = (modrm >> 3) & 7;
    const osBits = opsize * 8;
    const asBits = a16 ? 16 : 32;
    let row: IsaRow | undefined;
    for (const r of entry.rows) {
      if (r.ext !== undefined && r.ext !== regField) continue;
      if (r.modrmByte !== undefined && r.modrmByte !== modrm) continue;
      if (r.mod === "reg" && mod !== 3) continue;
      if (r.mod === "mem" && mod === 3) continue;
      if (r.osize !== undefined && r.osize !== osBits) continue;
      if (r.asize !== undefined && r.asize !== asBits) continue;
      if (r.mandatoryPrefix === 0xf3 && rep !== 1) continue;
      if (r.mandatoryPrefix === 0x66 && !p66) continue;
      if (mod === 3 && r.operands.some(isMemOnly)) continue;
      if (regField > 5 && r.operands.includes("Sw")) continue; // no segment register 6 or 7
      row = r;
      break;
    }
    if (!row) {
      // Consume what a register-form-less encoding would carry, so the length is still sensible.
      if (entry.modrm && mod !== 3) this.decodeModrm(i, modrm, next, a16, seg);
      return; // #UD
    }
    if (row.mandatoryPrefix === 0xf3) i.rep = 0;
    if (row.mandatoryPrefix === 0x66) {
      // A mandatory 66 selects the instruction; it does not change the operand size.
      opsize = code32 ? 4 : 2;
      i.opsize = opsize;
    }
    i.row = row;
    i.param = row.param ?? 0;
    i.osize = operationSize(row, opsize);
    if (seg >= 0) {
      i.seg = seg;
      i.segOverride = true;
    }
    if (entry.modrm) {
      i.reg = regField;
      if (row.operands.some((o) => o === "Rd")) i.rm = modrm & 7; // MOV CR/DR: mod is ignored
      else if (mod === 3) i.rm = modrm & 7;
      else this.decodeModrm(i, modrm, next, a16, seg);
    }
    const low = key & 7;
    let immIdx = 0;
    for (const spec of row.operands) {
      switch (spec) {
        case "Zb": case "Zv": case "Zd":
          i.reg = low;
          break;
        case "Ib": case "Ibs": case "Iw": case "Id": case "Iv": {
          const size = spec === "Ib" || spec === "Ibs" ? 1 : spec === "Iw" ? 2 : spec === "Id" ? 4 : opsize;
          let v = readLE(next, size);
          if (spec === "Ibs") v = (v << 24) >> 24;
          if (immIdx++ === 0) i.imm = v;
          else i.imm2 = v;
          break;
        }
        case "Jb": case "Jv": {
          const size = spec === "Jb" ? 1 : opsize;
          let rel = readLE(next, size);
          if (size === 1) rel = (rel << 24) >> 24;
          else if (size === 2) rel = (rel << 16) >> 16;
          i.imm = rel; // made absolute below, once the length is known
          break;
        }
        case "Ap":
          i.imm = readLE(next, opsize);
          i.imm2 = readLE(next, 2);
          break;
        case "Ob": case "Ov":
          i.disp = readLE(next, a16 ? 2 : 4);
          i.base = ZERO_REG;
          i.index = ZERO_REG;
          if (seg < 0) i.seg = Seg.DS;
          break;
        default:
          break;
      }
    }
    if (row.lockable !== true || i.rm >= 0) {
      if (lock) return; // LOCK on a non-lockable instruction or register destination: #UD
    }
    if (i.rm < 0) {
      i.msize = memOperandSize(row, opsize);
      i.mwrite = i.msize !== 0 && writesMemOperand(row);
    }
    i.cost = 1;
    i.exec = this.select(i, row);
  }

  private decodeModrm(i: Insn, modrm: number, next: () => number, a16: boolean, seg: number): void {
    const mod = modrm >> 6;
    const rm = modrm & 7;
    let defSeg = Seg.DS;
    if (a16) {
      // SDM Vol. 2 Table 2-1
      const BASE16 = [3, 3, 5, 5, ZERO_REG, ZERO_REG, 5, 3];
      const INDEX16 = [6, 7, 6, 7, 6, 7, ZERO_REG, ZERO_REG];
      if (mod === 0 && rm === 6) {
        i.base = ZERO_REG;
        i.index = ZERO_REG;
        i.disp = readLE(next, 2);
      } else {
        i.base = BASE16[rm];
        i.index = INDEX16[rm];
        if (rm === 2 || rm === 3 || rm === 6) defSeg = Seg.SS;
        i.disp = mod === 1 ? (readLE(next, 1) << 24) >> 24 : mod === 2 ? readLE(next, 2) : 0;
      }
      i.scale = 0;
    } else {
      // SDM Vol. 2 Tables 2-2 and 2-3
      if (rm === 4) {
        const sib = next();
        const ss = sib >> 6;
        const idx = (sib >> 3) & 7;
        const base = sib & 7;
        i.index = idx === 4 ? ZERO_REG : idx;
        i.scale = idx === 4 ? 0 : ss;
        if (base === 5 && mod === 0) {
          i.base = ZERO_REG;
          i.disp = readLE(next, 4);
        } else {
          i.base = base;
          if (base === 4 || base === 5) defSeg = Seg.SS;
        }
      } else if (rm === 5 && mod === 0) {
        i.base = ZERO_REG;
        i.index = ZERO_REG;
        i.disp = readLE(next, 4);
      } else {
        i.base = rm;
        i.index = ZERO_REG;
        if (rm === 5) defSeg = Seg.SS;
      }
      if (mod === 1) i.disp = (readLE(next, 1) << 24) >> 24;
      else if (mod === 2) i.disp = readLE(next, 4);
    }
    i.seg = seg >= 0 ? seg : defSeg;
    i.rm = -1;
  }
}

/** Thrown internally when an instruction exceeds 15 bytes. */
const TOO_LONG = { tooLong: true };

function readLE(next: () => number, size: number): number {
  if (size === 1) return next();
  if (size === 2) {
    const lo = next();
    return lo | (next() << 8);
  }
  const b0 = next();
  const b1 = next();
  const b2 = next();
  return b0 | (b1 << 8) | (b2 << 16) | (next() << 24);
}

/** Make relative branch targets absolute once the instruction length is known. */
export function finishBranchTarget(i: Insn): void {
  const row = i.row;
  if (!row) return;
  if (row.operands[0] === "Jb" || row.operands[0] === "Jv") {
    i.imm = i.opsize === 2 ? (i.nextEip + i.imm) & 0xffff : (i.nextEip + i.imm) | 0;
  }
}
