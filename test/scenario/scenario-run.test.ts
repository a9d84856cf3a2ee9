/**
 * What must hold when the shipped scenarios run (issue 6 "What must hold"). References, none of them our
 * own code: the exit semantics of the SDM (Vol. 3C 25.1 which accesses exit; 29.6 posted interrupts need no
 * exit), the device datasheets (block service time), and the analytic expectation of cache partitioning
 * (disjoint CAT ways or colours remove the neighbour's evictions). Durations are short to keep the suite
 * fast; the effects are orders of magnitude above run-to-run noise (there is none: runs are deterministic).
 */
import { describe, expect, it } from "vitest";
import { loadBuiltinScenario } from "../../src/scenario/scenario-load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { toJson } from "../../src/report/json-report.ts";
import type { RunResults } from "../../src/scenario/results.ts";

const run = (name: string, durationMs: number, seed?: number): RunResults => runScenario(loadBuiltinScenario(name), { durationMs, seed });
const part = (r: RunResults, name = "rt") => r.partitions.find((p) => p.name === name)!;
const exitsOf = (r: RunResults, reason: string, name = "rt") => part(r, name).exits.find((e) => e.reason === reason)?.count ?? 0;

describe("the same block driver and workload in the three device modes (io-*)", () => {
  const res = Object.fromEntries(["io-passthrough", "io-emulated", "io-paravirtual"].map((n) => [n, run(n, 12)]));
  const disk = (n: string) => part(res[n]).devices.find((d) => d.type === "block")!;

  it("exits per operation: 0 passthrough, at least one per register access emulated, about one paravirtual", () => {
    for (const n of Object.keys(res)) expect(disk(n).ops).toBeGreaterThanOrEqual(10);
    expect(disk("io-passthrough").exitsPerOp).toBe(0);
    // The driver programs LBA, COUNT, DMA_ADDR and COMMAND: four register writes per read.
    expect(disk("io-emulated").exitsPerOp).toBeGreaterThanOrEqual(4);
    // One doorbell per request (plus the ring set-up at boot, shared by all requests).
    expect(disk("io-paravirtual").exitsPerOp).toBeGreaterThanOrEqual(1);
    expect(disk("io-paravirtual").exitsPerOp).toBeLessThan(1.2);
  });

  it("latency follows: passthrough < paravirtual < emulated, each above the disk's service time", () => {
    const pt = disk("io-passthrough").meanLatencyNs, pv = disk("io-paravirtual").meanLatencyNs, em = disk("io-emulated").meanLatencyNs;
    expect(pt).toBeLessThan(pv);
    expect(pv).toBeLessThan(em);
    // block-device.ts datasheet: fixedUs + perKiBUs * KiB with the scenario's defaults = 140 us for 4 KiB.
    const serviceNs = 140_000;
    expect(pt).toBeGreaterThan(serviceNs);
  });
});

describe("cache interference and partitioning (irqlat, +interf, +cat, +col)", () => {
  const res = Object.fromEntries(["irqlat", "irqlat+interf", "irqlat+interf+cat", "irqlat+interf+col"].map((n) => [n, run(n, 30)]));
  const irq = (n: string) => part(res[n]).irqLatency!.meanNs;
  const l3Misses = (n: string) => part(res[n]).cache.l3!.misses;
  const control = (n: string) => part(res[n]).tasks.find((t) => t.name === "control")!.meanResponseNs;

  it("a cache-thrashing neighbour raises the RTOS partition's interrupt latency, L3 misses and response times", () => {
    expect(irq("irqlat+interf")).toBeGreaterThan(1.5 * irq("irqlat"));
    expect(l3Misses("irqlat+interf")).toBeGreaterThan(3 * l3Misses("irqlat"));
    expect(control("irqlat+interf")).toBeGreaterThan(1.5 * control("irqlat"));
  });

  it("disjoint CAT ways or page colours bring it back close to the solo case", () => {
    for (const n of ["irqlat+interf+cat", "irqlat+interf+col"]) {
      expect(irq(n)).toBeLessThan(1.2 * irq("irqlat"));
      expect(l3Misses(n)).toBeLessThan(1.2 * l3Misses("irqlat"));
      expect(control(n)).toBeLessThan(1.2 * control("irqlat"));
    }
  });
});

describe("interrupt delivery at scenario level (irqlat vs irqlat+inject)", () => {
  it("posted delivery adds no exit per interrupt; exit-and-inject exactly one EXTERNAL_INTERRUPT exit per event", () => {
    const posted = run("irqlat", 12), inject = run("irqlat+inject", 12);
    const events = (r: RunResults) => (r.devices.find((d) => d.type === "rt-io")!.report as { events: number }).events;
    expect(events(posted)).toBeGreaterThan(0);
    expect(exitsOf(posted, "EXTERNAL_INTERRUPT")).toBe(0);
    expect(exitsOf(inject, "EXTERNAL_INTERRUPT")).toBe(events(inject));
    expect(part(inject).irqLatency!.meanNs).toBeGreaterThan(part(posted).irqLatency!.meanNs);
  });
});

describe("determinism", () => {
  it("the same scenario and seed give byte-identical JSON; another seed gives other results", () => {
    const a = toJson(run("quad-consolidation", 4));
    const b = toJson(run("quad-consolidation", 4));
    expect(a).toBe(b);
    const c = toJson(run("quad-consolidation", 4, 2));
    expect(c).not.toBe(a);
  });
});
