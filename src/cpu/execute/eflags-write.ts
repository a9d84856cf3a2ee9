/**
 * Which EFLAGS bits POPF and IRET may change (SDM Vol. 2 POPF/POPFD Table 4-15 and IRET): IOPL only at
 * CPL 0, IF only when CPL <= IOPL, VM/VIF/VIP never by POPF; a 16-bit operand changes the low 16 bits.
 */
import type { CoreState } from "../core-state.ts";
import { Eflags } from "../registers.ts";

const ALWAYS = Eflags.CF | Eflags.PF | Eflags.AF | Eflags.ZF | Eflags.SF | Eflags.TF | Eflags.DF | Eflags.OF |
  Eflags.NT | Eflags.AC | Eflags.ID;

export function writablePoppedFlags(c: CoreState, size: number): number {
  const iopl = (c.eflags >> 12) & 3;
  const cpl = c.protectedMode ? c.cpl : 0;
  let m = ALWAYS;
  if (cpl === 0) m |= Eflags.IOPL;
  if (cpl <= iopl) m |= Eflags.IF;
  return size === 2 ? m & 0xffff : m;
}

/** Load EFLAGS from a popped value (POPF, IRET). RF is cleared as POPF does. */
export function loadPoppedFlags(c: CoreState, v: number, size: number): void {
  c.setEflags(v, writablePoppedFlags(c, size) | Eflags.RF);
  c.eflags &= ~Eflags.RF;
}
