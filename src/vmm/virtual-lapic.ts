/**
 * The part of each guest's local APIC the VMM emulates (SDM Vol. 3A 10.5.4 APIC timer, 10.6 IPIs): with
 * APIC-register virtualization and virtual-interrupt delivery (SDM Vol. 3C 29.1-29.5) the CPU virtualizes
 * reads, TPR, EOI and self-IPIs, and reports every other register write with an APIC-write exit after the
 * write (trap-like, 29.4.3.3). The VMM then acts on it: the timer (LVT timer 320H, initial count 380H,
 * divide 3E0H; TSC-deadline mode through IA32_TSC_DEADLINE, intercepted in the MSR bitmap) runs on the
 * VMX-preemption timer, as KVM's "hv timer" does; ICR writes send fixed IPIs to the partition's vCPUs
 * (destination = virtual APIC ID = vCPU index).
 * Leaves out: the current-count register (390H reads exit as APIC accesses and return 0), logical
 * destinations, NMI/INIT/SIPI IPIs between vCPUs (all vCPUs start at boot), LINT and error LVTs.
 */
import type { Vmm } from "./vmm.ts";
import type { Vcpu } from "./vcpu.ts";
import { deliverToPartition } from "./interrupts.ts";

const LVT_TIMER = 0x320, TMICT = 0x380, TDCR = 0x3e0, ICR_LO = 0x300, ICR_HI = 0x310;
/** LVT timer modes (SDM Figure 10-8); 0 is one-shot. */
const MODE_PERIODIC = 1, MODE_TSC_DEADLINE = 2;
const MASKED = 1 << 16;

function vapic32(vmm: Vmm, v: Vcpu, offset: number): number {
  vmm.touch(v.vapic + offset, 4, false);
  return vmm.dv().getUint32(v.vapic + offset, true);
}

function timerMode(vmm: Vmm, v: Vcpu): number {
  return (vapic32(vmm, v, LVT_TIMER) >>> 17) & 3;
}

/** Divide configuration 3E0H -> divisor (SDM Figure 10-10). */
function divisor(tdcr: number): number {
  const code = (tdcr & 3) | ((tdcr >>> 1) & 4);
  return code === 7 ? 1 : 2 << code;
}

/** APIC-write exit (reason 56) for `offset`. */
export function apicWrite(vmm: Vmm, v: Vcpu, offset: number): void {
  vmm.chargeKey("vlapic.write", v.partition);
  if (offset === LVT_TIMER) {
    // A mode change disarms the timer (10.5.4.1).
    const mode = timerMode(vmm, v);
    if (mode !== v.lvtTimerMode) v.timerDeadline = null;
    v.lvtTimerMode = mode;
  } else if (offset === TMICT) {
    const mode = timerMode(vmm, v);
    if (mode === MODE_TSC_DEADLINE) return; // TMICT is ignored in TSC-deadline mode
    const count = vapic32(vmm, v, TMICT);
    vmm.chargeKey("vtimer.arm", v.partition);
    if (count === 0) {
      v.timerDeadline = null;
      return;
    }
    const prof = vmm.machine.profile!;
    const ticks = Math.max(1, Math.round((count * divisor(vapic32(vmm, v, TDCR)) * prof.tscHz) / prof.apicTimerHz));
    v.timerPeriodTicks = mode === MODE_PERIODIC ? ticks : 0;
    v.timerDeadline = v.core.cycles + ticks;
  } else if (offset === ICR_LO) {
    const lo = vapic32(vmm, v, ICR_LO);
    const dest = vapic32(vmm, v, ICR_HI) >>> 24;
    const vector = lo & 0xff;
    if (((lo >>> 8) & 7) !== 0) return; // only fixed delivery
    const shorthand = (lo >>> 18) & 3;
    const p = v.partition;
    for (const t of p.vcpus) {
      const hit = shorthand === 0 ? t.index === dest : shorthand === 1 ? t === v : shorthand === 2 ? true : t !== v;
      if (hit) deliverToPartition(vmm, p, vector, null, t.index);
    }
  }
}

/** WRMSR IA32_TSC_DEADLINE (exit 32). */
export function writeTscDeadline(vmm: Vmm, v: Vcpu, value: number): void {
  vmm.chargeKey("vtimer.arm", v.partition);
  if (timerMode(vmm, v) !== MODE_TSC_DEADLINE) return; // writes are ignored outside TSC-deadline mode (10.5.4.1)
  v.timerDeadline = value === 0 ? null : value;
  v.timerPeriodTicks = 0;
}

/** RDMSR IA32_TSC_DEADLINE: the armed deadline, 0 when disarmed or fired. */
export function readTscDeadline(v: Vcpu): number {
  return v.lvtTimerMode === MODE_TSC_DEADLINE && v.timerDeadline !== null ? v.timerDeadline : 0;
}

/** VMX-preemption timer expired (exit 52): fire the virtual timer if its deadline has come. */
export function timerExpired(vmm: Vmm, v: Vcpu): void {
  const d = v.timerDeadline;
  if (d === null || v.core.cycles < d) return;
  const lvt = vapic32(vmm, v, LVT_TIMER);
  if (v.timerPeriodTicks > 0 && v.lvtTimerMode === MODE_PERIODIC) {
    // The next period from the nominal expiry, so lateness does not accumulate.
    let next = d + v.timerPeriodTicks;
    while (next <= v.core.cycles) next += v.timerPeriodTicks;
    v.timerDeadline = next;
  } else {
    v.timerDeadline = null;
  }
  if ((lvt & MASKED) === 0) vmm.injectLocal(v, lvt & 0xff, null);
}

