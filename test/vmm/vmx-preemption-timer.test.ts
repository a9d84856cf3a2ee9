/**
 * The VMX-preemption timer on the machine (SDM Vol. 3C 25.5.1; shared/reference/vmx.md 1d): VM entry loads the
 * timer value; it counts down by one at every transition of TSC bit X, X = IA32_VMX_MISC[4:0] (7 on Skylake, 5
 * on Haswell); at zero the guest exits with reason 52 even from HLT (the machine wakes the halted guest at the
 * deadline instead of skipping to the next device event). "Save VMX-preemption timer value" stores what is left
 * at an earlier exit. Reference: the arithmetic of 25.5.1, not the code (the expected exit tick is computed
 * here from the entry TSC and the rate).
 */
import { describe, expect, it } from "vitest";
import { flatVmxHost, GDT, PD } from "./flat-host.ts";
import { VmcsField as F } from "../../src/cpu/vmx/vmcs-fields.ts";
import { readMsr } from "../../src/cpu/msr.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../src/vmm/vmcs-setup.ts";
import { Asm, eax, ecx } from "../../src/guests/asm/index.ts";

const GUEST = 0x10000;

function build(profile: string, guest: (a: Asm) => void, value: number, proc = 0) {
  const exits: { reason: number; at: number; saved: number }[] = [];
  const { m, c, api } = flatVmxHost(profile, (core, api) => {
    const t = core.vmx!.lastExit;
    // The tick the exit started at: its completion minus its own components.
    const at = core.vmx!.lastExitAt - t.fixedCycles - t.memoryCycles - t.msrListCycles;
    exits.push({ reason: api.vmread(F.EXIT_REASON), at, saved: api.vmread(F.VMX_PREEMPTION_TIMER_VALUE) });
    core.halted = true; // this VMM does not resume: the core stops (no host code to run)
    core.shutdown = true;
  });
  writeControls(api, { pin: 1 << 6, proc, exit: 1 << 22 }); // activate timer; save timer value
  api.vmwrite(F.VMX_PREEMPTION_TIMER_VALUE, value);
  writeHostState(api, 0, 0x9000);
  writeFlatGuest(api, { rip: GUEST, rsp: 0x8000, cr3: PD, gdt: [GDT, 31] });
  const g = new Asm({ bits: 32, origin: GUEST });
  guest(g);
  m.ram.set(g.build().bytes, GUEST);
  const rate = readMsr(c, 0x485)[0] & 0x1f;
  return { m, c, api, exits, rate };
}

describe("VMX-preemption timer (SDM 25.5.1)", () => {
  for (const profile of ["haswell", "skylake"]) {
    it(`${profile}: a busy guest exits with reason 52 at the value-th transition of TSC bit X`, () => {
      const value = 1000;
      const { m, c, api, exits, rate } = build(profile, (a) => a.label("l").jmp("l"), value);
      api.vmlaunch();
      const entryTsc = c.cycles + c.tscOffset; // the timer starts when VM entry completes
      m.run(10_000_000);
      const shift = 2 ** rate;
      const deadline = (Math.floor(entryTsc / shift) + value) * shift;
      expect(exits.length).toBeGreaterThan(0);
      expect(exits[0].reason).toBe(52);
      // The exit is at the first instruction boundary at or after the deadline; JMP costs a cycle or two.
      expect(exits[0].at).toBeGreaterThanOrEqual(deadline);
      expect(exits[0].at).toBeLessThan(deadline + 4);
      expect(exits[0].saved).toBe(0);
    });
  }

  it("a value of 0 exits before the first guest instruction", () => {
    const { m, api, exits, c } = build("skylake", (a) => a.insn("inc", eax).hlt(), 0);
    const icount = c.icount;
    api.vmlaunch();
    m.run(1_000_000);
    expect(exits[0]?.reason).toBe(52);
    expect(c.icount).toBe(icount); // no guest instruction retired
  });

  it("wakes a halted guest (HLT not intercepted): the machine runs the core at the deadline", () => {
    const value = 5000;
    const { m, c, api, exits, rate } = build("skylake", (a) => a.hlt(), value);
    api.vmlaunch();
    const entryTsc = c.cycles + c.tscOffset;
    m.run(100_000_000);
    const deadline = (Math.floor(entryTsc / 2 ** rate) + value) * 2 ** rate;
    expect(exits.map((e) => e.reason)).toEqual([52]);
    expect(exits[0].at).toBe(deadline);
    expect(api.vmread(F.GUEST_ACTIVITY_STATE)).toBe(1); // saved as HLT (27.3.4)
  });

  it("an earlier exit (CPUID) saves the timer value left, smaller than the one loaded", () => {
    const value = 100_000;
    const { m, c, api, exits, rate } = build("skylake", (a) => a.mov(ecx, 50).label("l").insn("dec", ecx).jnz("l").insn("cpuid"), value);
    api.vmlaunch();
    const entryTsc = c.cycles + c.tscOffset;
    m.run(10_000_000);
    const shift = 2 ** rate;
    expect(exits[0].reason).toBe(10);
    // Transitions of bit X between the end of the entry and the start of the exit (25.5.1).
    const counted = Math.floor(exits[0].at / shift) - Math.floor(entryTsc / shift);
    expect(counted).toBeGreaterThan(0);
    expect(exits[0].saved).toBe(value - counted);
  });
});
