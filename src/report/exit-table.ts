/**
 * The VM-exit table of one partition in the layout of `perf kvm stat report` (tools/perf/builtin-kvm.c
 * print_result(), shared/reference/outputs-and-toolchain.md §1.1): the `Analyze events for ...` line, the
 * header `%20s %10s %9s %9s %11s %11s %16s `, one row per exit reason
 * `%20s %10llu %8.2f%% %8.2f%% %9.2fus %9.2fus %9.2fus ( +-%7.2f%% )` (Samples%, Time%, min, max, mean
 * and the standard error of the mean as a percentage of the mean), sorted by samples (perf's default
 * `--key sample`), and the footer `Total Samples:%lld, Total events handled time:%.2fus.`.
 *
 * Added after perf's columns: p99 and p99.9 (`%9.2fus`) and the split of the reason's time into
 * VM transition / VMM handler / VMM cache-miss cycles (`%9.2f%%` of the reason's total); below the
 * footer, the components of the worst exit of each reason in cycles. Times come from cycles and
 * RunResults.coreHz (µs = cycles * 1e6 / coreHz), where perf divides ns by 1000. perf's two blank lines
 * before `Analyze events` are left to the caller.
 *
 * Deviations from perf: the name column widens past 20 for longer reason names (VMX_PREEMPTION_TIMER_EXPIRED;
 * perf 6.x also sizes it to its longest name, decode_str_len); equal sample counts are ordered by reason
 * number (perf's order for ties follows its hash table); the first line names the partition instead of
 * "all VMs"; `( +-    n/a )` when the ExitStats carries no stddevCycles (src/sim/stats/exit-stats.ts).
 *
 * Leaves out: perf's other keys (`--key time`), the mmio / ioport event classes, `--vcpu N` filtering.
 */
import type { ExitStats, PartitionResults } from "../scenario/results.ts";
import { relStdErrPercent } from "../sim/stats/exit-stats.ts";
import { columnTable } from "./text-columns.ts";
import { fixed, int, right } from "./printf.ts";

const PERF_NAME_WIDTH = 20;

/** perf's default sort: samples, descending; ties by reason number. */
export function sortBySamples(exits: readonly ExitStats[]): ExitStats[] {
  return [...exits].sort((a, b) => b.count - a.count || a.reasonNumber - b.reasonNumber || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
}

/** Cycles -> µs at `coreHz`. */
export function cyclesToUs(cycles: number, coreHz: number): number {
  return (cycles * 1e6) / coreHz;
}

/** The lines of the exit table of partition `p` (no trailing newline). */
export function exitTable(p: PartitionResults, coreHz: number): string[] {
  const exits = sortBySamples(p.exits);
  const w = Math.max(PERF_NAME_WIDTH, ...exits.map((e) => e.reason.length));
  const totalCount = exits.reduce((s, e) => s + e.count, 0);
  const totalCycles = exits.reduce((s, e) => s + e.totalCycles, 0);
  const us = (c: number) => fixed(cyclesToUs(c, coreHz), 2, 9) + "us";
  const share = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);
  const pct = (part: number, whole: number) => fixed(share(part, whole), 2, 8) + "%"; // perf's %8.2f%%
  const split = (part: number, whole: number) => fixed(share(part, whole), 2, 9) + "%"; // %9.2f%% under %10s

  const perfHeader =
    right("VM-EXIT", w) + " " + right("Samples", 10) + " " + right("Samples%", 9) + " " + right("Time%", 9) + " " +
    right("Min Time", 11) + " " + right("Max Time", 11) + " " + right("Avg time", 16) + " ";
  // perf's header stops short of its rows ("Avg time" is %16s over a 26-character cell); the added
  // columns start where the rows' `( +- X% )` ends.
  const perfRowWidth = w + 1 + 10 + 1 + 9 + 1 + 9 + 1 + 11 + 1 + 11 + 1 + 26;
  const header =
    perfHeader.padEnd(perfRowWidth) + " " + right("p99", 11) + " " + right("p99.9", 11) + " " +
    right("Transit%", 10) + " " + right("Handler%", 10) + " " + right("CacheMiss%", 10);

  const lines = [`Analyze events for partition ${p.name}, all VCPUs:`, "", header, ""];
  for (const e of exits) {
    const se = relStdErrPercent(e);
    const seText = se === null ? "( +-    n/a )" : `( +-${fixed(se, 2, 7)}% )`;
    lines.push(
      right(e.reason, w) + " " + int(e.count, 10) + " " + pct(e.count, totalCount) + " " + pct(e.totalCycles, totalCycles) + " " +
        us(e.minCycles) + " " + us(e.maxCycles) + " " + us(e.count === 0 ? 0 : e.totalCycles / e.count) + " " + seText + " " +
        us(e.p99Cycles) + " " + us(e.p999Cycles) + " " +
        split(e.components.transitionCycles, e.totalCycles) + " " + split(e.components.handlerCycles, e.totalCycles) + " " +
        split(e.components.cacheMissCycles, e.totalCycles),
    );
  }
  lines.push("", `Total Samples:${totalCount}, Total events handled time:${fixed(cyclesToUs(totalCycles, coreHz), 2)}us.`, "");

  if (exits.length > 0) {
    lines.push("Worst exit per reason (cycles):");
    const rows = exits.map((e) => [
      e.reason,
      String(e.maxCycles),
      String(e.worst.transitionCycles),
      String(e.worst.handlerCycles),
      String(e.worst.cacheMissCycles),
    ]);
    lines.push(
      ...columnTable(
        [
          { header: "VM-EXIT", align: "right" },
          { header: "Max", align: "right" },
          { header: "Transition", align: "right" },
          { header: "Handler", align: "right" },
          { header: "CacheMiss", align: "right" },
        ],
        rows,
        "",
      ),
    );
    lines.push("");
  }
  return lines;
}
