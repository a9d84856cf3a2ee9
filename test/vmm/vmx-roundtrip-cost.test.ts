/**
 * The micro-benchmark of issue 5 ("CPUID in a loop, like the vmexit tests of kvm-unit-tests"; the vmlatency
 * loop of shared/reference/vmx.md 1a): host x86 code runs VMRESUME in a loop, the guest executes CPUID, which
 * exits unconditionally (SDM Vol. 3C 25.1.2), and the host stub (DEC, JZ, VMRESUME) resumes it. The host
 * measures the loop with RDTSC; cycles per round trip must fall in the published band of each generation
 * (vmx.md 1a: the best-case minimum to the median of the same CPUs), on every CPU profile, with the cache
 * model on. Also: the components recorded for the last exit and entry add up (issue 5 "Costs").
 */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../src/cpu/machine.ts";
import { getProfile } from "../../src/cpu/profiles/index.ts";
import { flatVmxHost, GDT, PD } from "./flat-host.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../src/vmm/vmcs-setup.ts";
import { Asm, dword, eax, ebp, edx } from "../../src/guests/asm/index.ts";

const HOST = 0x8000, GUEST = 0x10000;
const T0 = 0x6000, T1 = 0x6008;
const N = 2000;

/** Published bands (vmx.md 1a): [best-case minimum, median] TSC cycles of the profile's part or its siblings. */
const BANDS: Record<string, [number, number]> = {
  "core2-q6600": [1681, 1687], // Merom T5600/T7400
  nehalem: [933, 950], // Lynnfield i5-760
  sandybridge: [785, 805], // i7-2600
  haswell: [530, 597], // i7-4770
  skylake: [590, 632], // E3-1270 v5 .. G3900
};

export function measureRoundTrip(profileId: string, iterations = N, coldVmcs = false): { perRoundTrip: number; m: Machine } {
  const { m, c, api, dv } = flatVmxHost(profileId, undefined, HOST);
  writeControls(api, {});
  const h = new Asm({ bits: 32, origin: HOST });
  h.mov(ebp, iterations).rdtsc().mov(dword(T0), eax).mov(dword(T0 + 4), edx).insn("vmlaunch").hlt();
  h.label("stub").insn("dec", ebp).jz("done").insn("vmresume").hlt();
  h.label("done").rdtsc().mov(dword(T1), eax).mov(dword(T1 + 4), edx).hlt();
  const img = h.build();
  m.ram.set(img.bytes, HOST);
  writeHostState(api, img.symbols.stub, 0x7000);
  writeFlatGuest(api, { rip: GUEST, rsp: 0x8000 - 0x100, cr3: PD, gdt: [GDT, 31] });
  const g = new Asm({ bits: 32, origin: GUEST });
  g.label("l").insn("cpuid").jmp("l");
  m.ram.set(g.build().bytes, GUEST);
  // WBINVD: the VMCS region's lines leave the caches (VMPTRLD had brought them in).
  if (coldVmcs) c.cacheFlush(true);
  m.run(100_000_000);
  const t0 = dv.getUint32(T0, true) + dv.getUint32(T0 + 4, true) * 2 ** 32;
  const t1 = dv.getUint32(T1, true) + dv.getUint32(T1 + 4, true) * 2 ** 32;
  return { perRoundTrip: (t1 - t0) / iterations, m };
}

describe("VM-exit round trip per CPU generation (vmx.md 1a)", () => {
  for (const [id, [lo, hi]] of Object.entries(BANDS)) {
    it(`${id}: guest CPUID + host VMRESUME loop costs ${lo}-${hi} cycles per round trip`, () => {
      const { perRoundTrip, m } = measureRoundTrip(id);
      expect(m.core.vmx!.exitCounts[10]).toBe(N);
      expect(perRoundTrip).toBeGreaterThanOrEqual(lo);
      expect(perRoundTrip).toBeLessThanOrEqual(hi);
    });
  }

  it("the last exit's and entry's recorded components are the profile's fixed costs plus memory traffic", () => {
    const { m } = measureRoundTrip("skylake", 10);
    const v = m.core.vmx!;
    const p = getProfile("skylake").vmx;
    expect(v.lastExit.fixedCycles).toBe(p.vmExitCycles);
    expect(v.lastEntry.fixedCycles).toBe(p.vmEntryCycles);
    // Warm VMCS lines: the transitions hit in the L1, so no memory cycles on the tenth round trip.
    expect(v.lastExit.memoryCycles).toBe(0);
    expect(v.lastEntry.memoryCycles).toBe(0);
  });

  it("a cold VMCS costs more than a warm one: the first entry misses its lines (cache model)", () => {
    const { m } = measureRoundTrip("skylake", 1, true);
    // One round trip after WBINVD: VMLAUNCH reads the VMCS region's control and guest-state lines from memory.
    expect(m.core.vmx!.lastEntry.memoryCycles).toBeGreaterThan(0);
  });
});
