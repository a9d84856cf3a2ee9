/**
 * Exit reasons 31 (RDMSR) and 32 (WRMSR), for the MSRs the partition's MSR bitmap intercepts (vmm.ts
 * addPartition): IA32_TSC_DEADLINE (6E0H) is the virtual LAPIC's; writes to the TSC (10H), the APIC base
 * (1BH), IA32_FEATURE_CONTROL (3AH) and the CAT MSRs (C8FH-D8FH) belong to the VMM and are dropped, so a
 * partition can neither move the shared clock nor leave its class of service.
 */
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { readTscDeadline, writeTscDeadline } from "../virtual-lapic.ts";

const IA32_TSC_DEADLINE = 0x6e0;

export function rdmsr(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.msrRead", v.partition);
  const r = v.core.regs;
  const value = (r[1] >>> 0) === IA32_TSC_DEADLINE ? readTscDeadline(v) : 0;
  r[0] = value % 2 ** 32 | 0;
  r[2] = Math.floor(value / 2 ** 32) | 0;
  vmm.skipInstruction(v);
}

export function wrmsr(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.msrWrite", v.partition);
  const r = v.core.regs;
  if ((r[1] >>> 0) === IA32_TSC_DEADLINE) writeTscDeadline(vmm, v, (r[2] >>> 0) * 2 ** 32 + (r[0] >>> 0));
  vmm.skipInstruction(v);
}
