/**
 * The bundled bare-metal demo guest (placeholder until the assembler lands: the real one is written
 * with src/guests/asm).
 */
export const DEMO_EXIT_VALUE = 0x10;

export function buildDemoKernel(): Uint8Array {
  throw new Error("the demo guest needs the assembler (src/guests/asm), which has not landed yet");
}
