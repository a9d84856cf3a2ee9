/**
 * Exit reason 52, VMX-preemption timer expired (SDM Vol. 3C 25.5.1): the VMM runs each guest's LAPIC timer
 * on it, so this is the guest's timer interrupt coming due (virtual-lapic.ts timerExpired).
 */
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { timerExpired } from "../virtual-lapic.ts";

export function preemptionTimer(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.preemptionTimer", v.partition);
  timerExpired(vmm, v);
}
