/**
 * All executor factories, by the opcode table's `exec` key. A key with no factory decodes but raises
 * #UD when executed (reported by test/cpu/isa-coverage.test.ts, which requires every key to exist).
 */
import type { ExecTable } from "./registry.ts";
import { ALU_EXEC } from "./alu.ts";
import { MOVE_EXEC } from "./move.ts";
import { CONTROL_EXEC } from "./control.ts";
import { ARITH_EXEC } from "./arith.ts";
import { GENERAL_EXEC } from "./general.ts";
import { SYSTEM_EXEC } from "./system.ts";

export const EXEC_TABLE: ExecTable = {
  ...ALU_EXEC,
  ...MOVE_EXEC,
  ...CONTROL_EXEC,
  ...ARITH_EXEC,
  ...GENERAL_EXEC,
  ...SYSTEM_EXEC,
};
