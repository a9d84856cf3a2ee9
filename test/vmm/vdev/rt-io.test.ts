/**
 * Shared rt-io card over the real card model (src/devices/rt-io.ts). References: the card's datasheet
 * (its header: periodic events at firstEventUs + k * periodUs, TS = the device's ns time of the event,
 * ACK = SEQ clears PENDING, events = acked + missed + pending), abi.ts (PV WAIT/ACK/ACTUATE), and the vdev
 * brief's cost list. The guest's ISR is simulated by the test: `isrDelay` ticks after the raise it reads the
 * event and acknowledges it.
 */
import { describe, expect, it } from "vitest";
import { RtIoReg as R, type RtIo } from "../../../src/devices/rt-io.ts";
import { PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp } from "../../../src/vmm/abi.ts";
import { GuestRing, rig, type FakeVdevHost } from "./fake-hosts.ts";
import type { VirtualDevice } from "../../../src/vmm/vdev/vdev.ts";

const PERIOD_US = 100;
const IRQ_DELAY = 500;

function card(r: ReturnType<typeof rig>): RtIo {
  return r.physical.device as RtIo;
}

/** An emulated partition whose ISR reads SEQ and TS `readDelay` ticks after the raise and writes ACK = SEQ
 * `ackDelay` ticks after that. */
function emulatedRig(readDelay: number, ackDelay = 0) {
  const r = rig("rt-io", { periodUs: PERIOD_US }, { irqDelay: IRQ_DELAY });
  const seen: { seq: number; ts: number }[] = [];
  let v: VirtualDevice;
  const h: FakeVdevHost = r.partition(0, {
    onRaise: () => r.clock.at(r.clock.now() + readDelay, () => {
      const seq = v.mmioRead!(R.SEQ, 4);
      seen.push({ seq, ts: v.mmioRead!(R.TS_LO, 4) });
      if (ackDelay === 0) v.mmioWrite!(R.ACK, 4, seq);
      else r.clock.at(r.clock.now() + ackDelay, () => v.mmioWrite!(R.ACK, 4, seq));
    }),
  });
  v = r.shared.attach(h, "emulated");
  return { r, h, v, seen };
}

describe("shared rt-io: emulated (reference: the card's datasheet)", () => {
  it("each event raises the guest vector once; the guest reads SEQ/TS through the VMM and its ACK reaches the card", () => {
    const { r, h, v, seen } = emulatedRig(2000);
    v.mmioWrite!(R.INT_ENABLE, 4, 1);
    v.mmioWrite!(R.CTRL, 4, 1);
    r.run(1_050_000); // events at 100, 200, ..., 1000 us
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.map((e) => e.ts)).toEqual(seen.map((_, k) => (k + 1) * PERIOD_US * 1000));
    const rep = card(r).report();
    expect(rep.events).toBe(10);
    expect(rep.acked).toBe(10);
    expect(rep.missed).toBe(0);
    // Ack latency = interrupt delivery to the service core + the ISR's delay, exactly.
    expect(rep.latencyTicks).toEqual(Array(10).fill(IRQ_DELAY + 2000));
    expect(h.raises).toBe(10);
    expect(v.stats().latencies).toEqual(Array(10).fill(2000));
    expect(v.mmioRead!(R.INT_ENABLE, 4)).toBe(1);
    expect(v.mmioRead!(R.ID, 4)).toBe(0x00015654);
  });

  it("an ACK that names a replaced event: the unmask re-delivers the pending one (no stall)", () => {
    // Events every 100 us; the ISR reads SEQ 20 us after the raise and acks 90 us later, after the next
    // event replaced the one it read: its ACK is stale, the card stays PENDING, and only the VMM's unmask
    // (a new edge) lets the guest see the new event.
    const { r, h, v, seen } = emulatedRig(20_000, 90_000);
    v.mmioWrite!(R.INT_ENABLE, 4, 1);
    v.mmioWrite!(R.CTRL, 4, 1);
    r.run(2_050_000);
    const rep = card(r).report();
    expect(rep.events).toBe(20);
    expect(rep.badAcks).toBeGreaterThan(0);
    expect(h.raises).toBeGreaterThanOrEqual(10);
    expect(seen.length).toBe(h.raises);
    // Every event is accounted for (datasheet: events = acked + missed + pending).
    expect(rep.acked + rep.missed + (rep.pending ? 1 : 0)).toBe(rep.events);
    // The guest saw increasing sequence numbers up to the end of the run.
    for (let k = 1; k < seen.length; k++) expect(seen[k].seq).toBeGreaterThan(seen[k - 1].seq);
    expect(seen[seen.length - 1].seq).toBeGreaterThanOrEqual(18);
  });

  it("ACTUATE and forwarded reads cost a register access plus a physical MMIO access each", () => {
    const { r, h, v } = emulatedRig(1000);
    v.mmioWrite!(R.ACTUATE, 4, 0x1234);
    expect(v.mmioRead!(R.ACTUATE, 4)).toBe(0x1234);
    expect(v.mmioRead!(R.INTERVAL_NS, 4)).toBe(PERIOD_US * 1000);
    expect(card(r).report().actuations.map((a) => a.value)).toEqual([0x1234]);
    expect(h.rec.count("vdev.registerWrite")).toBe(1);
    expect(h.rec.count("vdev.registerRead")).toBe(2);
    expect(r.backend.bus).toEqual(["mmioWrite", "mmioRead", "mmioRead"]);
    expect(v.stats().ops).toBe(1);
  });

  it("a second partition cannot attach to the same card", () => {
    const r = rig("rt-io");
    r.shared.attach(r.partition(0), "emulated");
    expect(() => r.shared.attach(r.partition(1), "paravirtual")).toThrow(/one partition/);
  });
});

describe("shared rt-io: paravirtual (reference: the card's datasheet, abi.ts WAIT/ACK)", () => {
  it("an interrupt raised synchronously by the VMM's own unmask is handled after the ACK, not inside it", () => {
    // irqDelay < 0: the card's line rising inside the VMM's INT_ENABLE write calls onInterrupt at once.
    const r = rig("rt-io", { periodUs: PERIOD_US }, { irqDelay: -1 });
    const h = r.partition(0);
    const view = r.shared.attach(h, "paravirtual");
    const ring = new GuestRing(h, 0x4000, 8);
    view.setupRing!(0x4000, 8);
    const w1 = ring.post(PvOp.WAIT, 0, 0);
    view.notify!();
    r.run(250_000); // event 1 delivered; event 2 replaced it while masked
    expect(ring.result(w1)).toBe(1);
    const ack = ring.post(PvOp.ACK, 0, 0, 1); // stale: the unmask re-raises the line synchronously
    const w2 = ring.post(PvOp.WAIT, 0, 0);
    view.notify!();
    expect([ring.status(ack), ring.status(w2), ring.result(w2)]).toEqual([PV_STATUS_OK, PV_STATUS_OK, 2]);
    expect(ring.used).toBe(3);
    expect(h.raises).toBe(2); // one per turn
  });


  it("WAIT completes at each event with SEQ, TS and DATA; the guest's ACK reaches the card", () => {
    const r = rig("rt-io", { periodUs: PERIOD_US }, { irqDelay: IRQ_DELAY });
    const got: { seq: number; tsLo: number; tsHi: number; data: number }[] = [];
    let view: VirtualDevice;
    let ring: GuestRing;
    let next = 0;
    const h: FakeVdevHost = r.partition(0, {
      onRaise: () => r.clock.at(r.clock.now() + 1000, () => {
        // The guest's ISR: each completed WAIT -> post an ACK and a new WAIT, one doorbell.
        while (next < ring.avail && ring.status(next) !== 0) {
          if (ring.field(next, 0) === PvOp.WAIT) {
            expect(ring.status(next)).toBe(PV_STATUS_OK);
            const seq = ring.result(next);
            got.push({ seq, tsLo: ring.field(next, 16), tsHi: ring.field(next, 20), data: ring.field(next, 12) });
            ring.post(PvOp.ACK, 0, 0, seq);
            ring.post(PvOp.WAIT, 0, 0);
          }
          next++;
        }
        view.notify!();
      }),
    });
    view = r.shared.attach(h, "paravirtual");
    ring = new GuestRing(h, 0x4000, 16);
    expect(view.setupRing!(0x4000, 16)).toBe(true);
    ring.post(PvOp.WAIT, 0, 0);
    view.notify!(); // the first WAIT starts the source
    r.run(1_050_000);
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(got.map((e) => e.tsLo)).toEqual(got.map((_, k) => (k + 1) * PERIOD_US * 1000));
    expect(got.every((e) => e.tsHi === 0)).toBe(true);
    const rep = card(r).report();
    expect(rep.acked).toBe(10);
    expect(rep.missed).toBe(0);
    // DATA is the card's sensor value of each event: distinct 32-bit draws, not the sequence.
    expect(new Set(got.map((e) => e.data)).size).toBe(10);
    expect(rep.latencyTicks).toEqual(Array(10).fill(IRQ_DELAY + 1000));
    expect(r.backend.rec.count("backend.submit")).toBe(11); // CTRL once + 10 ACKs
  });

  it("an event with no WAIT posted is kept for the next WAIT; ACTUATE and bad ops", () => {
    const r = rig("rt-io", { periodUs: PERIOD_US }, { irqDelay: IRQ_DELAY });
    const h = r.partition(0);
    const view = r.shared.attach(h, "paravirtual");
    const ring = new GuestRing(h, 0x4000, 8);
    view.setupRing!(0x4000, 8);
    const w = ring.post(PvOp.WAIT, 0, 0);
    view.notify!();
    r.run(150_000); // event 1 completes the WAIT
    expect(ring.result(w)).toBe(1);
    r.run(350_000); // events 2 and 3: the card is masked until ACK, so event 3 replaces 2
    const w2 = ring.post(PvOp.WAIT, 0, 0);
    const a = ring.post(PvOp.ACTUATE, 0, 0, 77);
    const b = ring.post(PvOp.TX, 0, 0);
    view.notify!();
    expect(ring.status(w2)).toBe(0); // event 1 was handed out; nothing new was taken while masked
    const ack = ring.post(PvOp.ACK, 0, 0, 1);
    view.notify!();
    r.run(399_000);
    // Events 2 and 3 replaced event 1 (overrun "replace"), so the ACK of 1 is stale: the card stays PENDING,
    // and the VMM's unmask after forwarding it raises a new edge that delivers event 3 to the waiting WAIT.
    expect(card(r).report().badAcks).toBe(1);
    expect(ring.status(w2)).toBe(PV_STATUS_OK);
    expect(ring.result(w2)).toBe(3);
    expect(ring.status(a)).toBe(PV_STATUS_OK);
    expect(ring.status(ack)).toBe(PV_STATUS_OK);
    expect(ring.status(b)).toBe(PV_STATUS_ERROR | (PvError.BAD_OP << 8));
    expect(card(r).report().actuations.map((x) => x.value)).toEqual([77]);
  });
});
