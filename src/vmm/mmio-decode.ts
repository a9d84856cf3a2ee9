/**
 * What the VMM's MMIO emulation needs from the guest instruction that faulted on an emulated register
 * window (an EPT violation gives the guest-physical address but not the data, SDM Vol. 3C 27.2.1): the
 * access size, its direction, the register or immediate involved and the instruction length, decoded from
 * the instruction bytes (SDM Vol. 2A 2.1, 2.2: ModR/M, SIB, displacement; the MOV and MOVZX opcodes of
 * Vol. 2B). The address itself is not needed: the exit's guest-physical address is the one accessed.
 * Forms: 88/89 MOV r/m,r; 8A/8B MOV r,r/m; C6/C7 MOV r/m,imm; A0-A3 MOV AL/EAX <-> moffs; 0F B6/B7 MOVZX;
 * with an 66H operand-size prefix (16-bit) and segment-override prefixes (ignored: flat guests).
 * Leaves out: read-modify-write instructions (ADD/OR/AND to MMIO), string moves, 16-bit addressing (a67H
 * prefix): the VMM reports those as a partition fault (as Jailhouse's mmio emulation does).
 */

export interface MmioAccess {
  write: boolean;
  size: 1 | 2 | 4;
  /** Register number (0 = EAX ... 7 = EDI; for 8-bit: 0-3 low bytes, 4-7 = AH..BH) or -1 for an immediate. */
  reg: number;
  imm: number;
  /** MOVZX: zero-extend into a 32-bit register. */
  zeroExtend: boolean;
  length: number;
}

const SEGMENT_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);

/** Decode `bytes` (at least 15 from the guest RIP); null if the instruction is not a supported MMIO form. */
export function decodeMmio(bytes: Uint8Array): MmioAccess | null {
  let i = 0;
  let opSize16 = false;
  for (; i < 4; i++) {
    const b = bytes[i];
    if (b === 0x66) opSize16 = true;
    else if (!SEGMENT_PREFIXES.has(b)) break;
  }
  const full: 2 | 4 = opSize16 ? 2 : 4;
  const op = bytes[i++];
  if (op >= 0xa0 && op <= 0xa3) {
    const size = (op & 1) === 0 ? 1 : full;
    return { write: op >= 0xa2, size, reg: 0, imm: 0, zeroExtend: false, length: i + 4 };
  }
  let size: 1 | 2 | 4;
  let write: boolean;
  let zeroExtend = false;
  let hasImm = false;
  if (op === 0x88 || op === 0x89) { write = true; size = op === 0x88 ? 1 : full; }
  else if (op === 0x8a || op === 0x8b) { write = false; size = op === 0x8a ? 1 : full; }
  else if (op === 0xc6 || op === 0xc7) { write = true; size = op === 0xc6 ? 1 : full; hasImm = true; }
  else if (op === 0x0f && (bytes[i] === 0xb6 || bytes[i] === 0xb7)) {
    size = bytes[i] === 0xb6 ? 1 : 2;
    write = false;
    zeroExtend = true;
    i++;
  } else return null;
  const modrm = bytes[i++];
  const mod = modrm >> 6, regField = (modrm >> 3) & 7, rm = modrm & 7;
  if (mod === 3) return null; // a register operand: not a memory access
  if (hasImm && regField !== 0) return null;
  if (rm === 4) {
    const sib = bytes[i++];
    if (mod === 0 && (sib & 7) === 5) i += 4;
  } else if (mod === 0 && rm === 5) i += 4;
  if (mod === 1) i += 1;
  else if (mod === 2) i += 4;
  let imm = 0;
  if (hasImm) {
    if (size === 1) imm = bytes[i];
    else if (size === 2) imm = bytes[i] | (bytes[i + 1] << 8);
    else imm = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    i += size;
  }
  return { write, size, reg: hasImm ? -1 : regField, imm, zeroExtend, length: i };
}
