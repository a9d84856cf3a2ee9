/**
 * The VM exit (SDM Vol. 3C chapter 27): record the exit information (27.2), save the guest state (27.3),
 * store MSRs (27.4), load the host state (27.5) and host MSRs (27.6); a failure of the last is a VMX abort
 * (27.7: the abort indicator is written to the VMCS region and the processor shuts down). VM-entry failures
 * during or after loading guest state (26.8) leave through `entryFailureExit`: only the exit reason (bit
 * 31 set) and qualification are written, no guest state is saved, and the host state is loaded.
 *
 * Exit information: the exit reason with bit 31 for entry failures; the qualification; the guest-linear
 * and guest-physical address fields (EPT exits); interruption information and error code (exits caused by
 * events); IDT-vectoring information when the exit interrupted an event's delivery (27.2.4); instruction
 * length and instruction information. A VM exit also clears the valid bit of the VM-entry
 * interruption-information field (27.2.5? "VM exits clear bit 31 of the VM-entry interruption-information
 * field", 24.8.3).
 *
 * Guest state beyond the registers (27.3.4): the activity state (HLT, shutdown, wait-for-SIPI), the
 * interruptibility state (blocking by STI, by MOV SS, by NMI / virtual NMI) and the VMX-preemption timer value
 * when "save VMX-preemption timer value" is 1. The TSC offset of the guest is removed from the core's TSC.
 *
 * Costs (issue 5, "Costs"): the generation's fixed vmExitCycles, plus the memory traffic: the processor
 * writes the exit-information and guest-state areas of the VMCS region and reads its host-state area (the
 * lines are charged through the core's cache model, so a cold VMCS costs more), plus the MSR lists. The
 * components are recorded in VmxState.lastExit.
 *
 * Leaves out: SMIs, the MTF and pending-debug-exception details beyond BS, IA32_PAT/EFER/PERF_GLOBAL_CTRL.
 */
import type { CoreState } from "../core-state.ts";
import { Brk } from "../core-state.ts";
import { VmcsField as F } from "./vmcs-fields.ts";
import { loadHostMsrs, loadHostState, saveGuestMsrs, rd, saveGuestState, wr } from "./guest-state.ts";
import { loadMsrList, storeMsrList } from "./msr-lists.ts";
import { leaveTranslationContext } from "./ept-core.ts";
import { apicvOnExit } from "./apicv-core.ts";
import type { VmExitSignal } from "./vm-exit-signal.ts";
import type { VmcsRegion } from "./vmcs.ts";
import type { VmxState } from "./vmx-state.ts";

const EXIT_SAVE_DEBUG_CONTROLS = 1 << 2;
const EXIT_SAVE_PREEMPTION_TIMER = 1 << 22;
const PIN_VIRTUAL_NMIS = 1 << 5;
const ENTRY_FAILURE = 0x80000000;
const NMI_INFO = 0x80000202; // valid, type 2 (NMI), vector 2

/** Byte ranges of our VMCS layout (vmcs.ts) that an exit writes (exit information, guest state) and reads (host state). */
const EXIT_WRITES: readonly (readonly [number, number])[] = [[0x020, 0x040], [0x140, 0x1b0], [0x230, 0x2d0], [0x320, 0x3c0]];
const EXIT_READS: readonly (readonly [number, number])[] = [[0x060, 0x020], [0x1b0, 0x020], [0x2d0, 0x010], [0x3c0, 0x040]];

/** Charge the VMCS region's lines that a transition touches (the cache model adds the misses). */
export function touchVmcs(c: CoreState, r: VmcsRegion, ranges: readonly (readonly [number, number])[], write: boolean): void {
  for (const [off, len] of ranges) c.touchRange(r.pa + off, len, write);
}

/** Perform the VM exit `sig` from non-root operation; c.eip is the guest RIP to save. */
export function performVmExit(c: CoreState, sig: VmExitSignal): void {
  const v = c.vmx!;
  const r = v.current!;
  const start = c.cycles;
  const fixed = v.costs.vmExitCycles;
  c.cycles += fixed;
  touchVmcs(c, r, EXIT_WRITES, true);
  // 27.2: exit information
  wr(r, F.EXIT_REASON, sig.reason);
  wr(r, F.EXIT_QUALIFICATION, sig.qualification);
  wr(r, F.GUEST_LINEAR_ADDRESS, sig.guestLinear);
  if (r.layout.supports(F.GUEST_PHYSICAL_ADDRESS)) {
    wr(r, F.GUEST_PHYSICAL_ADDRESS, sig.gpaLo);
    wr(r, F.GUEST_PHYSICAL_ADDRESS_HIGH, sig.gpaHi);
  }
  wr(r, F.VM_EXIT_INTERRUPTION_INFORMATION, sig.interruptionInfo);
  wr(r, F.VM_EXIT_INTERRUPTION_ERROR_CODE, sig.interruptionErrorCode);
  wr(r, F.IDT_VECTORING_INFORMATION, sig.idtVectoringInfo);
  wr(r, F.IDT_VECTORING_ERROR_CODE, sig.idtVectoringErrorCode);
  wr(r, F.VM_EXIT_INSTRUCTION_LENGTH, sig.instructionLength);
  wr(r, F.VM_EXIT_INSTRUCTION_INFORMATION, sig.instructionInfo);
  wr(r, F.VM_ENTRY_INTERRUPTION_INFORMATION, rd(r, F.VM_ENTRY_INTERRUPTION_INFORMATION) & 0x7fffffff);
  // 27.3: guest state
  saveGuestState(c, r, (v.exitControls & EXIT_SAVE_DEBUG_CONTROLS) !== 0);
  saveGuestMsrs(c, r, v.exitControls);
  wr(r, F.GUEST_ACTIVITY_STATE, c.halted ? (c.waitingForSipi ? 3 : c.shutdown ? 2 : 1) : 0);
  const nmiBlocked = (v.pin & PIN_VIRTUAL_NMIS) !== 0 ? v.virtualNmiBlocked : c.nmiBlocked;
  // Blocking by STI / MOV SS: pending for the next instruction, or in force for the one that exited.
  const shadow = c.inhibit !== 0 ? c.inhibit : c.shadowInForce;
  wr(r, F.GUEST_INTERRUPTIBILITY_STATE, (shadow === 1 ? 1 : shadow === 2 ? 2 : 0) | (nmiBlocked ? 8 : 0));
  wr(r, F.GUEST_PENDING_DEBUG_EXCEPTIONS, c.singleStepDue ? 1 << 14 : 0);
  if ((v.exitControls & EXIT_SAVE_PREEMPTION_TIMER) !== 0 && v.preemptionDeadline !== null) {
    // The timer counts transitions of bit X of the host's TSC (25.5.1); the deadline is in core cycles.
    const shift = 2 ** v.preemptionTimerRate;
    const hostOffset = c.tscOffset - v.tscOffset;
    // Counted up to the moment of the exit, before its own cycles.
    const left = Math.max(0, (v.preemptionDeadline + hostOffset) / shift - Math.floor((start + hostOffset) / shift));
    wr(r, F.VMX_PREEMPTION_TIMER_VALUE, sig.reason === 52 ? 0 : left);
  }
  // 27.4: MSR store; leave non-root operation; 27.5 host state; 27.6 host MSRs.
  const msrStart = c.cycles;
  const storeOk = storeMsrList(c, msrAddress(r, F.VM_EXIT_MSR_STORE_ADDRESS), rd(r, F.VM_EXIT_MSR_STORE_COUNT), v.costs.msrListEntryCycles);
  // The MSR-store list sees the guest's TSC (27.4: the offset is still applied); then the host's TSC returns.
  c.tscOffset -= v.tscOffset;
  leaveNonRoot(c, v);
  if (sig.reason === 0 && sig.interruptionInfo === NMI_INFO) c.nmiBlocked = true;
  if (!storeOk) {
    vmxAbort(c, v, r, 1);
    return;
  }
  finishExitToHost(c, v, r, start, fixed, msrStart);
  v.exitCounts[(sig.reason & 0xffff) < 65 ? sig.reason & 0xffff : 0]++;
}

/** A VM-entry failure after the guest-state checks or MSR loading began (26.8): reason | 80000000H. */
export function entryFailureExit(c: CoreState, reason: number, qualification: number): void {
  const v = c.vmx!;
  const r = v.current!;
  const start = c.cycles;
  const fixed = v.costs.vmExitCycles;
  c.cycles += fixed;
  wr(r, F.EXIT_REASON, (reason | ENTRY_FAILURE) >>> 0);
  wr(r, F.EXIT_QUALIFICATION, qualification);
  leaveNonRoot(c, v);
  finishExitToHost(c, v, r, start, fixed, c.cycles);
  v.exitCounts[reason]++;
}

function leaveNonRoot(c: CoreState, v: VmxState): void {
  c.nonRoot = false;
  // No EPT, VPID 0 (ept-core.ts): before the host's CR0/CR3/CR4 load flushes the TLB.
  leaveTranslationContext(c);
  v.preemptionDeadline = null;
  c.halted = false;
  c.shutdown = false;
  c.waitingForSipi = false;
  c.inhibit = 0;
  c.singleStepDue = false;
  apicvOnExit(c);
  c.leftNonRoot();
}

function finishExitToHost(c: CoreState, v: VmxState, r: VmcsRegion, start: number, fixed: number, msrStart: number): void {
  touchVmcs(c, r, EXIT_READS, false);
  loadHostState(c, r);
  loadHostMsrs(c, r, rd(r, F.VM_EXIT_CONTROLS));
  const loadAt = msrAddress(r, F.VM_EXIT_MSR_LOAD_ADDRESS);
  const failed = loadMsrList(c, loadAt, rd(r, F.VM_EXIT_MSR_LOAD_COUNT), v.costs.msrListEntryCycles);
  const msrCycles = c.cycles - msrStart;
  if (failed !== 0) {
    vmxAbort(c, v, r, 4);
    return;
  }
  const t = v.lastExit;
  t.fixedCycles = fixed;
  t.msrListCycles = msrCycles > 0 ? Math.min(msrCycles, c.cycles - start - fixed) : 0;
  t.memoryCycles = c.cycles - start - fixed - t.msrListCycles;
  v.lastExitAt = c.cycles;
  c.brk |= Brk.REFETCH | Brk.EVENT;
  if (v.stopOnExit) c.brk |= Brk.VMEXIT;
}

function msrAddress(r: VmcsRegion, enc: number): number {
  return rd(r, enc) >>> 0;
}

/** SDM 27.7: a VMX abort writes its indicator to the current VMCS region and shuts the processor down. */
function vmxAbort(c: CoreState, v: VmxState, r: VmcsRegion, indicator: number): void {
  v.vmcs.writeAbortIndicator(r.pa, indicator);
  c.shutdown = true;
  c.brk |= Brk.SHUTDOWN;
}
