/**
 * Exit reason 30, I/O instruction (SDM Vol. 3C 27.2.1 Table 27-5: size in bits 2:0, direction bit 3,
 * string bit 4, port in 31:16): an emulated device's port goes to its device model; the debug port E9H is
 * collected per partition; any other port reads as all ones and ignores writes (an empty bus), as a PC does.
 * String I/O (INS/OUTS) to an emulated device is not emulated: a partition fault.
 */
import { VmcsField as F } from "../../cpu/vmx/vmcs-fields.ts";
import type { Vmm } from "../vmm.ts";
import type { Vcpu } from "../vcpu.ts";

export function ioInstruction(vmm: Vmm, v: Vcpu): void {
  vmm.chargeKey("exit.io", v.partition);
  const q = v.api.vmread(F.EXIT_QUALIFICATION);
  const size = ((q & 7) + 1) as 1 | 2 | 4;
  const input = (q & 8) !== 0;
  const port = q >>> 16;
  const p = v.partition;
  if ((q & 0x10) !== 0) {
    vmm.health.report(p, v, "unsupported-io", `string I/O at port 0x${port.toString(16)} is not emulated`, true);
    return;
  }
  const r = v.core.regs;
  const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  const d = p.portDeviceAt(port);
  if (d !== null && d.vdev !== null) {
    v.exitDevice = d.index;
    if (input) {
      const val = d.vdev.portRead?.(port - d.port!, size) ?? mask;
      r[0] = ((r[0] & ~mask) | (val & mask)) | 0;
    } else d.vdev.portWrite?.(port - d.port!, size, r[0] & mask);
  } else if (port === 0xe9 && !input) {
    if (p.debugOutput.length < 65536) p.debugOutput += String.fromCharCode(r[0] & 0xff);
  } else if (input) {
    r[0] = (r[0] | mask) | 0;
  }
  vmm.skipInstruction(v);
}
