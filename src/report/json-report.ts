/**
 * The results JSON (`vmxsim run --json FILE`; README.md "Results JSON (vmxsim run --json)" documents
 * every field): RunResults with `resultsVersion` in front, 2-space indentation (JSON.stringify, ECMA-262
 * 25.5.2), a newline at the end, and a fixed key order: the order of the declarations in
 * src/scenario/results.ts whatever order the producer built its objects in, then any key results.ts does
 * not declare, in the producer's order. Histogram bins come in ascending numeric order. The same results
 * give the same bytes.
 *
 * A number that JSON cannot carry (NaN, Infinity) is a model bug: toJson throws, naming its path, rather
 * than writing null as JSON.stringify would.
 *
 * Leaves out: schema validation of input to fromJson beyond the version and the top-level shape.
 */
import type { RunResults } from "../scenario/results.ts";

/** Incremented on any change a reader must know about (a field renamed, removed or re-meant). */
export const RESULTS_JSON_VERSION = 1;

/** Key order and children of each results.ts type. "histogram" = sparse bins, "free" = as given. */
type Shape = { keys: readonly string[]; children?: Record<string, Shape | "histogram" | "free"> };

const COMPONENTS: Shape = { keys: ["transitionCycles", "handlerCycles", "cacheMissCycles"] };
const LATENCY: Shape = {
  keys: ["count", "minNs", "meanNs", "p99Ns", "p999Ns", "maxNs", "histogram"],
  children: { histogram: "histogram" },
};
const EXIT: Shape = {
  keys: [
    "reason", "reasonNumber", "count", "totalCycles", "minCycles", "meanCycles", "stddevCycles", "p99Cycles",
    "p999Cycles", "maxCycles", "components", "worst",
  ],
  children: { components: COMPONENTS, worst: COMPONENTS },
};
const TASK: Shape = { keys: ["name", "jobs", "deadlineMisses", "skipped", "meanResponseNs", "maxResponseNs"] };
const DEVICE_USE: Shape = {
  keys: ["name", "type", "mode", "ops", "meanLatencyNs", "p99LatencyNs", "maxLatencyNs", "exitsPerOp", "irqLatency"],
  children: { irqLatency: LATENCY },
};
const HITS: Shape = { keys: ["hits", "misses"] };
const CACHE: Shape = { keys: ["l1d", "l1i", "l2", "l3"], children: { l1d: HITS, l1i: HITS, l2: HITS, l3: HITS } };
const PARTITION: Shape = {
  keys: [
    "name", "cores", "program", "state", "restarts", "instructions", "exits", "irqLatency", "irqLatencyProbe",
    "wakeupLatency", "tasks", "devices", "cache", "logDropped",
  ],
  children: {
    exits: EXIT, irqLatency: LATENCY, irqLatencyProbe: LATENCY, wakeupLatency: LATENCY, tasks: TASK,
    devices: DEVICE_USE, cache: CACHE,
  },
};
const PHYSICAL_DEVICE: Shape = { keys: ["name", "type", "owner", "report"], children: { report: "free" } };
const FAULT: Shape = { keys: ["atNs", "partition", "core", "kind", "detail", "action"] };
const RUN: Shape = {
  keys: [
    "resultsVersion", "scenario", "seed", "profile", "quantumCycles", "coreHz", "simulatedNs", "partitions", "devices",
    "faults",
  ],
  children: { partitions: PARTITION, devices: PHYSICAL_DEVICE, faults: FAULT },
};

function checkNumber(v: number, path: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`results JSON: ${path} is ${v}, not a finite number`);
  return v;
}

/** A copy of plain data with its numbers checked (free-form data keeps its own key order). */
function free(v: unknown, path: string): unknown {
  if (typeof v === "number") return checkNumber(v, path);
  if (Array.isArray(v)) return v.map((x, i) => free(x, `${path}[${i}]`));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = free(x, `${path}.${k}`);
    return out;
  }
  return v;
}

function histogram(v: unknown, path: string): unknown {
  if (v === null || typeof v !== "object") return free(v, path);
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) out[k] = free(x, `${path}.${k}`);
  return out;
}

function shaped(v: unknown, shape: Shape | "histogram" | "free", path: string): unknown {
  if (shape === "free") return free(v, path);
  if (shape === "histogram") return histogram(v, path);
  if (Array.isArray(v)) return v.map((x, i) => shaped(x, shape, `${path}[${i}]`));
  if (v === null || typeof v !== "object") return free(v, path);
  const obj = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const known = new Set(shape.keys);
  const keys = [...shape.keys.filter((k) => Object.hasOwn(obj, k)), ...Object.keys(obj).filter((k) => !known.has(k))];
  for (const k of keys) {
    const x = obj[k];
    if (x === undefined) continue;
    const child = shape.children?.[k];
    out[k] = child ? shaped(x, child, `${path}.${k}`) : free(x, `${path}.${k}`);
  }
  return out;
}

/** The results as JSON text: `resultsVersion` first, fixed key order, 2-space indent, newline at the end. */
export function toJson(r: RunResults): string {
  const withVersion = { resultsVersion: RESULTS_JSON_VERSION, ...r };
  return JSON.stringify(shaped(withVersion, RUN, "results"), null, 2) + "\n";
}

/** Reads results JSON written by toJson (same version), without `resultsVersion`. */
export function fromJson(text: string): RunResults {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new TypeError("results JSON: not an object");
  if (v.resultsVersion !== RESULTS_JSON_VERSION) {
    throw new TypeError(`results JSON: resultsVersion ${String(v.resultsVersion)}, this reader reads ${RESULTS_JSON_VERSION}`);
  }
  for (const k of ["partitions", "devices", "faults"]) {
    if (!Array.isArray(v[k])) throw new TypeError(`results JSON: ${k} is not an array`);
  }
  const { resultsVersion: _version, ...rest } = v;
  return rest as unknown as RunResults;
}
