/**
 * dsp card: results checked against references outside our code (node:zlib's crc32 and the CRC-32
 * check value "123456789" -> 0xCBF43926 of the CRC catalogue; BigInt arithmetic for SCALE and SUM),
 * job timing against the header's formula computed by hand, the queue depth / BUSY rejection, the
 * register table of the header, refused DMA, and seeded jitter.
 */
import { describe, expect, it } from "vitest";
import { crc32 as zlibCrc32 } from "node:zlib";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { Rng } from "../../src/sim/rng.ts";
import { RamDma, type DmaPort } from "../../src/devices/dma.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import { crc32 } from "../../src/devices/dsp-crc32.ts";
import { runDspOp, scaleQ16 } from "../../src/devices/dsp-ops.ts";
import { Dsp, DspReg as R, descriptor, resolveDspOptions, type DspOptions } from "../../src/devices/dsp.ts";

const ACTIVE = 1, FULL = 2, BUSY = 4;

class WindowDma implements DmaPort {
  constructor(private readonly inner: DmaPort, private readonly limit: number) {}
  read(pa: number, dst: Uint8Array): boolean {
    return pa + dst.length <= this.limit && this.inner.read(pa, dst);
  }
  write(pa: number, src: Uint8Array): boolean {
    return pa + src.length <= this.limit && this.inner.write(pa, src);
  }
}

function drain(q: EventQueue): void {
  while (q.nextTick() !== Infinity) q.runUntil(q.nextTick());
}

function rig(options: Partial<DspOptions> = {}, hz = 1e9, seed = 1, dmaLimit = Infinity) {
  const q = new EventQueue();
  const clock = new QueueClock(q, hz);
  const ram = new Uint8Array(1 << 20);
  const view = new DataView(ram.buffer);
  const irq = new RecordingLine();
  const dev = new Dsp({ clock, irq, dma: new WindowDma(new RamDma(ram), dmaLimit), rng: new Rng(seed).fork("dsp0") }, options);
  const rd = (off: number) => dev.mmioRead(off, 4) >>> 0;
  const wr = (off: number, v: number) => dev.mmioWrite(off, 4, v);
  /** A descriptor at `at`: input, length, output, op, param; RESULT/STATUS/JOB_ID preset to garbage. */
  const job = (at: number, input: number, len: number, output: number, op: number, param = 0) => {
    [input, len, output, op, param, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef].forEach((w, k) => view.setUint32(at + 4 * k, w >>> 0, true));
  };
  const done = (at: number) => ({
    result: view.getUint32(at + 20, true), status: view.getUint32(at + 24, true), id: view.getUint32(at + 28, true),
  });
  return { q, ram, view, irq, dev, rd, wr, job, done };
}

describe("dsp CRC32 (op 0)", () => {
  it("gives the catalogue check value CRC-32(\"123456789\") = 0xCBF43926", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("agrees with node:zlib's crc32 on seeded random buffers of many lengths", () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 3, 7, 64, 1000, 4097]) {
      const b = new Uint8Array(n).map(() => rng.nextU32() & 0xff);
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
  });

  it("computes the CRC of guest memory, writing RESULT, STATUS, JOB_ID and the 4-byte output", () => {
    const { q, ram, view, rd, wr, job, done } = rig();
    ram.set(new TextEncoder().encode("123456789"), 0x1000);
    job(0x100, 0x1000, 9, 0x2000, 0);
    wr(R.DOORBELL, 0x100);
    drain(q);
    expect(done(0x100)).toEqual({ result: 0xcbf43926, status: 1, id: 1 });
    expect(view.getUint32(0x2000, true)).toBe(0xcbf43926);
    expect(view.getUint32(0x2004, true)).toBe(0); // nothing beyond the 4 bytes
    expect(rd(R.LAST_RESULT)).toBe(0xcbf43926);
    expect(rd(R.COMPLETED)).toBe(1);
  });
});

describe("dsp SCALE (op 1) and SUM (op 2) against BigInt arithmetic", () => {
  const bigScale = (s: number, p: number) => {
    const num = BigInt(s) * BigInt(p);
    const q = num / 65536n - (num % 65536n < 0n ? 1n : 0n); // floor division
    const sat = q > 2147483647n ? 2147483647n : q < -2147483648n ? -2147483648n : q;
    return { v: Number(sat), saturated: sat !== q };
  };

  it("scales int32 samples by a Q16.16 gain with floor rounding and saturation", () => {
    const rng = new Rng(11);
    const samples = [0, 1, -1, 65535, -65536, 2147483647, -2147483648, 12345678, -7];
    for (let k = 0; k < 200; k++) samples.push(rng.nextU32() | 0);
    for (const p of [0x10000, 0x8000, -0x10000, 0x18000, 3, -5, 0x7fffffff, -0x80000000, rng.nextU32() | 0]) {
      const input = new Uint8Array(samples.length * 4);
      const iv = new DataView(input.buffer);
      samples.forEach((s, k) => iv.setInt32(k * 4, s, true));
      const r = runDspOp(1, p, input);
      if (r.error !== 0) throw new Error("unexpected error");
      const ov = new DataView(r.output.buffer);
      let saturated = 0;
      samples.forEach((s, k) => {
        const e = bigScale(s, p);
        if (e.saturated) saturated++;
        expect(ov.getInt32(k * 4, true)).toBe(e.v);
      });
      expect(r.result).toBe(saturated);
    }
    expect(scaleQ16(-1, 1)).toBe(-1); // floor(-1/65536), not truncation toward zero
  });

  it("sums int32 samples into an exact int64", () => {
    const n = 1 << 16;
    const input = new Uint8Array(n * 4);
    const iv = new DataView(input.buffer);
    let ref = 0n;
    for (let k = 0; k < n; k++) {
      const s = k % 3 === 0 ? -2147483648 : 2147483647 - k;
      iv.setInt32(k * 4, s, true);
      ref += BigInt(s);
    }
    const r = runDspOp(2, 0, input);
    if (r.error !== 0) throw new Error("unexpected error");
    expect(new DataView(r.output.buffer).getBigInt64(0, true)).toBe(ref);
    expect(r.result).toBe(Number(BigInt.asUintN(32, ref)));
  });

  it("moves SCALE output to guest memory through a job", () => {
    const { q, view, job, done, wr } = rig();
    [100, -100, 3].forEach((s, k) => view.setInt32(0x1000 + 4 * k, s, true));
    job(0x100, 0x1000, 12, 0x3000, 1, 0x28000); // gain 2.5
    wr(R.DOORBELL, 0x100);
    drain(q);
    expect(done(0x100).status).toBe(1);
    expect([0, 1, 2].map((k) => view.getInt32(0x3000 + 4 * k, true))).toEqual([250, -250, 7]);
  });
});

describe("dsp timing and queue", () => {
  // setupUs 5 + perKiBUs 2 * KiB: a 4096-byte job takes 5 + 8 = 13 us; a 512-byte job 5 + 1 = 6 us.
  const timing: Partial<DspOptions> = { setupUs: 5, perKiBUs: 2, queueDepth: 2 };

  it("finishes a job at exactly setupUs + perKiBUs * KiB after the doorbell", () => {
    const { q, irq, rd, wr, job, done } = rig(timing);
    wr(R.INT_ENABLE, 1);
    job(0x100, 0x1000, 4096, 0x8000, 0);
    q.runUntil(500);
    wr(R.DOORBELL, 0x100);
    expect(rd(R.STATUS)).toBe(ACTIVE);
    q.runUntil(500 + 13_000 - 1);
    expect(done(0x100).status).toBe(0xdeadbeef);
    expect(irq.level).toBe(false);
    q.runUntil(500 + 13_000);
    expect(done(0x100).status).toBe(1);
    expect(irq.level).toBe(true);
    expect(rd(R.STATUS)).toBe(0);
    wr(R.INT_STATUS, 1);
    expect(irq.level).toBe(false);
  });

  it("runs jobs in doorbell order, rejects one beyond the queue depth with BUSY, and reports turnaround", () => {
    const { q, rd, wr, job, done, dev } = rig(timing);
    job(0x100, 0x1000, 4096, 0x8000, 0); // 13 us
    job(0x120, 0x1000, 512, 0x8010, 0); // 6 us
    job(0x140, 0x1000, 512, 0x8020, 0);
    wr(R.DOORBELL, 0x100);
    q.runUntil(1000);
    wr(R.DOORBELL, 0x120);
    expect(rd(R.STATUS)).toBe(ACTIVE | FULL);
    expect(rd(R.OUTSTANDING)).toBe(2);
    wr(R.DOORBELL, 0x140); // rejected
    expect(rd(R.STATUS)).toBe(ACTIVE | FULL | BUSY);
    expect(rd(R.DOORBELL)).toBe(0x120);
    wr(R.STATUS, BUSY);
    expect(rd(R.STATUS)).toBe(ACTIVE | FULL);
    q.runUntil(13_000);
    expect(done(0x100)).toMatchObject({ status: 1, id: 1 });
    expect(rd(R.OUTSTANDING)).toBe(1);
    wr(R.DOORBELL, 0x140); // accepted now; waits for job 2 (13 .. 19 us), runs 19 .. 25 us
    drain(q);
    expect(q.now).toBe(25_000);
    expect(done(0x120)).toMatchObject({ status: 1, id: 2 });
    expect(done(0x140)).toMatchObject({ status: 1, id: 3 });
    // Turnarounds: 13 us; 19 - 1 = 18 us; 25 - 13 = 12 us.
    expect(dev.report()).toEqual({
      jobs: 3, errors: 0, rejected: 1, dmaErrors: 0, bytesIn: 5120, bytesOut: 12,
      turnaroundTicks: [13_000, 18_000, 12_000],
    });
  });

  it("adds seeded uniform jitter in [0, jitterUs): identical for a seed, different for another", () => {
    const run = (seed: number) => {
      const { q, wr, job, dev } = rig({ setupUs: 5, perKiBUs: 0, jitterUs: 10, queueDepth: 1 }, 1e9, seed);
      job(0x100, 0x1000, 64, 0x8000, 0);
      for (let k = 0; k < 200; k++) {
        wr(R.DOORBELL, 0x100);
        drain(q);
      }
      return dev.report().turnaroundTicks;
    };
    const a = run(9);
    expect(run(9)).toEqual(a);
    expect(run(10)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(5_000);
    expect(Math.max(...a)).toBeLessThanOrEqual(15_000);
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(9_000); // the whole range is used
  });

  it("uses the clock rate (2.4 GHz: 13 us = 31200 ticks)", () => {
    const { q, wr, job, dev } = rig(timing, 2.4e9);
    job(0x100, 0x1000, 4096, 0x8000, 0);
    wr(R.DOORBELL, 0x100);
    drain(q);
    expect(dev.report().turnaroundTicks).toEqual([31_200]);
  });
});

describe("dsp errors", () => {
  it("fails a bad op or a bad length after setupUs, with the code in the descriptor and INT_STATUS.ERROR", () => {
    const { q, irq, rd, wr, job, done, view } = rig({ setupUs: 5, perKiBUs: 2, maxJobBytes: 1024 });
    wr(R.INT_ENABLE, 2);
    job(0x100, 0x1000, 8, 0x8000, 7);
    job(0x120, 0x1000, 6, 0x8000, 1); // SCALE needs whole samples
    job(0x140, 0x1000, 2048, 0x8000, 0); // over maxJobBytes
    view.setUint32(0x8000, 0x55555555, true);
    for (const d of [0x100, 0x120, 0x140]) {
      wr(R.DOORBELL, d);
      const t0 = q.now;
      drain(q);
      expect(q.now - t0).toBe(5_000);
    }
    expect([done(0x100).status, done(0x120).status, done(0x140).status]).toEqual([0x102, 0x202, 0x202]);
    expect(view.getUint32(0x8000, true)).toBe(0x55555555); // no output
    expect(rd(R.INT_STATUS)).toBe(2);
    expect(irq.level).toBe(true);
  });

  it("fails a job whose input or output DMA is refused with code 3 and counts it", () => {
    const { q, rd, wr, job, done, dev } = rig({}, 1e9, 1, 0x10000);
    job(0x100, 0xff00, 0x200, 0x8000, 0); // input runs past the window
    job(0x120, 0x1000, 16, 0xfffe, 0); // output runs past the window
    wr(R.DOORBELL, 0x100);
    wr(R.DOORBELL, 0x120);
    drain(q);
    expect([done(0x100).status, done(0x120).status]).toEqual([0x302, 0x302]);
    expect(rd(R.INT_STATUS)).toBe(2);
    expect(dev.report()).toMatchObject({ jobs: 2, errors: 2, dmaErrors: 2, bytesOut: 0 });
  });

  it("counts a descriptor it cannot read or write back (nothing to report it in)", () => {
    const { q, rd, wr, dev } = rig({}, 1e9, 1, 0x10000);
    wr(R.DOORBELL, 0x20000);
    drain(q);
    expect(rd(R.INT_STATUS)).toBe(2);
    expect(dev.report()).toMatchObject({ jobs: 1, errors: 1, dmaErrors: 2 });
  });
});

describe("dsp registers and options", () => {
  it("identifies itself, reports its depth, reads 0 elsewhere, ignores narrow writes, and works on ports", () => {
    const { q, rd, dev, job, done } = rig({ queueDepth: 3 });
    expect(rd(R.ID)).toBe(0x00045654);
    expect(rd(R.QUEUE_DEPTH)).toBe(3);
    expect(rd(0x24)).toBe(0);
    expect(descriptor.registerBytes).toBeGreaterThan(R.QUEUE_DEPTH);
    dev.mmioWrite(R.DOORBELL, 2, 0x100);
    expect(rd(R.OUTSTANDING)).toBe(0);
    const ports = new PortBus();
    ports.map(0xd000, 64, dev);
    job(0x100, 0x1000, 4, 0x2000, 2);
    ports.write(0xd000 + R.DOORBELL, 4, 0x100);
    drain(q);
    expect(done(0x100).status).toBe(1);
    expect(ports.read(0xd000 + R.COMPLETED, 4)).toBe(1);
  });

  it.each([
    [{ queueDepth: 0 }, "queueDepth"],
    [{ queueDepth: 2.5 }, "queueDepth"],
    [{ setupUs: -1 }, "setupUs"],
    [{ perKiBUs: Number.NaN }, "perKiBUs"],
    [{ jitterUs: Infinity }, "jitterUs"],
    [{ maxJobBytes: (8 << 20) + 1 }, "maxJobBytes"],
  ])("rejects %j naming the option", (o, name) => {
    expect(() => resolveDspOptions(o)).toThrow(RangeError);
    expect(() => resolveDspOptions(o)).toThrow(new RegExp(`option ${name} `));
  });
});
