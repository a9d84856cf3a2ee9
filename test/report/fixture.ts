/**
 * A hand-made RunResults for the report tests: the default scenario's shape (a general-purpose partition on
 * cores 0-1 with paravirtual disk and network, an RTOS partition on core 2 owning rt-io with an emulated
 * console, an RTOS partition on core 3 owning the dsp card), with small exit sample sets whose statistics
 * can be checked by hand, and seeded integer latency samples (src/sim/rng.ts, integers only, so no
 * libm function decides a digit of the golden text).
 */
import { Rng } from "../../src/sim/rng.ts";
import type { ExitSample } from "../../src/sim/stats/exit-stats.ts";
import { exitStatsFrom } from "../../src/sim/stats/exit-stats.ts";
import { latencyStats } from "../../src/sim/stats/latency-stats.ts";
import type { CacheResults, RunResults } from "../../src/scenario/results.ts";

export const ex = (totalCycles: number, transitionCycles: number, handlerCycles: number, cacheMissCycles: number): ExitSample => ({
  totalCycles,
  transitionCycles,
  handlerCycles,
  cacheMissCycles,
});

/** Integer ns samples: `n` values from lo..hi, plus the given outliers at the end. */
export function samples(label: string, n: number, lo: number, hi: number, outliers: number[] = []): number[] {
  const rng = new Rng(7).fork(label);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.int(lo, hi));
  return [...out, ...outliers];
}

const cache = (l1: number, l2: number, l3: number | null): CacheResults => ({
  l1d: { hits: l1 * 10, misses: l1 },
  l1i: { hits: l1 * 20, misses: Math.floor(l1 / 4) },
  l2: { hits: l2 * 3, misses: l2 },
  l3: l3 === null ? null : { hits: l3 * 2, misses: l3 },
});

export function fixture(): RunResults {
  const rtIrq = samples("rt0.irq", 200, 900, 2500, [14_250]);
  return {
    scenario: "quad-consolidation",
    seed: 42,
    profile: "skylake",
    quantumCycles: 1000,
    coreHz: 3_000_000_000,
    simulatedNs: 50_000_000,
    partitions: [
      {
        name: "gpos",
        cores: [0, 1],
        program: "gpos-load",
        state: "running",
        restarts: 0,
        instructions: 98_765_432,
        exits: [
          exitStatsFrom("EXTERNAL_INTERRUPT", 1, [ex(1500, 1180, 300, 20), ex(1620, 1180, 300, 140), ex(1500, 1180, 300, 20)]),
          exitStatsFrom("VMCALL", 18, [
            ex(2400, 1180, 1100, 120),
            ex(2300, 1180, 1100, 20),
            ex(2300, 1180, 1100, 20),
            ex(9000, 1180, 1100, 6720),
            ex(2400, 1180, 1100, 120),
          ]),
          exitStatsFrom("EPT_VIOLATION", 48, [ex(30_000, 1180, 28_000, 820)]),
        ],
        irqLatency: null,
        irqLatencyProbe: null,
        wakeupLatency: null,
        tasks: [],
        devices: [
          { name: "disk0", type: "block", mode: "paravirtual", ops: 40, meanLatencyNs: 61_250.5, p99LatencyNs: 90_112, maxLatencyNs: 90_200, exitsPerOp: 1.025, irqLatency: null },
          { name: "nic0", type: "nic", mode: "paravirtual", ops: 12, meanLatencyNs: 8_300, p99LatencyNs: 9_000, maxLatencyNs: 9_000, exitsPerOp: 1, irqLatency: null },
        ],
        cache: cache(5000, 800, 300),
        logDropped: 0,
      },
      {
        name: "rt0",
        cores: [2],
        program: "rtos",
        state: "running",
        restarts: 0,
        instructions: 4_321_000,
        exits: [
          exitStatsFrom("IO_INSTRUCTION", 30, [ex(2100, 1180, 800, 120), ex(2000, 1180, 800, 20), ex(2000, 1180, 800, 20), ex(2000, 1180, 800, 20)]),
          exitStatsFrom("VMCALL", 18, [ex(2300, 1180, 1100, 20)]),
        ],
        irqLatency: latencyStats(rtIrq),
        irqLatencyProbe: latencyStats(rtIrq.map((v) => v - 150)),
        wakeupLatency: latencyStats(samples("rt0.wakeup", 500, 1000, 4999, [22_000, 31_500])),
        tasks: [
          { name: "control", jobs: 50, deadlineMisses: 0, skipped: 0, meanResponseNs: 120_500, maxResponseNs: 180_250 },
          { name: "sensor", jobs: 201, deadlineMisses: 2, skipped: 1, meanResponseNs: 35_000.4, maxResponseNs: 410_000 },
        ],
        devices: [
          { name: "rtio0", type: "rt-io", mode: "exclusive", ops: 201, meanLatencyNs: 1_500, p99LatencyNs: 2_400, maxLatencyNs: 14_250, exitsPerOp: 0, irqLatency: latencyStats(rtIrq) },
          { name: "uart0", type: "uart", mode: "emulated", ops: 4, meanLatencyNs: 2_250, p99LatencyNs: 2_400, maxLatencyNs: 2_400, exitsPerOp: 1, irqLatency: null },
        ],
        cache: cache(900, 40, 10),
        logDropped: 3,
      },
      {
        name: "dsp",
        cores: [3],
        program: "dsp-offload",
        state: "running",
        restarts: 1,
        instructions: 777_000,
        exits: [],
        irqLatency: null,
        irqLatencyProbe: null,
        wakeupLatency: latencyStats(samples("dsp.wakeup", 100, 500, 1999)),
        tasks: [],
        devices: [
          { name: "dsp0", type: "dsp", mode: "exclusive", ops: 25, meanLatencyNs: 40_000, p99LatencyNs: 52_000, maxLatencyNs: 52_000, exitsPerOp: 0, irqLatency: null },
        ],
        cache: cache(300, 30, null),
        logDropped: 0,
      },
    ],
    devices: [
      { name: "rtio0", type: "rt-io", owner: "exclusive:rt0", report: { events: 201, dropped: 0 } },
      { name: "disk0", type: "block", owner: "shared", report: { reads: 30, writes: 10, queue: [1, 2] } },
      { name: "uart0", type: "uart", owner: "shared", report: {} },
    ],
    faults: [
      { atNs: 12_345_678, partition: "dsp", core: 3, kind: "triple-fault", detail: "EIP=00101234", action: "restart" },
    ],
  };
}
