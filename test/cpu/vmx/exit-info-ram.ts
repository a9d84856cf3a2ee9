/**
 * Test plumbing for the exit-information tests: a byte-addressed RAM whose 32-bit reads are assembled
 * little-endian from bytes (so tests can set bitmap bits the way the SDM describes them, bit (n & 7) of byte
 * n >> 3, as kvm-unit-tests does with `((u8 *)io_bitmap_a)[port / 8] = 1 << (port % 8)`, independently of
 * how the code under test computes dword offsets), counting reads; and a decoder front end that turns
 * instruction bytes into the project's Insn.
 */
import { CoreState } from "../../../src/cpu/core-state.ts";
import { Decoder } from "../../../src/cpu/decoder.ts";
import type { Insn } from "../../../src/cpu/insn.ts";
import type { PhysicalMemory32 } from "../../../src/cpu/vmx/vmcs.ts";

export class ByteRam implements PhysicalMemory32 {
  readonly bytes: Uint8Array;
  reads = 0;
  writes = 0;

  constructor(size = 0x10000) {
    this.bytes = new Uint8Array(size);
  }

  read32(pa: number): number {
    if ((pa & 3) !== 0) throw new Error(`unaligned read32 at ${pa.toString(16)}`);
    this.reads++;
    const b = this.bytes;
    return (b[pa] | (b[pa + 1] << 8) | (b[pa + 2] << 16) | (b[pa + 3] << 24)) >>> 0;
  }

  write32(pa: number, value: number): void {
    if ((pa & 3) !== 0) throw new Error(`unaligned write32 at ${pa.toString(16)}`);
    this.writes++;
    for (let k = 0; k < 4; k++) this.bytes[pa + k] = (value >>> (8 * k)) & 0xff;
  }

  /** Bit `bit` of the byte at `pa`. */
  bit(pa: number, bit: number): boolean {
    return ((this.bytes[pa] >> bit) & 1) !== 0;
  }

  setBit(pa: number, bit: number): void {
    this.bytes[pa] |= 1 << bit;
  }
}

const decoder = new Decoder(() => () => {});

/** Decode one instruction from `bytes` (32-bit code unless told otherwise). */
export function decode(bytes: readonly number[], code32 = true): Insn {
  const ram = new Uint8Array(0x2000);
  ram.set(bytes, 0x1000);
  const c = new CoreState({ ram });
  return decoder.decode(c, 0, 0x1000, code32);
}

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf2, 0xf3]);

/**
 * Decode the operands of an instruction the decoder does not know (the VMX instructions) by replacing its
 * `opcodeLength` opcode bytes with 8B (MOV r32, r/m32), whose ModRM/SIB/displacement decoding is the same:
 * the prefixes, ModRM.reg, the register or memory operand and the displacement come out as they would.
 */
export function decodeOperandsAsMov(bytes: readonly number[], opcodeLength: number, code32 = true): Insn {
  let p = 0;
  while (PREFIXES.has(bytes[p])) p++;
  return decode([...bytes.slice(0, p), 0x8b, ...bytes.slice(p + opcodeLength)], code32);
}
