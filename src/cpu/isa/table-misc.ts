/**
 * Opcode table, flag control, NOP forms, PAUSE, HLT, identification and time-stamp instructions, UD2,
 * WAIT. Intel SDM Vol. 2 instruction pages (CLC ... STD, NOP, PAUSE, HLT, CPUID, RDTSC, RDTSCP, UD).
 */
import { FlagBit, type IsaRow } from "./types.ts";
import { row } from "./row.ts";

export const MISC_ROWS: readonly IsaRow[] = [
  row("clc", [0xf8], "", "flagOp", "flag", { param: 0, flagsDefined: FlagBit.CF }),
  row("stc", [0xf9], "", "flagOp", "flag", { param: 1, flagsDefined: FlagBit.CF }),
  row("cmc", [0xf5], "", "flagOp", "flag", { param: 2, flagsDefined: FlagBit.CF, flagsRead: FlagBit.CF }),
  row("cld", [0xfc], "", "flagOp", "flag", { param: 3, flagsDefined: FlagBit.DF }),
  row("std", [0xfd], "", "flagOp", "flag", { param: 4, flagsDefined: FlagBit.DF }),
  // CLI/STI consult IOPL/CPL (system layer); STI opens an interrupt shadow, so both end the block.
  row("cli", [0xfa], "", "cli", "flag", { flagsDefined: FlagBit.IF, end: "stop" }),
  row("sti", [0xfb], "", "sti", "flag", { flagsDefined: FlagBit.IF, end: "stop" }),
  row("nop", [0x90], "", "nop", "nop"),
  row("pause", [0x90], "", "pause", "nop", { mandatoryPrefix: 0xf3 }),
  row("nop", [0x0f, 0x1f], "Ev", "nop", "nop", { ext: 0 }),
  // Hint NOPs: 0F 1F /1-7 and 0F 19-0F 1E /r execute as NOP on P6 and later (ENDBR32 = F3 0F 1E FB relies
  // on it); the host runs them as NOPs. The assembler keeps to 0F 1F /0.
  ...[1, 2, 3, 4, 5, 6, 7].map((k) => row("nop", [0x0f, 0x1f], "Ev", "nop", "nop", { ext: k, noAsm: true })),
  ...[0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e].map((op) => row("nop", [0x0f, op], "Ev", "nop", "nop", { noAsm: true })),
  row("hlt", [0xf4], "", "hlt", "hlt", { privileged: true, end: "stop" }),
  row("cpuid", [0x0f, 0xa2], "", "cpuid", "serialize", { end: "stop" }),
  row("rdtsc", [0x0f, 0x31], "", "rdtsc", "rdtsc"),
  row("rdtscp", [0x0f, 0x01], "", "rdtscp", "rdtsc", { modrmByte: 0xf9 }),
  row("ud2", [0x0f, 0x0b], "", "ud", "system"),
  row("fwait", [0x9b], "", "fwait", "nop", { aliases: ["wait"] }),
];
