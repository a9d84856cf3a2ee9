/**
 * The guest's general registers as the VMM sees them after a VM exit: EAX..EDI stay in the core (VM exits
 * do not save them, SDM Vol. 3C 27.3; the VMM keeps them), except ESP, which is in the VMCS (GUEST_RSP).
 * 8-bit register numbers follow the ModR/M encoding (4-7 = AH, CH, DH, BH).
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vcpu } from "../vcpu.ts";

export function readGuestReg(v: Vcpu, reg: number, size: 1 | 2 | 4): number {
  const r = v.core.regs;
  if (size === 1) return reg < 4 ? r[reg] & 0xff : (r[reg - 4] >>> 8) & 0xff;
  const full = reg === 4 ? v.api.vmread(F.GUEST_RSP) : r[reg] >>> 0;
  return size === 2 ? full & 0xffff : full >>> 0;
}

export function writeGuestReg(v: Vcpu, reg: number, size: 1 | 2 | 4, value: number, zeroExtend: boolean): void {
  const r = v.core.regs;
  if (zeroExtend || size === 4) {
    const val = zeroExtend ? value & (size === 1 ? 0xff : 0xffff) : value;
    if (reg === 4) v.api.vmwrite(F.GUEST_RSP, val >>> 0);
    else r[reg] = val | 0;
  } else if (size === 2) {
    if (reg === 4) v.api.vmwrite(F.GUEST_RSP, ((v.api.vmread(F.GUEST_RSP) & 0xffff0000) | (value & 0xffff)) >>> 0);
    else r[reg] = (r[reg] & 0xffff0000) | (value & 0xffff);
  } else if (reg < 4) r[reg] = (r[reg] & ~0xff) | (value & 0xff);
  else r[reg - 4] = (r[reg - 4] & ~0xff00) | ((value & 0xff) << 8);
}
