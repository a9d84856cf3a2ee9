/**
 * The RTOS kernel's schedulers against scheduling theory, bare-metal:
 * - fixed priority: the measured response times at a synchronous release (the critical instant, Liu &
 *   Layland 1973 Theorem 1) equal the exact response-time analysis (Joseph & Pandya 1986; Audsley et al.
 *   1993) computed from each task's execution time measured in isolation, and no job responds later;
 * - a set with U = 0.971 that fails the RM response-time test but is EDF-feasible (U <= 1, Liu & Layland
 *   Theorem 7): RM misses deadlines of the low-priority task, EDF misses none;
 * - an overloaded set (U = 1.2): fixed priority protects the high-priority task and the low one misses
 *   every deadline; EDF lets both miss (the "domino effect", Buttazzo, Hard Real-Time Computing Systems,
 *   3rd ed., 2011, §2.2.3 / §9.1).
 */
import { describe, expect, it } from "vitest";
import { LogKind } from "../../../src/vmm/abi.ts";
import { responseTimes, utilisation } from "./analysis.ts";
import { envFor, kernelStart, type Run, runRtos, spec, task, usToTicks } from "./harness.ts";
import type { RtosTaskSpec } from "../../../src/guests/rtos/config.ts";

const jobsOf = (r: Run, id: number) => r.log.filter((e) => e.kind === LogKind.JOB && e.id === id);
const missesOf = (r: Run, id: number) => jobsOf(r, id).filter((j) => j.v1 === 1).length;

/** Worst response (finish - release) of a task running alone, warm (its first, cold job left out). */
function isolatedC(t: RtosTaskSpec): number {
  const r = runRtos(spec([{ ...t, priority: 1 }]), envFor(), 4 * t.periodUs);
  const jobs = jobsOf(r, 0).slice(1);
  expect(jobs.length).toBeGreaterThanOrEqual(2);
  return Math.max(...jobs.map((j) => j.t1 - j.t0));
}

describe("fixed-priority scheduling vs response-time analysis", () => {
  it("measured responses at the (warm) critical instant match R_i = C_i + sum ceil(R_i/T_j) C_j (within 0.5 % plus a per-job overhead)", () => {
    const set = [ // rate-monotonic priorities; hyperperiod 3000 us
      task("t1", { periodUs: 200, workUs: 40, priority: 3 }),
      task("t2", { periodUs: 300, workUs: 60, priority: 2 }),
      task("t3", { periodUs: 500, workUs: 150, priority: 1 }),
    ];
    const c = set.map(isolatedC);
    const rta = responseTimes(set.map((t, i) => ({ c: c[i], t: usToTicks(t.periodUs) })));
    // The analysis with a per-job kernel overhead (Burns & Wellings, Real-Time Systems and Programming
    // Languages, 4th ed., 2009, §11.12: add the context-switch cost to each C_j): what a job costs the task it
    // preempts beyond its own measured response is the path after its finish (JOB record, scheduler loop,
    // register restore, IRETD), about 100 instructions: DELTA bounds it.
    const DELTA = 500;
    const rtaOverhead = responseTimes(set.map((t, i) => ({ c: c[i] + DELTA, t: usToTicks(t.periodUs) })));
    // By hand in work units: R3 = 150 + 2 * 40 + 60 = 290 us.
    expect(rta[2]).toBeGreaterThan(usToTicks(290));
    expect(rta[2]).toBeLessThan(usToTicks(295));
    const r = runRtos(spec(set), envFor(), 3600);
    const crit = kernelStart(r) + usToTicks(3000); // all three release together again, caches warm
    set.forEach((_, i) => {
      const job = jobsOf(r, i).find((j) => j.t0 === crit)!;
      expect(job).toBeDefined();
      const resp = job.t1 - job.t0;
      // Simultaneous releases share one timer interrupt, so the response lands between the analysis
      // without and with the per-job overhead: the bound holds and is tight.
      expect(resp).toBeLessThanOrEqual(rtaOverhead[i]);
      expect(resp).toBeGreaterThanOrEqual(rta[i] * 0.995);
      // Later (warm) jobs never respond later than the analysis says.
      for (const j of jobsOf(r, i).filter((j) => j.t0 > kernelStart(r) + usToTicks(1000))) expect(j.t1 - j.t0).toBeLessThanOrEqual(rtaOverhead[i]);
      expect(missesOf(r, i)).toBe(0);
    });
  });
});

describe("EDF vs rate-monotonic", () => {
  const set = [task("a", { periodUs: 250, workUs: 100, priority: 2 }), task("b", { periodUs: 350, workUs: 200, priority: 1 })];

  it("the set is RM-infeasible and EDF-feasible on paper", () => {
    const paper = set.map((t) => ({ c: t.workUs, t: t.periodUs }));
    expect(utilisation(paper)).toBeCloseTo(0.971, 3);
    expect(responseTimes(paper)).toEqual([100, Infinity]); // R_b: 200 + 2 * 100 = 400 > 350
  });

  it("RM misses b's deadlines; EDF misses none over two hyperperiods (3.5 ms)", () => {
    const rm = runRtos(spec(set), envFor(), 3600);
    const edf = runRtos(spec(set, { scheduler: "edf" }), envFor(), 3600);
    expect(missesOf(rm, 0)).toBe(0);
    expect(missesOf(rm, 1)).toBeGreaterThanOrEqual(5);
    // The first b job at the critical instant: released with a, finishes after a's second job (~400 us).
    const b1 = jobsOf(rm, 1)[0];
    expect(b1.t1 - b1.t0).toBeGreaterThan(usToTicks(400));
    for (const i of [0, 1]) {
      expect(jobsOf(edf, i).length).toBeGreaterThanOrEqual(i === 0 ? 14 : 10);
      expect(missesOf(edf, i)).toBe(0);
    }
    expect(edf.log.some((e) => e.kind === LogKind.SKIP)).toBe(false);
  });
});

describe("overload (U = 1.2)", () => {
  const set = [task("hi", { periodUs: 100, workUs: 60, priority: 2 }), task("lo", { periodUs: 100, workUs: 60, priority: 1 })];

  it("fixed priority: hi never misses, every lo job misses (and some are skipped)", () => {
    const r = runRtos(spec(set), envFor(), 2000);
    expect(jobsOf(r, 0).length).toBeGreaterThanOrEqual(19);
    expect(missesOf(r, 0)).toBe(0);
    expect(jobsOf(r, 1).length).toBeGreaterThan(0);
    expect(missesOf(r, 1)).toBe(jobsOf(r, 1).length);
    expect(r.log.filter((e) => e.kind === LogKind.SKIP && e.id === 1).length).toBeGreaterThan(0);
  });

  it("EDF: both tasks miss deadlines (domino effect)", () => {
    const r = runRtos(spec(set, { scheduler: "edf" }), envFor(), 2000);
    expect(missesOf(r, 0)).toBeGreaterThan(0);
    expect(missesOf(r, 1)).toBeGreaterThan(0);
  });
});
