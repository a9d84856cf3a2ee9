/**
 * nic: the register table and descriptor format of its header (our datasheet), the e1000 ring rule
 * (Intel 8254x SDM §3.2.6: the card owns HEAD .. TAIL - 1, HEAD = TAIL means no free descriptor) with
 * drop counts computed by hand, arrival times against the header's formulas and the IEEE 802.3 wire
 * time (84 bytes = 672 ns for a minimum frame at 1 Gb/s), packet bytes decoded here from the header's
 * layout, TX completion times, INTx/MSI/moderation timing computed by hand, refused DMA, and seeded
 * determinism.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { Rng } from "../../src/sim/rng.ts";
import { RamDma, type DmaPort } from "../../src/devices/dma.ts";
import type { IrqLine, MsiSink } from "../../src/devices/irq-line.ts";
import { MmioBus } from "../../src/devices/mmio-bus.ts";
import { Nic, NicReg as R, descriptor, resolveNicOptions, type NicOptions } from "../../src/devices/nic.ts";
import { wireNs } from "../../src/devices/nic-arrivals.ts";

const RX_EN = 1, TX_EN = 2;
const I_RX = 1, I_TX = 2, I_DROP = 4, I_DMA = 8;

class WindowDma implements DmaPort {
  constructor(private readonly inner: DmaPort, private readonly limit: number) {}
  read(pa: number, dst: Uint8Array): boolean {
    return pa + dst.length <= this.limit && this.inner.read(pa, dst);
  }
  write(pa: number, src: Uint8Array): boolean {
    return pa + src.length <= this.limit && this.inner.write(pa, src);
  }
}

function rig(options: Partial<NicOptions> = {}, seed = 1, dmaLimit = Infinity, hz = 1e9) {
  const q = new EventQueue();
  const clock = new QueueClock(q, hz);
  const ram = new Uint8Array(1 << 23);
  const view = new DataView(ram.buffer);
  const edges: [number, boolean][] = [];
  let level = false;
  const irq: IrqLine = { set: (l) => { if (l !== level) { level = l; edges.push([clock.now(), l]); } } };
  const msgs: [number, number, number][] = [];
  const msi: MsiSink = { deliverMsi: (a, d) => msgs.push([clock.now(), a, d]) };
  const sent: [number, number[]][] = [];
  const dev = new Nic({
    clock, irq, msi, dma: new WindowDma(new RamDma(ram), dmaLimit), rng: new Rng(seed).fork("nic0"),
    txSink: (p, t) => sent.push([t, [...p]]),
  }, options);
  const rd = (off: number) => dev.mmioRead(off, 4) >>> 0;
  const wr = (off: number, v: number) => dev.mmioWrite(off, 4, v);
  /** An RX ring of `n` descriptors at 0x1000 with 2 KiB buffers from 0x10000; TAIL = n - 1. */
  const rxRing = (n: number, tail = n - 1) => {
    for (let k = 0; k < n; k++) {
      view.setUint32(0x1000 + 16 * k, 0x10000 + 0x800 * k, true);
      view.setUint32(0x1000 + 16 * k + 8, 0, true);
    }
    wr(R.RX_BASE, 0x1000);
    wr(R.RX_SIZE, n);
    wr(R.RX_TAIL, tail);
  };
  const rxDesc = (k: number) => ({
    addr: view.getUint32(0x1000 + 16 * k, true), len: view.getUint16(0x1000 + 16 * k + 8, true),
    flags: view.getUint16(0x1000 + 16 * k + 10, true), seq: view.getUint32(0x1000 + 16 * k + 12, true),
  });
  return { q, clock, ram, view, dev, rd, wr, rxRing, rxDesc, edges, msgs, sent, level: () => level };
}

describe("nic registers (header table)", () => {
  it("identifies itself and resets head/tail when a ring is (re)configured", () => {
    const { rd, wr } = rig();
    expect(rd(R.ID)).toBe(0x00035654);
    expect(rd(R.RX_BUF_SIZE)).toBe(2048);
    wr(R.RX_BASE, 0x1234567f);
    expect(rd(R.RX_BASE)).toBe(0x12345670);
    wr(R.RX_SIZE, 8);
    wr(R.RX_TAIL, 8); // >= size: ignored
    expect(rd(R.RX_TAIL)).toBe(0);
    wr(R.RX_TAIL, 5);
    expect(rd(R.RX_TAIL)).toBe(5);
    wr(R.RX_SIZE, 16);
    expect([rd(R.RX_HEAD), rd(R.RX_TAIL)]).toEqual([0, 0]);
    wr(R.TX_SIZE, 65537); // too large: ignored
    expect(rd(R.TX_SIZE)).toBe(0);
    wr(R.INT_ENABLE, 0xffffffff);
    expect(rd(R.INT_ENABLE)).toBe(15);
    expect(rd(0x4c)).toBe(0);
    expect(descriptor.registerBytes).toBeGreaterThan(R.NOW_HI);
  });

  it("is reachable through an MMIO BAR and ignores narrow writes", () => {
    const { dev } = rig();
    const bus = new MmioBus();
    bus.map(0xfeb00000, 128, dev);
    bus.write(0xfeb00000 + R.RX_SIZE, 4, 4);
    bus.write(0xfeb00000 + R.RX_BUF_SIZE, 2, 100);
    expect(bus.read(0xfeb00000 + R.RX_SIZE, 4)).toBe(4);
    expect(bus.read(0xfeb00000 + R.RX_BUF_SIZE, 4)).toBe(2048);
    expect(bus.read(0xfeb00000 + R.ID + 2, 2)).toBe(3);
  });

  it("latches NOW_HI on a NOW_LO read", () => {
    const { q, rd } = rig();
    q.runUntil(5e9);
    expect(rd(R.NOW_LO)).toBe(5e9 % 2 ** 32);
    q.runUntil(6e9);
    expect(rd(R.NOW_HI)).toBe(1);
  });
});

describe("nic receive", () => {
  it("stores packets with a timestamp, sequence and pattern, and writes the descriptor back", () => {
    const { q, ram, view, rd, wr, rxRing, rxDesc } = rig({ arrivals: "constant", ppsRate: 100_000, packetMinBytes: 20, packetMaxBytes: 20 });
    rxRing(4);
    q.runUntil(3000);
    wr(R.CTRL, RX_EN); // at 3 us: packets at 13, 23, ... us
    q.runUntil(3000 + 10_000 - 1);
    expect(rd(R.RX_PACKETS)).toBe(0);
    q.runUntil(3000 + 20_000);
    expect(rd(R.RX_HEAD)).toBe(2);
    expect(rxDesc(0)).toEqual({ addr: 0x10000, len: 20, flags: 3, seq: 1 });
    expect(rxDesc(1)).toEqual({ addr: 0x10800, len: 20, flags: 3, seq: 2 });
    expect(view.getBigUint64(0x10800, true)).toBe(23_000n); // arrival time, ns
    expect(view.getUint32(0x10808, true)).toBe(2);
    expect([...ram.subarray(0x1080c, 0x10814)]).toEqual([14, 15, 16, 17, 18, 19, 20, 21]); // (2 + i) & 0xff
    expect(ram[0x10814]).toBe(0); // 20 bytes only
    expect(rd(R.INT_STATUS)).toBe(I_RX);
  });

  it("drops packets when HEAD = TAIL (ring of 8, TAIL = 7: 7 stored of 20, then 3 more after TAIL += 3)", () => {
    const { q, rd, wr, dev, rxRing, rxDesc } = rig({ arrivals: "constant", ppsRate: 100_000 });
    rxRing(8);
    wr(R.CTRL, RX_EN);
    q.runUntil(200_000); // 20 packets at 10, 20, ..., 200 us
    expect(dev.report()).toMatchObject({ arrivals: 20, rxPackets: 7, rxDropped: 13 });
    expect(rd(R.RX_DROPPED)).toBe(13);
    expect(rd(R.INT_STATUS)).toBe(I_RX | I_DROP);
    expect(rd(R.RX_HEAD)).toBe(7);
    wr(R.RX_TAIL, 2); // the driver returns descriptors 7, 0, 1
    q.runUntil(300_000); // 10 more packets: 3 stored (seq 21, 22, 23), 7 dropped
    expect(dev.report()).toMatchObject({ arrivals: 30, rxPackets: 10, rxDropped: 20 });
    expect([rxDesc(7).seq, rxDesc(0).seq, rxDesc(1).seq]).toEqual([21, 22, 23]);
    expect(rd(R.RX_HEAD)).toBe(2);
  });

  it("drops everything with no ring (RX_SIZE 0) and packets longer than RX_BUF_SIZE", () => {
    const { q, rd, wr, dev, rxRing } = rig({ arrivals: "constant", ppsRate: 100_000, packetMinBytes: 100, packetMaxBytes: 100 });
    wr(R.CTRL, RX_EN);
    q.runUntil(30_000);
    expect(dev.report()).toMatchObject({ rxDropped: 3 });
    rxRing(8);
    wr(R.RX_BUF_SIZE, 99);
    q.runUntil(50_000);
    expect(dev.report()).toMatchObject({ rxOversize: 2, rxPackets: 0 });
    expect(rd(R.RX_DROPPED)).toBe(5);
  });

  it("stops on RX_ENABLE 1->0 and restarts the process phase on 0->1", () => {
    const { q, wr, dev, rxRing } = rig({ arrivals: "constant", ppsRate: 100_000 });
    rxRing(64);
    wr(R.CTRL, RX_EN);
    q.runUntil(25_000);
    wr(R.CTRL, 0);
    q.runUntil(100_000);
    expect(dev.report().arrivals).toBe(2);
    wr(R.CTRL, RX_EN);
    q.runUntil(109_999);
    expect(dev.report().arrivals).toBe(2);
    q.runUntil(110_000);
    expect(dev.report().arrivals).toBe(3);
    expect(q.size).toBe(1); // one event per arrival
  });

  it("sets DMA_ERROR and drops the packet when a transfer is refused, leaving HEAD", () => {
    const { q, rd, wr, dev, view } = rig({ arrivals: "constant", ppsRate: 100_000 }, 1, 0x20000);
    view.setUint32(0x1000, 0x1ffff0, true); // buffer outside the window (64-byte packet)
    view.setUint32(0x1010, 0x10000, true);
    wr(R.RX_BASE, 0x1000);
    wr(R.RX_SIZE, 4);
    wr(R.RX_TAIL, 3);
    wr(R.CTRL, RX_EN);
    q.runUntil(20_000);
    expect(rd(R.INT_STATUS)).toBe(I_DMA);
    expect(rd(R.RX_HEAD)).toBe(0);
    expect(dev.report()).toMatchObject({ rxPackets: 0, rxDmaDropped: 2, dmaErrors: 2 });
  });
});

describe("nic arrival processes", () => {
  function arrivalTicks(options: Partial<NicOptions>, n: number, seed = 1) {
    const { q, wr, rxRing, rxDesc, view, dev } = rig(options, seed);
    rxRing(n + 1);
    wr(R.CTRL, RX_EN);
    while (dev.report().arrivals < n) q.runUntil(q.nextTick());
    expect(dev.report().rxPackets).toBe(n);
    return Array.from({ length: n }, (_, k) => ({
      ns: Number(view.getBigUint64(rxDesc(k).addr, true)), len: rxDesc(k).len,
    }));
  }

  it("constant: packet k at (k + 1) * 1e9 / ppsRate", () => {
    const a = arrivalTicks({ arrivals: "constant", ppsRate: 300_000 }, 6);
    expect(a.map((x) => x.ns)).toEqual([3333, 6667, 10_000, 13_333, 16_667, 20_000]);
  });

  it("burst: burstSize packets back to back at line rate from each burst start", () => {
    // 64-byte frames at 1000 Mb/s: (64 + 4 + 20) * 8 = 704 ns each.
    expect(wireNs(64, 1000)).toBe(704);
    expect(wireNs(60, 1000)).toBe(672); // minimum frame: 84 bytes on the wire
    expect(wireNs(1514, 100)).toBe(123_040);
    const a = arrivalTicks({ arrivals: "burst", burstSize: 3, burstPeriodUs: 50 }, 7);
    expect(a.map((x) => x.ns)).toEqual([50_704, 51_408, 52_112, 100_704, 101_408, 102_112, 150_704]);
  });

  it("poisson: seeded exponential gaps with mean 1e9 / ppsRate, and seeded sizes in range", () => {
    const o: Partial<NicOptions> = { arrivals: "poisson", ppsRate: 50_000, packetMinBytes: 60, packetMaxBytes: 1514 };
    const a = arrivalTicks(o, 2000, 5);
    const gaps = a.map((x, k) => x.ns - (k === 0 ? 0 : a[k - 1].ns));
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    expect(Math.abs(mean - 20_000)).toBeLessThan(4 * 20_000 / Math.sqrt(2000)); // Exp: sd = mean
    const lens = a.map((x) => x.len);
    expect(Math.min(...lens)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...lens)).toBeLessThanOrEqual(1514);
    expect(Math.max(...lens) - Math.min(...lens)).toBeGreaterThan(1300);
    expect(arrivalTicks(o, 50, 5)).toEqual(a.slice(0, 50));
    expect(arrivalTicks(o, 50, 6)).not.toEqual(a.slice(0, 50));
  });

  it("gives byte-identical memory and reports for the same seed", () => {
    const run = (seed: number) => {
      const r = rig({ arrivals: "poisson", ppsRate: 200_000, packetMinBytes: 12, packetMaxBytes: 300 }, seed);
      r.rxRing(32);
      r.wr(R.CTRL, RX_EN);
      r.q.runUntil(500_000);
      return { ram: r.ram.slice(0, 0x30000), report: r.dev.report() };
    };
    const a = run(77);
    const b = run(77);
    expect(b.report).toEqual(a.report);
    expect(Buffer.compare(Buffer.from(a.ram), Buffer.from(b.ram))).toBe(0);
    expect(a.report.rxDropped).toBeGreaterThan(0);
  });
});

describe("nic transmit", () => {
  function txSetup(r: ReturnType<typeof rig>, lens: number[]) {
    lens.forEach((len, k) => {
      r.view.setUint32(0x2000 + 16 * k, 0x40000 + 0x1000 * k, true);
      r.view.setUint16(0x2000 + 16 * k + 8, len, true);
      r.view.setUint16(0x2000 + 16 * k + 10, 0, true);
      for (let i = 0; i < len; i++) r.ram[0x40000 + 0x1000 * k + i] = (k * 31 + i) & 0xff;
    });
    r.wr(R.TX_BASE, 0x2000);
    r.wr(R.TX_SIZE, 8);
  }

  it("sends descriptors HEAD .. TAIL - 1 back to back, each after its wire time, and sets DD", () => {
    const r = rig();
    txSetup(r, [100, 1500, 46]);
    r.wr(R.CTRL, TX_EN);
    r.q.runUntil(1000);
    r.wr(R.TX_TAIL, 3);
    // Wire times at 1 Gb/s: 100 -> (104 + 20) * 8 = 992 ns; 1500 -> 1524 * 8 = 12192; 46 -> 84 * 8 = 672.
    r.q.runUntil(1000 + 991);
    expect(r.rd(R.TX_HEAD)).toBe(0);
    r.q.runUntil(1000 + 992);
    expect(r.rd(R.TX_HEAD)).toBe(1);
    expect(r.view.getUint16(0x2000 + 10, true)).toBe(1);
    while (r.q.nextTick() !== Infinity) r.q.runUntil(r.q.nextTick());
    expect(r.sent.map(([t, p]) => [t, p.length])).toEqual([[1992, 100], [14_184, 1500], [14_856, 46]]);
    expect(r.sent[1][1].slice(0, 3)).toEqual([31, 32, 33]);
    expect(r.rd(R.TX_HEAD)).toBe(3);
    expect(r.rd(R.TX_PACKETS)).toBe(3);
    expect(r.rd(R.INT_STATUS)).toBe(I_TX);
    expect(r.dev.report()).toMatchObject({ txPackets: 3, txBytes: 1646 });
  });

  it("waits for TX_ENABLE and uses linkMbps", () => {
    const r = rig({ linkMbps: 100 });
    txSetup(r, [60]);
    r.wr(R.TX_TAIL, 1);
    r.q.runUntil(100_000);
    expect(r.sent).toEqual([]);
    r.wr(R.CTRL, TX_EN);
    r.q.runUntil(100_000 + 6720);
    expect(r.sent.map(([t]) => t)).toEqual([106_720]);
  });

  it("finishes a zero-length or unreadable packet at once with DD | ERR", () => {
    const r = rig({}, 1, 0x80000);
    txSetup(r, [0, 64]);
    r.view.setUint32(0x2010, 0x7fff0, true); // the 64-byte packet runs past the window
    r.wr(R.CTRL, TX_EN);
    r.wr(R.TX_TAIL, 2);
    expect(r.rd(R.TX_HEAD)).toBe(2);
    expect([r.view.getUint16(0x200a, true), r.view.getUint16(0x201a, true)]).toEqual([5, 5]);
    expect(r.rd(R.INT_STATUS)).toBe(I_TX | I_DMA);
    expect(r.dev.report()).toMatchObject({ txPackets: 0, txErrors: 2, dmaErrors: 1 });
  });
});

describe("nic interrupts", () => {
  it("holds the INTx line while INT_STATUS & INT_ENABLE != 0", () => {
    const r = rig({ arrivals: "constant", ppsRate: 100_000 });
    r.rxRing(16);
    r.wr(R.CTRL, RX_EN);
    r.q.runUntil(10_000);
    expect(r.level()).toBe(false);
    r.wr(R.INT_ENABLE, I_RX);
    expect(r.level()).toBe(true);
    r.q.runUntil(15_000);
    r.wr(R.INT_STATUS, I_RX);
    r.q.runUntil(20_000);
    expect(r.edges).toEqual([[10_000, true], [15_000, false], [20_000, true]]);
    expect(r.msgs).toEqual([]);
  });

  it("sends one MSI message per 0 -> non-0 change of pending causes once the board configures MSI", () => {
    const r = rig({ arrivals: "constant", ppsRate: 100_000 });
    r.rxRing(16);
    r.wr(R.INT_ENABLE, I_RX);
    r.wr(R.CTRL, RX_EN);
    r.q.runUntil(10_000);
    expect(r.level()).toBe(true);
    r.dev.configureMsi(0xfee01000, 0x4041);
    expect(r.level()).toBe(false); // the line is released
    expect(r.msgs).toEqual([[10_000, 0xfee01000, 0x4041]]);
    r.q.runUntil(30_000); // two more packets, cause still pending: no message
    expect(r.msgs.length).toBe(1);
    r.wr(R.INT_STATUS, I_RX);
    r.q.runUntil(40_000);
    expect(r.msgs.map((m) => m[0])).toEqual([10_000, 40_000]);
    r.dev.disableMsi();
    expect(r.level()).toBe(true);
  });

  it("moderates: with ITR_NS = 25 us, interrupts at 10, 35, 60 us for packets every 10 us", () => {
    const r = rig({ arrivals: "constant", ppsRate: 100_000, itrUs: 25 });
    expect(r.rd(R.ITR_NS)).toBe(25_000);
    r.rxRing(64);
    r.wr(R.INT_ENABLE, I_RX);
    r.wr(R.CTRL, RX_EN);
    for (let t = 10_500; t < 70_000; t += 500) {
      r.q.runUntil(t);
      if (r.level()) r.wr(R.INT_STATUS, I_RX); // the driver's ISR, 0.5 us after each assertion
    }
    expect(r.edges.filter(([, l]) => l).map(([t]) => t)).toEqual([10_000, 35_000, 60_000]);
    expect(r.dev.report().interrupts).toBe(3);
    r.wr(R.ITR_NS, 0);
    r.q.runUntil(80_000);
    expect(r.edges.filter(([, l]) => l).map(([t]) => t)).toEqual([10_000, 35_000, 60_000, 70_000]);
  });
});

describe("nic options", () => {
  it.each([
    [{ arrivals: "bursty" }, "arrivals"],
    [{ ppsRate: 0 }, "ppsRate"],
    [{ linkMbps: -1 }, "linkMbps"],
    [{ burstSize: 1.5 }, "burstSize"],
    [{ burstPeriodUs: Number.NaN }, "burstPeriodUs"],
    [{ packetMinBytes: 11 }, "packetMinBytes"],
    [{ packetMinBytes: 100, packetMaxBytes: 99 }, "packetMaxBytes"],
    [{ rxBufBytes: 70000 }, "rxBufBytes"],
    [{ itrUs: -2 }, "itrUs"],
    [{ arrivals: "constant", ppsRate: 1_500_000 }, "ppsRate"], // > 1.42 Mpps for 64-byte frames at 1 Gb/s
    [{ arrivals: "burst", burstSize: 100, burstPeriodUs: 70 }, "burstPeriodUs"], // 100 * 704 ns > 70 us
  ])("rejects %j naming the option", (o, name) => {
    expect(() => resolveNicOptions(o as Partial<NicOptions>)).toThrow(RangeError);
    expect(() => resolveNicOptions(o as Partial<NicOptions>)).toThrow(new RegExp(`option ${name} `));
  });

  it("accepts line rate exactly", () => {
    expect(() => resolveNicOptions({ arrivals: "constant", ppsRate: 1e9 / 704 })).not.toThrow();
  });
});
