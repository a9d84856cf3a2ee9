/**
 * The shape of one row of the IA-32 opcode table: the single source from which the decoder
 * (src/cpu/decoder.ts) and the assembler (src/guests/asm) are both derived.
 *
 * Operand specifiers follow the Intel SDM Vol. 2 Appendix A.2 notation ("Ev", "Gb", "Ib" ...), with a
 * few additions for operands that the SDM writes as register names or opcode-embedded registers.
 * This module imports nothing (shared/DESIGN.md §2: cpu/isa is a leaf).
 */

/** Operand specifier (SDM Vol. 2 A.2.1 addressing method + A.2.2 operand type). */
export type OperandSpec =
  // ModRM r/m: register or memory; b = byte, w = word, d = dword, v = operand size (16/32)
  | "Eb" | "Ew" | "Ed" | "Ev"
  // ModRM r/m, memory only. M: no access (LEA, INVLPG); Mp: far pointer m16:16/32 (LDS, JMP FAR [m]);
  // Ma: two operand-size values (BOUND); Ms: 6-byte pseudo-descriptor (LGDT); Mq: 64-bit (CMPXCHG8B)
  // Mo: 128-bit (the INVEPT/INVVPID descriptor)
  | "M" | "Mb" | "Mw" | "Md" | "Mv" | "Mp" | "Ma" | "Ms" | "Mq" | "Mo"
  // ModRM r/m, register only (MOV CRn / DRn operands)
  | "Rd"
  // ModRM reg field: general register, segment register (Sw), control register (Cd), debug register (Dd)
  | "Gb" | "Gw" | "Gd" | "Gv" | "Sw" | "Cd" | "Dd"
  // Immediates: Ib/Iw/Id fixed size, Iv = operand size (SDM "Iz"), Ibs = imm8 sign-extended to operand size
  | "Ib" | "Iw" | "Id" | "Iv" | "Ibs"
  // Relative branch offsets: Jb = rel8, Jv = rel16/rel32 by operand size
  | "Jb" | "Jv"
  // Far pointer immediate ptr16:16 / ptr16:32 (JMP FAR / CALL FAR)
  | "Ap"
  // moffs: address-size offset with no ModRM (MOV AL/eAX <-> moffs)
  | "Ob" | "Ov"
  // Register encoded in the low 3 bits of the last opcode byte (40+r, 50+r, B0+r, B8+r, 0F C8+r ...)
  | "Zb" | "Zv" | "Zd"
  // Fixed registers and the constant 1 (shift by one)
  | "AL" | "AX" | "eAX" | "CL" | "DX" | "1"
  | "ES" | "CS" | "SS" | "DS" | "FS" | "GS"
  // String operands: X = DS:[eSI] (segment overridable), Y = ES:[eDI]
  | "Xb" | "Xv" | "Yb" | "Yv";

/** Instruction timing class: the key of a CPU profile's cost table (the platform issue fills in costs). */
export type TimingClass =
  | "alu" | "mov" | "load" | "store" | "lea" | "stack" | "mul" | "div" | "shift" | "bit" | "bcd"
  | "branch" | "call" | "ret" | "string" | "io" | "flag" | "nop" | "serialize" | "system" | "int"
  | "xchg" | "atomic" | "hlt" | "rdtsc"
  // VMX instructions: the class cost is their retirement; the operation's own cost comes from the profile's
  // VmxCosts (VM entry, VMREAD, VMPTRLD ...), charged by the handler.
  | "vmx";

/** Arithmetic flag bits (EFLAGS) used to describe what an instruction defines. */
export const enum FlagBit {
  CF = 1 << 0,
  PF = 1 << 2,
  AF = 1 << 4,
  ZF = 1 << 6,
  SF = 1 << 7,
  TF = 1 << 8,
  IF = 1 << 9,
  DF = 1 << 10,
  OF = 1 << 11,
}

/** How an instruction ends a decoded basic block. */
export type BlockEnd =
  | "jump" // unconditional transfer (JMP, CALL, RET, INT, IRET ...)
  | "branch" // conditional transfer (Jcc, LOOP, JCXZ)
  | "stop"; // changes state the block cache or interrupt logic depends on (HLT, STI, POPF, MOV CR, REP ...)

export interface IsaRow {
  /** Lower-case mnemonic as the SDM and objdump print it ("add", "movzx", "cmovne"). */
  mnemonic: string;
  /** Opcode bytes without prefixes. For "Z" operands, the first of the 8 opcodes (register 0). */
  opcode: readonly number[];
  /** Opcode extension in ModRM.reg ("/digit"), if any. */
  ext?: number;
  /** Operand specifiers, in Intel order (destination first). */
  operands: readonly OperandSpec[];
  /** Row exists only with this operand size (CBW vs CWDE, PUSHA vs PUSHAD, IRET vs IRETD ...). */
  osize?: 16 | 32;
  /** Row exists only with this address size (JCXZ vs JECXZ, LOOP with CX vs ECX for the assembler). */
  asize?: 16 | 32;
  /** Mandatory prefix byte that is part of the opcode (F3 90 = PAUSE). */
  mandatoryPrefix?: number;
  /** The ModRM mod field must be 3 (register form) for this row; "mem": must not be 3. */
  mod?: "reg" | "mem";
  /** Full ModRM byte fixed (0F 01 F9 = RDTSCP). */
  modrmByte?: number;
  /** Key of the executor factory (src/cpu/execute). Several rows share one (all ALU ops). */
  exec: string;
  /** Small integer parameter passed to the executor (ALU operation, condition code, shift kind ...). */
  param?: number;
  /** Timing class for the cycle-cost table. */
  cls: TimingClass;
  /** Arithmetic flags the instruction writes with SDM-defined values. */
  flagsDefined?: number;
  /** Arithmetic flags the SDM calls undefined after this instruction. */
  flagsUndefined?: number;
  /** Flags the instruction reads. */
  flagsRead?: number;
  /** Accepts a REP/REPE (F3) or REPNE (F2) prefix with a meaning. */
  rep?: "rep" | "repe";
  /** Accepts a LOCK prefix (only with a memory destination; otherwise #UD per SDM LOCK). */
  lockable?: boolean;
  /** How this instruction ends a basic block (absent: it does not). */
  end?: BlockEnd;
  /** Raises #UD in real-address mode (system instructions that need protected mode). */
  pmodeOnly?: boolean;
  /** Privileged: #GP(0) unless CPL = 0 (enforced by the system-architecture layer). */
  privileged?: boolean;
  /** The assembler never selects this row (an alternative encoding it does not prefer, e.g. 82 /r). */
  noAsm?: boolean;
  /** Mnemonic aliases accepted by the assembler (e.g. "jz" for "je", "sal" for "shl"). */
  aliases?: readonly string[];
}
