/**
 * Exit reason 1, external interrupt, with "acknowledge interrupt on exit" (SDM Vol. 3C 27.2.2: the vector
 * is in the VM-exit interruption information, the local APIC's ISR bit is set): the VMM ends the physical
 * interrupt (EOI to its local APIC) and acts on the vector: a passthrough device's interrupt under
 * exit-and-inject becomes the guest's vector at the next entry; a shared device's interrupt goes to its
 * backend; a kick only makes pending injections happen at the entry.
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";

export function externalInterrupt(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.externalInterrupt", v.partition);
  const info = v.api.vmread(F.VM_EXIT_INTERRUPTION_INFORMATION);
  const vector = info & 0xff;
  const lapic = vmm.machine.lapics[v.core.id];
  if (lapic !== undefined) {
    v.core.cycles += vmm.machine.busCosts.lapicAccessCycles;
    lapic.writeRegister(0xb0, 0);
  }
  const route = vmm.vectorRoutes.get(vector);
  if (route === undefined) {
    // A kick (or a stray vector): the pending injections it stands for belong to their devices.
    const d = v.pendingDevice.find((x) => x >= 0);
    if (d !== undefined) v.exitDevice = d;
    return;
  }
  if (route.kind === "passthrough") {
    v.exitDevice = route.device.index;
    vmm.injectLocal(v, route.device.vector, route.device.index);
  } else {
    const own = v.partition.devices.find((d) => d.name === route.name);
    if (own !== undefined) v.exitDevice = own.index;
    route.onInterrupt();
  }
}
