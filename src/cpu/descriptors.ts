/**
 * Segment, system and gate descriptors as the processor reads them from the GDT or LDT (SDM Vol. 3A
 * 3.4.5 Figure 3-8 and Table 3-1 for code/data segments, 3.5 Table 3-2 for system types, 5.8.3 Figure
 * 5-8 for call gates, 6.11 Figure 6-2 for IDT gates), and the selector-to-descriptor fetch with its
 * table-limit check.
 *
 * Fetching a descriptor is an implicit supervisor-mode access (c.readSys32, SDM 4.6). A selector beyond
 * the GDT or LDT limit, or an LDT selector while LDTR is null (its limit is then 0, so every index fails),
 * raises the caller's exception with the selector as error code (SDM 6.13: index, TI; RPL bits clear;
 * the EXT bit is added by interrupt delivery when it applies).
 *
 * Attributes use the CoreState.segAttr layout: the access byte in bits 0-7 (type, S, DPL, P) and the
 * flags nibble (AVL, L, D/B, G) in bits 12-15. Limits are byte-granular (G scales by 4 KiB and fills the
 * low 12 bits with ones, SDM 3.4.5 "G flag").
 *
 * Leaves out: 64-bit (16-byte) system descriptors.
 */
import type { CoreState } from "./core-state.ts";
import { fault } from "./exceptions.ts";

export interface Descriptor {
  /** The raw descriptor: low and high dwords. */
  readonly lo: number;
  readonly hi: number;
  readonly base: number;
  /** Byte-granular limit (signed 32-bit: -1 is 4 GiB). */
  readonly limit: number;
  /** Access byte and flags in the segAttr layout. */
  readonly attr: number;
  /** Linear address of the descriptor in its table. */
  readonly addr: number;
}

// Access-byte bits (SDM Vol. 3A Figure 3-8)
const ACCESSED = 0x01;
const S_CODE_DATA = 0x10;
const PRESENT = 0x80;

/** System-descriptor and gate types (S = 0), SDM Vol. 3A Table 3-2. */
export const enum SysType {
  TSS16_AVAILABLE = 0x1, LDT = 0x2, TSS16_BUSY = 0x3, CALL_GATE16 = 0x4, TASK_GATE = 0x5,
  INT_GATE16 = 0x6, TRAP_GATE16 = 0x7, TSS32_AVAILABLE = 0x9, TSS32_BUSY = 0xb, CALL_GATE32 = 0xc,
  INT_GATE32 = 0xe, TRAP_GATE32 = 0xf,
}

export function decodeDescriptor(lo: number, hi: number, addr: number): Descriptor {
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if ((hi & (1 << 23)) !== 0) limit = (limit << 12) | 0xfff;
  return {
    lo,
    hi,
    base: (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000),
    limit,
    attr: ((hi >> 8) & 0xff) | ((hi >> 8) & 0xf000),
    addr,
  };
}

/** Linear address of the descriptor `sel` names, or -1 when it lies outside its table (or LDTR is null). */
export function descriptorAddress(c: CoreState, sel: number): number {
  const ldt = (sel & 4) !== 0;
  const off = sel & 0xfff8;
  if (off + 7 > (ldt ? c.ldtrLimit : c.gdtLimit) >>> 0) return -1;
  return ((ldt ? c.ldtrBase : c.gdtBase) + off) | 0;
}

/**
 * Read the descriptor a (non-null) selector names. Raises `vector`(selector) when the index lies outside
 * the GDT or LDT limit (SDM Vol. 3A 3.4.2, 5.3 "Limit Checking" for the descriptor tables).
 */
export function fetchDescriptor(c: CoreState, sel: number, vector: number): Descriptor {
  const addr = descriptorAddress(c, sel);
  if (addr === -1) fault(vector, sel & 0xfffc);
  return decodeDescriptor(c.readSys32(addr), c.readSys32((addr + 4) | 0), addr);
}

/** Set the accessed bit of a code or data descriptor in memory when it is clear (SDM Vol. 3A 3.4.5.1). */
export function markAccessed(c: CoreState, d: Descriptor): void {
  if ((d.attr & ACCESSED) === 0) c.writeSys8((d.addr + 5) | 0, (d.attr | ACCESSED) & 0xff);
}

export const dplOf = (attr: number): number => (attr >> 5) & 3;
export const isPresent = (attr: number): boolean => (attr & PRESENT) !== 0;
/** A code or data segment (S = 1), not a system descriptor or gate. */
export const isSegment = (attr: number): boolean => (attr & S_CODE_DATA) !== 0;
export const isCode = (attr: number): boolean => (attr & 0x18) === 0x18;
export const isData = (attr: number): boolean => (attr & 0x18) === 0x10;
export const isConformingCode = (attr: number): boolean => (attr & 0x1c) === 0x1c;
export const isNonConformingCode = (attr: number): boolean => (attr & 0x1c) === 0x18;
/** Readable code segment (type bit 1 of a code segment). */
export const isReadableCode = (attr: number): boolean => (attr & 0x1a) === 0x1a;
export const isWritableData = (attr: number): boolean => (attr & 0x1a) === 0x12;
/** System type (Table 3-2) of a system descriptor or gate, or -1 for a code/data segment. */
export const systemType = (attr: number): number => (isSegment(attr) ? -1 : attr & 0xf);
/** D/B flag: 32-bit code segment or 32-bit stack (B) / expand-down upper bound. */
export const isBig = (attr: number): boolean => (attr & 0x4000) !== 0;

/** Target selector of a call, interrupt or trap gate. */
export const gateSelector = (d: Descriptor): number => d.lo >>> 16;
/** Target offset: 16 bits for 286 gates (type bit 3 clear), 32 bits for 386 gates. */
export const gateOffset = (d: Descriptor): number => ((d.attr & 8) !== 0 ? (d.lo & 0xffff) | (d.hi & 0xffff0000) : d.lo & 0xffff);
/** Call-gate parameter count (words or dwords to copy on a stack switch), 5 bits. */
export const gateParamCount = (d: Descriptor): number => d.hi & 0x1f;
/** 32-bit gate (386 call, interrupt and trap gates). */
export const isGate32 = (d: Descriptor): boolean => (d.attr & 8) !== 0;

/** Whether an access of `size` bytes at `off` lies within a data segment's limit (expand-up or down). */
export function withinLimit(attr: number, limit: number, off: number, size: number): boolean {
  const first = off >>> 0;
  const last = first + size - 1;
  if ((attr & 0x1c) === 0x14) {
    // expand-down data segment: valid offsets are limit+1 .. FFFFH or FFFFFFFFH (SDM 3.4.5.1)
    return first > limit >>> 0 && last <= (isBig(attr) ? 0xffffffff : 0xffff);
  }
  return last <= limit >>> 0;
}
