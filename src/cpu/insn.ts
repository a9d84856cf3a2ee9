/**
 * A decoded instruction: the decoder's output and the executor's input. Every instance has the same
 * shape (all fields initialised in the constructor, in one order) so that V8 keeps the handlers'
 * property accesses monomorphic. Operand fields follow the ModRM/SIB decoding of SDM Vol. 2 2.1.5.
 */
import type { IsaRow } from "./isa/types.ts";
import { Seg, ZERO_REG } from "./registers.ts";
import type { CoreState } from "./core-state.ts";

export type ExecFn = (c: CoreState, i: Insn) => void;

export class Insn {
  /** The handler chosen by the executor factory for this exact form (size, register or memory). */
  exec: ExecFn;
  /** Offset of the instruction in CS, of the next one, and the length (1-15). */
  eip = 0;
  nextEip = 0;
  len = 0;
  /** Operation size in bytes (1, 2 or 4): byte rows use 1, others the effective operand size. */
  osize = 4;
  /** Effective operand size of the instruction (2 or 4), even for byte rows (stack width of PUSH ...). */
  opsize = 4;
  /** 16-bit address size (ModRM 16-bit forms, SI/DI/CX for string ops, IP wrap). */
  a16 = false;
  /** ModRM.reg, the register of a Z operand, or -1. */
  reg = -1;
  /** Register number when the r/m operand is a register (ModRM.mod = 3), else -1 (memory). */
  rm = -1;
  /** Memory operand: regs[base] + (regs[index] << scale) + disp in segment seg. ZERO_REG = none. */
  base = ZERO_REG;
  index = ZERO_REG;
  scale = 0;
  disp = 0;
  seg = Seg.DS;
  /** Bytes the memory operand accesses (0: none or register form) and whether it is written: the
   * effective-address calculation checks them against the segment (memory-operand.ts). */
  msize = 0;
  mwrite = false;
  /** Whether a segment-override prefix was given (string instructions' source segment). */
  segOverride = false;
  /** First and second immediates; for Jb/Jv the absolute target offset; for Ap the offset (imm2 = selector). */
  imm = 0;
  imm2 = 0;
  /** Row parameter (ALU op, condition code ...). */
  param = 0;
  /** 0 = none, 1 = REP/REPE (F3), 2 = REPNE (F2). */
  rep = 0;
  lock = false;
  /** Static cycle cost of the instruction's timing class. */
  cost = 1;
  /** Static cost of the instructions before this one in its block: block costs are charged when the
   * block ends, so a handler reading time (RDTSC) adds this to c.cycles to see the exact cycle. */
  cyclesBefore = 0;
  /** The opcode-table row (null for an undecodable byte sequence). */
  row: IsaRow | null = null;

  constructor(exec: ExecFn) {
    this.exec = exec;
  }
}
