/**
 * A job's calibrated work over its working set (the work loop touches one 64-byte line per iteration, a
 * read and a write): the calibration runs in L1, so a working set that lives in L2 or L3 makes the same
 * iterations take longer, by the difference of the load-to-use latencies the Skylake profile publishes
 * (L1 4, L2 12, L3 42 cycles: 7-cpu.com Skylake, cited in src/cpu/profiles/skylake.ts). Predicted cycles
 * per iteration = calibrated cycles per iteration - L1 latency + the level's latency; warm jobs must land
 * within 3 % of it. This is how cache interference lengthens jobs (never recalibrated).
 */
import { describe, expect, it } from "vitest";
import { LogKind } from "../../../src/vmm/abi.ts";
import { envFor, PROFILE, runRtos, spec, task, TSC_HZ } from "./harness.ts";

describe("working set and the cache hierarchy", () => {
  const c = PROFILE.caches!;
  it.each([
    ["4 KiB (L1)", 4, c.l1d.latencyCycles],
    ["64 KiB (L2)", 64, c.l2.latencyCycles],
    ["1 MiB (L3)", 1024, c.l3!.latencyCycles],
  ])("%s: warm jobs take (calibrated - L1 + level latency) per iteration", (_n, kib, latency) => {
    const workUs = 50;
    const r = runRtos(spec([task("w", { periodUs: 800, workUs, priority: 1, workingSetKiB: kib })]), envFor(), 2500);
    const wpuX1000 = r.rings[0].workPerUsX1000;
    const iterations = Math.floor((workUs * 1000 * wpuX1000) / 1e6);
    const calibrated = (TSC_HZ / 1e6) * 1000 / wpuX1000; // cycles per iteration in L1
    const predicted = calibrated - c.l1d.latencyCycles + latency;
    const jobs = r.log.filter((e) => e.kind === LogKind.JOB).slice(1); // warm
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    for (const j of jobs) {
      const perIteration = (j.t1 - (j.t0 + j.v2)) / iterations;
      expect(Math.abs(perIteration - predicted) / predicted).toBeLessThan(0.03);
    }
  });
});
