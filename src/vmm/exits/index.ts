/**
 * The VMM's exit dispatch (shared/DESIGN.md §5 "To add an exit reason: one handler in vmm/exits/"): one
 * handler per basic exit reason (SDM Vol. 3C Appendix C), each charged its declared cost; a reason without a
 * handler is unexpected and goes to the health monitor, as does anything a handler cannot make sense of.
 */
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { exitReasonName } from "../../cpu/vmx/exit-reasons.ts";
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import { externalInterrupt } from "./external-interrupt.ts";
import { vmcall } from "./vmcall.ts";
import { ioInstruction } from "./io-instruction.ts";
import { eptViolation, eptMisconfiguration } from "./ept-violation.ts";
import { rdmsr, wrmsr } from "./msr-access.ts";
import { apicWriteExit, apicAccessExit } from "./apic-exits.ts";
import { cpuid } from "./cpuid.ts";
import { preemptionTimer } from "./preemption-timer.ts";
import { tripleFault } from "./triple-fault.ts";

export type ExitHandler = (vmm: Vmm, v: Vcpu) => void;

const HANDLERS: (ExitHandler | undefined)[] = [];
HANDLERS[1] = externalInterrupt;
HANDLERS[2] = tripleFault;
HANDLERS[10] = cpuid;
HANDLERS[18] = vmcall;
HANDLERS[30] = ioInstruction;
HANDLERS[31] = rdmsr;
HANDLERS[32] = wrmsr;
HANDLERS[44] = apicAccessExit;
HANDLERS[48] = eptViolation;
HANDLERS[49] = eptMisconfiguration;
HANDLERS[52] = preemptionTimer;
HANDLERS[56] = apicWriteExit;

export function handleExit(vmm: Vmm, v: Vcpu, reason: number): void {
  if (vmm.health.pendingAction(v)) return;
  const h = HANDLERS[reason];
  if (h !== undefined) {
    h(vmm, v);
    return;
  }
  vmm.chargeKey("exit.other", v.partition);
  const name = exitReasonName(reason) ?? `REASON_${reason}`;
  vmm.health.report(v.partition, v, `unexpected-exit:${name}`, `exit reason ${reason} at guest EIP 0x${(v.api.vmread(F.GUEST_RIP) >>> 0).toString(16)}`, true);
}
