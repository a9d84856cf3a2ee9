/**
 * Multiboot-1 kernel loading (Multiboot Specification 0.6.96 §3.1-3.3), the way `qemu-system-i386
 * -kernel` does it (hw/i386/multiboot.c): find the header; if flags bit 16 is set, place the file by the
 * header's address fields (the "a.out kludge", preferred even for ELF files, as QEMU does); otherwise the
 * image must be an ELF32 i386 executable whose PT_LOAD segments are copied to their physical addresses
 * (p_filesz bytes, then zeros up to p_memsz). Then the information structure is written to low memory
 * and the entry state is returned: EAX = 0x2BADB002, EBX = the structure's address, EIP = the entry.
 *
 * The whole image is checked before anything is written: a malformed image leaves RAM untouched and
 * throws an ImageError naming the field and offset at fault.
 * Leaves out: boot modules, the symbol-table fields, video modes.
 */
import { isElf, parseElf32 } from "./elf32.ts";
import { hex, ImageError } from "./image-error.ts";
import {
  MB_CMDLINE_MAX, MB_INFO_AREA_BYTES, MB_INFO_DEFAULT_ADDR, writeMultibootInfo,
} from "./multiboot-info.ts";
import {
  findMultibootHeader, MbHeaderFlag, MULTIBOOT_BOOTLOADER_MAGIC, type MultibootHeader,
} from "./multiboot-header.ts";

export interface MultibootLoadOptions {
  /** Command line passed in the information structure (flags bit 2). */
  cmdline?: string;
}

/** One piece of the image placed in RAM. */
export interface LoadedRange {
  addr: number;
  /** Bytes copied from the file. */
  fileBytes: number;
  /** Bytes occupied in memory (the rest after fileBytes is zero-filled). */
  memBytes: number;
}

export interface MultibootBoot {
  format: "elf" | "aout-kludge";
  header: MultibootHeader;
  entry: number;
  /** Register values at entry (Multiboot §3.2). */
  eax: number;
  ebx: number;
  infoAddr: number;
  ranges: LoadedRange[];
  /** Things the user may want to know (ignored header requests, translated entry point). */
  notes: string[];
}

interface Piece extends LoadedRange {
  src: Uint8Array;
  /** The field the range comes from, for error messages. */
  what: string;
}

/** Load `image` into `ram` and write the information structure. Throws ImageError; RAM is then untouched. */
export function loadMultiboot(image: Uint8Array, ram: Uint8Array, opts: MultibootLoadOptions = {}): MultibootBoot {
  const header = findMultibootHeader(image);
  const notes: string[] = [];
  if (header.flags & MbHeaderFlag.VIDEO_MODE) {
    notes.push(`Multiboot header requests a video mode (flags bit 2); there is no display, so no video information is passed`);
  }
  let format: MultibootBoot["format"];
  let pieces: Piece[];
  let entry: number;
  if (header.addresses) {
    format = "aout-kludge";
    if (isElf(image)) notes.push(`flags bit 16 is set: loaded by the header's address fields, not the ELF program headers (as QEMU does)`);
    ({ pieces, entry } = planKludge(image, header));
  } else {
    if (!isElf(image)) {
      throw new ImageError(
        `Multiboot header at offset ${hex(header.offset)} has flags ${hex(header.flags)} with bit 16 clear ` +
          `(no load addresses), so the image must be ELF, but bytes 0-3 are not 7f 45 4c 46`,
      );
    }
    format = "elf";
    ({ pieces, entry } = planElf(image, notes));
  }

  for (const p of pieces) {
    if (p.addr + p.memBytes > ram.length) {
      throw new ImageError(
        `${p.what}: ${hex(p.addr)}-${hex(p.addr + p.memBytes - 1)} is outside RAM (${hex(ram.length)} bytes, ` +
          `${ram.length >>> 20} MiB); give the machine more memory or link the kernel lower`,
      );
    }
  }
  if (opts.cmdline !== undefined && opts.cmdline.length > MB_CMDLINE_MAX) {
    throw new ImageError(`command line is ${opts.cmdline.length} characters; at most ${MB_CMDLINE_MAX} fit the information area`);
  }
  const infoAddr = placeInfo(pieces, ram.length);

  for (const p of pieces) {
    ram.set(p.src, p.addr);
    ram.fill(0, p.addr + p.fileBytes, p.addr + p.memBytes);
  }
  writeMultibootInfo(ram, infoAddr, { ramBytes: ram.length, cmdline: opts.cmdline });
  if (!pieces.some((p) => entry >= p.addr && entry < p.addr + p.memBytes)) {
    notes.push(`entry point ${hex(entry)} is outside every loaded range`);
  }
  return {
    format, header, entry, eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: infoAddr, infoAddr,
    ranges: pieces.map(({ addr, fileBytes, memBytes }) => ({ addr, fileBytes, memBytes })),
    notes,
  };
}

/** Flat image placed by header_addr/load_addr/load_end_addr/bss_end_addr (Multiboot §3.1.3). */
function planKludge(image: Uint8Array, header: MultibootHeader): { pieces: Piece[]; entry: number } {
  const a = header.addresses!;
  const at = (field: string, rel: number) => `Multiboot header ${field} (offset ${hex(header.offset + rel)})`;
  if (a.headerAddr < a.loadAddr) {
    throw new ImageError(`${at("header_addr", 12)} = ${hex(a.headerAddr)} is below load_addr ${hex(a.loadAddr)}`);
  }
  if (a.headerAddr - a.loadAddr > header.offset) {
    throw new ImageError(
      `${at("header_addr", 12)} = ${hex(a.headerAddr)} is ${hex(a.headerAddr - a.loadAddr)} bytes above load_addr ` +
        `${hex(a.loadAddr)}, but the header is only ${hex(header.offset)} bytes into the file`,
    );
  }
  const textOffset = header.offset - (a.headerAddr - a.loadAddr);
  let loadSize: number;
  if (a.loadEndAddr !== 0) {
    if (a.loadEndAddr < a.loadAddr) {
      throw new ImageError(`${at("load_end_addr", 20)} = ${hex(a.loadEndAddr)} is below load_addr ${hex(a.loadAddr)}`);
    }
    loadSize = a.loadEndAddr - a.loadAddr;
    if (textOffset + loadSize > image.length) {
      throw new ImageError(
        `${at("load_end_addr", 20)} = ${hex(a.loadEndAddr)} asks for ${hex(loadSize)} bytes from file offset ` +
          `${hex(textOffset)}, but the file ends at ${hex(image.length)} (truncated image?)`,
      );
    }
  } else {
    loadSize = image.length - textOffset;
  }
  let memSize = loadSize;
  if (a.bssEndAddr !== 0) {
    if (a.bssEndAddr < a.loadAddr + loadSize) {
      throw new ImageError(
        `${at("bss_end_addr", 24)} = ${hex(a.bssEndAddr)} is below the end of the loaded data ${hex(a.loadAddr + loadSize)}`,
      );
    }
    memSize = a.bssEndAddr - a.loadAddr;
  }
  if (a.loadAddr + memSize > 0x1_0000_0000) {
    throw new ImageError(`${at("load_addr", 16)} = ${hex(a.loadAddr)} + ${hex(memSize)} bytes wraps past 4 GiB`);
  }
  const piece: Piece = {
    addr: a.loadAddr, fileBytes: loadSize, memBytes: memSize,
    src: image.subarray(textOffset, textOffset + loadSize),
    what: `Multiboot header at offset ${hex(header.offset)}: load_addr..bss_end_addr`,
  };
  return { pieces: memSize > 0 ? [piece] : [], entry: a.entryAddr };
}

function planElf(image: Uint8Array, notes: string[]): { pieces: Piece[]; entry: number } {
  const elf = parseElf32(image);
  const pieces: Piece[] = elf.segments
    .filter((s) => s.memsz > 0)
    .map((s) => ({
      addr: s.paddr, fileBytes: s.filesz, memBytes: s.memsz,
      src: image.subarray(s.offset, s.offset + s.filesz),
      what: `ELF program header ${s.index} at offset ${hex(s.headerOffset)} (p_paddr + p_memsz)`,
    }));
  let entry = elf.entry;
  const inPhys = elf.segments.some((s) => entry >= s.paddr && entry - s.paddr < s.memsz);
  if (!inPhys) {
    // A kernel linked at a virtual address (higher half): enter at the physical copy, as GRUB does.
    const s = elf.segments.find((s) => entry >= s.vaddr && entry - s.vaddr < s.memsz);
    if (s) {
      const phys = (entry - s.vaddr + s.paddr) >>> 0;
      notes.push(`ELF e_entry ${hex(entry)} is a virtual address; entering at its physical address ${hex(phys)}`);
      entry = phys;
    }
  }
  return { pieces, entry };
}

/** The default low-memory spot unless the kernel occupies it; else the first page after the kernel. */
function placeInfo(pieces: Piece[], ramBytes: number): number {
  const overlaps = (lo: number, hi: number) => pieces.some((p) => p.addr < hi && lo < p.addr + p.memBytes);
  let at = MB_INFO_DEFAULT_ADDR;
  if (overlaps(at, at + MB_INFO_AREA_BYTES)) {
    const end = Math.max(...pieces.map((p) => p.addr + p.memBytes));
    at = Math.ceil(end / 4096) * 4096;
  }
  if (at + MB_INFO_AREA_BYTES > ramBytes) {
    throw new ImageError(
      `no room in RAM (${hex(ramBytes)} bytes) for the Multiboot information structure: the kernel occupies ` +
        `${hex(MB_INFO_DEFAULT_ADDR)} and nothing is free above it`,
    );
  }
  return at;
}
