/**
 * Lazy arithmetic flags (SDM Vol. 1 3.4.3.1, Appendix A "EFLAGS Cross-Reference").
 *
 * The hot arithmetic instructions (ADD ADC SUB SBB CMP NEG INC DEC AND OR XOR TEST) do not compute
 * CF PF AF ZF SF OF; they record the operation, its operands and its result. A flag is computed only
 * when something reads it (Jcc, SETcc, CMOVcc, ADC, PUSHF ...). Everything else sets flags eagerly
 * through setArith().
 *
 * Undefined flags follow current Intel hardware where that is cheap: AND/OR/XOR/TEST clear AF.
 */
import { ARITH_FLAGS, Eflags } from "./registers.ts";

/** The flag-producing operation recorded in FlagState.fop. */
export const enum FlagOp { NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7 }

export interface FlagState {
  /** EFLAGS; its arithmetic bits are stale while fop !== NONE. */
  eflags: number;
  fop: number;
  /** Operands and result of the recorded operation (not masked to its size). */
  fa: number;
  fb: number;
  fres: number;
  /** Mask of the operation size (0xFF, 0xFFFF, 0xFFFFFFFF) and its sign bit. */
  fmask: number;
  fsign: number;
  /** Carry-in of ADC/SBB, or the preserved CF of INC/DEC. */
  fcf: number;
}

/** Parity flag lookup: 1 when the low byte has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) ^ 1;
}

export const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;
export const SIZE_SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0] as const;

export function getCF(f: FlagState): number {
  const m = f.fmask;
  switch (f.fop) {
    case FlagOp.NONE:
      return f.eflags & 1;
    case FlagOp.ADD:
      return ((f.fres & m) >>> 0) < ((f.fa & m) >>> 0) ? 1 : 0;
    case FlagOp.ADC:
      return f.fcf ? (((f.fres & m) >>> 0) <= ((f.fa & m) >>> 0) ? 1 : 0) : ((f.fres & m) >>> 0) < ((f.fa & m) >>> 0) ? 1 : 0;
    case FlagOp.SUB:
      return ((f.fa & m) >>> 0) < ((f.fb & m) >>> 0) ? 1 : 0;
    case FlagOp.SBB:
      return f.fcf ? (((f.fa & m) >>> 0) <= ((f.fb & m) >>> 0) ? 1 : 0) : ((f.fa & m) >>> 0) < ((f.fb & m) >>> 0) ? 1 : 0;
    case FlagOp.LOGIC:
      return 0;
    default: // INC, DEC
      return f.fcf;
  }
}

export function getZF(f: FlagState): number {
  return f.fop === FlagOp.NONE ? (f.eflags >> 6) & 1 : (f.fres & f.fmask) === 0 ? 1 : 0;
}

export function getSF(f: FlagState): number {
  return f.fop === FlagOp.NONE ? (f.eflags >> 7) & 1 : (f.fres & f.fsign) !== 0 ? 1 : 0;
}

export function getPF(f: FlagState): number {
  return f.fop === FlagOp.NONE ? (f.eflags >> 2) & 1 : PARITY[f.fres & 0xff];
}

export function getAF(f: FlagState): number {
  switch (f.fop) {
    case FlagOp.NONE:
      return (f.eflags >> 4) & 1;
    case FlagOp.LOGIC:
      return 0;
    default:
      return ((f.fa ^ f.fb ^ f.fres) >> 4) & 1;
  }
}

export function getOF(f: FlagState): number {
  const s = f.fsign;
  switch (f.fop) {
    case FlagOp.NONE:
      return (f.eflags >> 11) & 1;
    case FlagOp.ADD:
    case FlagOp.ADC:
    case FlagOp.INC:
      return ((f.fa ^ f.fres) & (f.fb ^ f.fres) & s) !== 0 ? 1 : 0;
    case FlagOp.SUB:
    case FlagOp.SBB:
    case FlagOp.DEC:
      return ((f.fa ^ f.fb) & (f.fa ^ f.fres) & s) !== 0 ? 1 : 0;
    default:
      return 0;
  }
}

/** Bring the arithmetic flags into eflags and drop the lazy record. Returns the complete EFLAGS. */
export function materialize(f: FlagState): number {
  if (f.fop !== FlagOp.NONE) {
    const bits =
      getCF(f) | (getPF(f) << 2) | (getAF(f) << 4) | (getZF(f) << 6) | (getSF(f) << 7) | (getOF(f) << 11);
    f.eflags = (f.eflags & ~ARITH_FLAGS) | bits;
    f.fop = FlagOp.NONE;
  }
  return f.eflags;
}

/** Set the arithmetic flags selected by `mask` to the corresponding bits of `bits`, eagerly. */
export function setArith(f: FlagState, mask: number, bits: number): void {
  const e = materialize(f);
  f.eflags = (e & ~mask) | (bits & mask);
}

/** SF, ZF and PF of a result of the given size, as EFLAGS bits. */
export function szp(res: number, size: number): number {
  const m = SIZE_MASK[size];
  return ((res & m) === 0 ? Eflags.ZF : 0) | ((res & SIZE_SIGN[size]) !== 0 ? Eflags.SF : 0) |
    (PARITY[res & 0xff] << 2);
}

/** Evaluate condition code cc (0-15, SDM Vol. 1 Table B-1). */
export function condition(f: FlagState, cc: number): boolean {
  let r: number;
  switch (cc >> 1) {
    case 0: r = getOF(f); break;
    case 1: r = getCF(f); break;
    case 2: r = getZF(f); break;
    case 3: r = getCF(f) | getZF(f); break;
    case 4: r = getSF(f); break;
    case 5: r = getPF(f); break;
    case 6: r = getSF(f) ^ getOF(f); break;
    default: r = (getSF(f) ^ getOF(f)) | getZF(f); break;
  }
  return (r ^ (cc & 1)) !== 0;
}
