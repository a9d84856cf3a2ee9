/**
 * Exit reason 2, triple fault (SDM Vol. 3C 25.2: in VMX non-root a triple fault exits instead of shutting
 * the processor down): the guest kernel could not handle a fault; the health monitor decides.
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";

export function tripleFault(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.other", v.partition);
  const eip = v.api.vmread(F.GUEST_RIP) >>> 0;
  vmm.health.report(v.partition, v, "triple-fault", `triple fault at guest EIP 0x${eip.toString(16)}`, true);
}
