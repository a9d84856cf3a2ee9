/**
 * I/O results per partition, device and mode (results.ts DeviceUseResults): operations, mean / p99 / max
 * latency (request -> completion, µs with 2 decimals) and VM exits per operation, the figures that compare
 * passthrough (exclusive), trap-and-emulate (emulated) and paravirtual (ring + doorbell) access to the same
 * device (issue 6; shared/DESIGN.md §3 "Exclusive devices are passthrough"). Layout: our own (text-columns.ts).
 *
 * Leaves out: the per-device interrupt latency, which latency-table.ts prints.
 */
import type { RunResults } from "../scenario/results.ts";
import { columnTable } from "./text-columns.ts";
import { fixed } from "./printf.ts";

/** Lines of the I/O table over all partitions (a single line when no partition uses a device). */
export function ioTable(r: RunResults): string[] {
  const rows: string[][] = [];
  for (const p of r.partitions) {
    for (const d of p.devices) {
      rows.push([
        p.name,
        d.name,
        d.type,
        d.mode,
        String(d.ops),
        fixed(d.meanLatencyNs / 1000, 2),
        fixed(d.p99LatencyNs / 1000, 2),
        fixed(d.maxLatencyNs / 1000, 2),
        fixed(d.exitsPerOp, 2),
      ]);
    }
  }
  if (rows.length === 0) return ["  (no devices used)"];
  return columnTable(
      [
        { header: "Partition", align: "left" },
        { header: "Device", align: "left" },
        { header: "Type", align: "left" },
        { header: "Mode", align: "left" },
        { header: "Ops", align: "right" },
        { header: "Mean", align: "right" },
        { header: "p99", align: "right" },
        { header: "Max", align: "right" },
        { header: "Exits/op", align: "right" },
      ],
    rows,
  );
}
