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

import { MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH_BYTES } from "../image/multiboot-header.ts";

// The header's constants and its parser (findMultibootHeader) live with the loader; re-exported here
// for guests that test the boot magic.
export { MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH_BYTES };
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
