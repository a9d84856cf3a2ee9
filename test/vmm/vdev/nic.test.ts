/**
 * Shared nic over the real card model (src/devices/nic.ts). References: the card's datasheet (descriptor
 * layout, DD/EOP/ERR, RX_HEAD/RX_TAIL ownership), the packet format of nic-packet.ts' header (bytes 8..11 =
 * sequence number, byte i >= 12 = (sequence + i) & 0xFF: checked here byte by byte, not with its code),
 * IEEE 802.3 wire time as nic-arrivals.ts states it ((max(len + 4, 64) + 20) * 8 bits at linkMbps, computed
 * by hand), the demultiplexing rule documented in nic-backend.ts (sequence mod receivers), abi.ts, and the
 * vdev brief's cost list.
 */
import { describe, expect, it } from "vitest";
import { Nic, NicReg as R } from "../../../src/devices/nic.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp } from "../../../src/vmm/abi.ts";
import { GuestRing, PART_BYTES, rig, type FakeVdevHost, type Rig } from "./fake-hosts.ts";
import type { VirtualDevice } from "../../../src/vmm/vdev/vdev.ts";

const PPS = 100_000; // constant arrivals every 10 us

/** The packet a nic generates (nic-packet.ts header), checked byte by byte. */
function checkPacket(p: Uint8Array, seq: number, len: number): void {
  expect(p.length).toBe(len);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  expect(v.getUint32(8, true)).toBe(seq);
  for (let i = 12; i < len; i++) if (p[i] !== ((seq + i) & 0xff)) throw new Error(`packet ${seq} byte ${i} is ${p[i]}`);
}

/** A nic built directly (the catalog gives no TX sink): packets leaving the wire are collected. */
function nicRig(options: Record<string, unknown>) {
  const wire: { packet: Uint8Array; tick: number }[] = [];
  const r = rig("nic", {}, {
    physical: (clock, irq, dma) => {
      const nic = new Nic({ clock, irq, dma, rng: new Rng(3, "test.nic"), txSink: (packet, tick) => wire.push({ packet, tick }) }, options);
      return { kind: "nic", mmio: nic, port: nic, device: nic, state: nic.state };
    },
  });
  return { r, wire };
}

/** An emulated partition's RX driver: a ring of n descriptors with 2 KiB buffers; its ISR (1 us after the
 * raise) takes the filled descriptors and gives them back. */
function emulatedRx(r: Rig, p: number, n = 8) {
  const got: { seq: number; packet: Uint8Array }[] = [];
  let v!: VirtualDevice;
  let next = 0;
  const RING = 0x10000, BUF = 0x20000;
  const h = r.partition(p, {
    onRaise: () => r.clock.at(r.clock.now() + 1000, () => {
      const head = v.mmioRead!(R.RX_HEAD, 4);
      while (next !== head) {
        const d = RING + next * 16;
        expect(h.peek32(d + 8) >>> 16).toBe(1 | 2); // FLAGS = DD | EOP
        const len = h.peek32(d + 8) & 0xffff;
        got.push({ seq: h.peek32(d + 12), packet: h.peek(BUF + next * 2048, len) });
        h.poke32(d + 8, 0);
        next = (next + 1) % n;
      }
      v.mmioWrite!(R.RX_TAIL, 4, (head + n - 1) % n);
      v.mmioWrite!(R.INT_STATUS, 4, 15);
    }),
  });
  v = r.shared.attach(h, "emulated");
  const start = () => {
    for (let k = 0; k < n; k++) h.poke32(RING + k * 16, BUF + k * 2048);
    v.mmioWrite!(R.RX_BASE, 4, RING);
    v.mmioWrite!(R.RX_SIZE, 4, n);
    v.mmioWrite!(R.RX_TAIL, 4, n - 1);
    v.mmioWrite!(R.INT_ENABLE, 4, 1 | 4);
    v.mmioWrite!(R.CTRL, 4, 1 | 2);
  };
  return { h, v, got, start };
}

/** A paravirtual partition's RX driver: keeps n RX requests posted (re-posts on each completion). */
function pvRx(r: Rig, p: number, n = 8) {
  const got: { seq: number; packet: Uint8Array }[] = [];
  let v!: VirtualDevice;
  let ring!: GuestRing;
  let next = 0;
  const h: FakeVdevHost = r.partition(p, {
    onRaise: () => r.clock.at(r.clock.now() + 1000, () => {
      while (next < ring.avail && ring.status(next) !== 0) {
        expect(ring.status(next)).toBe(PV_STATUS_OK);
        got.push({ seq: ring.field(next, 16), packet: h.peek(ring.field(next, 8), ring.result(next)) });
        ring.post(PvOp.RX, ring.field(next, 8), 2048);
        next++;
      }
      v.notify!();
    }),
  });
  v = r.shared.attach(h, "paravirtual");
  const start = () => {
    ring = new GuestRing(h, 0x4000, 32);
    v.setupRing!(0x4000, 32);
    for (let k = 0; k < n; k++) ring.post(PvOp.RX, 0x20000 + k * 2048, 2048);
    v.notify!();
  };
  return { h, v, got, start, ring: () => ring };
}

describe("shared nic: receive demultiplexing (reference: the rule in nic-backend.ts, nic-packet.ts format)", () => {
  it("two receivers (emulated and paravirtual) get sequence numbers by seq mod 2, in attach order; a non-receiver none", () => {
    const r = rig("nic", { arrivals: "constant", ppsRate: PPS, packetMinBytes: 100, packetMaxBytes: 100 });
    const a = emulatedRx(r, 0);
    const b = pvRx(r, 1);
    const c = r.shared.attach(r.partition(2), "emulated"); // attached, never enables RX
    void c;
    a.start();
    b.start();
    r.run(1_005_000); // 100 packets
    expect(a.got.map((x) => x.seq)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * (k + 1)));
    expect(b.got.map((x) => x.seq)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * k + 1));
    for (const x of [...a.got, ...b.got]) checkPacket(x.packet, x.seq, 100);
    const rep = r.shared.report();
    expect(rep.counters.rxDelivered).toBe(100);
    expect(rep.counters["rxDropped.p0"]).toBe(0);
    expect(rep.counters["rxDropped.p1"]).toBe(0);
    expect((r.physical.device as Nic).report().rxDropped).toBe(0);
    // Delivery latency (arrival at the card -> stored for the guest) covers the physical interrupt's delay.
    expect(Math.min(...a.v.stats().latencies)).toBeGreaterThanOrEqual(500);
  });

  it("three receivers: packet s goes to receiver s mod 3 (attach order), even when they started in another order", () => {
    const r = rig("nic", { arrivals: "constant", ppsRate: PPS, packetMinBytes: 64, packetMaxBytes: 64 });
    const rx = [pvRx(r, 0), emulatedRx(r, 1), pvRx(r, 2)];
    rx[2].start();
    rx[0].start();
    rx[1].start();
    r.run(605_000);
    rx.forEach((x, k) => {
      expect(x.got.length).toBe(20);
      for (const g of x.got) expect(g.seq % 3).toBe(k);
    });
  });

  it("a receiver without a free buffer drops its packets (counted); they are not given to the other one", () => {
    const r = rig("nic", { arrivals: "constant", ppsRate: PPS, packetMinBytes: 64, packetMaxBytes: 64 });
    const a = emulatedRx(r, 0);
    const b = r.partition(1);
    const vb = r.shared.attach(b, "paravirtual");
    a.start();
    const ring = new GuestRing(b, 0x4000, 4);
    vb.setupRing!(0x4000, 4);
    ring.post(PvOp.RX, 0x20000, 2048); // one buffer, never re-posted
    vb.notify!();
    r.run(205_000); // 20 packets
    expect(ring.status(0)).toBe(PV_STATUS_OK);
    expect(ring.field(0, 16)).toBe(1);
    expect(a.got.map((x) => x.seq)).toEqual(Array.from({ length: 10 }, (_, k) => 2 * (k + 1)));
    expect(r.shared.report().counters["rxDropped.p1"]).toBe(9);
  });
});

describe("shared nic: transmit (reference: the card's datasheet and IEEE 802.3 wire time)", () => {
  it("packets of an emulated and a paravirtual partition leave the wire FIFO, with their bytes, DD written back", () => {
    const { r, wire } = nicRig({});
    const h0 = r.partition(0, { fragmented: true }), h1 = r.partition(1);
    const v0 = r.shared.attach(h0, "emulated");
    const v1 = r.shared.attach(h1, "paravirtual");
    const pkt = (tag: number, len: number) => Uint8Array.from({ length: len }, (_, i) => (tag * 17 + i) & 0xff);
    // Partition 0: three 200-byte packets at GPA 0x30f80 + k * 0x1000 (each crosses a page: bounced).
    for (let k = 0; k < 3; k++) {
      h0.poke(0x30f80 + k * 0x1000, pkt(k, 200));
      h0.poke32(0x10000 + k * 16, 0x30f80 + k * 0x1000);
      h0.poke32(0x10000 + k * 16 + 8, 200);
    }
    v0.mmioWrite!(R.TX_BASE, 4, 0x10000);
    v0.mmioWrite!(R.TX_SIZE, 4, 8);
    v0.mmioWrite!(R.INT_ENABLE, 4, 2);
    v0.mmioWrite!(R.CTRL, 4, 2);
    v0.mmioWrite!(R.TX_TAIL, 4, 3);
    // Partition 1: two 100-byte packets, zero copy.
    const ring = new GuestRing(h1, 0x4000, 4);
    v1.setupRing!(0x4000, 4);
    for (let k = 0; k < 2; k++) {
      h1.poke(0x20000 + k * 0x100, pkt(10 + k, 100));
      ring.post(PvOp.TX, 0x20000 + k * 0x100, 100);
    }
    v1.notify!();
    r.run();
    expect(wire.map((w) => w.packet)).toEqual([pkt(0, 200), pkt(1, 200), pkt(2, 200), pkt(10, 100), pkt(11, 100)]);
    // Back to back on the wire: (200 + 4 + 20) * 8 ns = 1792 ns, (100 + 4 + 20) * 8 = 992 ns at 1 Gb/s.
    const gaps = wire.slice(1).map((w, k) => w.tick - wire[k].tick);
    expect(gaps).toEqual([1792, 1792, 992, 992]);
    for (let k = 0; k < 3; k++) expect(h0.peek32(0x10000 + k * 16 + 8) >>> 16).toBe(1); // DD
    expect(v0.mmioRead!(R.TX_HEAD, 4)).toBe(3);
    expect(v0.mmioRead!(R.TX_PACKETS, 4)).toBe(3);
    expect(v0.mmioRead!(R.INT_STATUS, 4)).toBe(2);
    expect([ring.status(0), ring.status(1), ring.result(0), ring.used]).toEqual([PV_STATUS_OK, PV_STATUS_OK, 100, 2]);
    // The second partition waited for the first one's packets: its first packet's latency covers 3 wire times.
    expect(v1.stats().latencies[0]).toBeGreaterThanOrEqual(3 * 1792 + 992);
    expect(r.shared.report().bounced).toBe(3);
  });

  it("costs per TX packet: a register write for TX_TAIL, command and completion, one backend.submit", () => {
    const r = rig("nic", {});
    const h = r.partition(0);
    const v = r.shared.attach(h, "emulated");
    h.poke32(0x10000, 0x20000);
    h.poke32(0x10008, 64);
    v.mmioWrite!(R.TX_BASE, 4, 0x10000);
    v.mmioWrite!(R.TX_SIZE, 4, 4);
    v.mmioWrite!(R.CTRL, 4, 2);
    v.mmioWrite!(R.TX_TAIL, 4, 1);
    r.run();
    expect(h.rec.count("vdev.registerWrite")).toBe(4);
    expect(h.rec.count("vdev.command")).toBe(1);
    expect(h.rec.count("vdev.completion")).toBe(1);
    expect(r.backend.rec.count("backend.submit")).toBe(1);
    expect(r.backend.rec.count("backend.interrupt")).toBe(1);
    // TX_TAIL; INT_STATUS read + W1C; TX_HEAD read.
    expect(r.backend.bus).toEqual(["mmioWrite", "mmioRead", "mmioWrite", "mmioRead"]);
  });

  it("bad TX input: LEN 0 and a packet outside RAM finish DD|ERR in order; PV errors; a PV TX behind an RX", () => {
    const r = rig("nic", {});
    const h0 = r.partition(0), h1 = r.partition(1);
    const v0 = r.shared.attach(h0, "emulated");
    const v1 = r.shared.attach(h1, "paravirtual");
    const descs = [[0x20000, 64], [0x20000, 0], [PART_BYTES - 10, 64], [0x20000, 64]];
    descs.forEach(([a, l], k) => { h0.poke32(0x10000 + k * 16, a); h0.poke32(0x10000 + k * 16 + 8, l); });
    v0.mmioWrite!(R.TX_BASE, 4, 0x10000);
    v0.mmioWrite!(R.TX_SIZE, 4, 8);
    v0.mmioWrite!(R.INT_ENABLE, 4, 2 | 8);
    v0.mmioWrite!(R.CTRL, 4, 2);
    v0.mmioWrite!(R.TX_TAIL, 4, 4);
    // Nothing is written back before the first (good) packet has been sent: descriptor order.
    expect(h0.peek32(0x10000 + 16 + 8) >>> 16).toBe(0);
    const ring = new GuestRing(h1, 0x4000, 64);
    v1.setupRing!(0x4000, 64);
    const rx = ring.post(PvOp.RX, 0x20000, 2048);
    const tx = ring.post(PvOp.TX, 0x20000, 64);
    const bad = [ring.post(PvOp.TX, 0x20000, 0), ring.post(PvOp.TX, PART_BYTES - 8, 64), ring.post(PvOp.JOB, 0, 0)];
    v1.notify!();
    r.run();
    expect([0, 1, 2, 3].map((k) => h0.peek32(0x10000 + k * 16 + 8) >>> 16)).toEqual([1, 1 | 4, 1 | 4, 1]);
    expect(v0.mmioRead!(R.TX_PACKETS, 4)).toBe(2);
    expect(v0.mmioRead!(R.INT_STATUS, 4)).toBe(2 | 8);
    expect(h0.faults).toHaveLength(1);
    expect(ring.status(tx)).toBe(PV_STATUS_OK);
    expect(ring.status(rx)).toBe(0); // no packets arrive: still waiting
    expect(ring.used).toBe(0); // USED waits behind the RX request
    expect(bad.map((n) => ring.status(n))).toEqual([
      PV_STATUS_ERROR | (PvError.BAD_RANGE << 8), PV_STATUS_ERROR | (PvError.DMA << 8), PV_STATUS_ERROR | (PvError.BAD_OP << 8),
    ]);
    expect(h1.faults).toHaveLength(1);
  });

  it("RX buffers waiting with no traffic do not stall a PV ring: 200 TX through a 64-slot ring with 4 RX posted", () => {
    // The abi's USED passes requests in order; parked RX requests holding it back over half the ring are
    // returned unfilled (PvError.DEVICE) and the driver posts them again (as the guest driver does).
    const { r, wire } = nicRig({}); // no arrivals
    const h = r.partition(0);
    const v = r.shared.attach(h, "paravirtual");
    const ring = new GuestRing(h, 0x4000, 64);
    v.setupRing!(0x4000, 64);
    const rxSlots = [0, 1, 2, 3].map((k) => ring.post(PvOp.RX, 0x20000 + k * 2048, 2048));
    v.notify!();
    let reposted = 0;
    for (let n = 0; n < 200; n++) {
      // The driver's ring-full rule (abi): a slot is free once USED has passed it.
      expect(ring.avail - ring.used).toBeLessThan(64);
      const t = ring.post(PvOp.TX, 0x30000, 64);
      v.notify!();
      r.run();
      expect(ring.status(t)).toBe(PV_STATUS_OK);
      for (let k = 0; k < rxSlots.length; k++) {
        if (ring.status(rxSlots[k]) === (PV_STATUS_ERROR | (PvError.DEVICE << 8))) {
          rxSlots[k] = ring.post(PvOp.RX, 0x20000 + k * 2048, 2048);
          reposted++;
        }
      }
      v.notify!();
    }
    expect(wire).toHaveLength(200);
    expect(reposted).toBeGreaterThan(0);
    expect(rxSlots.every((n) => ring.status(n) === 0)).toBe(true); // four buffers still posted
  });
});
