/**
 * Writing a minimal ELF32 i386 executable (System V gABI; EM_386, ET_EXEC): an ELF header, a program
 * header table with one PT_LOAD per segment, then the segments' bytes, each at a file offset congruent
 * to its address modulo the page size as the gABI asks. Used to wrap assembled code as a Multiboot ELF
 * kernel, and by tests to build good and deliberately broken images.
 *
 * Leaves out: section headers and a symbol table (loaders do not need them).
 */
import { ELF_HEADER_SIZE, ELF_PHDR_SIZE, EM_386, ET_EXEC, PT_LOAD } from "./elf32.ts";

export interface ElfSegmentSpec {
  /** Load (physical) address; the virtual address defaults to it. */
  paddr: number;
  vaddr?: number;
  bytes: Uint8Array;
  /** Size in memory (>= bytes.length); the rest is zero-filled (.bss). Default bytes.length. */
  memsz?: number;
  /** PF_X = 1, PF_W = 2, PF_R = 4. Default R+W+X. */
  flags?: number;
}

export interface ElfSpec {
  entry: number;
  segments: ElfSegmentSpec[];
}

const PAGE = 4096;

export function writeElf32(spec: ElfSpec): Uint8Array {
  const phoff = ELF_HEADER_SIZE;
  let off = phoff + spec.segments.length * ELF_PHDR_SIZE;
  const offsets: number[] = [];
  for (const s of spec.segments) {
    const want = (s.vaddr ?? s.paddr) % PAGE;
    off += (want - (off % PAGE) + PAGE) % PAGE;
    offsets.push(off);
    off += s.bytes.length;
  }
  const out = new Uint8Array(off);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0], 0); // magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, SYSV ABI
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_386, true);
  v.setUint32(20, 1, true); // e_version
  v.setUint32(24, spec.entry >>> 0, true);
  v.setUint32(28, phoff, true);
  v.setUint32(32, 0, true); // e_shoff: no section headers
  v.setUint32(36, 0, true); // e_flags
  v.setUint16(40, ELF_HEADER_SIZE, true);
  v.setUint16(42, ELF_PHDR_SIZE, true);
  v.setUint16(44, spec.segments.length, true);
  v.setUint16(46, 40, true); // e_shentsize
  v.setUint16(48, 0, true);
  v.setUint16(50, 0, true);
  spec.segments.forEach((s, k) => {
    const at = phoff + k * ELF_PHDR_SIZE;
    v.setUint32(at, PT_LOAD, true);
    v.setUint32(at + 4, offsets[k], true);
    v.setUint32(at + 8, (s.vaddr ?? s.paddr) >>> 0, true);
    v.setUint32(at + 12, s.paddr >>> 0, true);
    v.setUint32(at + 16, s.bytes.length, true);
    v.setUint32(at + 20, (s.memsz ?? s.bytes.length) >>> 0, true);
    v.setUint32(at + 24, s.flags ?? 7, true);
    v.setUint32(at + 28, PAGE, true);
    out.set(s.bytes, offsets[k]);
  });
  return out;
}
