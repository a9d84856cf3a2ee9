/**
 * The guest's own RDTSC measurement of interrupt latency agrees with the outside probe (issue 6: "within
 * the cost of the instructions between them"; shared/DESIGN.md §3 "both views are reported and must
 * agree"). Per rt-io event of the irqlat scenario: the guest's IRQ record holds the TSC its ISR read (the
 * TSC runs at the core clock with offset 0) and the event's sequence number; the card itself records the
 * tick of the driver's ACK write. Between the two the driver reads SEQ (an MMIO read of the profile's bus
 * cost; passthrough: no exit) and writes ACK = SEQ (one MMIO write), after the ISR's register saves and the
 * call: a few dozen ordinary instructions. Reference: the profile's bus costs (PCIe round
 * trip, CpuProfile.bus) and the rt-io datasheet; not the VMM's own bookkeeping.
 */
import { describe, expect, it } from "vitest";
import { loadBuiltinScenario } from "../../src/scenario/scenario-load.ts";
import { buildScenario } from "../../src/scenario/build.ts";
import { LogDrain, type LogEntry } from "../../src/scenario/log-drain.ts";
import { LogKind } from "../../src/vmm/abi.ts";
import { nsToTicks } from "../../src/sim/clock.ts";
import type { RtIo } from "../../src/devices/rt-io.ts";

describe("guest RDTSC vs the outside probe", () => {
  it("ACK tick - ISR TSC is the cost of the driver's register accesses and the instructions between", () => {
    const cfg = { ...loadBuiltinScenario("irqlat"), durationMs: 30 };
    const b = buildScenario(cfg, () => new Uint8Array());
    const log: LogEntry[] = [];
    const drain = new LogDrain(b.partitions[0].partition, 1, (e) => log.push(e));
    b.machine.run(nsToTicks(30e6, b.machine.hz), Infinity, () => drain.drain());
    drain.drain();
    const rtio = b.devices.find((d) => d.config.type === "rt-io")!.instance.device as RtIo;
    const st = rtio.state;
    const irq = log.filter((e) => e.kind === LogKind.IRQ);
    expect(irq.length).toBeGreaterThanOrEqual(5);
    expect(irq.length).toBe(rtio.report().acked);
    const bus = b.machine.busCosts;
    const floor = bus.mmioReadCycles + bus.mmioWriteCycles;
    const diffs = irq.map((e) => {
      const k = e.v0 - 1; // SEQ 1, 2, ... acknowledged in order
      const eventTick = Math.ceil((e.t1 * b.machine.hz) / 1e9); // device ns = floor(tick * 1e9 / hz)
      const ackTick = eventTick + st.latencyTicks[k];
      expect(e.t0).toBeGreaterThan(eventTick); // the ISR ran after the event
      return ackTick - e.t0;
    });
    for (const d of diffs) {
      expect(d).toBeGreaterThanOrEqual(floor);
      expect(d).toBeLessThanOrEqual(floor + 1500);
    }
    // The same path every time: the views differ by a near-constant; what varies is whether the path's
    // code and data lines are still cached (a few memory accesses of ~200 cycles each on Skylake).
    expect(Math.max(...diffs) - Math.min(...diffs)).toBeLessThan(1500);
  });
});
