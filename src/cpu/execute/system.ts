/**
 * Executors of the string/I-O table (table-string-io.ts) and the system table (table-system.ts),
 * gathered into one ExecTable so that execute/index.ts imports a single name.
 *
 * Rows marked `pmodeOnly` raise #UD outside protected mode and rows marked `privileged` raise #GP(0) at
 * CPL > 0 (SDM Vol. 3A 5.9 "Privileged Instructions"; real-address mode runs at CPL 0); this file applies
 * both checks, in that order, before the handler runs. MOV CR/DR make their own checks because a
 * register that does not exist is #UD even at CPL 3 (system-registers.ts).
 *
 * Leaves out: virtual-8086 mode (not modelled: these rows would raise #UD or #GP(0) there).
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { IsaRow } from "../isa/types.ts";
import type { ExecFactory, ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { STRING_EXEC } from "./string.ts";
import { IO_EXEC } from "./io.ts";
import { TABLE_EXEC } from "./system-tables.ts";
import { SEGMENT_CHECK_EXEC } from "./system-segment-checks.ts";
import { REGISTER_EXEC } from "./system-registers.ts";
import { MSR_EXEC } from "./system-msr.ts";
import { VMX_EXEC } from "./vmx.ts";
import { MONITOR_MWAIT_EXEC } from "./monitor-mwait.ts";

/** Handlers that check mode and privilege themselves, in the SDM's order for them. */
const SELF_CHECKED = new Set(["movFromCr", "movToCr", "movFromDr", "movToDr"]);

function guarded(f: ExecFactory): ExecFactory {
  return (i: Insn, row: IsaRow): ExecFn => {
    const h = f(i, row);
    if (SELF_CHECKED.has(row.exec)) return h;
    const pmode = row.pmodeOnly === true;
    const priv = row.privileged === true;
    if (pmode && priv) {
      return (c: CoreState, ii: Insn) => {
        if (!c.protectedMode) fault(Vector.UD);
        if (c.cpl !== 0) fault(Vector.GP, 0);
        h(c, ii);
      };
    }
    if (pmode) {
      return (c: CoreState, ii: Insn) => {
        if (!c.protectedMode) fault(Vector.UD);
        h(c, ii);
      };
    }
    if (priv) {
      return (c: CoreState, ii: Insn) => {
        if (c.protectedMode && c.cpl !== 0) fault(Vector.GP, 0);
        h(c, ii);
      };
    }
    return h;
  };
}

function guardAll(t: ExecTable): ExecTable {
  const out: ExecTable = {};
  for (const [k, f] of Object.entries(t)) out[k] = guarded(f);
  return out;
}

export const SYSTEM_EXEC: ExecTable = {
  ...STRING_EXEC,
  ...IO_EXEC,
  ...guardAll({ ...TABLE_EXEC, ...SEGMENT_CHECK_EXEC, ...REGISTER_EXEC, ...MSR_EXEC }),
  // The VMX instructions make their own checks in the SDM's order (a VM exit comes before #GP for CPL > 0).
  ...VMX_EXEC,
  ...MONITOR_MWAIT_EXEC,
};
