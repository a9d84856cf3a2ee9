/**
 * Exit reasons 48 (EPT violation) and 49 (EPT misconfiguration), SDM Vol. 3C 28.2.3, 27.2.1 Table 27-7.
 * A violation inside an emulated device's register window is MMIO emulation: the VMM fetches the guest
 * instruction at RIP (flat guests: CS base 0 and linear = guest-physical, abi.ts boot state), decodes it
 * (mmio-decode.ts), performs the access on the device model and moves RIP past it. Anything else is an
 * access outside what the partition owns: a fault for the health monitor.
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { decodeMmio } from "../mmio-decode.ts";
import { readGuestReg, writeGuestReg } from "./guest-registers.ts";

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export function eptViolation(vmm: Vmm, v: Vcpu): void {
  const api = v.api;
  const p = v.partition;
  const gpa = api.vmread(F.GUEST_PHYSICAL_ADDRESS) >>> 0;
  const d = p.mmioDeviceAt(gpa);
  if (d === null || d.vdev === null) {
    vmm.chargeKey("exit.eptViolation", p);
    const q = api.vmread(F.EXIT_QUALIFICATION);
    const what = (q & 4) !== 0 ? "fetch" : (q & 2) !== 0 ? "write" : "read";
    vmm.health.report(p, v, "ept-violation", `${what} at guest-physical ${hex(gpa)}, outside the partition's memory and devices`, true);
    return;
  }
  vmm.chargeKey("exit.mmio", p);
  v.exitDevice = d.index;
  const rip = api.vmread(F.GUEST_RIP) >>> 0;
  const bytes = p.read(rip, 15) ?? p.read(rip, Math.max(0, p.memoryBytes - rip));
  const acc = bytes === null ? null : decodeMmio(bytes);
  if (acc === null) {
    vmm.health.report(p, v, "unsupported-mmio", `instruction at ${hex(rip)} touching ${d.name} at ${hex(gpa)} is not a MOV the VMM emulates`, true);
    return;
  }
  const offset = gpa - d.mmioGpa!;
  if (acc.write) {
    const value = acc.reg < 0 ? acc.imm : readGuestReg(v, acc.reg, acc.size);
    d.vdev.mmioWrite?.(offset, acc.size, value);
  } else {
    const value = d.vdev.mmioRead?.(offset, acc.size) ?? 0xffffffff;
    writeGuestReg(v, acc.reg, acc.size, value, acc.zeroExtend);
  }
  api.vmwrite(F.GUEST_RIP, (rip + acc.length) >>> 0);
}

export function eptMisconfiguration(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.eptViolation", v.partition);
  const gpa = v.api.vmread(F.GUEST_PHYSICAL_ADDRESS) >>> 0;
  vmm.health.report(v.partition, v, "ept-misconfiguration", `EPT misconfiguration at guest-physical ${hex(gpa)} (a VMM bug)`, true);
}
