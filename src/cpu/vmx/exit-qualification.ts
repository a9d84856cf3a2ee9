/**
 * The VM-exit information encodings: the exit qualification (SDM Vol. 3C 27.2.1, Tables 27-1 to 27-5), the
 * VM-exit instruction-information field (27.2.5, the tables for INS/OUTS, INVEPT/INVVPID, LIDT/LGDT/SIDT/
 * SGDT, LLDT/LTR/SLDT/STR, VMCLEAR/VMPTRLD/VMPTRST/VMXON and VMREAD/VMWRITE), and the interruption-information
 * format shared by the VM-entry interruption-information field (24.8.3, Table 24-13), the VM-exit
 * interruption-information field (24.9.2 Table 24-15, 27.2.2) and the IDT-vectoring information field
 * (24.9.3 Table 24-16, 27.2.3). Table numbers follow the Vol. 3C copy at xem.github.io/minix86 (chapter 27
 * "VM Exits"), where INVEPT/INVPCID/INVVPID is Table 27-9, LIDT.. 27-10, LLDT.. 27-11, VMCLEAR.. 27-13 and
 * VMREAD/VMWRITE 27-14, INS/OUTS the table before them (27-8); other editions shift them by one or more
 * (INS/OUTS 27-9, INVEPT/INVVPID 27-12 in newer ones), so the comments below name each table by its title.
 *
 * Encoders take the fields they need of a decoded instruction (an Insn-shaped object: src/cpu/insn.ts, so
 * tests can pass plain objects) plus run-time values (port, source data), and return the 32-bit value as an
 * unsigned number. General registers and segment registers use the SDM encodings (EAX=0 .. EDI=7; ES=0,
 * CS=1, SS=2, DS=3, FS=4, GS=5), which are also the model's (registers.ts). ZERO_REG (8) in Insn.base /
 * Insn.index means "none" and becomes the field's invalid bit.
 *
 * Bits the SDM calls undefined are written as 0, as Bochs does (cpu/vmexit.cc gen_instruction_info): the
 * scaling of an operand without an index, the index/base fields when invalid, Reg1 of a memory form, the
 * address size and segment of a register form. The segment of INS is undefined too; Bochs writes the
 * instruction's default DS there, we write 0, which is ES, the segment INS actually uses.
 *
 * For 16-bit addressing the single-register forms [SI] and [DI] are reported with SI/DI as the base
 * register and no index, as Bochs does (Resolve16BaseReg); the SDM does not say, and the sum base +
 * index * scale + displacement is the same either way.
 *
 * The displacement qualification of the VMX and descriptor-table instructions is the displacement field
 * sign-extended to 32 bits (a 16-bit displacement too), 0 for a register operand (27.2.1).
 *
 * Leaves out: the 64-bit-mode forms (REX registers 8-15, address size 2, RIP-relative displacements),
 * INVPCID, RDRAND/RDSEED, XSAVES/XRSTORS, the EPT-violation qualification (ept.ts, Table 27-7) and the
 * APIC-access qualification (Table 27-6, the APIC virtualization code).
 */
import { ZERO_REG } from "../registers.ts";

// ---------------------------------------------------------------------------------------------------------
// Instruction shapes (subsets of Insn)
// ---------------------------------------------------------------------------------------------------------

/** A ModRM memory operand: base + index * 2^scale + disp in segment seg (Insn). */
export interface MemOperandLike {
  /** Register number of a register form (ModRM.mod = 3), else -1. */
  readonly rm: number;
  readonly base: number;
  readonly index: number;
  readonly scale: number;
  readonly seg: number;
  /** 16-bit address size. */
  readonly a16: boolean;
}

/** A memory-or-register operand plus ModRM.reg (VMREAD/VMWRITE, INVEPT/INVVPID). */
export interface ModrmInsnLike extends MemOperandLike {
  readonly reg: number;
}

/** MOV CR / MOV DR: reg = the control or debug register, rm = the general register (mod is ignored). */
export interface MovCrDrInsnLike {
  readonly reg: number;
  readonly rm: number;
}

/** IN/OUT/INS/OUTS: the operation size, the REP prefix and the opcode byte. */
export interface IoInsnLike {
  /** 1, 2 or 4. */
  readonly osize: number;
  /** 0 none, 1 REP (F3), 2 REPNE (F2; INS/OUTS treat it as REP). */
  readonly rep: number;
  readonly row: { readonly opcode: readonly number[] } | null;
}

// ---------------------------------------------------------------------------------------------------------
// Exit qualification (27.2.1)
// ---------------------------------------------------------------------------------------------------------

/** Table 27-1 "Exit Qualification for Debug Exceptions": B3-B0 (3:0), BD (13), BS (14). */
export const DEBUG_QUAL_B0 = 1 << 0;
export const DEBUG_QUAL_BD = 1 << 13;
export const DEBUG_QUAL_BS = 1 << 14;
const DEBUG_QUAL_BITS = 0x600f;

/** The qualification of a #DB exit from the DR6 bits the exception would have set (B3-B0, BD, BS; others,
 * e.g. BT, are not reported). */
export function debugExceptionQualification(dr6Bits: number): number {
  return (dr6Bits & DEBUG_QUAL_BITS) >>> 0;
}

/** #PF exit: the linear address that caused the page fault (what CR2 would have received). */
export function pageFaultQualification(linear: number): number {
  return linear >>> 0;
}

/** SIPI exit: the SIPI vector in bits 7:0. */
export function sipiQualification(vector: number): number {
  return vector & 0xff;
}

/** Table 27-2 "Exit Qualification for Task Switch", bits 31:30: what started the task switch. */
export const TaskSwitchSource = { CALL: 0, IRET: 1, JMP: 2, IDT_TASK_GATE: 3 } as const;

/** Task-switch exit: the TSS selector in 15:0 and the source (TaskSwitchSource) in 31:30. */
export function taskSwitchQualification(tssSelector: number, source: number): number {
  return ((tssSelector & 0xffff) | ((source & 3) << 30)) >>> 0;
}

/** INVLPG exit: the linear-address operand. */
export function invlpgQualification(linear: number): number {
  return linear >>> 0;
}

/** MWAIT exit: 1 if address-range monitoring hardware was armed, else 0. */
export function mwaitQualification(armed: boolean): number {
  return armed ? 1 : 0;
}

/**
 * INVEPT, INVVPID, LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMXON exits: the displacement field sign-extended to 32 bits; 0 for a register operand.
 */
export function displacementQualification(i: {
  readonly rm: number;
  readonly disp: number;
  readonly a16: boolean;
}): number {
  if (i.rm >= 0) return 0;
  return (i.a16 ? (i.disp << 16) >> 16 : i.disp) >>> 0;
}

/** Table 27-3 "Exit Qualification for Control-Register Accesses", bits 5:4: the access type. */
export const CrAccessType = { MOV_TO_CR: 0, MOV_FROM_CR: 1, CLTS: 2, LMSW: 3 } as const;

/**
 * Table 27-3: CR number (3:0; 0 for CLTS and LMSW), access type (5:4), LMSW operand type (6: 0 register,
 * 1 memory), general register of MOV CR (11:8), LMSW source data (31:16). Fields that do not apply to the
 * access type are cleared, as the table requires.
 */
export function crAccessQualification(
  cr: number,
  accessType: number,
  gpr: number,
  lmswMemoryOperand: boolean,
  lmswSource: number,
): number {
  const type = accessType & 3;
  if (type === CrAccessType.CLTS) return 2 << 4;
  if (type === CrAccessType.LMSW) {
    return ((3 << 4) | (lmswMemoryOperand ? 1 << 6 : 0) | ((lmswSource & 0xffff) << 16)) >>> 0;
  }
  return ((cr & 0xf) | (type << 4) | ((gpr & 0xf) << 8)) >>> 0;
}

/** MOV to CRn (0F 22 /r): reg = n, rm = the source register. */
export function movToCrQualification(i: MovCrDrInsnLike): number {
  return crAccessQualification(i.reg, CrAccessType.MOV_TO_CR, i.rm, false, 0);
}

/** MOV from CRn (0F 20 /r): reg = n, rm = the destination register. */
export function movFromCrQualification(i: MovCrDrInsnLike): number {
  return crAccessQualification(i.reg, CrAccessType.MOV_FROM_CR, i.rm, false, 0);
}

/** CLTS: access type 2, every other field 0. */
export function cltsQualification(): number {
  return crAccessQualification(0, CrAccessType.CLTS, 0, false, 0);
}

/** LMSW (0F 01 /6): operand type from the ModRM form, `source` the 16-bit source operand. */
export function lmswQualification(i: { readonly rm: number }, source: number): number {
  return crAccessQualification(0, CrAccessType.LMSW, 0, i.rm < 0, source);
}

/** Table 27-4 "Exit Qualification for MOV DR": DR number (2:0), direction (4: 0 to DR, 1 from DR), general
 * register (11:8). */
export function movDrQualification(dr: number, fromDr: boolean, gpr: number): number {
  return ((dr & 7) | (fromDr ? 1 << 4 : 0) | ((gpr & 0xf) << 8)) >>> 0;
}

/** MOV to DRn (0F 23 /r). */
export function movToDrQualification(i: MovCrDrInsnLike): number {
  return movDrQualification(i.reg, false, i.rm);
}

/** MOV from DRn (0F 21 /r). */
export function movFromDrQualification(i: MovCrDrInsnLike): number {
  return movDrQualification(i.reg, true, i.rm);
}

/** Table 27-5 "Exit Qualification for I/O Instructions" bits. */
export const IO_QUAL_IN = 1 << 3;
export const IO_QUAL_STRING = 1 << 4;
export const IO_QUAL_REP = 1 << 5;
export const IO_QUAL_IMMEDIATE = 1 << 6;

/**
 * Table 27-5: size of access - 1 (2:0: 0, 1 or 3), direction (3: 0 OUT, 1 IN), string (4), REP prefixed
 * (5), operand encoding (6: 0 DX, 1 immediate), port number (31:16).
 */
export function ioQualification(
  port: number,
  size: number,
  isIn: boolean,
  isString: boolean,
  isRep: boolean,
  isImmediate: boolean,
): number {
  return (
    ((size - 1) & 7) |
    (isIn ? IO_QUAL_IN : 0) |
    (isString ? IO_QUAL_STRING : 0) |
    (isRep ? IO_QUAL_REP : 0) |
    (isImmediate ? IO_QUAL_IMMEDIATE : 0) |
    ((port & 0xffff) << 16)
  ) >>> 0;
}

/**
 * Table 27-5 for a decoded IN/OUT/INS/OUTS (opcodes E4-E7 imm8, EC-EF DX, 6C/6D INS, 6E/6F OUTS: SDM Vol. 2
 * Appendix A, one-byte opcode map) accessing `port`. A REP prefix is reported only for the string forms (it
 * has no meaning on IN/OUT).
 */
export function ioInsnQualification(i: IoInsnLike, port: number): number {
  const op = i.row === null ? 0 : i.row.opcode[0];
  const isString = op >= 0x6c && op <= 0x6f;
  const isIn = isString ? op <= 0x6d : (op & 2) === 0; // E4/E5/EC/ED are IN, E6/E7/EE/EF OUT
  const isImmediate = !isString && (op & 8) === 0; // E4-E7
  return ioQualification(port, i.osize, isIn, isString, isString && i.rep !== 0, isImmediate);
}

// ---------------------------------------------------------------------------------------------------------
// VM-exit instruction-information field (27.2.5)
// ---------------------------------------------------------------------------------------------------------

export const INSN_INFO_REGISTER = 1 << 10;
export const INSN_INFO_INDEX_INVALID = 1 << 22;
export const INSN_INFO_BASE_INVALID = 1 << 27;

/**
 * The memory-operand fields common to the tables: scaling (1:0), address size (9:7: 0 16-bit, 1 32-bit),
 * segment (17:15), index (21:18) or index invalid (22), base (26:23) or base invalid (27).
 */
export function memOperandInfo(i: MemOperandLike): number {
  let base = i.base;
  let index = i.index;
  let scale = i.scale;
  // 16-bit [SI] / [DI]: the single register is the base (Bochs Resolve16BaseReg; see the header).
  if (i.a16 && base === ZERO_REG && index !== ZERO_REG) {
    base = index;
    index = ZERO_REG;
    scale = 0;
  }
  let v = (i.a16 ? 0 : 1 << 7) | ((i.seg & 7) << 15);
  v |= index === ZERO_REG ? INSN_INFO_INDEX_INVALID : (scale & 3) | ((index & 0xf) << 18);
  v |= base === ZERO_REG ? INSN_INFO_BASE_INVALID : (base & 0xf) << 23;
  return v >>> 0;
}

/**
 * "Format of the VM-Exit Instruction-Information Field as Used for INS and OUTS" (Table 27-8 in the 2016
 * edition): address size (9:7) and, for OUTS, the source segment (17:15: DS unless overridden); the segment
 * of INS is undefined and written 0 (ES, which INS uses).
 */
export function insOutsInstructionInfo(
  i: { readonly a16: boolean; readonly seg: number; readonly segOverride: boolean },
  isIns: boolean,
): number {
  const seg = isIns ? 0 : i.segOverride ? i.seg & 7 : 3;
  return ((i.a16 ? 0 : 1 << 7) | (seg << 15)) >>> 0;
}

/** "... as Used for VMCLEAR, VMPTRLD, VMPTRST, and VMXON" (Table 27-13): the memory operand, bit 10 = 0. */
export function vmxPointerInstructionInfo(i: MemOperandLike): number {
  return memOperandInfo(i);
}

/**
 * "... as Used for VMREAD and VMWRITE" (Table 27-14): Reg2 (31:28) = ModRM.reg, the field-encoding register
 * of both; a register form sets bit 10 and Reg1 (6:3) = ModRM.rm (VMREAD's destination, VMWRITE's source),
 * a memory form the memory-operand fields.
 */
export function vmreadVmwriteInstructionInfo(i: ModrmInsnLike): number {
  const reg2 = (i.reg & 0xf) << 28;
  if (i.rm >= 0) return (INSN_INFO_REGISTER | ((i.rm & 0xf) << 3) | reg2) >>> 0;
  return (memOperandInfo(i) | reg2) >>> 0;
}

/** "... as Used for INVEPT, INVPCID, and INVVPID" (Table 27-9): the memory operand (the descriptor) and
 * Reg2 (31:28) = ModRM.reg, the register holding the type. */
export function invInstructionInfo(i: ModrmInsnLike): number {
  return (memOperandInfo(i) | ((i.reg & 0xf) << 28)) >>> 0;
}

/** Instruction identity (29:28) of Table 27-10. */
export const DescriptorTableIdentity = { SGDT: 0, SIDT: 1, LGDT: 2, LIDT: 3 } as const;

/** "... as Used for LIDT, LGDT, SIDT, or SGDT" (Table 27-10): memory operand, operand size (11: 0 16-bit,
 * 1 32-bit) and the instruction identity (29:28). */
export function descriptorTableInstructionInfo(
  i: MemOperandLike & { readonly opsize: number },
  identity: number,
): number {
  return (memOperandInfo(i) | (i.opsize === 4 ? 1 << 11 : 0) | ((identity & 3) << 28)) >>> 0;
}

/** Instruction identity (29:28) of Table 27-11. */
export const LdtrTrIdentity = { SLDT: 0, STR: 1, LLDT: 2, LTR: 3 } as const;

/** "... as Used for LLDT, LTR, SLDT, and STR" (Table 27-11): register form (bit 10, Reg1 in 6:3) or memory
 * operand, and the instruction identity (29:28). */
export function ldtrTrInstructionInfo(i: MemOperandLike, identity: number): number {
  const id = (identity & 3) << 28;
  if (i.rm >= 0) return (INSN_INFO_REGISTER | ((i.rm & 0xf) << 3) | id) >>> 0;
  return (memOperandInfo(i) | id) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// Interruption information (24.8.3, 24.9.2, 24.9.3, 27.2.2, 27.2.3)
// ---------------------------------------------------------------------------------------------------------

/** Interruption types, bits 10:8 (Table 24-13; 1 is reserved). Exit interruption information uses 0, 2, 3,
 * 5 and 6 (software interrupts do not exit); IDT-vectoring information also uses 4. */
export const InterruptionType = {
  EXTERNAL_INTERRUPT: 0,
  NMI: 2,
  HARDWARE_EXCEPTION: 3,
  SOFTWARE_INTERRUPT: 4,
  PRIVILEGED_SOFTWARE_EXCEPTION: 5,
  SOFTWARE_EXCEPTION: 6,
  OTHER_EVENT: 7,
} as const;

export const INTR_INFO_ERROR_CODE_VALID = 1 << 11;
/** VM-exit interruption information only: NMI unblocking due to IRET (undefined in IDT-vectoring info;
 * reserved, must be 0, in VM-entry interruption information). */
export const INTR_INFO_NMI_UNBLOCKING = 1 << 12;
export const INTR_INFO_VALID = 0x80000000;

/** A valid interruption-information value: vector (7:0), type (10:8), error code valid (11), NMI unblocking
 * due to IRET (12), valid (31). */
export function interruptionInfo(vector: number, type: number, errorCodeValid: boolean, nmiUnblocking = false): number {
  return (
    (vector & 0xff) |
    ((type & 7) << 8) |
    (errorCodeValid ? INTR_INFO_ERROR_CODE_VALID : 0) |
    (nmiUnblocking ? INTR_INFO_NMI_UNBLOCKING : 0) |
    INTR_INFO_VALID
  ) >>> 0;
}

export interface DecodedInterruptionInfo {
  vector: number;
  type: number;
  errorCodeValid: boolean;
  nmiUnblocking: boolean;
  valid: boolean;
}

export function decodeInterruptionInfo(value: number): DecodedInterruptionInfo {
  return {
    vector: value & 0xff,
    type: (value >>> 8) & 7,
    errorCodeValid: (value & INTR_INFO_ERROR_CODE_VALID) !== 0,
    nmiUnblocking: (value & INTR_INFO_NMI_UNBLOCKING) !== 0,
    valid: (value & INTR_INFO_VALID) !== 0,
  };
}

/**
 * Whether an exception of `vector` delivers an error code: #DF (8), #TS (10), #NP (11), #SS (12), #GP (13),
 * #PF (14), #AC (17) (SDM Vol. 3A Table 6-1), and never in real-address mode (27.2.2: bit 11 is always 0
 * when the exit occurred with CR0.PE = 0).
 */
export function exceptionHasErrorCode(vector: number, protectedMode = true): boolean {
  if (!protectedMode) return false;
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}
