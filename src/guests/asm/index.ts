/**
 * The assembler DSL guests are written in ("TS bytecode"): operands, the Asm builder and the
 * Multiboot-1 wrapper. See asm.ts for the encoding rules and multiboot.ts for the image format.
 */
export * from "./operands.ts";
export { Asm, type AsmImage, type AsmOptions } from "./asm.ts";
export { AsmError } from "./errors.ts";
export { MNEMONICS, type Mnemonic } from "./mnemonics.ts";
export * from "./multiboot.ts";
