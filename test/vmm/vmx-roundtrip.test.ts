/**
 * VM entry and exit end to end on the machine, driven through the VMX API as the embedded VMM drives it
 * (SDM Vol. 3C 26 and 27): a flat guest executes CPUID in a loop, every CPUID exits with reason 10 and
 * instruction length 2 (SDM 25.1.2, Table C-1), the VMM advances GUEST_RIP and resumes; the guest's
 * general registers survive the transitions (the processor does not switch them, 27.3: only RSP/RIP/RFLAGS).
 */
import { describe, expect, it } from "vitest";
import type { VmxApi } from "../../src/cpu/vmx/vmx-api.ts";
import { flatVmxHost, GDT, PD } from "./flat-host.ts";
import { VmcsField as F } from "../../src/cpu/vmx/vmcs-fields.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../src/vmm/vmcs-setup.ts";
import { Asm, ecx, esi } from "../../src/guests/asm/index.ts";
import { Reg } from "../../src/cpu/registers.ts";
import type { Core } from "../../src/cpu/core.ts";

const GUEST = 0x10000;

function setup(profileId: string, onExit: (core: Core, api: VmxApi) => void) {
  const { m, c, api } = flatVmxHost(profileId, onExit);
  writeControls(api, {});
  writeHostState(api, 0, 0x9000);
  writeFlatGuest(api, { rip: GUEST, rsp: 0x8000, cr3: PD, gdt: [GDT, 31] });
  return { m, c, api };
}

describe("VM exits and entries through the VMX API", () => {
  it("CPUID exits with reason 10 and length 2, the guest loop completes, GPRs survive", () => {
    const a = new Asm({ bits: 32, origin: GUEST });
    a.mov(ecx, 100).label("l").insn("cpuid").inc(esi).insn("dec", ecx).jnz("l").hlt();
    let exits = 0;
    const reasons = new Set<number>();
    const { m, c, api } = setup("skylake", (core, api) => {
      exits++;
      const reason = api.vmread(F.EXIT_REASON);
      reasons.add(reason);
      if (reason !== 10) return; // HLT is not intercepted: the guest halts in non-root operation
      core.regs[Reg.ECX] = core.regs[Reg.ECX]; // a real VMM would emulate CPUID here
      const len = api.vmread(F.VM_EXIT_INSTRUCTION_LENGTH);
      expect(len).toBe(2);
      api.vmwrite(F.GUEST_RIP, api.vmread(F.GUEST_RIP) + len);
      expect(api.vmresume()).toEqual({ ok: true });
    });
    m.ram.set(a.build().bytes, GUEST);
    // CPUID writes EAX-EDX in the real processor only when it does not exit; ECX is the loop counter here.
    expect(api.vmlaunch()).toEqual({ ok: true });
    expect(c.nonRoot).toBe(true);
    m.run(10_000_000);
    expect(exits).toBe(100);
    expect([...reasons]).toEqual([10]);
    expect(c.regs[Reg.ESI]).toBe(100);
    expect(c.halted && c.nonRoot).toBe(true);
    expect(c.vmx!.exitCounts[10]).toBe(100);
  });
});
