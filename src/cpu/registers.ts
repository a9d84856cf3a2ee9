/**
 * Register numbering as the SDM encodes it (Vol. 2 Table 2-1/2-2 for general registers, Vol. 3A 3.4.2
 * for segment registers) and the layout of the core's register file.
 */

/** General-purpose register numbers (ModRM.reg / ModRM.rm / opcode low bits encoding). */
export const enum Reg { EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7 }

/** Index of the always-zero slot in the register file: addressing forms without base or index use it. */
export const ZERO_REG = 8;

/** Segment register numbers (ModRM.reg encoding of Sreg, SDM Vol. 2 3.1.1.1). */
export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }

export const REG32_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;
export const REG16_NAMES = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"] as const;
export const REG8_NAMES = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"] as const;
export const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs"] as const;

/** EFLAGS bits (SDM Vol. 1 3.4.3). */
export const enum Eflags {
  CF = 1 << 0, FIXED1 = 1 << 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8,
  IF = 1 << 9, DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17,
  AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21,
}

export const ARITH_FLAGS = Eflags.CF | Eflags.PF | Eflags.AF | Eflags.ZF | Eflags.SF | Eflags.OF;
