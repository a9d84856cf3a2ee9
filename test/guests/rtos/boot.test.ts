/**
 * The RTOS kernel's boot, on a bare-metal Skylake machine: the result-log header and BOOT record (our ABI,
 * src/vmm/abi.ts LOG_* and LogKind), the calibration against the TSC (a job of workUs microseconds of
 * calibrated work must take workUs microseconds of TSC in isolation: SDM Vol. 3B 17.17, the invariant TSC
 * counts at the nominal clock), parked vCPUs, and exception handling: an interrupt on a vector whose IDT gate
 * is not present raises #NP with the error code of SDM Vol. 3A 6.13 (vector * 8 + IDT bit 2 + EXT bit 1)
 * and the kernel logs it as a FAULT record and halts.
 */
import { describe, expect, it } from "vitest";
import { LOG_MAGIC, LogKind } from "../../../src/vmm/abi.ts";
import { LOG_CAPACITY, TIMER_VECTOR } from "../../../src/guests/rtos/layout.ts";
import { buildRtosKernel } from "../../../src/guests/rtos/kernel.ts";
import { envFor, device, kernelStart, runRtos, spec, standInDrivers, task, TSC_HZ, usToTicks } from "./harness.ts";

describe("rtos boot", () => {
  it("writes the log header (magic, capacity, TSC kHz, calibration) and a BOOT record first", () => {
    const r = runRtos(spec([]), envFor(), 50);
    const ring = r.rings[0];
    expect(ring.magic).toBe(LOG_MAGIC);
    expect(ring.capacity).toBe(LOG_CAPACITY);
    expect(ring.tscKhz).toBe(TSC_HZ / 1000);
    // The work loop is 7 instructions with one load and one store per iteration: a few cycles each, so
    // between 3000 / 30 and 3000 / 3 iterations per microsecond at 3 GHz.
    expect(ring.workPerUsX1000).toBeGreaterThan(100_000);
    expect(ring.workPerUsX1000).toBeLessThan(1_000_000);
    expect(ring.records[0]).toMatchObject({ kind: LogKind.BOOT, id: 0, v0: 0 });
    expect(ring.records[0].t0).toBeGreaterThan(0);
    expect(ring.records[0].t0).toBeLessThan(kernelStart(r));
    expect(r.m.core.halted).toBe(true); // idle: STI; HLT
  });

  it("a job of calibrated work takes that long on the TSC (isolated, warm: within 0.5 %)", () => {
    for (const workUs of [10, 50, 200]) {
      const r = runRtos(spec([task("w", { periodUs: 1000, workUs, priority: 1 })]), envFor(), 3000);
      const jobs = r.log.filter((e) => e.kind === LogKind.JOB);
      expect(jobs.length).toBeGreaterThanOrEqual(3);
      for (const j of jobs.slice(1)) {
        const exec = j.t1 - (j.t0 + j.v2); // finish - start
        expect(Math.abs(exec - usToTicks(workUs)) / usToTicks(workUs)).toBeLessThan(0.005);
      }
    }
  });

  it("runs the same with the identity 4 MiB pages of the abi.ts boot state as with paging off", () => {
    const s = spec([task("a", { periodUs: 100, workUs: 20, priority: 2 }), task("b", { periodUs: 150, workUs: 30, priority: 1 })],
      { cyclictest: { intervalUs: 70, priority: 5 } });
    const flat = runRtos(s, envFor(), 1000);
    const paged = runRtos(s, envFor(), 1000, { paging: true });
    expect(paged.m.core.cr0 >>> 31).toBe(1);
    const shape = (r: typeof flat) => r.log.filter((e) => e.kind !== LogKind.BOOT).map((e) => [e.kind, e.id, e.v0, e.t0 - r.start]);
    expect(shape(paged)).toEqual(shape(flat)); // same records, releases at the same offsets from the start
    expect(paged.log.some((e) => e.kind === LogKind.FAULT)).toBe(false);
  });

  it("vCPUs other than 0 write BOOT in their own ring and park", () => {
    const env = envFor([], 2);
    const r = runRtos(spec([task("a", { periodUs: 100, workUs: 5, priority: 1 })]), env, 300, {
      setup: (m, image) => {
        const c = m.cores[1];
        c.resetToFlat32(image.entry);
        c.regs[6] = 1; // ESI = vCPU index
        c.regs[4] = 0x9f000;
      },
    });
    expect(r.rings[1].magic).toBe(LOG_MAGIC);
    expect(r.rings[1].records).toHaveLength(1);
    expect(r.rings[1].records[0]).toMatchObject({ kind: LogKind.BOOT, v0: 1 });
    expect(r.m.cores[1].halted).toBe(true);
    expect(r.m.cores[1].icount).toBeLessThan(200);
    expect(r.log.filter((e) => e.kind === LogKind.JOB).length).toBeGreaterThan(0);
  });

  it("an interrupt on a vector without a gate: #NP (vector 11), error code vector*8+3, logged as FAULT, vCPU halted", () => {
    const stray = 0x80;
    const r = runRtos(spec([task("a", { periodUs: 50, workUs: 5, priority: 1 })]), envFor(), 500, {
      setup: (m) => m.queue.at(usToTicks(200), () => m.apicBus.deliverInterrupt({
        dest: 0, destMode: "physical", deliveryMode: 0, vector: stray, level: true, trigger: "edge",
      })),
    });
    const faults = r.log.filter((e) => e.kind === LogKind.FAULT);
    expect(faults).toHaveLength(1);
    expect(faults[0].id).toBe(11);
    expect(faults[0].v0).toBe(stray * 8 + 2 + 1);
    expect(faults[0].t0).toBeGreaterThanOrEqual(usToTicks(200));
    // After the fault nothing runs: no job finishes later.
    const jobs = r.log.filter((e) => e.kind === LogKind.JOB);
    expect(jobs.every((j) => j.t1 < faults[0].t0)).toBe(true);
    expect(r.m.core.halted).toBe(true);
    expect(r.m.core.eflags & 0x200).toBe(0);
  });

  it("rejects what it cannot build: a device vector that collides with the timer's, memory too small", () => {
    const drv = standInDrivers();
    expect(() => buildRtosKernel(spec([]), envFor([{ ...device(0), vector: TIMER_VECTOR }]), drv)).toThrow(/vector/);
    expect(() => buildRtosKernel(spec([task("big", { periodUs: 100, workUs: 1, priority: 1, workingSetKiB: 32 * 1024 })]), envFor(), drv))
      .toThrow(/guest memory/);
  });
});
