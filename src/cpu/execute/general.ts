/**
 * The remaining general-purpose instructions of the Pentium-class IA-32 set, gathered into one table
 * for execute/index.ts: data movement (data.ts, atomic.ts, segment-move.ts), stack frames (stack.ts),
 * flag control, NOP/PAUSE/HLT and identification/time-stamp instructions (misc.ts).
 */
import type { ExecTable } from "./registry.ts";
import { DATA_EXEC } from "./data.ts";
import { ATOMIC_EXEC } from "./atomic.ts";
import { SEGMENT_MOVE_EXEC } from "./segment-move.ts";
import { STACK_EXEC } from "./stack.ts";
import { MISC_EXEC } from "./misc.ts";

export const GENERAL_EXEC: ExecTable = {
  ...DATA_EXEC,
  ...ATOMIC_EXEC,
  ...SEGMENT_MOVE_EXEC,
  ...STACK_EXEC,
  ...MISC_EXEC,
};
