/**
 * Events in VMX non-root operation (SDM Vol. 3C 25.2 "Other Causes of VM Exits", 27.2.2 "Information for VM
 * Exits Due to Vectored Events", 27.2.4 "Information for VM Exits During Event Delivery"): which exceptions
 * exit through the exception bitmap (with the #PF error-code mask and match), the interruption information
 * they report, and the IDT-vectoring information of an event whose delivery an exit interrupted.
 *
 * A #PF that exits does not load CR2 (25.2? 27.1: "page faults that cause VM exits do not update CR2"): the
 * exit qualification carries the linear address instead, and CR2 keeps the guest's value.
 *
 * Leaves out: #DB exits' DR6 handling (the qualification is 0 here), NMI unblocking due to IRET (bit 12).
 */
import type { CoreState } from "../core-state.ts";
import { pushesErrorCode } from "../exceptions.ts";
import { exceptionExits } from "./exception-bitmap.ts";
import { interruptionInfo } from "./exit-qualification.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";

const VALID = 0x80000000;
const PF = 14;

/** A hardware exception about to be delivered to the guest: throw the VM exit if the bitmap selects it. */
export function interceptException(c: CoreState, vector: number, errorCode: number): void {
  const v = c.vmx!;
  if (!exceptionExits(v.exceptionBitmap, vector, errorCode < 0 ? 0 : errorCode, v.pfecMask, v.pfecMatch)) return;
  const withCode = pushesErrorCode(vector) && (c.cr0 & 1) !== 0;
  let qualification = 0;
  if (vector === PF) {
    qualification = c.cr2 >>> 0;
    c.cr2 = c.cr2Before;
  }
  const s = new VmExitSignal(0, qualification);
  s.interruptionInfo = interruptionInfo(vector, 3, withCode);
  s.interruptionErrorCode = withCode ? errorCode >>> 0 : 0;
  throw s;
}

/** INT3 (#BP) or INTO (#OF) in the guest: a software exception (type 6) that the bitmap may select. */
export function interceptSoftwareException(c: CoreState, vector: number): void {
  const v = c.vmx!;
  if (!exceptionExits(v.exceptionBitmap, vector)) return;
  const s = new VmExitSignal(0, 0);
  s.interruptionInfo = interruptionInfo(vector, 6, false);
  throw s;
}

/** IDT-vectoring information for the event being delivered when `s` happened (first event wins). */
export function recordIdtVectoring(s: VmExitSignal, vector: number, type: number, errorCode: number, protectedMode: boolean): void {
  if ((s.idtVectoringInfo & VALID) !== 0 || s.reason === 2) return;
  const withCode = type === 3 && pushesErrorCode(vector) && protectedMode;
  s.idtVectoringInfo = interruptionInfo(vector, type, withCode);
  s.idtVectoringErrorCode = withCode ? errorCode >>> 0 : 0;
}
