/**
 * The text report `vmxsim run` prints (issue 6 "Scenarios and the CLI"): a header (scenario, profile and
 * core clock, seed, simulated time, quantum), the partitions, the perf-kvm-stat-style VM-exit table of each
 * partition (exit-table.ts), interrupt latency, cyclictest-style wake-up latency with an optional `-h`
 * histogram (latency-table.ts), tasks, I/O, caches, the physical devices' own reports (lists longer than
 * eight summarised as count and range; the JSON has them whole) and the
 * health-monitor events. Pure: the same RunResults give the same text, ending with a newline.
 *
 * Leaves out: colours, terminal width adaptation, HTML/SVG (a separate report).
 */
import type { FaultEvent, PhysicalDeviceResults, RunResults } from "../scenario/results.ts";
import { cacheTable } from "./cache-table.ts";
import { exitTable } from "./exit-table.ts";
import { ioTable } from "./io-table.ts";
import { cyclictestHistogram, interruptLatencyTable, wakeupSummaryLines, type WakeupOptions } from "./latency-table.ts";
import { taskTable } from "./task-table.ts";
import { columnTable } from "./text-columns.ts";
import { fixed } from "./printf.ts";

export interface ReportOptions {
  /** Print cyclictest's `-h` histogram of the wake-up latency with this many 1 µs bins. */
  histogramUs?: number;
  /** cyclictest summary-line options (ns, thread priority and interval). */
  wakeup?: WakeupOptions;
}

/** A titled block followed by one blank line (the body's own trailing blank lines dropped). */
function section(title: string, body: string[]): string[] {
  let end = body.length;
  while (end > 0 && body[end - 1] === "") end--;
  return [title, "-".repeat(title.length), ...body.slice(0, end), ""];
}

function headerLines(r: RunResults): string[] {
  return [
    `vmxsim run: scenario ${r.scenario}`,
    `  profile:        ${r.profile} (core clock ${fixed(r.coreHz / 1e6, 3)} MHz)`,
    `  seed:           ${r.seed}`,
    `  simulated time: ${fixed(r.simulatedNs / 1e6, 6)} ms`,
    `  quantum:        ${r.quantumCycles} cycles`,
    "",
  ];
}

function partitionLines(r: RunResults): string[] {
  if (r.partitions.length === 0) return ["  (none)"];
  return columnTable(
    [
      { header: "Partition", align: "left" },
      { header: "Cores", align: "left" },
      { header: "Program", align: "left" },
      { header: "State", align: "left" },
      { header: "Restarts", align: "right" },
      { header: "Instructions", align: "right" },
      { header: "Log dropped", align: "right" },
    ],
    r.partitions.map((p) => [p.name, p.cores.join(","), p.program, p.state, String(p.restarts), String(p.instructions), String(p.logDropped)]),
  );
}

/** Longest array a device report shows in full; longer ones (per-event tick lists) are summarised. */
const MAX_LISTED = 8;

/** JSON-like, but an array longer than MAX_LISTED prints as `[N values, min..max]` (the JSON has them all). */
function compact(v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length > MAX_LISTED) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of v) {
        if (typeof x !== "number") return `[${v.length} items]`;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      return `[${v.length} values, ${lo}..${hi}]`; // a loop: spreading 10^6 values into Math.min overflows the stack
    }
    return "[" + v.map(compact).join(",") + "]";
  }
  if (v !== null && typeof v === "object") {
    return "{" + Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${compact(x)}`).join(",") + "}";
  }
  return JSON.stringify(v) ?? String(v);
}

function reportValue(v: unknown): string {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : compact(v);
}

function deviceLines(devices: readonly PhysicalDeviceResults[]): string[] {
  if (devices.length === 0) return ["  (none)"];
  return devices.map((d) => {
    const kv = Object.entries(d.report).map(([k, v]) => `${k}=${reportValue(v)}`);
    return `  ${d.name} (${d.type}, ${d.owner})` + (kv.length > 0 ? ": " + kv.join(" ") : "");
  });
}

function faultLines(faults: readonly FaultEvent[]): string[] {
  if (faults.length === 0) return ["  (none)"];
  return columnTable(
    [
      { header: "Time (ms)", align: "right" },
      { header: "Partition", align: "left" },
      { header: "Core", align: "right" },
      { header: "Kind", align: "left" },
      { header: "Action", align: "left" },
      { header: "Detail", align: "left" },
    ],
    faults.map((f) => [fixed(f.atNs / 1e6, 6), f.partition, String(f.core), f.kind, f.action, f.detail]),
  );
}

/** The whole text report. */
export function formatReport(r: RunResults, opts: ReportOptions = {}): string {
  const lines: string[] = [...headerLines(r), ...section("Partitions", partitionLines(r))];

  const exitLines: string[] = [];
  for (const p of r.partitions) exitLines.push(...exitTable(p, r.coreHz));
  lines.push(...section("VM exits", exitLines.length === 0 ? ["  (no partitions)"] : exitLines));

  lines.push(...section("Interrupt latency (us)", interruptLatencyTable(r)));

  const wake = wakeupSummaryLines(r, opts.wakeup);
  const hist = opts.histogramUs !== undefined ? cyclictestHistogram(r, opts.histogramUs) : [];
  lines.push(...section("Wake-up latency (cyclictest)", wake.length === 0 ? ["  (no wake-up thread)"] : [...wake, ...(hist.length ? ["", ...hist] : [])]));

  lines.push(...section("Tasks (response times in us)", taskTable(r)));
  lines.push(...section("I/O by device and mode (latency in us)", ioTable(r)));
  lines.push(...section("Caches (accesses of each partition's cores)", cacheTable(r)));
  lines.push(...section("Physical devices", deviceLines(r.devices)));
  lines.push(...section("Health monitor", faultLines(r.faults)));

  // One newline at the end, however the last section ended.
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n") + "\n";
}
