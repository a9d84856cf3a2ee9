/**
 * The VM-exit table against real `perf kvm stat report` output (shared/reference/outputs-and-toolchain.md
 * §1.1, a real run; the row and header printf formats of tools/perf/builtin-kvm.c print_result()): exit
 * statistics chosen to be those of the sample's rows (at 1 GHz a cycle is a ns, as perf's times are) must
 * print the sample's lines character for character, including `( +- X% )` = 100 * (s / sqrt(n)) / mean
 * (the standard error of the mean, the reference's definition) and the footer. The rows the sample elides
 * ("...") are one filler row that makes the totals the sample's (25898 samples, 68281638.61 us).
 */
import { describe, expect, it } from "vitest";
import type { ExitStatsWithSpread } from "../../src/sim/stats/exit-stats.ts";
import { exitTable, sortBySamples } from "../../src/report/exit-table.ts";
import type { ExitStats, PartitionResults } from "../../src/scenario/results.ts";
import { fixture } from "./fixture.ts";

/** An ExitStats from its perf figures: count, min/max/mean in cycles, and perf's relative error in %. */
function perfRow(reason: string, reasonNumber: number, count: number, minCycles: number, maxCycles: number, meanCycles: number, relErrPct: number): ExitStatsWithSpread {
  const totalCycles = count * meanCycles;
  // relErr = 100 * (s / sqrt(n)) / mean  =>  s = relErr / 100 * mean * sqrt(n)
  const stddevCycles = (relErrPct / 100) * meanCycles * Math.sqrt(count);
  return {
    reason, reasonNumber, count, totalCycles, minCycles, meanCycles, stddevCycles, p99Cycles: maxCycles, p999Cycles: maxCycles, maxCycles,
    components: { transitionCycles: totalCycles / 2, handlerCycles: totalCycles / 4, cacheMissCycles: totalCycles / 4 },
    worst: { transitionCycles: 1, handlerCycles: 2, cacheMissCycles: 3 },
  };
}

function partition(exits: ExitStats[]): PartitionResults {
  return { ...fixture().partitions[0], name: "vm0", exits };
}

// The real output (reference §1.1):
const REF_HEADER = "             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time";
const REF_ROWS = [
  "           MSR_WRITE       9167    35.40%     0.04%      0.45us   9554.94us      3.00us ( +-  41.94% )",
  "  EXTERNAL_INTERRUPT       5877    22.69%     0.02%      0.37us   1175.48us      2.43us ( +-  17.90% )",
  "                 HLT       2232     8.62%    99.92%      0.56us 1001118.99us  30567.94us ( +-   9.88% )",
];
const REF_FOOTER = "Total Samples:25898, Total events handled time:68281638.61us.";

const referenceExits = (): ExitStats[] => [
  perfRow("HLT", 12, 2232, 560, 1_001_118_990, 30_567_940, 9.88),
  perfRow("EXTERNAL_INTERRUPT", 1, 5877, 370, 1_175_480, 2430, 17.9),
  perfRow("MSR_WRITE", 32, 9167, 450, 9_554_940, 3000, 41.94),
  // the rows the sample leaves out: 25898 - 9167 - 5877 - 2232 samples, the rest of the time
  { ...perfRow("IO_INSTRUCTION", 30, 8622, 300, 50_000, 1, 5), totalCycles: 68_281_638_610 - 9167 * 3000 - 5877 * 2430 - 2232 * 30_567_940 },
];

describe("exitTable (perf kvm stat report layout)", () => {
  it("prints the reference rows, header and footer character for character", () => {
    const lines = exitTable(partition(referenceExits()), 1e9);
    expect(lines[0]).toBe("Analyze events for partition vm0, all VCPUs:");
    expect(lines[1]).toBe("");
    expect(lines[2].startsWith(REF_HEADER + " ")).toBe(true);
    expect(lines[3]).toBe("");
    const rows = lines.slice(4, 8);
    expect(rows.map((r) => r.slice(0, r.indexOf(")") + 1))).toEqual([REF_ROWS[0], expect.stringContaining("IO_INSTRUCTION"), REF_ROWS[1], REF_ROWS[2]]);
    expect(lines[8]).toBe("");
    expect(lines[9]).toBe(REF_FOOTER);
  });

  it("sorts by samples, descending (perf's default --key sample), ties by reason number", () => {
    const names = sortBySamples([...referenceExits(), perfRow("CPUID", 10, 5877, 1, 1, 1, 0)]).map((e) => e.reason);
    expect(names).toEqual(["MSR_WRITE", "IO_INSTRUCTION", "EXTERNAL_INTERRUPT", "CPUID", "HLT"]);
  });

  it("adds p99, p99.9 (%9.2fus) and the transition/handler/cache-miss split (%9.2f%%) after perf's columns", () => {
    const e = perfRow("CPUID", 10, 4, 1000, 3000, 1500, 0);
    e.p99Cycles = 2999;
    e.p999Cycles = 3000;
    e.components = { transitionCycles: 3000, handlerCycles: 2400, cacheMissCycles: 600 };
    const row = exitTable(partition([e]), 2e9)[4];
    // perf part: %20s %10llu %8.2f%% %8.2f%% %9.2fus %9.2fus %9.2fus ( +-%7.2f%% ) = 20+1+10+1+9+1+9+1+11+1+11+1+26 = 102
    expect(row.length).toBe(102 + 2 * 12 + 3 * 11);
    expect(row.slice(102)).toBe("      1.50us      1.50us     50.00%     40.00%     10.00%");
    const header = exitTable(partition([e]), 2e9)[2];
    expect(header.slice(102)).toBe("         p99       p99.9   Transit%   Handler% CacheMiss%");
  });

  it("widens the name column for reason names longer than perf's 20 characters", () => {
    const lines = exitTable(partition([perfRow("VMX_PREEMPTION_TIMER_EXPIRED", 52, 3, 1, 1, 1, 0), perfRow("HLT", 12, 1, 1, 1, 1, 0)]), 1e9);
    expect(lines[2].startsWith(" ".repeat(28 - 7) + "VM-EXIT ")).toBe(true);
    expect(lines[4].startsWith("VMX_PREEMPTION_TIMER_EXPIRED          3 ")).toBe(true);
    expect(lines[5].startsWith(" ".repeat(25) + "HLT          1 ")).toBe(true);
  });

  it("prints n/a for the standard error when the ExitStats has no stddevCycles", () => {
    const { stddevCycles: _s, ...plain } = perfRow("HLT", 12, 2, 1000, 3000, 2000, 50);
    expect(exitTable(partition([plain]), 1e9)[4]).toContain("      2.00us ( +-    n/a )");
  });

  it("lists the worst exit's components per reason", () => {
    const lines = exitTable(fixture().partitions[0], 3e9);
    const at = lines.indexOf("Worst exit per reason (cycles):");
    expect(lines.slice(at + 1, at + 5)).toEqual([
      "           VM-EXIT    Max  Transition  Handler  CacheMiss",
      "            VMCALL   9000        1180     1100       6720",
      "EXTERNAL_INTERRUPT   1620        1180      300        140",
      "     EPT_VIOLATION  30000        1180    28000        820",
    ]);
  });

  it("prints an empty table and a zero footer for a partition without exits", () => {
    const lines = exitTable(partition([]), 1e9);
    expect(lines).toContain("Total Samples:0, Total events handled time:0.00us.");
    expect(lines).not.toContain("Worst exit per reason (cycles):");
  });
});
