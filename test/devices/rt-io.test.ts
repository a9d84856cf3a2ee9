/**
 * rt-io card: the register table of its header (our datasheet), event timing against hand-computed
 * arrival times, the latency/missed accounting for a scripted ack pattern (expected values computed by
 * hand below, not by the device), the jitter/sporadic distributions against their analytic bounds and
 * moments, and seeded determinism.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { Rng } from "../../src/sim/rng.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { MmioBus } from "../../src/devices/mmio-bus.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import { RtIo, RtIoReg as R, descriptor, resolveRtIoOptions, type RtIoOptions } from "../../src/devices/rt-io.ts";

/** 1 GHz: one tick is one ns, so hand-computed times read directly. */
function rig(options: Partial<RtIoOptions> = {}, hz = 1e9, seed = 1) {
  const q = new EventQueue();
  const clock = new QueueClock(q, hz);
  const irq = new RecordingLine();
  const dev = new RtIo({ clock, irq, rng: new Rng(seed).fork("rtio0") }, options);
  const rd = (off: number) => dev.mmioRead(off, 4) >>> 0;
  const wr = (off: number, v: number) => dev.mmioWrite(off, 4, v);
  return { q, clock, irq, dev, rd, wr };
}

describe("rt-io registers (header table)", () => {
  it("identifies itself with device << 16 | vendor 0x5654 and reads 0 at unlisted offsets", () => {
    const { rd } = rig();
    expect(rd(R.ID)).toBe(0x00015654);
    expect(rd(0x38)).toBe(0);
    expect(rd(0x3c)).toBe(0);
    expect(descriptor.pci.vendorId).toBe(0x5654);
    expect(descriptor.registerBytes).toBeGreaterThan(R.INTERVAL_NS);
  });

  it("returns the addressed bytes on 1- and 2-byte reads and ignores narrow writes", () => {
    const { dev, rd } = rig();
    expect(dev.mmioRead(R.ID + 0, 1)).toBe(0x54);
    expect(dev.mmioRead(R.ID + 1, 1)).toBe(0x56);
    expect(dev.mmioRead(R.ID + 2, 2)).toBe(0x0001);
    dev.mmioWrite(R.ACTUATE, 2, 0x1234);
    dev.mmioWrite(R.ACTUATE, 1, 0x12);
    expect(rd(R.ACTUATE)).toBe(0);
    expect(dev.report().actuations).toEqual([]);
  });

  it("behaves the same on the port bus and in MMIO", () => {
    const a = rig({ periodUs: 100 });
    const b = rig({ periodUs: 100 });
    const ports = new PortBus();
    ports.map(0x300, 64, b.dev);
    const mmio = new MmioBus();
    mmio.map(0xfebf0000, 64, a.dev);
    mmio.write(0xfebf0000 + R.CTRL, 4, 1);
    ports.write(0x300 + R.CTRL, 4, 1);
    a.q.runUntil(1_000_000);
    b.q.runUntil(1_000_000);
    expect(mmio.read(0xfebf0000 + R.SEQ, 4)).toBe(10);
    expect(ports.read(0x300 + R.SEQ, 4)).toBe(10);
    expect(ports.read(0x300 + R.DATA, 4)).toBe(mmio.read(0xfebf0000 + R.DATA, 4));
  });

  it("reports the configured interval in ns", () => {
    expect(rig({ periodUs: 250 }).rd(R.INTERVAL_NS)).toBe(250_000);
    expect(rig({ source: "sporadic", minInterArrivalUs: 40 }).rd(R.INTERVAL_NS)).toBe(40_000);
  });

  it("latches NOW_HI when NOW_LO is read (device ns time = ticks * 1e9 / hz)", () => {
    const { q, rd } = rig({}, 2.4e9);
    q.runUntil(2.4e9 * 5); // 5 s = 5e9 ns = 0x1_2A05_F200
    expect(rd(R.NOW_LO)).toBe(0x2a05f200);
    q.runUntil(2.4e9 * 6);
    expect(rd(R.NOW_HI)).toBe(1); // still the latched half of 5e9
    expect(rd(R.NOW_LO)).toBe((6e9 % 2 ** 32) >>> 0);
  });
});

describe("rt-io events", () => {
  it("does nothing until ENABLE; then event k arrives at firstEventUs + k * periodUs after the enabling write", () => {
    const { q, dev, rd, wr } = rig({ periodUs: 100, firstEventUs: 30 });
    q.runUntil(5_000);
    expect(dev.report().events).toBe(0);
    wr(R.CTRL, 1); // at tick 5000
    q.runUntil(5_000 + 30_000 - 1);
    expect(rd(R.SEQ)).toBe(0);
    q.runUntil(5_000 + 30_000);
    expect(rd(R.SEQ)).toBe(1);
    expect(rd(R.TS_LO)).toBe(35_000);
    q.runUntil(5_000 + 30_000 + 3 * 100_000);
    expect(rd(R.SEQ)).toBe(4);
    expect(rd(R.TS_LO)).toBe(335_000);
    expect(rd(R.TS_HI)).toBe(0);
  });

  it("converts microseconds to ticks at the clock rate (2.4 GHz: 1 us = 2400 ticks)", () => {
    const { q, dev, wr } = rig({ periodUs: 1.5 }, 2.4e9);
    const ticks: number[] = [];
    wr(R.CTRL, 1);
    wr(R.INT_ENABLE, 1);
    for (let k = 0; k < 3; k++) {
      q.runUntil(q.nextTick());
      ticks.push(q.now);
      wr(R.ACK, dev.state.seq);
    }
    expect(ticks).toEqual([3600, 7200, 10800]);
  });

  it("stops on ENABLE 1->0 and restarts its phase on 0->1", () => {
    const { q, dev, wr } = rig({ periodUs: 10 });
    wr(R.CTRL, 1);
    q.runUntil(25_000); // events at 10 us, 20 us
    wr(R.CTRL, 0);
    q.runUntil(100_000);
    expect(dev.report().events).toBe(2);
    wr(R.CTRL, 1); // next at 110 us
    q.runUntil(109_999);
    expect(dev.report().events).toBe(2);
    q.runUntil(110_000);
    expect(dev.report().events).toBe(3);
    expect(q.size).toBe(1);
  });

  it("schedules one queue event per arrival, never per tick", () => {
    const { q, wr } = rig({ periodUs: 10 });
    wr(R.CTRL, 1);
    q.runUntil(1_000_000);
    expect(q.fired).toBe(100);
  });
});

describe("rt-io interrupt and acknowledge", () => {
  it("asserts the line while STATUS & INT_ENABLE != 0 (level), and ACK of SEQ drops it", () => {
    const { q, irq, rd, wr } = rig({ periodUs: 10 });
    wr(R.CTRL, 1);
    q.runUntil(10_000);
    expect(rd(R.STATUS)).toBe(1);
    expect(irq.level).toBe(false); // not enabled yet
    wr(R.INT_ENABLE, 1);
    expect(irq.level).toBe(true);
    wr(R.ACK, 7); // wrong sequence: ignored
    expect(irq.level).toBe(true);
    wr(R.ACK, rd(R.SEQ));
    expect(irq.level).toBe(false);
    expect(rd(R.STATUS)).toBe(0);
    expect(rd(R.ACK)).toBe(1);
    expect(irq.history).toEqual([true, false]);
  });

  it("sets OVERRUN on a missed event; OVERRUN is write-1-to-clear and PENDING is not", () => {
    const { q, irq, rd, wr } = rig({ periodUs: 10 });
    wr(R.CTRL, 1);
    wr(R.INT_ENABLE, 2);
    q.runUntil(10_000);
    expect(irq.level).toBe(false);
    q.runUntil(20_000);
    expect(rd(R.STATUS)).toBe(3);
    expect(rd(R.MISSED)).toBe(1);
    expect(irq.level).toBe(true);
    wr(R.STATUS, 3);
    expect(rd(R.STATUS)).toBe(1);
    expect(irq.level).toBe(false);
  });

  // Periodic 100 us at 1 GHz: event n arrives at n * 100_000. The script (hand-computed outcome):
  //  e1 @100000 acked at 100500            -> latency 500
  //  e2 @200000 acked at 203000            -> latency 3000
  //  e3 @300000 not acked; e4 @400000      -> 1 missed
  //  e5 @500000 ack with SEQ read at 500100 -> replace: SEQ 5, latency 100; keep: SEQ 3, latency 200100
  //  e6 @600000 ack of a stale SEQ (4) at 600010 -> bad ack; e7 @700000 -> 1 more missed
  //  run to 750000: events 7, pending 1 (e7 in replace, e6 in keep ... see below)
  for (const overrun of ["replace", "keep"] as const) {
    it(`accounts latency and missed events for a scripted ack pattern (overrun = ${overrun})`, () => {
      const { q, rd, wr, dev } = rig({ periodUs: 100, overrun });
      wr(R.CTRL, 1);
      wr(R.INT_ENABLE, 1);
      const ackAt = (t: number, seq?: number) => {
        q.runUntil(t);
        wr(R.ACK, seq ?? rd(R.SEQ));
      };
      ackAt(100_500);
      ackAt(203_000);
      q.runUntil(450_000);
      const seqAfterMiss = rd(R.SEQ);
      ackAt(500_100);
      ackAt(600_010, 4);
      q.runUntil(750_000);
      const r = dev.report();
      expect(r.events).toBe(7);
      expect(r.badAcks).toBe(1);
      if (overrun === "replace") {
        // e3 replaced by e4 (missed 1); at 450000 SEQ = 4; at 500000 e5 replaces e4 (missed 2); ack 5 @500100.
        expect(seqAfterMiss).toBe(4);
        expect(r.latencyTicks).toEqual([500, 3000, 100]);
        // e6 pending (stale ack ignored), e7 replaces it: missed 3, e7 pending.
        expect(r.missed).toBe(3);
        expect(rd(R.SEQ)).toBe(7);
      } else {
        // e3 kept, e4 lost (missed 1), e5 lost (missed 2); ack of 3 at 500100: latency 200100.
        expect(seqAfterMiss).toBe(3);
        expect(r.latencyTicks).toEqual([500, 3000, 200_100]);
        // e6 becomes current, the ack of 4 is stale, e7 lost: missed 3, e6 pending.
        expect(r.missed).toBe(3);
        expect(rd(R.SEQ)).toBe(6);
        expect(rd(R.TS_LO)).toBe(600_000);
      }
      expect(r.acked).toBe(3);
      expect(r.pending).toBe(true);
      expect(r.acked + r.missed + (r.pending ? 1 : 0)).toBe(r.events);
    });
  }

  it("time-stamps actuator writes with the ticks since the current event (sense -> actuate)", () => {
    const { q, rd, wr, dev } = rig({ periodUs: 100 });
    wr(R.ACTUATE, 9); // before any event
    wr(R.CTRL, 1);
    q.runUntil(100_000 + 1_234);
    wr(R.ACTUATE, rd(R.DATA) ^ 1);
    expect(rd(R.ACTUATE)).toBe((dev.state.data ^ 1) >>> 0);
    expect(dev.report().actuations).toEqual([
      { tick: 0, value: 9, seq: 0, sinceEventTicks: -1 },
      { tick: 101_234, value: (dev.state.data ^ 1) >>> 0, seq: 1, sinceEventTicks: 1_234 },
    ]);
  });
});

describe("rt-io random sources", () => {
  /** Arrival ticks as the card asks the clock for them (the queue may fire two at one tick). */
  function arrivals(options: Partial<RtIoOptions>, n: number, seed = 7): number[] {
    const q = new EventQueue();
    const clock = new QueueClock(q, 1e9);
    const t: number[] = [];
    const spy = Object.assign(Object.create(clock) as QueueClock, {
      at: (tick: number, fire: (tick: number) => void, label?: string) => {
        t.push(tick);
        return clock.at(tick, fire, label);
      },
    });
    const dev = new RtIo({ clock: spy, rng: new Rng(seed).fork("rtio0") }, options);
    dev.mmioWrite(R.CTRL, 4, 1);
    while (t.length < n) q.runUntil(q.nextTick());
    return t.slice(0, n);
  }

  it("keeps uniform jitter within +-jitterUs of the nominal time, without drift", () => {
    const t = arrivals({ source: "jittered", periodUs: 100, jitterUs: 20 }, 2000);
    let lo = Infinity, hi = -Infinity, sum = 0;
    t.forEach((tick, k) => {
      const d = tick - (k + 1) * 100_000;
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
      sum += d;
    });
    expect(lo).toBeGreaterThanOrEqual(-20_000);
    expect(hi).toBeLessThanOrEqual(20_000);
    expect(lo).toBeLessThan(-19_000); // the whole range is used
    expect(hi).toBeGreaterThan(19_000);
    // U[-a, a] has mean 0 and sd a/sqrt(3); the mean of 2000 samples has sd 11547/sqrt(2000) = 258.
    expect(Math.abs(sum / t.length)).toBeLessThan(4 * 258);
  });

  it("gives normal jitter the configured standard deviation, truncated at +-periodUs/2", () => {
    const t = arrivals({ source: "jittered", jitter: "normal", periodUs: 100, jitterUs: 10 }, 4000);
    const d = t.map((tick, k) => tick - (k + 1) * 100_000);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    expect(Math.abs(sd - 10_000) / 10_000).toBeLessThan(0.05); // sd of a sample sd ~ 1.1% here
    expect(Math.max(...d.map(Math.abs))).toBeLessThanOrEqual(50_000);
    const wide = arrivals({ source: "jittered", jitter: "normal", periodUs: 100, jitterUs: 1000 }, 500);
    const dw = wide.map((tick, k) => tick - (k + 1) * 100_000);
    expect(Math.max(...dw)).toBe(50_000); // truncated at +p/2
    expect(Math.min(...dw)).toBe(-50_000);
  });

  it("keeps sporadic arrivals at least minInterArrivalUs apart with the exponential mean on top", () => {
    const t = arrivals({ source: "sporadic", minInterArrivalUs: 50, meanExtraUs: 200 }, 4000);
    expect(t[0]).toBe(50_000);
    const gaps = t.slice(1).map((x, k) => x - t[k]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(50_000 - 1); // rounding of summed ns
    const meanExtra = gaps.reduce((a, b) => a + b, 0) / gaps.length - 50_000;
    // Exp(200 us): sd 200 us, sd of the mean over 3999 gaps = 3.2 us.
    expect(Math.abs(meanExtra - 200_000)).toBeLessThan(4 * 3_200);
  });

  it("repeats itself exactly for the same seed and differs for another", () => {
    const o: Partial<RtIoOptions> = { source: "sporadic", minInterArrivalUs: 10, meanExtraUs: 30 };
    const a = arrivals(o, 200, 42);
    expect(arrivals(o, 200, 42)).toEqual(a);
    expect(arrivals(o, 200, 43)).not.toEqual(a);
    const data = (seed: number) => {
      const { q, dev, wr } = rig({ periodUs: 10 }, 1e9, seed);
      wr(R.CTRL, 1);
      q.runUntil(10_000);
      return dev.state.data;
    };
    expect(data(5)).toBe(data(5));
    expect(data(5)).not.toBe(data(6));
  });
});

describe("rt-io options", () => {
  it.each([
    [{ periodUs: 0 }, "periodUs"],
    [{ periodUs: Number.NaN }, "periodUs"],
    [{ jitterUs: -1 }, "jitterUs"],
    [{ source: "jittered", periodUs: 100, jitterUs: 51 }, "jitterUs"],
    [{ minInterArrivalUs: -5 }, "minInterArrivalUs"],
    [{ source: "sporadic", minInterArrivalUs: 0, meanExtraUs: 0 }, "minInterArrivalUs"],
    [{ meanExtraUs: Infinity }, "meanExtraUs"],
    [{ firstEventUs: -1 }, "firstEventUs"],
    [{ source: "burst" }, "source"],
    [{ jitter: "gauss" }, "jitter"],
    [{ overrun: "drop" }, "overrun"],
  ])("rejects %j naming the option", (o, name) => {
    expect(() => resolveRtIoOptions(o as Partial<RtIoOptions>)).toThrow(RangeError);
    expect(() => resolveRtIoOptions(o as Partial<RtIoOptions>)).toThrow(new RegExp(`option ${name} `));
  });

  it("fills defaults: firstEventUs is one period (or the minimum inter-arrival)", () => {
    expect(resolveRtIoOptions({ periodUs: 20 }).firstEventUs).toBe(20);
    expect(resolveRtIoOptions({ source: "sporadic", minInterArrivalUs: 3 }).firstEventUs).toBe(3);
    expect(resolveRtIoOptions({ source: "jittered", periodUs: 100, jitterUs: 50 }).jitterUs).toBe(50);
  });
});
