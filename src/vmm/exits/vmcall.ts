/**
 * Exit reason 18, VMCALL: the hypercalls of src/vmm/abi.ts (EAX = number, EBX/ECX/EDX arguments, result in
 * EAX; the VMM advances RIP past the 3-byte VMCALL).
 */
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";
import { ABI_VERSION, HC_ERROR, Hypercall, LOG_HEADER_BYTES } from "../abi.ts";

export function vmcall(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.vmcall", v.partition);
  const r = v.core.regs;
  const nr = r[0] >>> 0, ebx = r[3] >>> 0, ecx = r[1] >>> 0, edx = r[2] >>> 0;
  const p = v.partition;
  let result = HC_ERROR;
  switch (nr) {
    case Hypercall.VERSION:
      result = ABI_VERSION;
      break;
    case Hypercall.TSC_KHZ:
      result = Math.round(vmm.machine.profile!.tscHz / 1000);
      break;
    case Hypercall.LOG_REGISTER:
      if (ebx % 64 === 0 && ecx >= LOG_HEADER_BYTES && p.hpa(ebx) !== null && p.hpa(ebx + ecx - 1) !== null) {
        p.logGpa = ebx;
        p.logBytes = ecx;
        result = 0;
      }
      break;
    case Hypercall.PV_SETUP: {
      const d = p.devices[ebx];
      if (d?.mode === "paravirtual" && d.vdev?.setupRing?.(ecx, edx) === true) result = 0;
      if (d !== undefined) v.exitDevice = d.index;
      break;
    }
    case Hypercall.PV_NOTIFY: {
      const d = p.devices[ebx];
      if (d?.mode === "paravirtual" && d.vdev?.notify !== undefined) {
        v.exitDevice = d.index;
        d.vdev.notify();
        result = 0;
      }
      break;
    }
    case Hypercall.EXIT:
      v.state = "exited";
      result = 0;
      break;
  }
  r[0] = result | 0;
  vmm.skipInstruction(v);
}
