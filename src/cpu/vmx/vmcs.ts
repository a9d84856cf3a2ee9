/**
 * The VMCS region in physical memory and the processor's on-chip copies of active VMCSs (SDM Vol. 3C 24.1
 * "Overview", 24.2 "Format of the VMCS Region", 24.11.1 "Software Use of Virtual-Machine Control
 * Structures", 24.11.2 for VMREAD/VMWRITE widths, 24.11.3 "Initializing a VMCS"; the VMREAD, VMWRITE,
 * VMPTRLD and VMCLEAR operation sections of 30.3).
 *
 * Region layout. SDM 24.2 fixes bytes 0-3 (bits 30:0 the VMCS revision identifier, bit 31 the shadow-VMCS
 * indicator) and bytes 4-7 (the VMX-abort indicator); the rest is implementation-specific. Ours, in bytes
 * from the region's base (every model profile's IA32_VMX_BASIC[44:32] is 1024 or 2048, and this fits 1024):
 *
 *   0x000  revision identifier | shadow-VMCS indicator << 31   (architectural)
 *   0x004  VMX-abort indicator                                 (architectural)
 *   0x008  launch state: byte 0 = clear, 1 = launched; bytes 9-11 zero
 *   0x00C  reserved (zero)
 *   0x010  field data: one block per (width, type); a field's slot is block base + index * slot size,
 *          the index being bits 9:1 of its encoding; slots are 4 bytes, 8 for 64-bit fields
 *          (low dword first, the HIGH half at +4). Natural-width fields are 32 bits (32-bit model).
 *
 *   width    control          read-only        guest            host
 *   16-bit   0x010 (4 slots)  -                0x020 (16)       0x060 (8)
 *   64-bit   0x080 (24)       0x140 (2)        0x150 (12)       0x1B0 (4)
 *   32-bit   0x1D0 (24)       0x230 (8)        0x250 (32)       0x2D0 (4)
 *   natural  0x2E0 (16)       0x320 (8)        0x340 (32)       0x3C0 (16)    end 0x400
 *
 * A block holds more slots than today's fields use, so adding a field never moves another.
 *
 * Caching (SDM 24.11.1). A processor keeps the data of an active VMCS on the chip. VMPTRLD of a VMCS that is
 * not active reads its region into a VmcsRegion (an image of bytes 0x000-0x3FF); while it stays active, VMREAD,
 * VMWRITE, VM entry and VM exit use that image and memory is not read or written. VMCLEAR writes the image
 * back (bytes 0x008-0x3FF; the revision and abort words belong to software and VMX abort) and marks the
 * region clear in memory; the VMCS is then inactive. The SDM says software must not change the region of an
 * active VMCS with ordinary memory writes (results undefined); here such writes are ignored while the VMCS is
 * active and overwritten by the write-back at VMCLEAR (or flush). VMPTRLD of an already active VMCS, the
 * current one included, keeps the on-chip data and the pending VMWRITEs (kvm-unit-tests test_vmcs_lifecycle).
 * The model keeps any number of VMCSs active at once; a real processor may also write data back at other
 * times, which software cannot observe except through the undefined behaviour above.
 *
 * This file checks nothing the VMX instructions check (alignment, MAXPHYADDR, the VMXON pointer, the revision
 * identifier, CPL, current-VMCS validity): they do that before calling in, and turn the results below into
 * VMfailValid(12) / VMfailValid(13).
 *
 * One VmcsCache per logical processor. The same VMCS active on two processors at once is what SDM 24.11.1
 * forbids (software must VMCLEAR it on the first before VMPTRLD on the second); here each processor then has
 * its own copy and the last write-back wins.
 *
 * Leaves out: shadow VMCSs (VMREAD/VMWRITE through the link pointer), VMCS-shadowing bitmaps, 64-bit-mode
 * operand widths (the model's host is 32-bit: VMREAD/VMWRITE move 32 bits), a limit on the number of
 * active VMCSs, and any cycle cost (callers charge accesses; fieldAddress gives the memory address a slot
 * lives at so a cache model can be asked about it).
 */
import {
  ALL_VMCS_FEATURES,
  VMCS_ENCODING_RESERVED_MASK,
  VmcsWidth,
  decodeEncoding,
  supportedFields,
  type VmcsFeature,
  type VmcsFieldInfo,
} from "./vmcs-fields.ts";

/** What the VMCS code needs from the machine: 32-bit physical reads and writes (4-byte aligned). */
export interface PhysicalMemory32 {
  read32(pa: number): number;
  write32(pa: number, value: number): void;
}

export const VMCS_REVISION_OFFSET = 0x000;
export const VMCS_ABORT_OFFSET = 0x004;
export const VMCS_LAUNCH_STATE_OFFSET = 0x008;
export const VMCS_DATA_OFFSET = 0x010;
/** Bytes of the region the layout uses; IA32_VMX_BASIC[44:32] must be at least this. */
export const VMCS_LAYOUT_BYTES = 0x400;
/** The shadow-VMCS indicator, bit 31 of the first dword (SDM 24.2). */
export const VMCS_SHADOW_INDICATOR = 0x80000000;

const DWORDS = VMCS_LAYOUT_BYTES >>> 2;
/** First dword written back at VMCLEAR: the launch state (0 and 1 are software's and VMX abort's). */
const WRITEBACK_FIRST = VMCS_LAUNCH_STATE_OFFSET >>> 2;
const LAUNCH_DWORD = VMCS_LAUNCH_STATE_OFFSET >>> 2;

/** [base, slots] per block, indexed [width code][type code] (see the header's table). */
const BLOCKS: readonly (readonly (readonly [number, number] | undefined)[])[] = [
  /* 16-bit  */ [[0x010, 4], undefined, [0x020, 16], [0x060, 8]],
  /* 64-bit  */ [[0x080, 24], [0x140, 2], [0x150, 12], [0x1b0, 4]],
  /* 32-bit  */ [[0x1d0, 24], [0x230, 8], [0x250, 32], [0x2d0, 4]],
  /* natural */ [[0x2e0, 16], [0x320, 8], [0x340, 32], [0x3c0, 16]],
];

/** Byte offset in the region of the 32 bits an encoding accesses (the HIGH half of a 64-bit field at +4),
 * or undefined when the encoding names no field of the table. Feature-gated fields have offsets too. */
export function fieldOffset(encoding: number): number | undefined {
  const e = encoding >>> 0;
  if (e !== encoding || (e & VMCS_ENCODING_RESERVED_MASK) !== 0) return undefined;
  const d = decodeEncoding(e);
  if (d.high && d.width !== VmcsWidth.BITS64) return undefined;
  const block = BLOCKS[d.width][d.type];
  if (block === undefined || d.index >= block[1]) return undefined;
  const slot = d.width === VmcsWidth.BITS64 ? 8 : 4;
  return block[0] + d.index * slot + (d.high ? 4 : 0);
}

/** The physical address of an encoding's 32 bits in a region at `regionPa` (for charging cache accesses). */
export function fieldAddress(regionPa: number, encoding: number): number | undefined {
  const off = fieldOffset(encoding);
  return off === undefined ? undefined : regionPa + off;
}

// Access kinds per encoding, precomputed per feature set (bit 3 = read-only type).
const K_NONE = 0, K_16 = 1, K_32 = 2, K_64_FULL = 3, K_64_HIGH = 4;
const K_READ_ONLY = 8;
const ENCODINGS = 0x8000;

/** Which encodings exist for one feature set, and where their data lives. */
export class VmcsLayout {
  /** encoding -> access kind (K_*), 0 = unsupported. */
  readonly kind = new Uint8Array(ENCODINGS);
  /** encoding -> dword index in the region of the 32 bits accessed. */
  readonly dword = new Uint16Array(ENCODINGS);
  readonly fields: readonly VmcsFieldInfo[];

  constructor(features: Iterable<VmcsFeature> = ALL_VMCS_FEATURES) {
    this.fields = supportedFields(features);
    for (const f of this.fields) {
      const ro = f.type === "read-only" ? K_READ_ONLY : 0;
      const full = f.width === "16" ? K_16 : f.width === "64" ? K_64_FULL : K_32;
      this.set(f.encoding, full | ro);
      if (f.highEncoding !== undefined) this.set(f.highEncoding, K_64_HIGH | ro);
    }
  }

  private set(encoding: number, kind: number): void {
    const off = fieldOffset(encoding);
    if (off === undefined) throw new Error(`VMCS layout: no slot for encoding 0x${encoding.toString(16)}`);
    this.kind[encoding] = kind;
    this.dword[encoding] = off >>> 2;
  }

  supports(encoding: number): boolean {
    const e = encoding >>> 0;
    return e === encoding && e < ENCODINGS && this.kind[e] !== K_NONE;
  }
}

/** Every field of the table; building it at load time also checks that each row has a slot. */
const DEFAULT_LAYOUT = new VmcsLayout();

/** An active VMCS: the processor's copy of a region's data (the header's "Caching"). */
export class VmcsRegion {
  /** Bytes 0x000-0x3FF of the region; dwords 0 and 1 are as read at VMPTRLD and never written back. */
  readonly image = new Uint32Array(DWORDS);

  constructor(
    /** Physical address of the region (4 KiB aligned; checked by VMPTRLD). */
    readonly pa: number,
    readonly layout: VmcsLayout,
    /** IA32_VMX_MISC bit 29: VMWRITE may write the read-only (VM-exit information) fields. */
    readonly vmwriteToReadOnly: boolean,
  ) {}

  /** Launch state (SDM 24.1): false = clear, true = launched. */
  get launched(): boolean {
    return (this.image[LAUNCH_DWORD] & 0xff) !== 0;
  }

  set launched(v: boolean) {
    this.image[LAUNCH_DWORD] = v ? 1 : 0;
  }
}

/** VMfailValid numbers writeField can return (SDM Table 30-1), 0 on success. */
export type VmwriteResult = 0 | 12 | 13;

/**
 * VMREAD with a 32-bit destination (SDM 24.11.2): a 16-bit field zero-extended, a 32-bit or natural-width
 * field, bits 31:0 of a 64-bit field (FULL) or bits 63:32 (HIGH). Undefined when the encoding names no
 * supported field (reserved bits, HIGH of a field that is not 64-bit, unknown, or absent on this processor):
 * the instruction then fails with VMfailValid(12).
 */
export function readField(region: VmcsRegion, encoding: number): number | undefined {
  const e = encoding >>> 0;
  if (e !== encoding || e >= ENCODINGS) return undefined;
  const k = region.layout.kind[e];
  if (k === K_NONE) return undefined;
  return region.image[region.layout.dword[e]];
}

/**
 * VMWRITE with a 32-bit source (SDM 24.11.2 and 30.3): a 16-bit field takes bits 15:0; a 32-bit or
 * natural-width field all 32 bits; a 64-bit field with FULL access takes the value in bits 31:0 and clears
 * bits 63:32 ("if the VMCS field is longer [than the operand], the high bits of the field are cleared");
 * with HIGH access the value goes to bits 63:32 and bits 31:0 are kept. Returns 12 for an unsupported
 * encoding, 13 for a read-only field unless IA32_VMX_MISC[29] is reported, else 0.
 */
export function writeField(region: VmcsRegion, encoding: number, value: number): VmwriteResult {
  const e = encoding >>> 0;
  if (e !== encoding || e >= ENCODINGS) return 12;
  const k = region.layout.kind[e];
  if (k === K_NONE) return 12;
  if ((k & K_READ_ONLY) !== 0 && !region.vmwriteToReadOnly) return 13;
  store(region, e, k & 7, value);
  return 0;
}

/**
 * The processor's own write of a field (VM exits fill the read-only exit-information fields, VM entry
 * failures write the exit reason): the width rules of writeField without the read-only check. An
 * encoding this processor does not support is a bug in the caller and throws.
 */
export function writeFieldAsProcessor(region: VmcsRegion, encoding: number, value: number): void {
  const e = encoding >>> 0;
  const k = e === encoding && e < ENCODINGS ? region.layout.kind[e] : K_NONE;
  if (k === K_NONE) throw new Error(`VMCS: the processor wrote unsupported field 0x${e.toString(16)}`);
  store(region, e, k & 7, value);
}

function store(region: VmcsRegion, e: number, kind: number, value: number): void {
  const i = region.layout.dword[e];
  const img = region.image;
  if (kind === K_16) img[i] = value & 0xffff;
  else if (kind === K_64_FULL) {
    img[i] = value >>> 0;
    img[i + 1] = 0;
  } else img[i] = value >>> 0;
}

export interface VmcsCacheOptions {
  /** The VMX features whose fields exist (Appendix B footnotes); default: every feature the table knows. */
  features?: Iterable<VmcsFeature>;
  /** IA32_VMX_MISC bit 29 (VMWRITE to VM-exit information fields allowed). Default false. */
  vmwriteToReadOnly?: boolean;
  /** IA32_VMX_BASIC[44:32], the region size software allocates; must hold the layout. Default 4096. */
  regionBytes?: number;
}

/**
 * One logical processor's active VMCSs (SDM 24.1: "a logical processor may maintain a number of VMCSs that
 * are active"), with the memory they are loaded from and written back to.
 */
export class VmcsCache {
  readonly layout: VmcsLayout;
  readonly vmwriteToReadOnly: boolean;
  readonly regionBytes: number;
  private readonly active = new Map<number, VmcsRegion>();

  constructor(private readonly mem: PhysicalMemory32, opts: VmcsCacheOptions = {}) {
    this.layout = opts.features === undefined ? DEFAULT_LAYOUT : new VmcsLayout(opts.features);
    this.vmwriteToReadOnly = opts.vmwriteToReadOnly ?? false;
    this.regionBytes = opts.regionBytes ?? 4096;
    if (this.regionBytes < VMCS_LAYOUT_BYTES) {
      throw new Error(`VMCS region size ${this.regionBytes} cannot hold the ${VMCS_LAYOUT_BYTES}-byte layout`);
    }
  }

  /**
   * VMPTRLD's effect once its checks have passed: the VMCS at `pa` becomes active (its data read from memory
   * unless it already is). The launch state comes from the region's launch-state byte (0 clear, anything
   * else launched; SDM 24.11.3 requires VMCLEAR before a region's first VMPTRLD, which leaves it 0).
   */
  load(pa: number): VmcsRegion {
    const had = this.active.get(pa);
    if (had !== undefined) return had;
    const r = new VmcsRegion(pa, this.layout, this.vmwriteToReadOnly);
    for (let i = 0; i < DWORDS; i++) r.image[i] = this.mem.read32(pa + i * 4) >>> 0;
    this.active.set(pa, r);
    return r;
  }

  /**
   * VMCLEAR's effect once its checks have passed (SDM 30.3 VMCLEAR): the data of the VMCS at `pa`, if it is
   * active, is written to its region; the launch state in the region becomes clear; the VMCS is no longer
   * active. (The caller also invalidates the current-VMCS pointer when it was `pa`.)
   */
  clear(pa: number): void {
    const r = this.active.get(pa);
    if (r !== undefined) {
      r.launched = false;
      this.writeBack(r);
      this.active.delete(pa);
    } else {
      this.mem.write32(pa + VMCS_LAUNCH_STATE_OFFSET, 0);
    }
  }

  /** The active VMCS at `pa`, if any. */
  get(pa: number): VmcsRegion | undefined {
    return this.active.get(pa);
  }

  /** Physical addresses of the active VMCSs, in the order they became active. */
  activeAddresses(): number[] {
    return [...this.active.keys()];
  }

  /** Writes an active VMCS's data to its region and keeps it active (what a processor may do at any time). */
  flush(pa: number): void {
    const r = this.active.get(pa);
    if (r !== undefined) this.writeBack(r);
  }

  /** Drops the on-chip copy of the VMCS at `pa` without writing it back (after flush, at VMXOFF). */
  forget(pa: number): void {
    this.active.delete(pa);
  }

  /** flush for every active VMCS. */
  flushAll(): void {
    for (const r of this.active.values()) this.writeBack(r);
  }

  /** Bytes 0-3 of a region in memory: the revision identifier (bits 30:0) and shadow indicator (bit 31),
   * as VMPTRLD reads them (from memory even when the VMCS is active). */
  readRevisionDword(pa: number): number {
    return this.mem.read32(pa + VMCS_REVISION_OFFSET) >>> 0;
  }

  /** A VMX abort's write of its indicator to the region in memory (SDM 27.7). */
  writeAbortIndicator(pa: number, code: number): void {
    this.mem.write32(pa + VMCS_ABORT_OFFSET, code >>> 0);
    const r = this.active.get(pa);
    if (r !== undefined) r.image[VMCS_ABORT_OFFSET >>> 2] = code >>> 0;
  }

  private writeBack(r: VmcsRegion): void {
    for (let i = WRITEBACK_FIRST; i < DWORDS; i++) this.mem.write32(r.pa + i * 4, r.image[i]);
  }
}
