/**
 * The RTOS kernel's cyclictest thread (after rt-tests' cyclictest: sleep to an absolute time, read the clock
 * first thing after waking), bare-metal on Skylake. The wake latency is positive and small, and decomposes
 * into cycles the profile declares: the timer fires at the target (TSC-deadline mode: exactly when the TSC
 * reaches IA32_TSC_DEADLINE, SDM Vol. 3A 10.5.4.1), the halted core takes the interrupt with the profile's
 * interruptDelivery cost, the ISR's first two instructions (PUSH EAX, PUSH EDX: one cycle each) run before
 * its RDTSC; the rest is the kernel path to the thread's first RDTSC (EOI, releases, timer re-arm, scheduler,
 * two more RDTSCs at the profile's cost each). One-shot mode adds the APIC timer's granularity: the count is
 * rounded up to whole periods of the 24 MHz crystal (125 TSC cycles) from the moment it is written.
 */
import { describe, expect, it } from "vitest";
import { LogKind } from "../../../src/vmm/abi.ts";
import { envFor, kernelStart, PROFILE, type Run, runRtos, spec, task, usToTicks } from "./harness.ts";

const wakes = (r: Run) => r.log.filter((e) => e.kind === LogKind.WAKE);
const u64 = (r: Run, sym: string) => {
  const dv = new DataView(r.m.ram.buffer);
  const a = r.image.symbols[sym];
  return dv.getUint32(a, true) + dv.getUint32(a + 4, true) * 2 ** 32;
};

describe("cyclictest thread", () => {
  const costs = PROFILE.costs!;

  it("TSC-deadline: targets every interval from start, latency positive, constant when warm, in explained cycles", () => {
    const r = runRtos(spec([], { cyclictest: { intervalUs: 100, priority: 10 } }), envFor(), 2000);
    const w = wakes(r);
    expect(w.length).toBeGreaterThanOrEqual(19);
    const start = kernelStart(r);
    w.forEach((e, k) => {
      expect(e.v0).toBe(k + 1);
      expect(e.t0).toBe(start + (k + 1) * usToTicks(100));
      expect(e.t1).toBeGreaterThan(e.t0);
    });
    // The last wake: the ISR's RDTSC came interruptDelivery + 2 PUSHes after the target.
    const last = w[w.length - 1];
    expect(u64(r, "rtos_timer_tsc") - last.t0).toBe(costs.interruptDelivery + 2 * costs.classes.stack);
    // Warm wakes all take the same time (nothing else runs: the model is deterministic).
    const lat = w.slice(1).map((e) => e.t1 - e.t0);
    expect(new Set(lat).size).toBe(1);
    // Lower bound: delivery, 2 pushes, 3 RDTSCs before the thread's own, the EOI store to the local APIC.
    const floor = costs.interruptDelivery + 2 + 3 * costs.classes.rdtsc + PROFILE.bus.lapicAccessCycles;
    expect(lat[0]).toBeGreaterThan(floor);
    // Upper bound: about 80 more instructions, none of them missing in a warm L1 (< 3 cycles each on average).
    expect(lat[0]).toBeLessThan(floor + 240);
  });

  it("one-shot: latencies no smaller than TSC-deadline's and spread over one APIC timer count (125 cycles)", () => {
    const td = runRtos(spec([], { cyclictest: { intervalUs: 100, priority: 10 } }), envFor(), 2000);
    const os = runRtos(spec([], { timer: "one-shot", cyclictest: { intervalUs: 100, priority: 10 } }), envFor(), 2000);
    const base = wakes(td)[1].t1 - wakes(td)[1].t0;
    const lat = wakes(os).slice(1).map((e) => e.t1 - e.t0);
    const count = PROFILE.tscHz / PROFILE.apicTimerHz;
    expect(count).toBe(125);
    for (const l of lat) expect(l).toBeGreaterThanOrEqual(base);
    expect(Math.max(...lat) - Math.min(...lat)).toBeLessThan(count);
    expect(new Set(lat).size).toBeGreaterThan(3); // the phase of target vs write time varies
  });

  it("a higher-priority task delays the thread by its work; at the highest priority only a release's overhead", () => {
    const hog = task("hog", { periodUs: 200, workUs: 30, priority: 20 });
    const under = runRtos(spec([hog], { cyclictest: { intervalUs: 100, priority: 10 } }), envFor(), 1000);
    const over = runRtos(spec([{ ...hog, priority: 5 }], { cyclictest: { intervalUs: 100, priority: 10 } }), envFor(), 1000);
    // Targets at start + k * 100 us coincide with hog's releases at even k.
    const coincide = (r: Run) => wakes(r).filter((e) => (e.t0 - kernelStart(r)) % usToTicks(200) === 0).slice(1);
    for (const e of coincide(under)) expect(e.t1 - e.t0).toBeGreaterThan(usToTicks(30));
    for (const e of coincide(over)) expect(e.t1 - e.t0).toBeLessThan(usToTicks(1));
  });
});
