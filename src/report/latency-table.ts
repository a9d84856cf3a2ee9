/**
 * Latency blocks of the text report:
 * - interruptLatencyTable: interrupt latency per partition (guest-measured and probe, all devices) and per
 *   device (guest-measured): count, min, avg, p99, p99.9, max in µs with 2 decimals.
 * - wakeupSummaryLines: cyclictest's summary line per measuring thread (rt-tests cyclictest.c print_stat(),
 *   `T:%2d (%5d) P:%2d I:%ld C:%7lu Min:%7ld Act:%5ld Avg:%5ld Max:%8ld`, with -N
 *   `... Act:%8ld Avg:%8ld Max:%8ld` in ns), one thread per partition that has wakeupLatency.
 * - cyclictestHistogram: cyclictest's `-h US` block (print_hist()): `# Histogram`, rows `%06d ` + the
 *   thread counts `%06lu` separated by TABs for bins 0 .. US-1, then `# Total:` (in-range samples,
 *   ` %09llu`), `# Min Latencies:`, `# Avg Latencies:`, `# Max Latencies:`, `# Histogram Overflows:`
 *   (` %05lu`), `# Histogram Overflow at cycle number:` and one `# Thread N:` line per thread, then a blank
 *   line. (shared/reference/outputs-and-toolchain.md §1.2.)
 *
 * Deviations from cyclictest, because RunResults carries statistics, not the thread: the `(tid)` slot
 * shows the partition name (`%5s`); `P:` and `I:` appear only when the caller passes the thread's priority
 * and interval (the scenario has them, results.ts does not); `Act:` (the last sample, a live-display
 * field) is left out; µs values are floor(ns / 1000) as cyclictest's calcdiff() truncates, and Avg is
 * trunc(meanNs / 1000) where cyclictest truncates the mean of already-truncated samples (it can be lower
 * by one); the overflow lines list no cycle numbers, only `# NNNNN others`.
 *
 * Leaves out: cyclictest's `-H` all-threads column, the `policy:`/loadavg line, SMI counts.
 */
import type { LatencyStats, PartitionResults, RunResults } from "../scenario/results.ts";
import { columnTable } from "./text-columns.ts";
import { fixed, int, right, zeroInt } from "./printf.ts";

/** The measuring thread's parameters, from the scenario (cyclictest's -p and -i). */
export interface WakeupThreadInfo {
  priority: number;
  intervalUs: number;
}

export interface WakeupOptions {
  /** cyclictest -N: print ns instead of µs. */
  ns?: boolean;
  /** By partition name. */
  threads?: Record<string, WakeupThreadInfo>;
}

const us2 = (ns: number) => fixed(ns / 1000, 2);

function latencyRow(partition: string, source: string, s: LatencyStats): string[] {
  return [partition, source, String(s.count), us2(s.minNs), us2(s.meanNs), us2(s.p99Ns), us2(s.p999Ns), us2(s.maxNs)];
}

/** Interrupt latency per partition and device, µs (table lines; one line when nothing was measured). */
export function interruptLatencyTable(r: RunResults): string[] {
  const rows: string[][] = [];
  for (const p of r.partitions) {
    if (p.irqLatency) rows.push(latencyRow(p.name, "guest (all devices)", p.irqLatency));
    if (p.irqLatencyProbe) rows.push(latencyRow(p.name, "probe (all devices)", p.irqLatencyProbe));
    for (const d of p.devices) if (d.irqLatency) rows.push(latencyRow(p.name, `guest ${d.name} (${d.mode})`, d.irqLatency));
  }
  if (rows.length === 0) return ["  (no interrupts measured)"];
  return columnTable(
      [
        { header: "Partition", align: "left" },
        { header: "Source", align: "left" },
        { header: "Count", align: "right" },
        { header: "Min", align: "right" },
        { header: "Avg", align: "right" },
        { header: "p99", align: "right" },
        { header: "p99.9", align: "right" },
        { header: "Max", align: "right" },
      ],
    rows,
  );
}

function wakeupThreads(r: RunResults): { p: PartitionResults; s: LatencyStats }[] {
  return r.partitions.filter((p) => p.wakeupLatency !== null).map((p) => ({ p, s: p.wakeupLatency! }));
}

/** µs as cyclictest prints them: truncated toward zero. */
const usInt = (ns: number) => Math.trunc(ns / 1000);

/** cyclictest summary lines, one per partition with a wake-up thread (none: no lines). */
export function wakeupSummaryLines(r: RunResults, opts: WakeupOptions = {}): string[] {
  return wakeupThreads(r).map(({ p, s }, t) => {
    const info = opts.threads?.[p.name];
    const pi = info ? ` P:${int(info.priority, 2)} I:${int(info.intervalUs)}` : "";
    const head = `T:${int(t, 2)} (${right(p.name, 5)})${pi} C:${int(s.count, 7)} `;
    if (opts.ns) return head + `Min:${int(s.minNs, 7)} Avg:${int(s.meanNs, 8)} Max:${int(s.maxNs, 8)}`;
    return head + `Min:${int(usInt(s.minNs), 7)} Avg:${int(usInt(s.meanNs), 5)} Max:${int(usInt(s.maxNs), 8)}`;
  });
}

/** cyclictest's `-h limitUs` histogram block over the wake-up threads (no threads: no lines). */
export function cyclictestHistogram(r: RunResults, limitUs: number): string[] {
  if (!Number.isInteger(limitUs) || limitUs < 1) throw new RangeError(`histogram limit ${limitUs} us is not a positive integer`);
  const threads = wakeupThreads(r);
  if (threads.length === 0) return [];
  const lines = ["# Histogram"];
  const inRange = threads.map(() => 0);
  for (let bin = 0; bin < limitUs; bin++) {
    const counts = threads.map(({ s }, j) => {
      const c = s.histogram[String(bin)] ?? 0;
      inRange[j] += c;
      return zeroInt(c, 6);
    });
    lines.push(`${zeroInt(bin, 6)} ${counts.join("\t")}`);
  }
  const row = (label: string, values: number[], width: number) => label + values.map((v) => " " + zeroInt(v, width)).join("");
  const overflows = threads.map(({ s }, j) => s.count - inRange[j]);
  lines.push(
    row("# Total:", inRange, 9),
    row("# Min Latencies:", threads.map(({ s }) => usInt(s.minNs)), 5),
    row("# Avg Latencies:", threads.map(({ s }) => usInt(s.meanNs)), 5),
    row("# Max Latencies:", threads.map(({ s }) => usInt(s.maxNs)), 5),
    row("# Histogram Overflows:", overflows, 5),
    "# Histogram Overflow at cycle number:",
    ...threads.map((_, j) => `# Thread ${j}:` + (overflows[j] > 0 ? ` # ${zeroInt(overflows[j], 5)} others` : "")),
    "",
  );
  return lines;
}
