/**
 * Multiboot-1 kernel images from the assembler: a header with the address fields (flag bit 16, the
 * "a.out kludge") so a flat binary loads like `qemu-system-i386 -kernel` and our runner expect.
 * Follows the Multiboot Specification 0.6.96, 3.1.1-3.1.3 (header layout, magic, flags, checksum; the
 * header lies 4-byte aligned within the first 8192 bytes) and 3.2 (EAX = 0x2BADB002 on entry).
 * Leaves out: the video-mode fields (flag bit 2) and ELF images, which are produced by other tools.
 */
import { Asm, type AsmImage } from "./asm.ts";
import { AsmError } from "./errors.ts";
import { lbl, type LabelRef } from "./operands.ts";

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** What the boot loader leaves in EAX (spec 3.2). */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH_BYTES = 8192;
export const MB_FLAG_PAGE_ALIGN = 1 << 0;
export const MB_FLAG_MEMORY_INFO = 1 << 1;
export const MB_FLAG_ADDRESS_FIELDS = 1 << 16;
/** Where a kernel is loaded unless told otherwise (1 MiB, above the real-mode area). */
export const DEFAULT_LOAD_ADDR = 0x100000;

const HEADER = "__multiboot_header";
const LOAD_END = "__multiboot_load_end";
const ENTRY = "__multiboot_entry";

export interface MultibootOptions {
  /** Entry point; default: the first byte after the header. */
  entry?: LabelRef;
  /** Zeroed memory the loader reserves after the image (bss_end_addr - load_end_addr). */
  bssBytes?: number;
  /** Ask for mem_lower/mem_upper in the info structure (flag bit 1); default true. */
  memInfo?: boolean;
  /** Ask for page-aligned modules (flag bit 0); default false. */
  pageAlignModules?: boolean;
}

export interface MultibootHeader {
  /** Byte offset of the header in the image. */
  offset: number;
  flags: number;
  checksum: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/**
 * Emit a Multiboot header at the current position (call it first: it must land in the first 8 KiB).
 * load_addr is the Asm's origin; load_end_addr and bss_end_addr are fixed up when the image is built.
 */
export function multibootHeader(a: Asm, opts: MultibootOptions = {}): void {
  const flags = MB_FLAG_ADDRESS_FIELDS | (opts.memInfo === false ? 0 : MB_FLAG_MEMORY_INFO) |
    (opts.pageAlignModules ? MB_FLAG_PAGE_ALIGN : 0);
  const checksum = (-(MULTIBOOT_HEADER_MAGIC + flags)) >>> 0;
  const bss = opts.bssBytes ?? 0;
  if (!Number.isInteger(bss) || bss < 0) throw new AsmError(`multiboot: bad bssBytes ${bss}`);
  const entry = opts.entry ?? ENTRY;
  a.align(4);
  a.label(HEADER);
  a.dd(MULTIBOOT_HEADER_MAGIC, flags, checksum, HEADER, a.origin, LOAD_END, lbl(LOAD_END, bss), entry);
  if (opts.entry === undefined) a.label(ENTRY);
  a.entry(entry);
  a.onBuild(
    (asm) => asm.label(LOAD_END),
    (img) => {
      const off = img.symbols[HEADER] - img.origin;
      if (off + 32 > MULTIBOOT_SEARCH_BYTES) {
        throw new AsmError(`multiboot: header at offset ${off}, not within the first ${MULTIBOOT_SEARCH_BYTES} bytes`);
      }
    },
  );
}

/** A whole Multiboot kernel: header, then `body` (32-bit code), loaded at loadAddr (default 1 MiB). */
export function buildMultiboot(body: (a: Asm) => void, opts: MultibootOptions & { loadAddr?: number } = {}): AsmImage {
  const a = new Asm({ bits: 32, origin: opts.loadAddr ?? DEFAULT_LOAD_ADDR });
  multibootHeader(a, opts);
  body(a);
  return a.build();
}

/** Find and check the Multiboot header of an image (first 8 KiB, 4-byte aligned, checksum valid). */
export function parseMultibootHeader(bytes: Uint8Array): MultibootHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(bytes.length, MULTIBOOT_SEARCH_BYTES) - 12;
  for (let off = 0; off <= limit; off += 4) {
    if (view.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const checksum = view.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    const field = (k: number) => (off + 12 + 4 * k + 4 <= bytes.length ? view.getUint32(off + 12 + 4 * k, true) : 0);
    return {
      offset: off, flags, checksum,
      headerAddr: field(0), loadAddr: field(1), loadEndAddr: field(2), bssEndAddr: field(3), entryAddr: field(4),
    };
  }
  return undefined;
}
