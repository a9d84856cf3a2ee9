/**
 * How the embedded VMM starts a vCPU (SDM Vol. 3C 31.5 "VMM Setup & Tear Down", 24.3-24.8 the VMCS areas,
 * 26.2-26.3 the checks VM entry makes of them) and what a guest finds at boot (src/vmm/abi.ts; Multiboot
 * 0.6.96 §3.2-3.3): the host's GDT with one busy TSS per core and its identity page directory, VMXON, one
 * VMCS per vCPU with the controls the VMM relies on (external-interrupt exiting with acknowledge on exit,
 * the preemption timer, posted interrupts where wanted, I/O and MSR bitmaps, EPT, VPID, APIC-register
 * virtualization and virtual-interrupt delivery), the guest's image with its Multiboot information, and
 * the guest's boot state (also used to restart it). Leaves out: real-mode guests.
 */
import { VmcsField as F } from "../cpu/vmx/vmcs-fields.ts";
import { SimulationError } from "../cpu/simulation-error.ts";
import type { Machine } from "../cpu/machine.ts";
import { writeControls, writeFlatGuest, writeHostState } from "./vmcs-setup.ts";
import { PAGE } from "./host-memory.ts";
import type { Partition } from "./partition.ts";
import type { Vcpu } from "./vcpu.ts";
import { PI_NOTIFY_VECTOR, type Vmm } from "./vmm.ts";
import { MULTIBOOT_BOOT_MAGIC, MULTIBOOT_INFO_GPA, BOOT_STACK_TOP, IDENTITY_PD_GPA } from "./abi.ts";

/** Host-physical pages of the VMM's fixed tables (below vmm.ts's first allocated page). */
const GDT = 0x1000, HOST_PD = 0x2000, TSS = 0x3000, STUB = 0x4000;

/** Host GDT: null, 08H flat code, 10H flat data, then one busy 32-bit TSS per core at 18H + 8 * core; and the
 * exit landing pad (never reached: exits stop the core for the TypeScript VMM): HLT; JMP $-1. */
export function writeHostTables(machine: Machine): void {
  const ram = machine.ram;
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  dv.setUint32(GDT + 8, 0x0000ffff, true); dv.setUint32(GDT + 12, 0x00cf9a00, true);
  dv.setUint32(GDT + 16, 0x0000ffff, true); dv.setUint32(GDT + 20, 0x00cf9200, true);
  for (let id = 0; id < machine.cores.length; id++) {
    const tss = TSS + 0x80 * id;
    const d = GDT + 24 + 8 * id;
    dv.setUint32(d, ((tss & 0xffff) << 16) | 0x67, true);
    dv.setUint32(d + 4, (tss & 0xff000000) | ((tss >>> 16) & 0xff) | 0x8b00, true);
  }
  ram.set([0xf4, 0xeb, 0xfd], STUB);
}

/** Enter VMX operation on the vCPU's core (VMXON region `vmxonRegion`), fill its VMCS and launch the guest. */
export function launchVcpu(vmm: Vmm, v: Vcpu, vmxonRegion: number): void {
  const c = v.core;
  const api = v.api;
  const id = c.id;
  c.resetToFlat32(STUB);
  c.gdtBase = GDT;
  c.gdtLimit = 24 + 8 * vmm.machine.cores.length - 1;
  c.trSel = 0x18 + 8 * id;
  c.trBase = TSS + 0x80 * id;
  c.trLimit = 0x67;
  vmm.machine.lapics[id]?.writeRegister(0xf0, 0x1ff); // software-enable the physical local APIC
  api.prepare(HOST_PD);
  api.initRegion(vmxonRegion);
  check(api.vmxon(vmxonRegion), "VMXON", v);
  api.initRegion(v.vmcs);
  check(api.vmclear(v.vmcs), "VMCLEAR", v);
  check(api.vmptrld(v.vmcs), "VMPTRLD", v);
  const p = v.partition;
  const posted = p.irqDelivery === "posted" && vmm.postedInterrupts;
  writeControls(api, {
    pin: 1 | (1 << 6) | (posted ? 1 << 7 : 0), // external-interrupt exiting, preemption timer, posted interrupts
    proc: (1 << 21) | (1 << 25) | (1 << 28), // TPR shadow, I/O bitmaps, MSR bitmaps
    proc2: 1 | 2 | (1 << 5) | (vmm.unrestrictedGuest ? 1 << 7 : 0) | (1 << 8) | (1 << 9),
    exit: 1 << 15, // acknowledge interrupt on exit
  });
  const w = (f: number, value: number) => check(api.vmwrite(f, value), `VMWRITE ${f.toString(16)}`, v);
  w(F.IO_BITMAP_A, p.ioBitmapA);
  w(F.IO_BITMAP_B, p.ioBitmapB);
  w(F.MSR_BITMAPS, p.msrBitmap);
  w(F.EPT_POINTER, p.ept.eptp);
  w(F.VPID, v.vpid);
  w(F.VIRTUAL_APIC_ADDRESS, v.vapic);
  w(F.APIC_ACCESS_ADDRESS, vmm.apicAccessPage);
  if (posted) {
    w(F.POSTED_INTERRUPT_NOTIFICATION_VECTOR, PI_NOTIFY_VECTOR);
    w(F.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, v.pid);
  }
  w(F.CR4_GUEST_HOST_MASK, 1 << 13); // the guest does not see CR4.VMXE
  writeHostState(api, STUB, c.trBase); // no host stack is used: exits stop the core for this VMM
  resetGuestState(vmm, v);
  const st = api.vmlaunch();
  if (!st.ok) {
    const f = c.vmx!.lastEntryFailure;
    throw new SimulationError(`VMM: VMLAUNCH of ${v.name} failed: ${JSON.stringify(st)}${f ? ` (${f.rule}, SDM ${f.section})` : ""}`, { core: id, eip: c.eip, dump: c.dump() });
  }
}

/** The guest's boot state (abi.ts) in the current VMCS, its virtual APIC cleared. Used at boot and restart. */
export function resetGuestState(vmm: Vmm, v: Vcpu): void {
  const api = v.api;
  writeFlatGuest(api, {
    rip: v.partition.image?.entry ?? 0, rsp: BOOT_STACK_TOP,
    cr3: vmm.unrestrictedGuest ? 0 : IDENTITY_PD_GPA, paging: !vmm.unrestrictedGuest,
  });
  api.vmwrite(F.VMX_PREEMPTION_TIMER_VALUE, 0xffffffff);
  api.vmwrite(F.GUEST_INTERRUPT_STATUS, 0);
  const ram = vmm.machine.ram;
  ram.fill(0, v.vapic, v.vapic + PAGE);
  ram.fill(0, v.pid, v.pid + 64);
  const dv = vmm.dv();
  dv.setUint32(v.vapic + 0x20, v.index << 24, true); // virtual APIC ID = vCPU index
  dv.setUint32(v.vapic + 0x30, 0x00050014, true); // version: integrated APIC, 6 LVT entries
  dv.setUint32(v.vapic + 0xf0, 0xff, true);
  for (let lvt = 0x320; lvt <= 0x370; lvt += 0x10) dv.setUint32(v.vapic + lvt, 0x10000, true); // masked
  v.timerDeadline = null;
  v.timerPeriodTicks = 0;
  v.lvtTimerMode = 0; // the cleared LVT timer is one-shot
  v.timerIdle = true;
  v.pending.length = 0;
  v.pendingDevice.length = 0;
  const r = v.core.regs;
  r.fill(0);
  r[0] = MULTIBOOT_BOOT_MAGIC;
  r[3] = MULTIBOOT_INFO_GPA;
  r[6] = v.index;
  r[7] = v.partition.id;
  v.state = "running";
}

/** The partition's image and its Multiboot information (flags mem, bit 0, and cmdline, bit 2). */
export function writeGuestImage(p: Partition, unrestrictedGuest: boolean): void {
  const img = p.image!;
  if (!p.write(img.loadGpa, img.bytes)) {
    throw new RangeError(`partition ${p.name}: image of ${img.bytes.length} bytes at ${img.loadGpa} does not fit its ${p.memoryBytes} bytes`);
  }
  // Multiboot information (Multiboot 0.6.96 §3.3): flags mem (bit 0) and cmdline (bit 2).
  const info = MULTIBOOT_INFO_GPA;
  p.write32(info, 1 | 4);
  p.write32(info + 4, 640);
  p.write32(info + 8, Math.floor((p.memoryBytes - 0x100000) / 1024));
  p.write32(info + 16, info + 0x100);
  p.write(info + 0x100, new TextEncoder().encode(`${img.cmdline}\0`));
  if (!unrestrictedGuest) {
    for (let k = 0; k < 1024; k++) p.write32(IDENTITY_PD_GPA + 4 * k, ((k << 22) | 0x87) >>> 0);
  }
}

function check(st: { ok: boolean }, what: string, v: Vcpu): void {
  if (!st.ok) throw new SimulationError(`VMM: ${what} failed for ${v.name}: ${JSON.stringify(st)}`, { core: v.core.id, eip: v.core.eip, dump: v.core.dump() });
}
