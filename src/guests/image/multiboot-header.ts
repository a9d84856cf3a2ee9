/**
 * The Multiboot-1 header (Multiboot Specification 0.6.96 §3.1): searched for in the first 8192 bytes
 * of the image, 32-bit aligned; magic 0x1BADB002; magic + flags + checksum = 0 (mod 2^32). Bits 0-15 of
 * flags are requirements the boot loader must fail on if it cannot meet them; bit 16 says the address
 * fields (header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr: the "a.out kludge") are valid.
 *
 * Leaves out: the video-mode fields (bit 2; there is no display), which are parsed but not used.
 */
import { hex, ImageError } from "./image-error.ts";

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** EAX at kernel entry (§3.2). */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH_BYTES = 8192;

export const enum MbHeaderFlag {
  PAGE_ALIGN = 1 << 0,
  MEMORY_INFO = 1 << 1,
  VIDEO_MODE = 1 << 2,
  AOUT_KLUDGE = 1 << 16,
}

/** Requirement bits (0-15) this loader can meet: 0 (no modules to align), 1 (memory info), 2 (see notes). */
const SUPPORTED_REQUIRED = MbHeaderFlag.PAGE_ALIGN | MbHeaderFlag.MEMORY_INFO | MbHeaderFlag.VIDEO_MODE;

export interface MultibootAddresses {
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** Present when flags bit 16 is set. */
  addresses?: MultibootAddresses;
}

/** Find and check the header. Throws ImageError if there is none, or it is malformed. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(image.length, MULTIBOOT_SEARCH_BYTES);
  let badChecksum: string | undefined;
  for (let off = 0; off + 12 <= limit; off += 4) {
    if (view.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const checksum = view.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) {
      // A stray magic value in code or data: keep looking, but remember it for the error message.
      badChecksum ??=
        `Multiboot header at offset ${hex(off)}: checksum ${hex(checksum)} is wrong for flags ${hex(flags)} ` +
        `(magic + flags + checksum must be 0 mod 2^32; expected ${hex(-(MULTIBOOT_HEADER_MAGIC + flags))})`;
      continue;
    }
    const unsupported = flags & 0xffff & ~SUPPORTED_REQUIRED;
    if (unsupported !== 0) {
      const bit = 31 - Math.clz32(unsupported & -unsupported);
      throw new ImageError(
        `Multiboot header at offset ${hex(off)}: flags ${hex(flags)} require feature bit ${bit}, ` +
          `which this loader does not know (Multiboot 0.6.96 §3.1.2: the loader must refuse)`,
      );
    }
    const header: MultibootHeader = { offset: off, flags };
    if (flags & MbHeaderFlag.AOUT_KLUDGE) {
      if (off + 32 > limit) {
        throw new ImageError(
          `Multiboot header at offset ${hex(off)}: flags bit 16 is set but the address fields ` +
            `(offsets ${hex(off + 12)}-${hex(off + 31)}) are not within the first ${limit} bytes of the image`,
        );
      }
      header.addresses = {
        headerAddr: view.getUint32(off + 12, true),
        loadAddr: view.getUint32(off + 16, true),
        loadEndAddr: view.getUint32(off + 20, true),
        bssEndAddr: view.getUint32(off + 24, true),
        entryAddr: view.getUint32(off + 28, true),
      };
    }
    return header;
  }
  if (badChecksum) throw new ImageError(badChecksum);
  throw new ImageError(
    `no Multiboot header: magic ${hex(MULTIBOOT_HEADER_MAGIC)} not found at any 4-byte aligned offset ` +
      `in the first ${limit} bytes of the image (${image.length} bytes)`,
  );
}
