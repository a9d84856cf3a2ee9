/**
 * The task, I/O and cache tables on the hand-made results (fixture.ts), against values worked out by hand
 * from the definitions: response times ns -> µs (2 decimals, C rounding), miss ratio = misses / (hits +
 * misses) (Hennessy & Patterson, Appendix B), a level the profile lacks (L3 null) left out, and
 * columns aligned (each column starts at the same offset on every line).
 */
import { describe, expect, it } from "vitest";
import { cacheTable, missPercent } from "../../src/report/cache-table.ts";
import { ioTable } from "../../src/report/io-table.ts";
import { taskTable } from "../../src/report/task-table.ts";
import { fixture } from "./fixture.ts";

const cells = (line: string) => line.trim().split(/ {2,}/);

/** Where cell `col` ends on each line (cells are runs of text without two spaces in a row). */
function rightEdges(lines: string[], col: number): number[] {
  return lines.map((l) => {
    const m = [...l.matchAll(/\S+(?: \S+)*/g)][col];
    return (m.index ?? 0) + m[0].length;
  });
}

describe("taskTable", () => {
  it("lists jobs, misses, skipped and mean/max response in us", () => {
    const lines = taskTable(fixture());
    expect(cells(lines[0])).toEqual(["Partition", "Task", "Jobs", "Misses", "Skipped", "Mean resp", "Max resp"]);
    expect(cells(lines[1])).toEqual(["rt0", "control", "50", "0", "0", "120.50", "180.25"]);
    expect(cells(lines[2])).toEqual(["rt0", "sensor", "201", "2", "1", "35.00", "410.00"]);
    expect(new Set(rightEdges(lines, 5)).size).toBe(1);
  });

  it("says so when there are no tasks", () => {
    const r = fixture();
    for (const p of r.partitions) p.tasks = [];
    expect(taskTable(r)).toEqual(["  (no tasks)"]);
  });
});

describe("ioTable", () => {
  it("lists each partition's devices with mode, ops, latency in us and exits per op", () => {
    const lines = ioTable(fixture());
    expect(cells(lines[0])).toEqual(["Partition", "Device", "Type", "Mode", "Ops", "Mean", "p99", "Max", "Exits/op"]);
    // 61250.5 ns -> 61.2505 us -> 61.25; exits/op 1.025 is 1.02499999999999991 in binary -> 1.02 (as printf)
    expect(cells(lines[1])).toEqual(["gpos", "disk0", "block", "paravirtual", "40", "61.25", "90.11", "90.20", "1.02"]);
    expect(cells(lines[3])).toEqual(["rt0", "rtio0", "rt-io", "exclusive", "201", "1.50", "2.40", "14.25", "0.00"]);
    expect(lines).toHaveLength(6);
    expect(new Set(rightEdges(lines, 8)).size).toBe(1);
  });
});

describe("cacheTable", () => {
  it("lists hits, misses and the miss ratio per partition and level, without absent levels", () => {
    const lines = cacheTable(fixture());
    expect(cells(lines[0])).toEqual(["Partition", "Level", "Hits", "Misses", "Miss%"]);
    expect(cells(lines[1])).toEqual(["gpos", "L1D", "50000", "5000", "9.09"]); // 5000 / 55000
    expect(cells(lines[3])).toEqual(["gpos", "L2", "2400", "800", "25.00"]);
    expect(lines.filter((l) => l.includes("dsp")).map((l) => cells(l)[1])).toEqual(["L1D", "L1I", "L2"]);
    expect(lines).toHaveLength(1 + 4 + 4 + 3);
    expect(missPercent(0, 0)).toBe(0);
    expect(missPercent(1, 3)).toBe(75);
  });
});
