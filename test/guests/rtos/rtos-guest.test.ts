/**
 * The whole `rtos` guest program (kernel + the real drivers of src/guests/drivers) bare-metal with the
 * experiment cards attached as passthrough devices (the drivers' test stand, test/guests/drivers/bare-metal.ts:
 * cards on the MMIO bus, INTx through the IOAPIC to the partition's vectors). References: the cards'
 * datasheets and their own report()s (src/devices/rt-io.ts: periodic events at firstEventUs + k * periodUs
 * after ENABLE, each acknowledged; src/devices/dsp.ts: a job descriptor's STATUS = 1 when done, RESULT = the
 * CRC-32 of the input, dsp-ops.ts) and the kernel's own contract: one sporadic job per rt-io event, released
 * at the ISR's TSC that the driver's IRQ record also carries.
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "../drivers/bare-metal.ts";
import { buildRtosGuest } from "../../../src/guests/programs/rtos.ts";
import { planKernel } from "../../../src/guests/rtos/layout.ts";
import type { RtIo } from "../../../src/devices/rt-io.ts";
import { crc32 } from "../../../src/devices/dsp-crc32.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";
import { spec, task } from "./harness.ts";

describe("rtos guest with the real drivers (bare metal, exclusive devices)", () => {
  it("rt-io events release a sporadic task (one job each, at the ISR's TSC); block reads and dsp jobs complete", () => {
    const s = bareMetalStand([
      { name: "sensor", type: "rt-io", options: { source: "periodic", periodUs: 100 } },
      { name: "disk", type: "block" },
      { name: "dsp", type: "dsp", options: { setupUs: 5, perKiBUs: 1 } },
    ]);
    const cfg = spec([
      task("react", { kind: "sporadic", periodUs: 100, workUs: 10, priority: 9, device: "sensor", io: { device: "sensor", op: "actuate", bytes: 0 } }),
      task("log", { periodUs: 500, workUs: 20, priority: 5, io: { device: "disk", op: "read", bytes: 4096 } }),
      task("filter", { periodUs: 400, workUs: 20, priority: 3, io: { device: "dsp", op: "job", bytes: 1024 } }),
    ], { cyclictest: { intervalUs: 250, priority: 10 } });
    const img = buildRtosGuest(cfg, s.env);
    boot(s, img);
    s.m.run(us(s, 2100));
    const recs = vcpuLog(s.m.ram, img, 0).records;
    expect(recs.filter((r) => r.kind === LogKind.FAULT)).toEqual([]);
    const jobs = (id: number) => recs.filter((r) => r.kind === LogKind.JOB && r.id === id);
    const irqs = recs.filter((r) => r.kind === LogKind.IRQ && r.id === 0);
    const rep = (s.cards.sensor.device as RtIo).report();
    expect(rep.events).toBeGreaterThanOrEqual(19);
    expect(rep.missed).toBe(0);
    // One job per acknowledged event (the last may still run), each released at its IRQ record's ISR TSC.
    const react = jobs(0);
    expect(react.length).toBeGreaterThanOrEqual(irqs.length - 1);
    react.forEach((j, k) => expect(j.t0).toBe(irqs[k].t0));
    for (const j of react) expect(j.v1).toBe(0);
    expect(rep.actuations.length).toBe(react.length);
    // I/O records from the drivers: reads of 4096 bytes, dsp jobs, all ok.
    const io = recs.filter((r) => r.kind === LogKind.IO);
    expect(io.filter((r) => r.id === 1 && r.v0 === PvOp.READ && r.v1 === 4096 && r.v2 === 0).length).toBe(jobs(1).length);
    expect(io.filter((r) => r.id === 2 && r.v0 === PvOp.JOB && r.v2 === 0).length).toBe(jobs(2).length);
    expect(jobs(1).length).toBeGreaterThanOrEqual(3);
    expect(jobs(2).length).toBeGreaterThanOrEqual(4);
    // The last dsp job's descriptor: done, RESULT = CRC-32 of its input as the card computes it.
    const buf = img.symbols.bss + planKernel(cfg, s.env).tasks[2].bufOff;
    const dv = new DataView(s.m.ram.buffer);
    expect(dv.getUint32(buf + 24, true)).toBe(1);
    expect(dv.getUint32(buf + 20, true)).toBe(crc32(s.m.ram.slice(buf + 64, buf + 64 + 1024)));
    // cyclictest ran alongside.
    expect(recs.filter((r) => r.kind === LogKind.WAKE).length).toBeGreaterThanOrEqual(7);
  });
});
