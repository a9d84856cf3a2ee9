/**
 * From a finished run to RunResults (results.ts): the VMM's exit records per partition, the guests' own
 * measurements from their logs (IRQ, WAKE, JOB, IO records: abi.ts LogKind), the outside probes (rt-io's
 * event -> acknowledge latencies), cache counters per partition and the health monitor's events. Cycles
 * become nanoseconds here, once, with the profile's clock (shared/DESIGN.md §4). Guest TSC values are host
 * ticks (the VMM gives every guest TSC offset 0).
 */
import { exitReasonName } from "../cpu/vmx/exit-reasons.ts";
import { ticksToNs } from "../sim/clock.ts";
import { LogKind } from "../vmm/abi.ts";
import { exitStatsFromColumns, latencyStats } from "../sim/stats/latency-stats.ts";
import type { BuiltScenario } from "./build.ts";
import type { LogEntry } from "./log-drain.ts";
import type { CacheResults, DeviceUseResults, LatencyStats, PartitionResults, PhysicalDeviceResults, RunResults, TaskResults } from "./results.ts";

export function assembleResults(b: BuiltScenario, logs: LogEntry[][], dropped: number[], endTicks: number): RunResults {
  const hz = b.machine.hz;
  const ns = (ticks: number) => ticksToNs(ticks, hz);
  const stats = b.machine.caches?.stats() ?? null;
  const partitions: PartitionResults[] = b.partitions.map((bp, i) => {
    const p = bp.partition;
    const log = logs[i];
    const exits = p.exits.reasons().map(([reason, cols]) => exitStatsFromColumns(exitReasonName(reason) ?? `REASON_${reason}`, reason, cols));
    const irq = log.filter((e) => e.kind === LogKind.IRQ && e.t1 > 0);
    const irqNs = (es: LogEntry[]) => es.map((e) => Math.max(0, ns(e.t0) - e.t1));
    const wake = log.filter((e) => e.kind === LogKind.WAKE).map((e) => ns(Math.max(0, e.t1 - e.t0)));
    const probe: number[] = [];
    for (const d of bp.config.devices) {
      const dev = b.devices.find((x) => x.config.name === d.device);
      if (dev?.config.type !== "rt-io") continue;
      const rep = (dev.instance.device as { report?: () => { latencyTicks?: number[] } }).report?.();
      for (const t of rep?.latencyTicks ?? []) probe.push(ns(t));
    }
    const tasks: TaskResults[] = bp.image.tasks.map((name, id) => {
      const jobs = log.filter((e) => e.kind === LogKind.JOB && e.id === id);
      const resp = jobs.map((e) => ns(e.t1 - e.t0));
      return {
        name,
        jobs: jobs.length,
        deadlineMisses: jobs.filter((e) => e.v1 !== 0).length,
        skipped: log.filter((e) => e.kind === LogKind.SKIP && e.id === id).length,
        meanResponseNs: resp.length ? round(resp.reduce((s, x) => s + x, 0) / resp.length) : 0,
        maxResponseNs: resp.length ? round(Math.max(...resp)) : 0,
      };
    });
    const devices: DeviceUseResults[] = p.devices.map((d) => {
      const io = log.filter((e) => e.kind === LogKind.IO && e.id === d.index).map((e) => ns(Math.max(0, e.t1 - e.t0)));
      const st = io.length ? latencyStats(io) : null;
      const devIrq = irqNs(irq.filter((e) => e.id === d.index));
      const exitsFor = p.exits.deviceExits.get(d.index) ?? 0;
      return {
        name: d.name, type: d.type, mode: d.mode, ops: io.length,
        meanLatencyNs: st?.meanNs ?? 0, p99LatencyNs: st?.p99Ns ?? 0, maxLatencyNs: st?.maxNs ?? 0,
        exitsPerOp: io.length ? round3(exitsFor / io.length) : 0,
        irqLatency: devIrq.length ? latencyStats(devIrq) : null,
      };
    });
    const cores = bp.config.cores;
    const cache: CacheResults = { l1d: { hits: 0, misses: 0 }, l1i: { hits: 0, misses: 0 }, l2: { hits: 0, misses: 0 }, l3: stats?.cores[0]?.l3 ? { hits: 0, misses: 0 } : null };
    for (const c of cores) {
      const s = stats?.cores[c];
      if (!s) continue;
      for (const lvl of ["l1d", "l1i", "l2"] as const) {
        cache[lvl].hits += s[lvl].hits;
        cache[lvl].misses += s[lvl].misses;
      }
      if (cache.l3 && s.l3) {
        cache.l3.hits += s.l3.hits;
        cache.l3.misses += s.l3.misses;
      }
    }
    const state = p.state === "halted" ? "halted" : p.vcpus.every((v) => v.state === "exited") ? "exited" : p.vcpus.some((v) => v.state === "parked") ? "parked" : "running";
    return {
      name: p.name, cores: [...cores], program: bp.config.guest.program, state, restarts: p.restarts,
      instructions: cores.reduce((s, c) => s + b.machine.cores[c].icount, 0),
      exits,
      irqLatency: stat(irqNs(irq)),
      irqLatencyProbe: stat(probe),
      wakeupLatency: stat(wake),
      tasks, devices, cache, logDropped: dropped[i],
    };
  });
  const devices: PhysicalDeviceResults[] = b.devices.map((d) => ({
    name: d.config.name, type: d.config.type, owner: d.owner,
    report: compact({
      ...((d.instance.device as { report?: () => object }).report?.() ?? {}),
      ...(d.shared !== null ? { shared: d.shared.report() } : {}),
    }),
  }));
  return {
    scenario: b.config.name,
    seed: b.config.seed,
    profile: b.config.profile,
    quantumCycles: b.config.quantumCycles,
    coreHz: hz,
    simulatedNs: round(ns(endTicks)),
    partitions,
    devices,
    faults: b.vmm.faults.map((f) => ({ atNs: round(ns(f.atCycles)), partition: f.partition, core: f.core, kind: f.kind, detail: f.detail, action: f.action })),
  };
}

function stat(samples: number[]): LatencyStats | null {
  return samples.length ? latencyStats(samples) : null;
}

const round = (x: number) => Math.round(x);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Plain data for the JSON: long arrays become their length and summary (a device's per-event lists). */
function compact(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(v)) {
      if (v.length <= 8 && v.every((x) => typeof x === "number")) out[k] = v;
      else out[`${k}Count`] = v.length;
    } else if (v !== null && typeof v === "object") out[k] = compact(v as object);
    else if (typeof v !== "function") out[k] = v;
  }
  return out;
}
