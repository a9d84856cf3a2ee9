/**
 * Test set-up shared by the VMX machine tests: a machine with a CPU profile, core 0 in flat 32-bit protected
 * mode with a GDT (08H code, 10H data, 18H busy TSS) as a host, the host's page directory (4-MByte identity
 * pages), VMXON done and a cleared VMCS made current through the VMX API (SDM Vol. 3C 31.5 "VMM Setup").
 */
import { Machine } from "../../src/cpu/machine.ts";
import { getProfile } from "../../src/cpu/profiles/index.ts";
import { VmxApi } from "../../src/cpu/vmx/vmx-api.ts";
import type { Core } from "../../src/cpu/core.ts";

export const GDT = 0x1000, PD = 0x2000, VMXON = 0x3000, VMCS = 0x4000, TSS = 0x5000;

export interface FlatHost {
  m: Machine;
  c: Core;
  api: VmxApi;
  dv: DataView;
}

/** `onExit` makes the machine stop the core at each VM exit and call it (the embedded-VMM mode). */
export function flatVmxHost(profileId: string, onExit?: (core: Core, api: VmxApi) => void, hostEip = 0): FlatHost {
  let api!: VmxApi;
  const m = new Machine({
    ramBytes: 16 << 20, profile: getProfile(profileId),
    onVmExit: onExit === undefined ? undefined : (core) => onExit(core, api),
  });
  const c = m.core;
  const dv = new DataView(m.ram.buffer);
  dv.setUint32(GDT + 8, 0x0000ffff, true); dv.setUint32(GDT + 12, 0x00cf9a00, true);
  dv.setUint32(GDT + 16, 0x0000ffff, true); dv.setUint32(GDT + 20, 0x00cf9200, true);
  dv.setUint32(GDT + 24, (TSS << 16) | 0x67, true); dv.setUint32(GDT + 28, 0x00008b00, true);
  c.resetToFlat32(hostEip);
  c.gdtBase = GDT; c.gdtLimit = 31; c.trSel = 0x18; c.trBase = TSS; c.trLimit = 0x67;
  api = new VmxApi(c);
  api.prepare(PD);
  api.initRegion(VMXON);
  const on = api.vmxon(VMXON);
  api.initRegion(VMCS);
  const clear = api.vmclear(VMCS);
  const load = api.vmptrld(VMCS);
  if (!on.ok || !clear.ok || !load.ok) throw new Error(`VMX set-up failed: ${JSON.stringify([on, clear, load])}`);
  return { m, c, api, dv };
}
