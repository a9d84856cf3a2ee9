/**
 * APIC virtualization end to end on the machine (SDM Vol. 3C chapter 29), on Skylake (posted interrupts and
 * virtual-interrupt delivery offered as on its server sibling): a device interrupt posted in the guest's
 * posted-interrupt descriptor and notified with the notification vector reaches the guest's IDT handler with
 * no VM exit (29.6 then 29.2.2); the handler's EOI write to the APIC-access page is virtualized (29.4.3, EOI
 * virtualization 29.1.2) and leaves the virtual ISR empty. The same interrupt with posted interrupts off
 * exits with reason 1 (external interrupt, vector acknowledged on exit, 27.2.2).
 */
import { describe, expect, it } from "vitest";
import { flatVmxHost, GDT, PD } from "./flat-host.ts";
import { VmcsField as F } from "../../src/cpu/vmx/vmcs-fields.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../src/vmm/vmcs-setup.ts";
import { postInterrupt } from "../../src/cpu/vmx/posted-interrupts.ts";
import { Asm, dword, eax } from "../../src/guests/asm/index.ts";

const VAPIC = 0x20000, APIC_ACCESS = 0x21000, PID = 0x22000, IDT = 0x23000, COUNTER = 0x24000;
const GUEST = 0x10000, HANDLER = 0x11000;
const NOTIFY = 0xf2, VECTOR = 0x40;

function build(posted: boolean) {
  const exits: number[] = [];
  const { m, c, api, dv } = flatVmxHost("skylake", (_core, api) => { exits.push(api.vmread(F.EXIT_REASON)); });
  // Guest IDT: vector 40H -> HANDLER, 32-bit interrupt gate (SDM Vol. 3A Figure 6-2).
  dv.setUint32(IDT + VECTOR * 8, (0x08 << 16) | (HANDLER & 0xffff), true);
  dv.setUint32(IDT + VECTOR * 8 + 4, (HANDLER & 0xffff0000) | 0x8e00, true);
  m.lapics[0].writeRegister(0xf0, 0x1ff); // software-enable the physical local APIC
  writeControls(api, {
    pin: 1 | (posted ? 1 << 7 : 0), // external-interrupt exiting, process posted interrupts
    proc: 1 << 21, // use TPR shadow
    proc2: posted ? (1 << 0) | (1 << 9) : 0, // virtualize APIC accesses, virtual-interrupt delivery
    exit: 1 << 15, // acknowledge interrupt on exit
  });
  api.vmwrite(F.VIRTUAL_APIC_ADDRESS, VAPIC);
  if (posted) {
    api.vmwrite(F.APIC_ACCESS_ADDRESS, APIC_ACCESS);
    api.vmwrite(F.POSTED_INTERRUPT_NOTIFICATION_VECTOR, NOTIFY);
    api.vmwrite(F.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, PID);
  }
  writeHostState(api, 0, 0x9000);
  writeFlatGuest(api, { rip: GUEST, rsp: 0x8000, cr3: PD, gdt: [GDT, 31], idt: [IDT, 0x7ff] });
  const g = new Asm({ bits: 32, origin: GUEST });
  g.insn("sti").label("l").hlt().jmp("l");
  m.ram.set(g.build().bytes, GUEST);
  const h = new Asm({ bits: 32, origin: HANDLER });
  // The guest's APIC is at APIC_ACCESS (identity-mapped): EOI at offset B0H.
  h.insn("inc", dword(COUNTER)).mov(dword(APIC_ACCESS + 0xb0), 0).insn("iretd");
  m.ram.set(h.build().bytes, HANDLER);
  expect(api.vmlaunch()).toEqual({ ok: true });
  return { m, c, dv, exits };
}

describe("posted interrupts and virtual-interrupt delivery (SDM 29.6, 29.2)", () => {
  it("a posted interrupt reaches the guest handler without a VM exit; the EOI is virtualized", () => {
    const { m, c, dv, exits } = build(true);
    m.run(100_000);
    expect(c.halted && c.nonRoot).toBe(true);
    // The device side (issue 6's IOMMU): set the PIR bit and ON, then send the notification vector.
    const mem = { read32: (pa: number) => dv.getUint32(pa, true), write32: (pa: number, v: number) => dv.setUint32(pa, v >>> 0, true) };
    expect(postInterrupt(mem, PID, VECTOR)).toBe(true);
    m.lapics[0].writeIcr64(0x40000 | NOTIFY, 0); // self IPI, fixed, notification vector
    m.run(m.now + 200_000);
    expect(dv.getUint32(COUNTER, true)).toBe(1);
    expect(exits).toEqual([]);
    // PIR and ON cleared; VISR and VIRR empty after the virtualized EOI; SVI = 0 (29.1.2).
    expect(dv.getUint32(PID + 8, true)).toBe(0);
    expect(dv.getUint32(PID + 32, true) & 1).toBe(0);
    expect(dv.getUint32(VAPIC + 0x100 + 0x20, true)).toBe(0); // VISR bits 64-95
    expect(c.halted && c.nonRoot).toBe(true);
  });

  it("without posted interrupts the same interrupt exits (reason 1) with the vector acknowledged", () => {
    const { m, exits, dv } = build(false);
    m.run(100_000);
    m.lapics[0].writeIcr64(0x40000 | VECTOR, 0);
    m.run(m.now + 200_000);
    expect(exits).toEqual([1]);
    expect(dv.getUint32(COUNTER, true)).toBe(0);
  });
});

describe("APIC-access page exits (SDM 29.4)", () => {
  function apicGuest(proc2: number, code: (a: Asm) => void) {
    const exits: { reason: number; qual: number; rip: number }[] = [];
    const { m, api } = flatVmxHost("skylake", (core, api) => {
      exits.push({ reason: api.vmread(F.EXIT_REASON), qual: api.vmread(F.EXIT_QUALIFICATION), rip: api.vmread(F.GUEST_RIP) });
      core.shutdown = true; // no resume
    });
    // Virtual-interrupt delivery requires external-interrupt exiting (SDM 26.2.1.1).
    writeControls(api, { pin: (proc2 & (1 << 9)) !== 0 ? 1 : 0, proc: 1 << 21, proc2 });
    api.vmwrite(F.VIRTUAL_APIC_ADDRESS, VAPIC);
    api.vmwrite(F.APIC_ACCESS_ADDRESS, APIC_ACCESS);
    writeHostState(api, 0, 0x9000);
    writeFlatGuest(api, { rip: GUEST, rsp: 0x8000, cr3: PD, gdt: [GDT, 31] });
    const g = new Asm({ bits: 32, origin: GUEST });
    code(g);
    const img = g.build();
    m.ram.set(img.bytes, GUEST);
    expect(api.vmlaunch()).toEqual({ ok: true });
    m.run(1_000_000);
    return { exits, img };
  }

  it("a read of the APIC ID without APIC-register virtualization exits: reason 44, offset 20H, linear read (type 0), fault-like", () => {
    const { exits } = apicGuest(1 << 0, (a) => a.mov(eax, dword(APIC_ACCESS + 0x20)).hlt());
    expect(exits).toEqual([{ reason: 44, qual: 0x020, rip: GUEST }]);
  });

  it("a TPR read is virtualized from the virtual-APIC page (no exit)", () => {
    const { exits } = apicGuest(1 << 0, (a) => a.mov(eax, dword(APIC_ACCESS + 0x80)).insn("cpuid"));
    expect(exits.map((e) => e.reason)).toEqual([10]); // only the CPUID after it
  });

  it("a write of ICR low (not a self IPI) with register virtualization and VID: APIC-write exit 56, trap-like", () => {
    const { exits, img } = apicGuest((1 << 0) | (1 << 8) | (1 << 9), (a) => a.mov(dword(APIC_ACCESS + 0x300), 0x000c4500).label("after").hlt());
    // 56 (APIC write) with the offset; RIP after the MOV (SDM 29.4.3.3: trap-like).
    expect(exits).toEqual([{ reason: 56, qual: 0x300, rip: img.symbols.after }]);
  });
});
