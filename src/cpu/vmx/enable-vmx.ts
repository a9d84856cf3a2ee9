/**
 * Give a core VMX support (SDM Vol. 3C chapter 23): its capability MSRs for a processor generation or
 * profile id (vmx-capabilities.ts) and the transition costs of a profile (vmx-costs.ts). A core without
 * this reports CPUID.1:ECX.VMX = 0 and treats CR4.VMXE as reserved. The VMX structures are read and written
 * through the core's own physical accessors, so their memory traffic goes through its cache model.
 */
import type { CoreState } from "../core-state.ts";
import type { VmxCosts } from "../profile.ts";
import { vmxCapabilities, type VmxCapabilityOptions } from "./vmx-capabilities.ts";
import { VmxState } from "./vmx-state.ts";

export function enableVmx(c: CoreState, generationOrProfile: string, costs: VmxCosts, options: VmxCapabilityOptions = {}): VmxState {
  const mem = {
    read32: (pa: number) => c.readPhys(pa, 4),
    write32: (pa: number, v: number) => c.writePhys(pa, 4, v),
  };
  c.vmx = new VmxState(vmxCapabilities(generationOrProfile, options), costs, mem);
  return c.vmx;
}
