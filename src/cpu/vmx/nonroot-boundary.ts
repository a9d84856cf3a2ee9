/**
 * The instruction-boundary events of VMX non-root operation, in priority order (as Bochs's handleAsyncEvent,
 * which follows SDM Vol. 3A 6.9 and Vol. 3C 25.2): the VMX-preemption timer (25.5.1); APIC-write emulation
 * after an instruction that wrote the APIC-access page (29.4.3.2, trap-like); an NMI (a VM exit when "NMI
 * exiting"); NMI-window exiting; interrupt-window exiting; an external interrupt (a VM exit when
 * "external-interrupt exiting", acknowledged on exit when that exit control is set, or posted-interrupt
 * processing for the notification vector, 29.6); the guest's own delivery of INTR; virtual-interrupt delivery
 * (29.2.2). Blocking by MOV SS holds everything but the timer and APIC-write emulation; blocking by STI holds
 * the interrupt windows and interrupts.
 *
 * The core (core.ts) calls `nonRootBoundary` from its slow instruction boundary while in non-root operation.
 */
import type { CoreState } from "../core-state.ts";
import { EventKind } from "../interrupts.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";
import { interruptionInfo } from "./exit-qualification.ts";
import { apicWriteEmulationDue, postedInterruptNotification, takeVirtualInterrupt } from "./apicv-core.ts";

const IF = 0x200;
const NMI = 2;
const PIN_NMI_EXITING = 1 << 3;
const PIN_VIRTUAL_NMIS = 1 << 5;
const PROC_INTERRUPT_WINDOW = 1 << 2;
const PROC_NMI_WINDOW = 1 << 22;
const EXIT_ACK_INTERRUPT_ON_EXIT = 1 << 15;

/** What the boundary logic needs of the core beyond its architectural state. */
export interface BoundaryCore extends CoreState {
  /** The INTR input and a latched NMI. */
  intrLine: boolean;
  nmiPending: boolean;
  /** "External-interrupt exiting" of the running guest. */
  readonly extIntExits: boolean;
  interruptAcknowledge(): number;
  /** Deliver an event through the guest IDT at this boundary (saved EIP: the next instruction). */
  deliverExternalOrTrap(vector: number, kind: EventKind): void;
  /** Perform a VM exit now (c.eip is the guest RIP to save). */
  vmExitNow(sig: VmExitSignal): void;
}

/** The VMX-preemption timer has reached zero. */
export function preemptionDue(c: CoreState): boolean {
  const v = c.vmx;
  return c.nonRoot && v !== null && v.preemptionDeadline !== null && c.cycles >= v.preemptionDeadline;
}

/** Handle the highest-priority boundary event of non-root operation; true when it did something. */
export function nonRootBoundary(c: BoundaryCore): boolean {
  const v = c.vmx!;
  if (preemptionDue(c)) {
    c.vmExitNow(new VmExitSignal(52));
    return true;
  }
  if (v.pendingApicWrite >= 0) {
    const s = apicWriteEmulationDue(c);
    if (s !== null) {
      c.vmExitNow(s);
      return true;
    }
  }
  const inhibit = c.inhibit;
  if (inhibit === 2) return false;
  const virtualNmis = (v.pin & PIN_VIRTUAL_NMIS) !== 0;
  if (c.nmiPending && !c.nmiBlocked) {
    if ((v.pin & PIN_NMI_EXITING) !== 0) {
      c.nmiPending = false;
      const s = new VmExitSignal(0);
      s.interruptionInfo = interruptionInfo(NMI, 2, false);
      c.vmExitNow(s);
      return true;
    }
    if (inhibit === 0) {
      c.nmiPending = false;
      c.nmiBlocked = true;
      c.deliverExternalOrTrap(NMI, EventKind.EXTERNAL);
      return true;
    }
  }
  if ((v.proc & PROC_NMI_WINDOW) !== 0 && !(virtualNmis ? v.virtualNmiBlocked : c.nmiBlocked) && inhibit === 0) {
    c.vmExitNow(new VmExitSignal(8));
    return true;
  }
  if (inhibit !== 0) return false;
  const ifSet = (c.eflags & IF) !== 0;
  if ((v.proc & PROC_INTERRUPT_WINDOW) !== 0 && ifSet) {
    c.vmExitNow(new VmExitSignal(7));
    return true;
  }
  if (c.intrLine && c.extIntExits) {
    const s = new VmExitSignal(1);
    if ((v.exitControls & EXIT_ACK_INTERRUPT_ON_EXIT) !== 0) {
      const vector = c.interruptAcknowledge() & 0xff;
      if (postedInterruptNotification(c, vector)) return true;
      s.interruptionInfo = interruptionInfo(vector, 0, false);
    }
    c.vmExitNow(s);
    return true;
  }
  if (c.intrLine && ifSet) {
    c.deliverExternalOrTrap(c.interruptAcknowledge() & 0xff, EventKind.EXTERNAL);
    return true;
  }
  if (v.virtualInterruptPending && ifSet) {
    c.deliverExternalOrTrap(takeVirtualInterrupt(c), EventKind.EXTERNAL);
    return true;
  }
  return false;
}
