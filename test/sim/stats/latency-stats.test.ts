/**
 * latencyStats and LatencyAccumulator against brute force over the samples: percentiles against the
 * nearest-rank method (the value at rank ceil(p/100 * n) of the sorted samples, as HdrHistogram's
 * getValueAtPercentile defines it) within HdrHistogram's 3-significant-digit
 * precision (never below, at most 1/1024 above; exact below 2048), exact min/max/mean, and cyclictest's
 * sparse 1 µs histogram (bin = floor(ns / 1000), rt-tests cyclictest.c calcdiff() truncation; bins sum to
 * the count).
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/sim/rng.ts";
import { LatencyAccumulator, latencyStats } from "../../../src/sim/stats/latency-stats.ts";
import { nearestRank } from "../../report/nearest-rank.ts";

function sampleSets(): number[][] {
  const rng = new Rng(3).fork("latency-stats");
  const sets: number[][] = [];
  for (const n of [1, 2, 7, 60, 100, 999, 1000, 1001, 5000, 20_000]) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) {
      // mostly short, a long tail: what interrupt latencies look like
      const tail = rng.int(0, 99) === 0;
      s.push(tail ? rng.int(10_000, 5_000_000) : rng.int(300, 9_000));
    }
    sets.push(s);
  }
  return sets;
}

describe("latencyStats", () => {
  it("gives p99 and p99.9 at nearest rank within 3 significant digits (never below, < 1/1024 above)", () => {
    for (const s of sampleSets()) {
      const st = latencyStats(s);
      for (const [p, got] of [
        [99, st.p99Ns],
        [99.9, st.p999Ns],
      ] as const) {
        const exact = nearestRank(s, p);
        expect(got, `p${p} of ${s.length}`).toBeGreaterThanOrEqual(exact);
        expect(got - exact, `p${p} of ${s.length}`).toBeLessThanOrEqual(exact < 2048 ? 0 : exact / 1024);
        expect(got).toBeLessThanOrEqual(st.maxNs);
      }
    }
  });

  it("takes the rank by ceil, not by rounding: p99 of 60 samples is the 60th", () => {
    // ceil(0.99 * 60) = 60; rounding 59.4 would give the 59th.
    const s = Array.from({ length: 60 }, (_, i) => (i === 59 ? 5000 : 100 + i));
    expect(latencyStats(s).p99Ns).toBe(5000);
    expect(nearestRank(s, 99)).toBe(5000);
  });

  it("has exact min, max and mean, and the count", () => {
    for (const s of sampleSets()) {
      const st = latencyStats(s);
      expect(st.count).toBe(s.length);
      expect(st.minNs).toBe(Math.min(...s));
      expect(st.maxNs).toBe(Math.max(...s));
      expect(st.meanNs).toBeCloseTo(s.reduce((a, b) => a + b, 0) / s.length, 6);
    }
    // fractional ns stay exact (only the percentile histogram rounds)
    const f = latencyStats([1000.25, 2000.5, 1500.75]);
    expect([f.minNs, f.maxNs, f.meanNs]).toEqual([1000.25, 2000.5, 1500.5]);
    expect(f.p99Ns).toBe(2000.5); // hdr's 2001 clamped to the exact max
  });

  it("bins by floor(ns / 1000), in ascending order, summing to the count", () => {
    for (const s of sampleSets()) {
      const st = latencyStats(s);
      const brute = new Map<number, number>();
      for (const v of s) brute.set(Math.floor(v / 1000), (brute.get(Math.floor(v / 1000)) ?? 0) + 1);
      expect(Object.values(st.histogram).reduce((a, b) => a + b, 0)).toBe(s.length);
      expect(Object.keys(st.histogram)).toEqual([...brute.keys()].sort((a, b) => a - b).map(String));
      for (const [bin, c] of brute) expect(st.histogram[String(bin)]).toBe(c);
    }
    expect(latencyStats([999, 1000, 1999.9, 2000, 0]).histogram).toEqual({ "0": 2, "1": 2, "2": 1 });
  });

  it("is deterministic and equal to the streaming accumulator", () => {
    const s = sampleSets()[7];
    const acc = new LatencyAccumulator();
    for (const v of s) acc.add(v);
    expect(JSON.stringify(latencyStats(s))).toBe(JSON.stringify(latencyStats([...s])));
    expect(JSON.stringify(acc.stats())).toBe(JSON.stringify(latencyStats(s)));
    expect(Object.keys(latencyStats(s))).toEqual(["count", "minNs", "meanNs", "p99Ns", "p999Ns", "maxNs", "histogram"]);
  });

  it("gives zeros and an empty histogram without samples, and refuses negative or non-finite samples", () => {
    expect(latencyStats([])).toEqual({ count: 0, minNs: 0, meanNs: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, histogram: {} });
    expect(() => latencyStats([5, -1])).toThrow(RangeError);
    expect(() => latencyStats([Number.NaN])).toThrow(RangeError);
    expect(() => latencyStats([Infinity])).toThrow(RangeError);
  });
});
