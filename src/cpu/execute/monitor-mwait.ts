/**
 * MONITOR and MWAIT (SDM Vol. 2B; Vol. 3A 8.10.4), and their VM exits in VMX non-root operation (SDM Vol. 3C
 * 25.1.3: "MONITOR exiting" -> reason 39, "MWAIT exiting" -> reason 36 with qualification bit 0 = whether a
 * MONITOR armed the address range).
 *
 * Checks, in order: #UD without CPUID.1:ECX.MONITOR, #UD at CPL > 0 (the SDM's default: MONITOR/MWAIT at CPL 0
 * only); MONITOR then checks DS:EAX as a read of one byte (segment limit, and a #PF if it has no translation),
 * and ECX must be 0 (#GP(0)) as no MONITOR extension is defined; MWAIT's ECX may hold bit 0 (interrupts as
 * break events, CPUID.5:ECX[1]) only, else #GP(0). The VM exit comes after those checks (25.1.1).
 *
 * MWAIT returns at once: the SDM lets the processor leave the optimized state "for any reason" (a spurious
 * wake-up), so software must re-check the monitored condition in a loop; the model takes that freedom and does
 * not wait. The armed range is kept only for the MWAIT exit qualification.
 */
import type { CoreState } from "../core-state.ts";
import type { ExecTable } from "./registry.ts";
import { fault } from "../exceptions.ts";
import { cpuIdentityOf } from "../cpuid.ts";
import { VmExitSignal } from "../vmx/vm-exit-signal.ts";

const UD = 6, GP = 13;
const EAX = 0, ECX = 1, DS = 3;
const ECX_MONITOR = 1 << 3;
const PROC_MWAIT_EXITING = 1 << 10;
const PROC_MONITOR_EXITING = 1 << 29;

/** Per core: a MONITOR armed an address range (cleared by MWAIT, which consumes it). */
const armed = new WeakMap<CoreState, boolean>();

function available(c: CoreState): void {
  if ((cpuIdentityOf(c).featuresEcx & ECX_MONITOR) === 0) fault(UD);
  if (c.protectedMode && c.cpl !== 0) fault(UD);
}

export const MONITOR_MWAIT_EXEC: ExecTable = {
  monitor: () => (c) => {
    available(c);
    const off = c.regs[EAX];
    c.checkSegment(DS, off, 1, false);
    c.translate((c.segBase[DS] + off) | 0, false, false);
    if (c.regs[ECX] !== 0) fault(GP, 0);
    if (c.nonRoot && (c.vmx!.proc & PROC_MONITOR_EXITING) !== 0) throw new VmExitSignal(39);
    armed.set(c, true);
  },
  mwait: () => (c) => {
    available(c);
    if ((c.regs[ECX] & ~1) !== 0) fault(GP, 0);
    if (c.nonRoot && (c.vmx!.proc & PROC_MWAIT_EXITING) !== 0) throw new VmExitSignal(36, armed.get(c) === true ? 1 : 0);
    armed.set(c, false);
  },
};
