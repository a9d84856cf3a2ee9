/**
 * Set-up for the EPT-in-the-core tests (ept-core*.test.ts): a machine with a CPU profile, a host in VMX root
 * operation (VmxApi, src/vmm/vmcs-setup.ts, as test/vmm/vmx-roundtrip.test.ts), a flat 32-bit guest with its
 * own 4 KiB page tables, and an EPT hierarchy (SDM Vol. 3C 28.2.2, Tables 28-1..28-6) that identity-maps the
 * machine's 16 MiB with 4 KiB pages, read/write/execute, memory type WB (6), so that a test can change one
 * page's EPT entry. VM exits are recorded (reason, qualification, guest-physical and guest-linear address,
 * guest RIP/RSP, IDT-vectoring information) by the VMM callback; a test's `onExit` may resume the guest,
 * otherwise the core returns to the host stub, a HLT with interrupts off, and the run ends.
 *
 * Guest memory map (guest-linear -> guest-physical): 0-4 MiB identity; 4-8 MiB -> 3 MiB + (linear - 4 MiB)
 * (so that the two addresses differ in the exit information). Every guest PTE is present, writable,
 * user/supervisor, with A and D preset (so a read walk would allow writes if EPT did not restrict them).
 */
import { expect } from "vitest";
import { Machine } from "../../../src/cpu/machine.ts";
import type { Core } from "../../../src/cpu/core.ts";
import type { TimedCore } from "../../../src/cpu/timed-core.ts";
import { getProfile } from "../../../src/cpu/profiles/index.ts";
import { VmxApi } from "../../../src/cpu/vmx/vmx-api.ts";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../../src/vmm/vmcs-setup.ts";
import { Asm } from "../../../src/guests/asm/index.ts";

export const GDT = 0x1000, HOST_PD = 0x2000, VMXON = 0x3000, VMCS = 0x4000, TSS = 0x5000, HOST_STUB = 0x6000;
export const GUEST = 0x10000, GUEST_STACK = 0x18000, GUEST_IDT = 0x19000;
export const GUEST_PD = 0x20000, GUEST_PT0 = 0x21000, GUEST_PT1 = 0x22000;
export const EPT_PML4 = 0x100000, EPT_PDPT = 0x101000, EPT_PD = 0x102000, EPT_PT = 0x103000;
/** EPT leaf: R, W, X and memory type 6 (WB) in bits 5:3 (Table 28-6). */
export const EPT_RWX = 0x37;
/** Secondary controls: enable EPT (bit 1), enable VPID (bit 5), unrestricted guest (bit 7) (SDM Table 24-7). */
export const ENABLE_EPT = 1 << 1, ENABLE_VPID = 1 << 5, UNRESTRICTED_GUEST = 1 << 7;
/** Primary control bit 31: activate secondary controls (writeControls sets it when proc2 is not 0). */

export interface ExitRecord {
  reason: number;
  qualification: number;
  gpa: number;
  gpaHigh: number;
  linear: number;
  rip: number;
  rsp: number;
  idtVectoring: number;
}

export interface EptGuestOptions {
  profile?: string;
  /** The cache and TLB timing model (TimedCore, the default) or the functional core. */
  caches?: boolean;
  /** Secondary controls (default: enable EPT). */
  proc2?: number;
  vpid?: number;
  /** EPTP bit 6: accessed and dirty flags for EPT. */
  ad?: boolean;
  /** Guest paging (default true); false needs unrestricted guest. */
  paging?: boolean;
  /** The guest's code, assembled at GUEST. */
  code: (a: Asm) => void;
  /** Called at each VM exit after it is recorded; return true when it resumed the guest. */
  onExit?: (e: ExitRecord, h: EptGuest) => boolean;
  /** Changes to the memory image before VMLAUNCH (EPT entries, guest PTEs). */
  prepare?: (h: EptGuest) => void;
}

export interface EptGuest {
  m: Machine;
  c: Core;
  api: VmxApi;
  dv: DataView;
  exits: ExitRecord[];
  /** Host-physical address of the EPT PTE that maps guest-physical `gpa` (below 16 MiB). */
  eptPte(gpa: number): number;
  setEpt(gpa: number, low: number): void;
  eptLow(gpa: number): number;
  /** Guest-physical address of the guest PTE that maps guest-linear `lin` (below 8 MiB). */
  guestPte(lin: number): number;
  /** The timed core (a profile gives one). */
  timed(): TimedCore;
  run(ticks?: number): void;
}

export function eptGuest(o: EptGuestOptions): EptGuest {
  let h!: EptGuest;
  const exits: ExitRecord[] = [];
  const m = new Machine({
    ramBytes: 16 << 20, profile: getProfile(o.profile ?? "skylake"), caches: o.caches ?? true,
    onVmExit: () => {
      const api = h.api;
      const e: ExitRecord = {
        reason: api.vmread(F.EXIT_REASON),
        qualification: api.vmread(F.EXIT_QUALIFICATION),
        gpa: api.vmread(F.GUEST_PHYSICAL_ADDRESS),
        gpaHigh: api.vmread(F.GUEST_PHYSICAL_ADDRESS_HIGH),
        linear: api.vmread(F.GUEST_LINEAR_ADDRESS),
        rip: api.vmread(F.GUEST_RIP),
        rsp: api.vmread(F.GUEST_RSP),
        idtVectoring: api.vmread(F.IDT_VECTORING_INFORMATION),
      };
      exits.push(e);
      o.onExit?.(e, h);
    },
  });
  const c = m.core;
  const dv = new DataView(m.ram.buffer);
  dv.setUint32(GDT + 8, 0x0000ffff, true); dv.setUint32(GDT + 12, 0x00cf9a00, true); // 08: code
  dv.setUint32(GDT + 16, 0x0000ffff, true); dv.setUint32(GDT + 20, 0x00cf9200, true); // 10: data
  dv.setUint32(GDT + 24, (TSS << 16) | 0x67, true); dv.setUint32(GDT + 28, 0x00008b00, true); // 18: busy TSS
  m.ram[HOST_STUB] = 0xf4; // HLT
  // Guest paging: PDE 0 -> PT0 (identity), PDE 1 -> PT1 (4 MiB.. -> 3 MiB..), 4 KiB pages with A and D.
  dv.setUint32(GUEST_PD, GUEST_PT0 | 0x27, true);
  dv.setUint32(GUEST_PD + 4, GUEST_PT1 | 0x27, true);
  for (let k = 0; k < 1024; k++) {
    dv.setUint32(GUEST_PT0 + 4 * k, ((k << 12) | 0x67) >>> 0, true);
    dv.setUint32(GUEST_PT1 + 4 * k, ((0x300000 + (k << 12)) | 0x67) >>> 0, true);
  }
  // EPT: PML4E 0 -> PDPT, PDPTE 0 -> PD, PDE k -> PT k (8 x 2 MiB), PTEs identity (Tables 28-1, 28-3, 28-5, 28-6).
  dv.setUint32(EPT_PML4, EPT_PDPT | 7, true);
  dv.setUint32(EPT_PDPT, EPT_PD | 7, true);
  for (let k = 0; k < 8; k++) {
    dv.setUint32(EPT_PD + 8 * k, (EPT_PT + 0x1000 * k) | 7, true);
    for (let j = 0; j < 512; j++) dv.setUint32(EPT_PT + 0x1000 * k + 8 * j, ((((k << 9) | j) << 12) | EPT_RWX) >>> 0, true);
  }
  c.resetToFlat32(0);
  c.gdtBase = GDT; c.gdtLimit = 31; c.trSel = 0x18; c.trBase = TSS; c.trLimit = 0x67;
  const api = new VmxApi(c);
  h = {
    m, c, api, dv, exits,
    eptPte: (gpa) => EPT_PT + 8 * (gpa >>> 12),
    setEpt: (gpa, low) => dv.setUint32(EPT_PT + 8 * (gpa >>> 12), low >>> 0, true),
    eptLow: (gpa) => dv.getUint32(EPT_PT + 8 * (gpa >>> 12), true),
    guestPte: (lin) => (lin >>> 22 === 0 ? GUEST_PT0 : GUEST_PT1) + 4 * ((lin >>> 12) & 0x3ff),
    timed: () => c as TimedCore,
    run: (ticks = 2_000_000) => { m.run(m.now + ticks); },
  };
  api.prepare(HOST_PD);
  api.initRegion(VMXON);
  expect(api.vmxon(VMXON)).toEqual({ ok: true });
  api.initRegion(VMCS);
  expect(api.vmclear(VMCS)).toEqual({ ok: true });
  expect(api.vmptrld(VMCS)).toEqual({ ok: true });
  const proc2 = o.proc2 ?? ENABLE_EPT;
  writeControls(api, { proc2 });
  writeHostState(api, HOST_STUB, 0x9000);
  const paging = o.paging ?? true;
  writeFlatGuest(api, { rip: GUEST, rsp: GUEST_STACK, cr3: GUEST_PD, gdt: [GDT, 31], idt: [GUEST_IDT, 0x7ff], paging });
  // EPTP: PML4 address, walk length 4 (bits 5:3 = 3), WB (6), A/D (bit 6) (SDM Table 24-8).
  expect(api.vmwrite(F.EPT_POINTER, EPT_PML4 | (3 << 3) | 6 | (o.ad === true ? 0x40 : 0))).toEqual({ ok: true });
  if (o.vpid !== undefined) expect(api.vmwrite(F.VPID, o.vpid)).toEqual({ ok: true });
  const a = new Asm({ bits: 32, origin: GUEST });
  o.code(a);
  m.ram.set(a.build().bytes, GUEST);
  o.prepare?.(h);
  expect(api.vmlaunch()).toEqual({ ok: true });
  expect(c.nonRoot).toBe(true);
  return h;
}

/** Resume after an exit caused by an instruction of `length` bytes (VMCALL: 3). */
export function skipAndResume(h: EptGuest, length: number): boolean {
  h.api.vmwrite(F.GUEST_RIP, h.api.vmread(F.GUEST_RIP) + length);
  expect(h.api.vmresume()).toEqual({ ok: true });
  return true;
}
