/**
 * How the VMM gets an interrupt to a vCPU (SDM Vol. 3C 29.2 virtual-interrupt delivery, 29.6 posted-interrupt
 * processing; issue 6 `irqDelivery`):
 * - on the core the VMM runs on now: the vector is made pending in the virtual-APIC page (VIRR) and RVI is
 *   raised before the next VM entry, which evaluates and delivers it (29.2.1) -- "inject at the next entry";
 * - on another core, posted: the PIR bit and ON are set in the vCPU's posted-interrupt descriptor and the
 *   notification vector is sent to its core, which processes it without a VM exit;
 * - on another core, exit-and-inject: the vector waits in the vCPU's queue and a kick IPI makes the core exit
 *   (external interrupt), after which it is injected at the entry.
 * Also the VM-entry preparation: the virtual LAPIC timer becomes the VMX-preemption timer value (25.5.1).
 */
import { VmcsField as F } from "../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "./vmm.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Partition } from "./partition.ts";
import { KICK_VECTOR, PI_NOTIFY_VECTOR } from "./vmm.ts";

const VIRR = 0x200;
const ACTIVITY_HLT = 1;

/** Queue `vector` for the vCPU the VMM is handling an exit of (applied by prepareEntry). */
export function injectLocal(vmm: Vmm, v: Vcpu, vector: number, device: number | null): void {
  v.pending.push(vector);
  v.pendingDevice.push(device ?? -1);
  vmm.chargeKey("inject.local", v.partition);
}

/** Deliver `vector` to vCPU `vcpuIndex` of `p` from wherever the VMM runs now (or from a device event). */
export function deliverToPartition(vmm: Vmm, p: Partition, vector: number, device: number | null, vcpuIndex = 0): void {
  const v = p.vcpus[vcpuIndex];
  if (v === undefined || v.state !== "running" || p.state !== "running") return;
  if (vmm.current === v.core) {
    injectLocal(vmm, v, vector, device);
    return;
  }
  if (p.irqDelivery === "posted" && vmm.postedInterrupts) {
    vmm.chargeKey("inject.posted", p);
    if (vmm.postTo(v, vector)) vmm.sendVector(v.core.id, PI_NOTIFY_VECTOR);
    return;
  }
  v.pending.push(vector);
  v.pendingDevice.push(device ?? -1);
  vmm.chargeKey("inject.kick", p);
  vmm.sendVector(v.core.id, KICK_VECTOR);
}

/** Just before VMRESUME: pending vectors into VIRR/RVI, and the virtual timer into the preemption timer. */
export function prepareEntry(vmm: Vmm, v: Vcpu): void {
  const api = v.api;
  if (v.pending.length > 0) {
    const dv = vmm.dv();
    const status = api.vmread(F.GUEST_INTERRUPT_STATUS);
    let rvi = status & 0xff;
    for (const vector of v.pending) {
      const at = v.vapic + VIRR + (vector >>> 5) * 16;
      dv.setUint32(at, (dv.getUint32(at, true) | (1 << (vector & 31))) >>> 0, true);
      vmm.touch(at, 4, true);
      if (vector > rvi) rvi = vector;
    }
    api.vmwrite(F.GUEST_INTERRUPT_STATUS, (status & 0xff00) | rvi);
    if (api.vmread(F.GUEST_ACTIVITY_STATE) === ACTIVITY_HLT) api.vmwrite(F.GUEST_ACTIVITY_STATE, 0);
    v.pending.length = 0;
    v.pendingDevice.length = 0;
  }
  if (v.timerDeadline !== null) {
    const rate = v.core.vmx!.preemptionTimerRate;
    const left = v.timerDeadline - v.core.cycles;
    const value = left <= 0 ? 0 : Math.min(0xffffffff, Math.ceil(left / 2 ** rate));
    api.vmwrite(F.VMX_PREEMPTION_TIMER_VALUE, value);
    v.timerIdle = false;
  } else if (!v.timerIdle) {
    api.vmwrite(F.VMX_PREEMPTION_TIMER_VALUE, 0xffffffff);
    v.timerIdle = true;
  }
}
