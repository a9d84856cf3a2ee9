/**
 * Exit reasons 56 (APIC write, trap-like: the write is already in the virtual-APIC page, SDM Vol. 3C
 * 29.4.3.3) and 44 (APIC access, fault-like: an access APIC-register virtualization does not cover, 29.4.2,
 * such as the timer's current count 390H). Writes go to the virtual LAPIC; an APIC-access read returns the
 * current count for 390H and 0 otherwise, a write is dropped; RIP moves past the instruction.
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { apicWrite } from "../virtual-lapic.ts";
import { decodeMmio } from "../mmio-decode.ts";
import { writeGuestReg } from "./guest-registers.ts";

export function apicWriteExit(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.apicWrite", v.partition);
  apicWrite(vmm, v, v.api.vmread(F.EXIT_QUALIFICATION) & 0xfff);
}

export function apicAccessExit(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.apicAccess", v.partition);
  const api = v.api;
  const q = api.vmread(F.EXIT_QUALIFICATION);
  const offset = q & 0xfff;
  const rip = api.vmread(F.GUEST_RIP) >>> 0;
  const bytes = v.partition.read(rip, 15);
  const acc = bytes === null ? null : decodeMmio(bytes);
  if (acc === null) {
    vmm.health.report(v.partition, v, "unsupported-apic-access", `APIC access at offset 0x${offset.toString(16)} by an instruction the VMM does not emulate`, true);
    return;
  }
  if (!acc.write) {
    let value = 0;
    if (offset === 0x390 && v.timerDeadline !== null) {
      const prof = vmm.machine.profile!;
      value = Math.max(0, Math.floor(((v.timerDeadline - v.core.cycles) * prof.apicTimerHz) / prof.tscHz));
    }
    writeGuestReg(v, acc.reg, acc.size, value, acc.zeroExtend);
  }
  api.vmwrite(F.GUEST_RIP, (rip + acc.length) >>> 0);
}
