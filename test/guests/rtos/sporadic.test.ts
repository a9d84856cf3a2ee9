/**
 * Device interrupts, sporadic tasks and job I/O in the RTOS kernel, bare-metal, with the stand-in drivers of
 * harness.ts (drv_irq reports one release per interrupt; an operation completes a fixed time after submit).
 * Interrupts are fixed, edge-triggered messages to local APIC 0 at chosen ticks (SDM Vol. 3A 10.6: what an
 * IOAPIC or MSI sends). References: the halted core takes the interrupt after the profile's interruptDelivery
 * cycles and the ISR's RDTSC follows two one-cycle PUSHes; the preemption arithmetic of fixed-priority
 * scheduling (a job that preempts another adds its execution time to the other's response); the dsp job
 * descriptor layout of src/devices/dsp.ts.
 */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../../src/cpu/machine.ts";
import { LogKind } from "../../../src/vmm/abi.ts";
import { planKernel } from "../../../src/guests/rtos/layout.ts";
import { device, envFor, PROFILE, type Run, runRtos, spec, task, usToTicks } from "./harness.ts";

const jobsOf = (r: Run, id: number) => r.log.filter((e) => e.kind === LogKind.JOB && e.id === id);
const u32 = (r: Run, a: number) => new DataView(r.m.ram.buffer).getUint32(a, true);

/** Interrupts at `us` microseconds after the kernel's start. */
function interruptsAt(us: number[], vector = 0x40) {
  return (m: Machine, _image: unknown, start: number) => {
    for (const t of us.map((x) => start + usToTicks(x))) {
      m.queue.at(t, () => m.apicBus.deliverInterrupt({ dest: 0, destMode: "physical", deliveryMode: 0, vector, level: true, trigger: "edge" }));
    }
  };
}

describe("sporadic tasks released by device interrupts", () => {
  const delivery = PROFILE.costs!.interruptDelivery + 2 * PROFILE.costs!.classes.stack;

  it("one job per interrupt, released at the ISR's TSC (the message's arrival + delivery + 2 PUSHes)", () => {
    const irqs = [300, 420, 555, 700];
    const sp = task("sp", { kind: "sporadic", periodUs: 100, workUs: 20, priority: 5, device: "dev0" });
    const r = runRtos(spec([sp]), envFor([device(0)]), 900, { setup: interruptsAt(irqs) });
    const jobs = jobsOf(r, 0);
    // The message takes the APIC bus's I/O latency to arrive; the first ISR entry also fetches cold code.
    const expected = irqs.map((t) => r.start + usToTicks(t) + r.m.apicBus.ioLatencyCycles + delivery);
    expect(jobs.map((j) => j.t0).slice(1)).toEqual(expected.slice(1));
    expect(jobs[0].t0).toBeGreaterThanOrEqual(expected[0]);
    expect(jobs[0].t0).toBeLessThan(expected[0] + 1000);
    expect(u32(r, r.image.symbols.drv0_irqs)).toBe(4);
    for (const j of jobs.slice(1)) { // the first walks its buffer cold
      expect(j.t1 - j.t0).toBeGreaterThan(usToTicks(20));
      expect(j.t1 - j.t0).toBeLessThan(usToTicks(21));
      expect(j.v1).toBe(0);
    }
  });

  it("a higher-priority sporadic job preempts a periodic one, which responds later by the sporadic's execution", () => {
    const per = task("per", { periodUs: 500, workUs: 100, priority: 1 });
    const sp = task("sp", { kind: "sporadic", periodUs: 100, workUs: 30, priority: 9, device: "dev0" });
    const alone = runRtos(spec([per, sp]), envFor([device(0)]), 1000);
    const hit = runRtos(spec([per, sp]), envFor([device(0)]), 1000, { setup: interruptsAt([550]) });
    // The second periodic job (released at start + 500 us) is running at 550 us.
    const base = jobsOf(alone, 0)[1], pre = jobsOf(hit, 0)[1];
    const s = jobsOf(hit, 1)[0];
    expect(s.t0).toBeGreaterThan(pre.t0);
    expect(s.t1).toBeLessThan(pre.t1); // nested inside it
    const cSp = s.t1 - s.t0;
    const added = (pre.t1 - pre.t0) - (base.t1 - base.t0);
    expect(added).toBeGreaterThanOrEqual(cSp);
    expect(added).toBeLessThan(cSp + 1000); // + the ISR entry before the release and the post-job path
  });

  it("a release while the previous sporadic job still waits skips it", () => {
    // hog runs 200 us from its release; two interrupts arrive inside it: the first job is skipped.
    const hog = task("hog", { periodUs: 1000, workUs: 200, priority: 9 });
    const sp = task("sp", { kind: "sporadic", periodUs: 10, workUs: 5, priority: 1, device: "dev0" });
    const r = runRtos(spec([hog, sp]), envFor([device(0)]), 500, { setup: interruptsAt([50, 100]) });
    const skips = r.log.filter((e) => e.kind === LogKind.SKIP && e.id === 1);
    expect(skips).toHaveLength(1);
    expect(skips[0].v0).toBe(1);
    const jobs = jobsOf(r, 1);
    expect(jobs).toHaveLength(1);
    expect(jobs[0].v0).toBe(2);
    expect(jobs[0].t0 + jobs[0].v2).toBeGreaterThan(jobsOf(r, 0)[0].t1); // started after hog finished
  });
});

describe("job I/O through the driver contract", () => {
  it("a job submits after its work and waits: response = work + device time, one operation per job", () => {
    const t = task("io", { periodUs: 200, workUs: 20, priority: 1, io: { device: "dev0", op: "read", bytes: 512 } });
    const r = runRtos(spec([t]), envFor([device(0)]), 1000, { ioLatencyUs: 30 });
    const jobs = jobsOf(r, 0);
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    for (const j of jobs.slice(1)) {
      const exec = j.t1 - (j.t0 + j.v2);
      expect(exec).toBeGreaterThan(usToTicks(50));
      expect(exec).toBeLessThan(usToTicks(50.5));
    }
    expect(u32(r, r.image.symbols.drv0_ops)).toBe(jobs.length);
  });

  it("op job: a dsp descriptor (src/devices/dsp.ts layout) is built at the start of the task's buffer", () => {
    const s = spec([task("dsp", { periodUs: 200, workUs: 5, priority: 1, io: { device: "dev0", op: "job", bytes: 1000 } })]);
    const env = envFor([device(0)]);
    const r = runRtos(s, env, 500);
    const buf = r.image.symbols.bss + planKernel(s, env).tasks[0].bufOff;
    expect(u32(r, buf + 0)).toBe(buf + 64); // INPUT_ADDR
    expect(u32(r, buf + 4)).toBe(1000); // INPUT_LEN
    expect(u32(r, buf + 8)).toBe(buf + 64 + 1024); // OUTPUT_ADDR, after the input (64-byte aligned)
    expect(u32(r, buf + 12)).toBe(0); // OP = CRC32
  });
});
