/**
 * The system test kernels: each NAME is test/system/kernels/NAME.asm, run under Bochs (the reference)
 * and vmxsim by system-kernels.test.ts, with its Bochs output in test/system/expected/NAME.txt.
 * Adding a kernel: its .asm file, one line here, then `npx tsx test/system/update-golden.ts NAME`.
 */
export const KERNELS: readonly string[] = [
  "realmode", // reset vector, real-mode segments and IVT, 32-bit prefixes, PE on and off (SDM 9.1, 9.9, 20.1)
  "exceptions",
  "segments",
  "callgates",
  "rings",
  "paging",
  "shadows",
];
