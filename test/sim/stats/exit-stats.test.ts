/**
 * exitStatsFrom against definitions that are not our code: the sample standard deviation by the two-pass
 * textbook formula sqrt(sum((x - mean)^2) / (n - 1)) (what perf's Welford update_stats()/stddev_stats() in
 * tools/perf/util/stat.c computes), perf's `( +- X% )` as 100 * (s / sqrt(n)) / mean
 * (shared/reference/outputs-and-toolchain.md §1.1: the standard error of the mean, not the stddev),
 * percentiles at nearest rank within 3 significant digits, sums of the components, and the worst exit.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/sim/rng.ts";
import { ExitAccumulator, exitStatsFrom, exitStatsFromColumns, relStdErrPercent, type ExitSample } from "../../../src/sim/stats/exit-stats.ts";
import type { ExitStats } from "../../../src/scenario/results.ts";
import { ex } from "../../report/fixture.ts";
import { nearestRank } from "../../report/nearest-rank.ts";

describe("exitStatsFrom", () => {
  it("counts, sums and takes exact min/mean/max of the exit -> entry cycles", () => {
    const s = exitStatsFrom("VMCALL", 18, [ex(2400, 1180, 1100, 120), ex(2300, 1180, 1100, 20), ex(9000, 1180, 1100, 6720)]);
    expect(s.reason).toBe("VMCALL");
    expect(s.reasonNumber).toBe(18);
    expect(s.count).toBe(3);
    expect(s.totalCycles).toBe(13_700);
    expect(s.minCycles).toBe(2300);
    expect(s.maxCycles).toBe(9000);
    expect(s.meanCycles).toBeCloseTo(13_700 / 3, 9);
    expect(s.components).toEqual({ transitionCycles: 3540, handlerCycles: 3300, cacheMissCycles: 6860 });
    expect(s.worst).toEqual({ transitionCycles: 1180, handlerCycles: 1100, cacheMissCycles: 6720 });
    expect(s.p99Cycles).toBe(9000); // rank ceil(2.97) = 3
  });

  it("has the two-pass sample standard deviation, and perf's relative standard error of the mean", () => {
    const rng = new Rng(5).fork("exit-stats");
    for (const n of [2, 3, 10, 500]) {
      const xs = Array.from({ length: n }, () => rng.int(500, 40_000));
      const st = exitStatsFrom("EPT_VIOLATION", 48, xs.map((x) => ex(x, 0, x, 0)));
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
      expect(st.stddevCycles).toBeCloseTo(sd, 6);
      expect(relStdErrPercent(st)!).toBeCloseTo((100 * (sd / Math.sqrt(n))) / mean, 9);
    }
    // 2 and 4: mean 3, s = sqrt(2), s/sqrt(2) = 1, 100 * 1 / 3
    expect(relStdErrPercent(exitStatsFrom("HLT", 12, [ex(2, 0, 0, 0), ex(4, 0, 0, 0)]))).toBeCloseTo(33.3333333, 6);
    expect(relStdErrPercent(exitStatsFrom("HLT", 12, [ex(7, 0, 0, 0)]))).toBe(0); // perf: n < 2 -> 0
  });

  it("prints no standard error for an ExitStats without stddevCycles", () => {
    const { stddevCycles: _s, ...plain } = exitStatsFrom("HLT", 12, [ex(2, 0, 0, 0), ex(4, 0, 0, 0)]);
    expect(relStdErrPercent(plain as ExitStats)).toBeNull();
  });

  it("reports the first of equally bad exits as the worst", () => {
    const s = exitStatsFrom("IO_INSTRUCTION", 30, [ex(10, 1, 2, 3), ex(50, 10, 20, 20), ex(50, 5, 5, 40)]);
    expect(s.worst).toEqual({ transitionCycles: 10, handlerCycles: 20, cacheMissCycles: 20 });
  });

  it("gives p99 / p99.9 at nearest rank within 3 significant digits", () => {
    const rng = new Rng(9).fork("exit-pct");
    const xs: ExitSample[] = Array.from({ length: 3000 }, () => ex(rng.int(0, 99) === 0 ? rng.int(50_000, 900_000) : rng.int(600, 3000), 0, 0, 0));
    const st = exitStatsFrom("EXTERNAL_INTERRUPT", 1, xs);
    const totals = xs.map((x) => x.totalCycles);
    for (const [p, got] of [[99, st.p99Cycles], [99.9, st.p999Cycles]] as const) {
      const exact = nearestRank(totals, p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got - exact).toBeLessThanOrEqual(exact / 1024);
    }
  });

  it("gives zeros without exits, and the accumulator equals the array form", () => {
    const z = new ExitAccumulator("CPUID", 10).stats();
    expect([z.count, z.totalCycles, z.minCycles, z.meanCycles, z.stddevCycles, z.p99Cycles, z.p999Cycles, z.maxCycles]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const xs = [ex(100, 1, 2, 3), ex(300, 4, 5, 6)];
    const acc = new ExitAccumulator("CPUID", 10);
    for (const x of xs) acc.add(x.totalCycles, x.transitionCycles, x.handlerCycles, x.cacheMissCycles);
    expect(JSON.stringify(acc.stats())).toBe(JSON.stringify(exitStatsFrom("CPUID", 10, xs)));
  });
});

describe("exitStatsFromColumns", () => {
  it("equals exitStatsFrom over the same exits (columns as the VMM's exit recorder keeps them)", () => {
    const xs = [ex(2400, 1180, 1100, 120), ex(2300, 1180, 1100, 20), ex(9000, 1180, 1100, 6720)];
    const cols = {
      total: Float64Array.from(xs, (x) => x.totalCycles),
      transition: Float64Array.from(xs, (x) => x.transitionCycles),
      handler: Float64Array.from(xs, (x) => x.handlerCycles),
      cacheMiss: Float64Array.from(xs, (x) => x.cacheMissCycles),
    };
    expect(exitStatsFromColumns("VMCALL", 18, cols)).toEqual(exitStatsFrom("VMCALL", 18, xs));
    expect(() => exitStatsFromColumns("VMCALL", 18, { ...cols, handler: new Float64Array(2) })).toThrow(RangeError);
  });
});
