/**
 * Exit reason 10, CPUID (unconditional in VMX non-root, SDM Vol. 3C 25.1.2): the host processor's identity
 * with VMX hidden (leaf 1 ECX bit 5 clear: no nested VT-x) and the hypervisor-present bit (leaf 1 ECX bit 31,
 * the convention every hypervisor follows), the vCPU's index as its initial APIC ID (leaf 1 EBX[31:24]), and
 * the hypervisor leaf 40000000H: EBX/ECX/EDX = "vmxsimVMM   ", EAX = 40000000H (no further leaves).
 */
import { cpuIdentityOf, cpuidLeaf } from "../../cpu/cpuid.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";

const out = new Int32Array(4);
const SIGNATURE = [0x73786d76, 0x4d566d69, 0x2020204d]; // "vmxs" "imVM" "M   "

export function cpuid(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.cpuid", v.partition);
  const r = v.core.regs;
  const leaf = r[0] >>> 0;
  if (leaf === 0x40000000) {
    out[0] = 0x40000000;
    out[1] = SIGNATURE[0];
    out[2] = SIGNATURE[1];
    out[3] = SIGNATURE[2];
  } else {
    cpuidLeaf(cpuIdentityOf(v.core), v.index, leaf, r[1] >>> 0, out);
    if (leaf === 1) out[2] = ((out[2] & ~(1 << 5)) | (1 << 31)) | 0;
  }
  r[0] = out[0];
  r[3] = out[1];
  r[1] = out[2];
  r[2] = out[3];
  vmm.skipInstruction(v);
}
