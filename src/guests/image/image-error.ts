/**
 * A kernel image that cannot be loaded: bad input, not a simulator fault. The message names the
 * structure, the field and the file offset that are wrong, e.g.
 * "ELF program header 1 at offset 0x54: p_offset + p_filesz = 0x3000 is past the end of the file (0x2000 bytes)".
 */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageError";
  }
}

export const hex = (v: number): string => "0x" + (v >>> 0).toString(16);
