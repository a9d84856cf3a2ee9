/**
 * The Multiboot-1 information structure the boot loader hands the kernel in EBX (Multiboot
 * Specification 0.6.96 §3.3), written into guest RAM. Provided: mem_lower/mem_upper (flags bit 0; 640 KiB
 * of lower memory and the RAM above 1 MiB, as QEMU reports), a memory map (bit 6), the boot loader's
 * name (bit 9) and, when given, a command line (bit 2).
 *
 * Everything lives in one 4 KiB area: the 88-byte structure, the map, then the strings.
 * Leaves out: boot device, modules, symbols, drives, config table, APM and VBE (flags clear).
 */

export const MB_INFO_SIZE = 88;
/** Size of the area the structure, the memory map and the strings occupy. */
export const MB_INFO_AREA_BYTES = 4096;
/** Where QEMU's Multiboot loader puts the structure too (hw/i386/multiboot.c MULTIBOOT_STRUCT_ADDR). */
export const MB_INFO_DEFAULT_ADDR = 0x9000;

export const enum MbInfoFlag {
  MEMORY = 1 << 0,
  CMDLINE = 1 << 2,
  MMAP = 1 << 6,
  BOOT_LOADER_NAME = 1 << 9,
}

const MMAP_OFFSET = 0x60;
const MMAP_ENTRY_BYTES = 24;
const NAME_OFFSET = 0x100;
const CMDLINE_OFFSET = 0x120;
/** Longest command line that fits the area with its terminating NUL. */
export const MB_CMDLINE_MAX = MB_INFO_AREA_BYTES - CMDLINE_OFFSET - 1;

export const BOOT_LOADER_NAME = "vmxsim";

const LOWER_END = 0x9fc00; // 639 KiB: the last KiB below 640 KiB is the EBDA on a PC
const UPPER_START = 0x100000;

export interface MbInfoOptions {
  ramBytes: number;
  cmdline?: string;
}

/** Write the structure at `addr` (the area must lie in RAM; the caller checks). Returns `addr`. */
export function writeMultibootInfo(ram: Uint8Array, addr: number, opts: MbInfoOptions): number {
  const v = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  ram.fill(0, addr, addr + MB_INFO_AREA_BYTES);
  const kib = Math.floor(opts.ramBytes / 1024);
  const memLower = Math.min(640, kib);
  const memUpper = Math.max(0, kib - 1024);
  let flags = MbInfoFlag.MEMORY | MbInfoFlag.MMAP | MbInfoFlag.BOOT_LOADER_NAME;
  v.setUint32(addr + 4, memLower, true);
  v.setUint32(addr + 8, memUpper, true);

  const regions: [number, number, number][] = [[0, Math.min(LOWER_END, opts.ramBytes), 1]];
  if (opts.ramBytes > LOWER_END) regions.push([LOWER_END, UPPER_START - LOWER_END, 2]);
  if (opts.ramBytes > UPPER_START) regions.push([UPPER_START, opts.ramBytes - UPPER_START, 1]);
  let p = addr + MMAP_OFFSET;
  for (const [base, length, type] of regions) {
    v.setUint32(p, MMAP_ENTRY_BYTES - 4, true); // size: the entry without this field
    v.setUint32(p + 4, base, true);
    v.setUint32(p + 8, 0, true);
    v.setUint32(p + 12, length, true);
    v.setUint32(p + 16, 0, true);
    v.setUint32(p + 20, type, true);
    p += MMAP_ENTRY_BYTES;
  }
  v.setUint32(addr + 44, regions.length * MMAP_ENTRY_BYTES, true);
  v.setUint32(addr + 48, addr + MMAP_OFFSET, true);

  writeCString(ram, addr + NAME_OFFSET, BOOT_LOADER_NAME);
  v.setUint32(addr + 64, addr + NAME_OFFSET, true);

  if (opts.cmdline !== undefined) {
    writeCString(ram, addr + CMDLINE_OFFSET, opts.cmdline);
    v.setUint32(addr + 16, addr + CMDLINE_OFFSET, true);
    flags |= MbInfoFlag.CMDLINE;
  }
  v.setUint32(addr, flags, true);
  return addr;
}

/** Bytes of a command line as stored (Latin-1/ASCII; other characters become '?'). */
export function cmdlineBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    b[k] = c < 0x100 && c !== 0 ? c : 0x3f;
  }
  return b;
}

function writeCString(ram: Uint8Array, at: number, s: string): void {
  ram.set(cmdlineBytes(s), at);
  ram[at + s.length] = 0;
}
