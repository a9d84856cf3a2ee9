/**
 * The embedded VMM boots partitions and handles their exits (issue 6 "The embedded VMM"): a one-partition
 * machine whose guest executes CPUID, a VMCALL and port I/O; the exits are the ones the SDM says these
 * instructions cause in VMX non-root (Vol. 3C 25.1.2 CPUID unconditionally, 25.1.3 VMCALL, I/O with the
 * I/O bitmap set), each recorded once with a cost of at least the published round trip of the profile
 * (vmx.md 1a: Skylake 590 cycles), and the guest sees the VMM's answers (CPUID hypervisor bit, ABI version).
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/cpu/machine.ts";
import { getProfile } from "../../src/cpu/profiles/index.ts";
import { IoApic } from "../../src/devices/io-apic.ts";
import { MsiRouter } from "../../src/devices/msi.ts";
import { Vmm } from "../../src/vmm/vmm.ts";
import { Asm, al, dword, eax, ecx } from "../../src/guests/asm/index.ts";
import { GUEST_IMAGE_GPA, Hypercall } from "../../src/vmm/abi.ts";

function oneGuest(code: (a: Asm) => void, opts: { memoryBytes?: number } = {}) {
  let vmm!: Vmm;
  const m = new Machine({ ramBytes: 64 << 20, cores: 2, profile: getProfile("skylake"), onVmExit: (c) => vmm.onVmExit(c) });
  const ioapic = new IoApic({ sink: m.apicBus });
  vmm = new Vmm(m, { vmmBytes: 8 << 20, ioapic, msi: new MsiRouter(m.apicBus) });
  const p = vmm.addPartition({ name: "g", cores: [1], memoryBytes: opts.memoryBytes ?? 4 << 20, hostBase: null, clos: null, colours: null, irqDelivery: "posted", onFault: "log" });
  const a = new Asm({ bits: 32, origin: GUEST_IMAGE_GPA });
  code(a);
  const img = a.build();
  vmm.loadImage(p, { bytes: img.bytes, loadGpa: GUEST_IMAGE_GPA, entry: img.entry, cmdline: "" }, null, 0);
  vmm.boot();
  return { m, vmm, p, img };
}

describe("VMM boot and basic exits", () => {
  it("CPUID, VMCALL and an OUT exit once each and the guest sees the VMM's answers", () => {
    const RES = 0x2000;
    const { m, p } = oneGuest((a) => {
      a.mov(eax, 1).insn("cpuid").mov(dword(RES), ecx);
      a.mov(eax, Hypercall.VERSION).insn("vmcall").mov(dword(RES + 4), eax);
      a.mov(eax, 0x41).insn("out", 0xe9, al);
      a.label("idle").hlt().jmp("idle");
    });
    m.run(2_000_000);
    const reasons = p.exits.reasons().map(([r, s]) => [r, s.total.length]);
    expect(reasons).toEqual([[10, 1], [18, 1], [30, 1]]);
    expect(p.read32(RES)! >>> 31).toBe(1); // hypervisor present
    expect((p.read32(RES)! >>> 5) & 1).toBe(0); // VMX hidden
    expect(p.read32(RES + 4)).toBe(1);
    expect(p.debugOutput).toBe("A");
    for (const [, s] of p.exits.reasons()) {
      expect(s.total[0]).toBeGreaterThanOrEqual(590);
      expect(s.transition[0] + s.handler[0] + s.cacheMiss[0]).toBe(s.total[0]);
    }
  });
});
