/**
 * Per-task results of the RTOS partitions (results.ts TaskResults): jobs released, deadline misses,
 * jobs skipped (not started before their next release), mean and max response time (release -> job
 * end, µs with 2 decimals). Response time (finishing time - release time) and deadline miss (finishing after
 * release + relative deadline) as Buttazzo, "Hard Real-Time Computing Systems", ch. 2 defines them; the
 * layout is our own (text-columns.ts).
 *
 * Leaves out: per-job traces and response-time histograms (results.ts has none).
 */
import type { RunResults } from "../scenario/results.ts";
import { columnTable } from "./text-columns.ts";
import { fixed } from "./printf.ts";

/** Lines of the task table over all partitions (a single line when no partition has tasks). */
export function taskTable(r: RunResults): string[] {
  const rows: string[][] = [];
  for (const p of r.partitions) {
    for (const t of p.tasks) {
      rows.push([
        p.name,
        t.name,
        String(t.jobs),
        String(t.deadlineMisses),
        String(t.skipped),
        fixed(t.meanResponseNs / 1000, 2),
        fixed(t.maxResponseNs / 1000, 2),
      ]);
    }
  }
  if (rows.length === 0) return ["  (no tasks)"];
  return columnTable(
      [
        { header: "Partition", align: "left" },
        { header: "Task", align: "left" },
        { header: "Jobs", align: "right" },
        { header: "Misses", align: "right" },
        { header: "Skipped", align: "right" },
        { header: "Mean resp", align: "right" },
        { header: "Max resp", align: "right" },
      ],
    rows,
  );
}
