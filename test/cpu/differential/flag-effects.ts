/**
 * Which EFLAGS bits an executed instruction reads, defines and leaves undefined, for masking the
 * comparison with the host CPU. Static sets come from the opcode table rows (flagsRead / flagsDefined /
 * flagsUndefined, which follow the "Flags Affected" sections of the Intel SDM Vol. 2). The count-
 * dependent cases are written out here from the SDM instruction pages, since a row cannot carry them:
 *   SAL/SAR/SHL/SHR: count (masked to 5 bits) 0 affects no flag; OF is defined only for 1-bit shifts;
 *     AF undefined; CF undefined for SHL/SHR when the count is >= the operand width.
 *   ROL/ROR/RCL/RCR: masked count 0 affects no flag; CF defined; OF defined only for 1-bit rotates.
 *   SHLD/SHRD: count 0 affects no flag; count > operand width: result and flags undefined; OF defined
 *     only for 1-bit shifts; AF undefined.
 * A REP-prefixed string instruction with ECX = 0 executes no iteration and changes no flag.
 */
import { ISA } from "../../../src/cpu/isa/index.ts";
import type { InsnInfo } from "./layout.ts";

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

export interface FlagEffect {
  read: number;
  defined: number;
  undefined: number;
  /** The destination's value is undefined (SHLD/SHRD with a count above the operand width). */
  resultUndefined: boolean;
}

interface Sets {
  read: number;
  defined: number;
  undefined: number;
}

const BY_MNEMONIC = new Map<string, Sets>();
for (const r of ISA) {
  for (const m of [r.mnemonic, ...(r.aliases ?? [])]) {
    const s = BY_MNEMONIC.get(m) ?? { read: 0, defined: 0, undefined: 0 };
    s.read |= r.flagsRead ?? 0;
    s.defined |= r.flagsDefined ?? 0;
    s.undefined |= r.flagsUndefined ?? 0;
    BY_MNEMONIC.set(m, s);
  }
}

const SHIFTS = new Set(["shl", "sal", "shr", "sar"]);
const ROTATES = new Set(["rol", "ror", "rcl", "rcr"]);
const NONE: FlagEffect = { read: 0, defined: 0, undefined: 0, resultUndefined: false };

/** Mnemonic without a REP prefix, as the opcode table names it. */
function base(mnem: string): string {
  return mnem.replace(/^(rep|repe|repz|repne|repnz|lock)\s+/, "");
}

/**
 * The flag effect of `info` executed with CL = `cl` and ECX = `ecx` (for counts and REP).
 * Throws for a mnemonic the opcode table does not know (a generator bug).
 */
export function flagEffect(info: InsnInfo, cl: number, ecx: number): FlagEffect {
  const m = base(info.mnem);
  const s = BY_MNEMONIC.get(m);
  if (s === undefined) throw new Error(`flag effects: unknown mnemonic ${m}`);
  if (info.rep && ecx === 0) return NONE;
  const width = info.size * 8;
  if (SHIFTS.has(m) || ROTATES.has(m)) {
    const count = (info.count === "cl" ? cl : info.count ?? 1) & 31;
    const read = m === "rcl" || m === "rcr" ? CF : 0;
    if (count === 0) return { ...NONE, read };
    if (ROTATES.has(m)) {
      return { read, defined: CF | (count === 1 ? OF : 0), undefined: count === 1 ? 0 : OF, resultUndefined: false };
    }
    let defined = CF | PF | ZF | SF | (count === 1 ? OF : 0);
    let undef = AF | (count === 1 ? 0 : OF);
    if ((m === "shl" || m === "sal" || m === "shr") && count >= width) {
      defined &= ~CF;
      undef |= CF;
    }
    return { read, defined, undefined: undef, resultUndefined: false };
  }
  if (m === "shld" || m === "shrd") {
    const count = (info.count === "cl" ? cl : info.count ?? 0) & 31;
    if (count === 0) return NONE;
    if (count > width) return { read: 0, defined: 0, undefined: CF | PF | AF | ZF | SF | OF, resultUndefined: true };
    return {
      read: 0,
      defined: CF | PF | ZF | SF | (count === 1 ? OF : 0),
      undefined: AF | (count === 1 ? 0 : OF),
      resultUndefined: false,
    };
  }
  return { read: s.read, defined: s.defined, undefined: s.undefined, resultUndefined: false };
}

/** Static upper bound of the flags an instruction may leave undefined (for the generator). */
export function mayLeaveUndefined(mnem: string, count: number | "cl" | undefined, size: number): number {
  const m = base(mnem);
  if (SHIFTS.has(m) || ROTATES.has(m) || m === "shld" || m === "shrd") {
    const eff = (c: number) => flagEffect({ off: 0, mnem: m, size, count: c, text: "" }, c, 1).undefined;
    if (count === "cl" || count === undefined) {
      let u = 0;
      for (let c = 0; c < 32; c++) u |= eff(c);
      return u;
    }
    return eff(count);
  }
  return BY_MNEMONIC.get(m)?.undefined ?? 0;
}

/** Flags an instruction reads (static, from the table). */
export function flagsRead(mnem: string): number {
  const m = base(mnem);
  if (m === "rcl" || m === "rcr") return CF;
  return BY_MNEMONIC.get(m)?.read ?? 0;
}

/** Flags an instruction always defines whatever its operands (for the generator's static tracking). */
export function surelyDefines(mnem: string, count: number | "cl" | undefined): number {
  const m = base(mnem);
  if (SHIFTS.has(m) || ROTATES.has(m) || m === "shld" || m === "shrd") {
    if (typeof count !== "number" || (count & 31) === 0) return 0;
    return flagEffect({ off: 0, mnem: m, size: 4, count, text: "" }, count, 1).defined & ~CF;
  }
  if (/^(rep|repe|repz|repne|repnz)\s/.test(mnem)) return 0;
  return BY_MNEMONIC.get(m)?.defined ?? 0;
}

export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
