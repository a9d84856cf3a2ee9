/**
 * VM entry (SDM Vol. 3C chapter 26) once VMLAUNCH or VMRESUME has passed its instruction checks (#UD, VM
 * exit in non-root operation, #GP; vmx-operations.ts): the checks of 26.1 that give VMfail (no current VMCS,
 * blocking by MOV SS: error 26, launch state: errors 4 / 5 / 6), the checks of 26.2 (controls: error 7; host
 * state: error 8) and 26.3.1 (guest state: a VM-entry failure, reason 33) in entry-checks.ts, then loading the
 * guest state (26.3.2, guest-state.ts), the MSR-load list (26.4; failure: reason 34 with the entry's number),
 * the launch state, entering non-root operation with the controls cached in VmxState, the TSC offset, the
 * VMX-preemption timer (26.6.4? 25.5.1: it starts counting from the value in the VMCS), and event injection
 * (26.6: external interrupt, NMI, hardware exception with or without error code, software interrupt,
 * privileged software exception, software exception; software events save RIP + instruction length).
 *
 * An exit that happens while the injected event is being delivered (an EPT violation, an exception the
 * bitmap selects) is a VM exit with IDT-vectoring information describing the injected event (27.2.4).
 *
 * Error 6 ("VMRESUME after VMXOFF"): VMXOFF writes the launch-state byte of each launched active VMCS as 2
 * (vmx-operations.ts); VMPTRLD of such a region makes it current as launched-but-stale; VMRESUME then fails
 * with 6 and VMLAUNCH with 4, until VMCLEAR. (The SDM only names the error; this is the model's reading.)
 *
 * Costs: the generation's vmEntryCycles plus the VMCS region's control and guest-state lines through the caches
 * and the MSR-load list; recorded in VmxState.lastEntry.
 */
import type { CoreState } from "../core-state.ts";
import { Brk } from "../core-state.ts";
import { deliverEvent, EventKind } from "../interrupts.ts";
import { CpuFault } from "../exceptions.ts";
import { VmcsField as F } from "./vmcs-fields.ts";
import { checkVmEntry } from "./entry-checks.ts";
import { loadGuestMsrs, loadGuestState, rd } from "./guest-state.ts";
import { loadMsrList } from "./msr-lists.ts";
import { entryFailureExit, performVmExit, touchVmcs } from "./vm-exit.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";
import { enterTranslationContext } from "./ept-core.ts";
import { apicvOnEntry } from "./apicv-core.ts";
import type { VmcsRegion } from "./vmcs.ts";
import type { VmxState } from "./vmx-state.ts";

const PROC_USE_TSC_OFFSETTING = 1 << 3;
const PROC_ACTIVATE_SECONDARY = 0x80000000;
const PROC2_ENABLE_VPID = 1 << 5;
const PIN_VIRTUAL_NMIS = 1 << 5;
const PIN_ACTIVATE_PREEMPTION_TIMER = 1 << 6;
const ENTRY_LOAD_DEBUG_CONTROLS = 1 << 2;
const TWO32 = 4294967296;

/** VMfail codes returned by vmEntry: -1 VMfailInvalid, n > 0 VMfailValid(n) (vm-instruction-error.ts). */
export const VMFAIL_INVALID = -1;

/** Lines of our VMCS layout an entry reads: controls and guest state. */
const ENTRY_READS: readonly (readonly [number, number])[] = [[0x010, 0x050], [0x080, 0x0d0], [0x1d0, 0x100], [0x2e0, 0x0e0]];

/**
 * VMLAUNCH (launch = true) or VMRESUME after the instruction checks. Returns 0 when the entry happened (the
 * core now runs the guest, or a VM-entry failure has loaded the host state), else a VMfail code.
 */
export function vmEntry(c: CoreState, launch: boolean): number {
  const v = c.vmx!;
  const r = v.current;
  if (r === null) return VMFAIL_INVALID;
  // Blocking by MOV SS: VMLAUNCH/VMRESUME is the instruction in the MOV SS / POP SS shadow (SDM 26.1).
  if (c.inhibit === 2 || c.shadowInForce === 2) return 26;
  const state = r.image[2] & 0xff;
  if (launch && state !== 0) return 4;
  if (!launch && state === 0) return 5;
  if (!launch && state === 2) return 6;
  const start = c.cycles;
  c.cycles += v.costs.vmEntryCycles;
  touchVmcs(c, r, ENTRY_READS, false);
  const check = checkVmEntry(r, { caps: v.caps, mem: v.mem });
  if (check.kind === "vmfail") {
    v.lastEntryFailure = { error: check.error, rule: check.rule, section: check.section };
    return check.error;
  }
  if (check.kind === "guest-state") {
    v.lastEntryFailure = { error: 0, rule: check.rule, section: check.section };
    entryFailureExit(c, 33, check.qualification);
    return 0;
  }
  v.lastEntryFailure = null;
  cacheControls(v, r);
  // EPT and the guest's VPID (ept-core.ts; SDM Vol. 3C 28.1, 28.2): before the guest's CR0/CR3/CR4 load flushes the TLB.
  enterTranslationContext(c, v, r);
  const hostTscOffset = c.tscOffset;
  loadGuestState(c, r, (v.entryControls & ENTRY_LOAD_DEBUG_CONTROLS) !== 0);
  loadGuestMsrs(c, r, (v.entryControls & (1 << 14)) !== 0, (v.entryControls & (1 << 15)) !== 0);
  const msrStart = c.cycles;
  const failed = loadMsrList(c, rd(r, F.VM_ENTRY_MSR_LOAD_ADDRESS) >>> 0, rd(r, F.VM_ENTRY_MSR_LOAD_COUNT), v.costs.msrListEntryCycles);
  const msrCycles = c.cycles - msrStart;
  if (failed !== 0) {
    entryFailureExit(c, 34, failed);
    return 0;
  }
  if (launch) r.launched = true;
  loadEventState(c, v, r);
  c.tscOffset = hostTscOffset + v.tscOffset;
  startPreemptionTimer(c, v, r, hostTscOffset);
  c.nonRoot = true;
  v.entries++;
  const t = v.lastEntry;
  t.fixedCycles = v.costs.vmEntryCycles;
  t.msrListCycles = msrCycles;
  t.memoryCycles = c.cycles - start - t.fixedCycles - msrCycles;
  apicvOnEntry(c);
  c.enteredNonRoot();
  c.lapic?.tscChanged();
  c.brk |= Brk.REFETCH | Brk.EVENT;
  injectEvent(c, v, r);
  return 0;
}

/** Copy the execution controls the non-root checks use (VmxState's header). */
function cacheControls(v: VmxState, r: VmcsRegion): void {
  v.pin = rd(r, F.PIN_BASED_VM_EXECUTION_CONTROLS);
  v.proc = rd(r, F.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS);
  v.proc2 = (v.proc & PROC_ACTIVATE_SECONDARY) !== 0 && r.layout.supports(F.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS)
    ? rd(r, F.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS) : 0;
  v.exitControls = rd(r, F.VM_EXIT_CONTROLS);
  v.entryControls = rd(r, F.VM_ENTRY_CONTROLS);
  v.exceptionBitmap = rd(r, F.EXCEPTION_BITMAP);
  v.pfecMask = rd(r, F.PAGE_FAULT_ERROR_CODE_MASK);
  v.pfecMatch = rd(r, F.PAGE_FAULT_ERROR_CODE_MATCH);
  v.cr0Mask = rd(r, F.CR0_GUEST_HOST_MASK);
  v.cr0Shadow = rd(r, F.CR0_READ_SHADOW);
  v.cr4Mask = rd(r, F.CR4_GUEST_HOST_MASK);
  v.cr4Shadow = rd(r, F.CR4_READ_SHADOW);
  v.cr3TargetCount = rd(r, F.CR3_TARGET_COUNT);
  for (let k = 0; k < 4; k++) v.cr3Targets[k] = rd(r, F.CR3_TARGET_VALUE_0 + 2 * k);
  v.ioBitmapA = rd(r, F.IO_BITMAP_A) >>> 0;
  v.ioBitmapB = rd(r, F.IO_BITMAP_B) >>> 0;
  v.msrBitmap = rd(r, F.MSR_BITMAPS) >>> 0;
  v.tscOffset = (v.proc & PROC_USE_TSC_OFFSETTING) !== 0 ? (rd(r, F.TSC_OFFSET_HIGH) | 0) * TWO32 + (rd(r, F.TSC_OFFSET) >>> 0) : 0;
  v.vpid = (v.proc2 & PROC2_ENABLE_VPID) !== 0 ? rd(r, F.VPID) : 0;
}

/** Activity and interruptibility state (26.6.1, 26.6.2? 24.4.2). */
function loadEventState(c: CoreState, v: VmxState, r: VmcsRegion): void {
  const activity = rd(r, F.GUEST_ACTIVITY_STATE);
  c.halted = activity !== 0;
  c.waitingForSipi = activity === 3;
  const intr = rd(r, F.GUEST_INTERRUPTIBILITY_STATE);
  c.inhibit = (intr & 2) !== 0 ? 2 : (intr & 1) !== 0 ? 1 : 0;
  if ((v.pin & PIN_VIRTUAL_NMIS) !== 0) v.virtualNmiBlocked = (intr & 8) !== 0;
  else c.nmiBlocked = (intr & 8) !== 0;
  c.singleStepDue = (rd(r, F.GUEST_PENDING_DEBUG_EXCEPTIONS) & (1 << 14)) !== 0;
}

/** 25.5.1: the timer counts down at each transition of bit X (IA32_VMX_MISC[4:0]) of the TSC. */
function startPreemptionTimer(c: CoreState, v: VmxState, r: VmcsRegion, hostTscOffset: number): void {
  if ((v.pin & PIN_ACTIVATE_PREEMPTION_TIMER) === 0) {
    v.preemptionDeadline = null;
    return;
  }
  const shift = 2 ** v.preemptionTimerRate;
  const value = rd(r, F.VMX_PREEMPTION_TIMER_VALUE) >>> 0;
  const tsc = c.cycles + hostTscOffset;
  v.preemptionDeadline = value === 0 ? c.cycles : (Math.floor(tsc / shift) + value) * shift - hostTscOffset;
}

/** Event injection (26.6): deliver the event of the VM-entry interruption-information field through the guest IDT. */
function injectEvent(c: CoreState, v: VmxState, r: VmcsRegion): void {
  const info = rd(r, F.VM_ENTRY_INTERRUPTION_INFORMATION);
  if ((info & 0x80000000) === 0) return;
  const vector = info & 0xff;
  const type = (info >>> 8) & 7;
  const errorCode = (info & 0x800) !== 0 ? rd(r, F.VM_ENTRY_EXCEPTION_ERROR_CODE) : -1;
  const eip = c.eip;
  const returnEip = type >= 4 ? (eip + rd(r, F.VM_ENTRY_INSTRUCTION_LENGTH)) | 0 : eip;
  const kind = type === 0 || type === 2 ? EventKind.EXTERNAL : type === 4 || type === 6 ? EventKind.SOFTWARE : EventKind.EXCEPTION;
  if (type === 2) {
    if ((v.pin & PIN_VIRTUAL_NMIS) !== 0) v.virtualNmiBlocked = true;
    else c.nmiBlocked = true;
  }
  c.halted = false;
  c.waitingForSipi = false;
  try {
    deliverEvent(c, vector, errorCode, returnEip, kind);
  } catch (e) {
    if (e instanceof VmExitSignal) {
      if ((e.idtVectoringInfo & 0x80000000) === 0) {
        e.idtVectoringInfo = info & 0x80000fff;
        e.idtVectoringErrorCode = errorCode < 0 ? 0 : errorCode;
      }
      c.eip = eip;
      performVmExit(c, e);
      return;
    }
    if (e instanceof CpuFault) {
      // A software interrupt's delivery fault (INT n semantics) is a fault of the guest at its RIP.
      deliverEvent(c, e.vector, e.errorCode, eip, EventKind.EXCEPTION);
      return;
    }
    throw e;
  }
}
