/**
 * Reading an ELF32 executable for loading (System V gABI, "ELF Header" and "Program Header" chapters;
 * the i386 psABI for EM_386): the header is checked (magic, ELFCLASS32, little-endian, version 1,
 * ET_EXEC, EM_386) and the PT_LOAD program headers are returned. Every check names the field and the
 * file offset it found wrong.
 *
 * Leaves out: section headers and symbols (not needed to load), dynamic linking, relocations.
 */
import { hex, ImageError } from "./image-error.ts";

export const ELF_HEADER_SIZE = 52;
export const ELF_PHDR_SIZE = 32;
export const PT_LOAD = 1;
export const ET_EXEC = 2;
export const EM_386 = 3;

export interface ElfLoadSegment {
  /** Index of the program header, and its file offset (for messages). */
  index: number;
  headerOffset: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface Elf32Image {
  entry: number;
  segments: ElfLoadSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

const ET_NAMES: Record<number, string> = { 0: "ET_NONE", 1: "ET_REL", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE" };
const EM_NAMES: Record<number, string> = { 3: "EM_386", 40: "EM_ARM", 62: "EM_X86_64", 183: "EM_AARCH64" };

/** Parse and check an ELF32 i386 executable. Throws ImageError. */
export function parseElf32(image: Uint8Array): Elf32Image {
  if (!isElf(image)) throw new ImageError(`not an ELF file: bytes 0-3 are not 7f 45 4c 46 ("\\x7fELF")`);
  if (image.length < ELF_HEADER_SIZE) {
    throw new ImageError(`truncated ELF header: the file has ${image.length} bytes, the ELF32 header needs ${ELF_HEADER_SIZE}`);
  }
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const cls = image[4];
  if (cls !== 1) {
    throw new ImageError(
      `ELF e_ident[EI_CLASS] at offset 0x4 is ${cls}${cls === 2 ? " (ELFCLASS64)" : ""}: ` +
        `a Multiboot-1 kernel must be ELFCLASS32 (1)`,
    );
  }
  if (image[5] !== 1) {
    throw new ImageError(`ELF e_ident[EI_DATA] at offset 0x5 is ${image[5]}: need ELFDATA2LSB (1, little-endian)`);
  }
  if (image[6] !== 1) throw new ImageError(`ELF e_ident[EI_VERSION] at offset 0x6 is ${image[6]}: need EV_CURRENT (1)`);
  const type = v.getUint16(16, true);
  if (type !== ET_EXEC) {
    throw new ImageError(`ELF e_type at offset 0x10 is ${type} (${ET_NAMES[type] ?? "unknown"}): need ET_EXEC (2)`);
  }
  const machine = v.getUint16(18, true);
  if (machine !== EM_386) {
    throw new ImageError(
      `ELF e_machine at offset 0x12 is ${machine} (${EM_NAMES[machine] ?? "unknown"}): need EM_386 (3)`,
    );
  }
  const entry = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  if (phnum === 0) throw new ImageError(`ELF e_phnum at offset 0x2c is 0: the file has no program headers to load`);
  if (phentsize < ELF_PHDR_SIZE) {
    throw new ImageError(`ELF e_phentsize at offset 0x2a is ${phentsize}: an ELF32 program header has ${ELF_PHDR_SIZE} bytes`);
  }
  const phEnd = phoff + phnum * phentsize;
  if (phEnd > image.length) {
    throw new ImageError(
      `truncated ELF: program header table (e_phoff ${hex(phoff)} + ${phnum} x ${phentsize} bytes) ends at ` +
        `${hex(phEnd)}, past the end of the file (${hex(image.length)} bytes)`,
    );
  }
  const segments: ElfLoadSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const at = phoff + k * phentsize;
    if (v.getUint32(at, true) !== PT_LOAD) continue;
    const s: ElfLoadSegment = {
      index: k,
      headerOffset: at,
      offset: v.getUint32(at + 4, true),
      vaddr: v.getUint32(at + 8, true),
      paddr: v.getUint32(at + 12, true),
      filesz: v.getUint32(at + 16, true),
      memsz: v.getUint32(at + 20, true),
      flags: v.getUint32(at + 24, true),
    };
    const where = `ELF program header ${k} at offset ${hex(at)}`;
    if (s.filesz > s.memsz) {
      throw new ImageError(`${where}: p_filesz ${hex(s.filesz)} is larger than p_memsz ${hex(s.memsz)}`);
    }
    if (s.offset + s.filesz > image.length) {
      throw new ImageError(
        `truncated ELF: ${where}: p_offset ${hex(s.offset)} + p_filesz ${hex(s.filesz)} = ` +
          `${hex(s.offset + s.filesz)} is past the end of the file (${hex(image.length)} bytes)`,
      );
    }
    if (s.paddr + s.memsz > 0x1_0000_0000) {
      throw new ImageError(`${where}: p_paddr ${hex(s.paddr)} + p_memsz ${hex(s.memsz)} wraps past 4 GiB`);
    }
    segments.push(s);
  }
  if (!segments.some((s) => s.memsz > 0)) {
    throw new ImageError(`ELF: none of the ${phnum} program headers (at e_phoff ${hex(phoff)}) is a non-empty PT_LOAD segment`);
  }
  return { entry, segments };
}
