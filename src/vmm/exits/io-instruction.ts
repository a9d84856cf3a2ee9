/**
 * Exit reason 30, I/O instruction (SDM Vol. 3C 27.2.1 Table 27-5: size in bits 2:0, direction bit 3,
 * string bit 4, port in 31:16): an emulated device's port goes to its device model; the debug port E9H is
 * collected per partition; any other port reads as all ones and ignores writes (an empty bus), as a PC does.
 * String I/O (INS/OUTS, with or without REP) is emulated element by element from the guest-linear address
 * the exit reports (27.2.4; flat guests: linear = guest-physical), moving ESI/EDI by DF and counting ECX.
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
  const r = v.core.regs;
  const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  const d = p.portDeviceAt(port);
  if (d !== null) v.exitDevice = d.index;
  const access = (value: number): number => {
    if (d !== null && d.vdev !== null) {
      if (input) return d.vdev.portRead?.(port - d.port!, size) ?? mask;
      d.vdev.portWrite?.(port - d.port!, size, value & mask);
    } else if (port === 0xe9 && !input) {
      if (p.debugOutput.length < 65536) p.debugOutput += String.fromCharCode(value & 0xff);
    }
    return mask;
  };
  if ((q & 0x10) === 0) {
    const val = access(r[0]);
    if (input) r[0] = ((r[0] & ~mask) | (val & mask)) | 0;
    vmm.skipInstruction(v);
    return;
  }
  // INS / OUTS: ES:EDI / DS:ESI (flat), ECX elements with REP, DF decides the direction.
  const rep = (q & 0x20) !== 0;
  const count = rep ? r[1] >>> 0 : 1;
  const step = (v.api.vmread(F.GUEST_RFLAGS) & 0x400) !== 0 ? -size : size;
  const idx = input ? 7 : 6;
  for (let k = 0; k < count; k++) {
    const gpa = r[idx] >>> 0;
    if (input) {
      const val = access(0);
      if (!p.write(gpa, new Uint8Array([val & 0xff, (val >>> 8) & 0xff, (val >>> 16) & 0xff, (val >>> 24) & 0xff].slice(0, size)))) break;
    } else {
      const b = p.read(gpa, size);
      if (b === null) break;
      access(b[0] | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24));
    }
    r[idx] = (r[idx] + step) | 0;
    if (rep) r[1] = (r[1] - 1) | 0;
  }
  vmm.skipInstruction(v);
}
