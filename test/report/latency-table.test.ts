/**
 * The latency blocks against real cyclictest output (shared/reference/outputs-and-toolchain.md §1.2, runs
 * of Debian rt-tests 2.4; printf formats of rt-tests cyclictest.c print_stat() and print_hist()): the
 * summary line's fields and widths, and the `-h` histogram block, rows `%06d ` + TAB-separated `%06lu`
 * counts and the `#` trailer, for wake-up statistics chosen to be the sample's. Also: the interrupt
 * latency table's µs conversion, and that histogram rows and overflows add up to the sample count.
 */
import { describe, expect, it } from "vitest";
import { cyclictestHistogram, interruptLatencyTable, wakeupSummaryLines } from "../../src/report/latency-table.ts";
import type { LatencyStats, RunResults } from "../../src/scenario/results.ts";
import { fixture } from "./fixture.ts";

function withWakeups(stats: LatencyStats[]): RunResults {
  const r = fixture();
  const base = r.partitions[1];
  r.partitions = stats.map((s, i) => ({ ...base, name: `rt${i}`, cores: [i], wakeupLatency: s }));
  return r;
}

const lat = (count: number, minNs: number, meanNs: number, maxNs: number, histogram: Record<string, number>): LatencyStats => ({
  count, minNs, meanNs, p99Ns: maxNs, p999Ns: maxNs, maxNs, histogram,
});

describe("wakeupSummaryLines (cyclictest print_stat)", () => {
  it("prints the reference line's fields and widths, without Act and with the partition for the tid", () => {
    // reference: "T: 0 (12846) P:80 I:1000 C:    300 Min:     12 Act:   13 Avg:   15 Max:      27"
    const r = withWakeups([lat(300, 12_400, 15_900, 27_999, {}), lat(201, 12_000, 16_000, 77_000, {})]);
    const lines = wakeupSummaryLines(r, { threads: { rt0: { priority: 80, intervalUs: 1000 }, rt1: { priority: 80, intervalUs: 1500 } } });
    const ref0 = "T: 0 (12846) P:80 I:1000 C:    300 Min:     12 Act:   13 Avg:   15 Max:      27";
    const ref1 = "T: 1 (12847) P:80 I:1500 C:    201 Min:     12 Act:   28 Avg:   16 Max:      77";
    const adapt = (ref: string, tid: string) => ref.replace(/\(\d{5}\)/, `(${tid.padStart(5)})`).replace(/ Act: +\d+/, "");
    expect(lines).toEqual([adapt(ref0, "rt0"), adapt(ref1, "rt1")]);
  });

  it("leaves P and I out when the thread's parameters are not given, and prints ns with -N widths", () => {
    const r = withWakeups([lat(300, 12_400, 15_900, 27_999, {})]);
    expect(wakeupSummaryLines(r)).toEqual(["T: 0 (  rt0) C:    300 Min:     12 Avg:   15 Max:      27"]);
    // -N: "Min:%7ld Act:%8ld Avg:%8ld Max:%8ld"
    expect(wakeupSummaryLines(r, { ns: true })).toEqual(["T: 0 (  rt0) C:    300 Min:  12400 Avg:   15900 Max:   27999"]);
  });
});

describe("cyclictestHistogram (cyclictest -h print_hist)", () => {
  // Two threads as in the reference run: 500 cycles each, bins up to 19 us in range (-h 20).
  const t0: Record<string, number> = { "12": 10, "13": 59, "14": 100, "15": 100, "16": 76, "17": 38, "18": 22, "19": 30, "143": 65 };
  const t1: Record<string, number> = { "8": 50, "12": 100, "15": 100, "16": 59, "17": 41, "18": 23, "19": 33, "20": 60, "38": 34 };
  const r = withWakeups([lat(500, 12_100, 16_450, 143_900, t0), lat(500, 8_000, 16_999, 38_000, t1)]);

  it("prints the reference rows and trailer", () => {
    const lines = cyclictestHistogram(r, 20);
    expect(lines[0]).toBe("# Histogram");
    expect(lines.slice(1, 21).map((l) => l.slice(0, 7))).toEqual(Array.from({ length: 20 }, (_, i) => String(i).padStart(6, "0") + " "));
    // reference: "000000 000000\t000000" and "000017 000038\t000041", "000018 000022\t000023"
    expect(lines[1]).toBe("000000 000000\t000000");
    expect(lines[18]).toBe("000017 000038\t000041");
    expect(lines[19]).toBe("000018 000022\t000023");
    expect(lines.slice(21)).toEqual([
      "# Total: 000000435 000000406",
      "# Min Latencies: 00012 00008",
      "# Avg Latencies: 00016 00016",
      "# Max Latencies: 00143 00038",
      "# Histogram Overflows: 00065 00094",
      "# Histogram Overflow at cycle number:",
      "# Thread 0: # 00065 others",
      "# Thread 1: # 00094 others",
      "",
    ]);
  });

  it("counts every sample once: in-range rows plus overflows make the count", () => {
    for (const limit of [1, 13, 20, 100, 200]) {
      const lines = cyclictestHistogram(r, limit);
      const rows = lines.slice(1, 1 + limit).map((l) => l.split(/[ \t]/).slice(1).map(Number));
      const inRange = [0, 1].map((j) => rows.reduce((a, row) => a + row[j], 0));
      const total = lines.find((l) => l.startsWith("# Total:"))!.split(" ").slice(2).map(Number);
      const over = lines.find((l) => l.startsWith("# Histogram Overflows:"))!.split(" ").slice(3).map(Number);
      expect(total).toEqual(inRange);
      expect([total[0] + over[0], total[1] + over[1]]).toEqual([500, 500]);
    }
    expect(() => cyclictestHistogram(r, 0)).toThrow(RangeError);
  });

  it("has no block without wake-up threads", () => {
    expect(cyclictestHistogram(withWakeups([]), 10)).toEqual([]);
  });
});

describe("interruptLatencyTable", () => {
  it("lists guest, probe and per-device latency in us with 2 decimals", () => {
    const r = fixture();
    const s = r.partitions[1].irqLatency!;
    const lines = interruptLatencyTable(r);
    expect(lines[0]).toBe("  Partition  Source                   Count   Min   Avg   p99  p99.9    Max");
    const cells = lines[1].trim().split(/ {2,}/);
    expect(cells).toEqual(["rt0", "guest (all devices)", String(s.count), (s.minNs / 1000).toFixed(2), (s.meanNs / 1000).toFixed(2), (s.p99Ns / 1000).toFixed(2), (s.p999Ns / 1000).toFixed(2), (s.maxNs / 1000).toFixed(2)]);
    expect(lines[2]).toContain("probe (all devices)");
    expect(lines[3]).toContain("guest rtio0 (exclusive)");
    expect(lines).toHaveLength(4);
  });

  it("says so when nothing was measured", () => {
    const r = fixture();
    for (const p of r.partitions) {
      p.irqLatency = null;
      p.irqLatencyProbe = null;
      for (const d of p.devices) d.irqLatency = null;
    }
    expect(interruptLatencyTable(r)).toEqual(["  (no interrupts measured)"]);
  });
});
