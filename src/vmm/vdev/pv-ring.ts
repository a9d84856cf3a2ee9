/**
 * The VMM side of a paravirtual ring (abi.ts "Paravirtual devices", PvRingHeader / PvSlot): set-up
 * (HC_PV_SETUP), the doorbell (HC_PV_NOTIFY: take every request between the VMM's `taken` counter and the
 * guest's AVAIL), and completion. Our own ABI, so abi.ts is its specification; this file follows it:
 * - a request is completed by writing its outputs (LEN, ARG0, ARG1 as the op defines), RESULT, then STATUS
 *   (so STATUS != 0 means the rest is there), then USED, then raising the device's vector;
 * - USED counts completed requests in the order they were taken: a request that finishes before an earlier
 *   one (a nic TX behind a waiting RX buffer) gets its STATUS at once, and USED passes it when every
 *   earlier request is done (a driver that must not wait behind long-lived requests polls the slot STATUS);
 * - bad input never throws: a ring outside partition RAM or a bad entry count is refused at set-up, more
 *   requests published than the ring holds are taken up to its capacity (the rest counted as overruns).
 * - a request that waits for an outside event (nic RX, rt-io WAIT: the handler parks it) must not hold USED
 *   back forever while later requests complete (with no packets arriving, a driver that keeps RX buffers
 *   posted would find its ring full): when the requests taken and not passed by USED exceed half the ring
 *   and the oldest is parked, it is returned unfilled with PvError.DEVICE (its STATUS) so USED can move on;
 *   the driver sees the error and posts the buffer again;
 * Set-up again (a restarted guest) starts a new generation: completions of requests of the old one are
 * dropped, so a late completion never writes into the new ring.
 * Costs (VdevHost.charge): vdev.pvNotify per doorbell, vdev.pvRequest per request taken, vdev.completion
 * per request completed; the VMM's reads and writes of the ring are guest-memory accesses through the host.
 * No Intel SDM section applies. Leaves out: event-index notification suppression (virtio's), interrupt
 * coalescing beyond one raise per VMM turn.
 */
import type { Tick } from "../../sim/event-queue.ts";
import { PV_RING_HEADER_BYTES, PV_SLOT_BYTES, PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvRingHeader, PvSlot } from "../abi.ts";
import type { OpStats } from "./op-stats.ts";
import { inGuestRam } from "./guest-range.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

export interface PvRequest {
  /** Slot index in the ring and the request's number (the value of `taken` when it was taken). */
  readonly slot: number;
  readonly seq: number;
  readonly generation: number;
  readonly op: number;
  readonly id: number;
  readonly addr: number;
  readonly len: number;
  readonly arg0: number;
  readonly arg1: number;
  readonly takenTick: Tick;
}

/** Outputs some ops return in the slot besides RESULT (nic RX: ARG0 = sequence; rt-io WAIT: LEN, ARG0/1). */
export interface PvOutputs {
  len?: number;
  arg0?: number;
  arg1?: number;
}

/** State-block layout (VdevHost.touchState, VDEV_STATE_BYTES): [0, 16) ring bookkeeping, then a 16-byte
 * record per outstanding request at 64 + (slot mod 28) * 16. */
const REC_BASE = 64;
const REC_BYTES = 16;
const recOffset = (slot: number) => REC_BASE + (slot % 28) * REC_BYTES;

export class PvRing {
  private gpa = -1;
  private entries = 0;
  private taken = 0;
  private used = 0;
  private generation = 0;
  private done = new Uint8Array(0);
  /** Parked requests by slot: waiting for an outside event; the callback withdraws one from its device. */
  private readonly parked = new Map<number, { req: PvRequest; withdraw: () => void }>();
  private recycling = false;
  /** Parked requests returned unfilled to let USED move on. */
  recycled = 0;
  /** Requests published beyond the ring's free slots (a guest bug; they were not taken). */
  overruns = 0;

  constructor(
    private readonly host: VdevHost,
    private readonly turn: VmmTurn,
    private readonly stats: OpStats,
    private readonly handle: (req: PvRequest) => void,
  ) {}

  get ready(): boolean {
    return this.gpa >= 0;
  }

  /** HC_PV_SETUP: false if entries is not a power of two in 1 .. 256, the ring is not 64-byte aligned, or it
   * is not inside partition RAM. */
  setup(gpa: number, entries: number): boolean {
    const h = this.host;
    h.touchState(0, 16, true);
    if (!(Number.isInteger(entries) && entries >= 1 && entries <= 256 && (entries & (entries - 1)) === 0)) return false;
    if (!Number.isInteger(gpa) || gpa % 64 !== 0) return false;
    if (!inGuestRam(h, gpa, PV_RING_HEADER_BYTES + entries * PV_SLOT_BYTES)) return false;
    this.gpa = gpa;
    this.entries = entries;
    this.generation++;
    this.parked.clear();
    this.done = new Uint8Array(entries);
    const used = h.read32(gpa + PvRingHeader.USED) ?? 0;
    this.taken = this.used = used >>> 0;
    h.write32(gpa + PvRingHeader.ENTRIES, entries);
    return true;
  }

  /** HC_PV_NOTIFY. */
  notify(): void {
    this.turn.run(() => this.takeAll());
  }

  private takeAll(): void {
    const h = this.host;
    h.charge("vdev.pvNotify");
    h.touchState(0, 16, false);
    if (this.gpa < 0) return;
    const avail = h.read32(this.gpa + PvRingHeader.AVAIL);
    if (avail === null) return;
    let n = (avail - this.taken) >>> 0;
    const room = this.entries - ((this.taken - this.used) >>> 0);
    if (n > room) {
      this.overruns += n - room;
      n = room;
    }
    const generation = this.generation;
    for (let k = 0; k < n && generation === this.generation; k++) {
      const seq = this.taken;
      const slot = seq & (this.entries - 1);
      this.taken = (seq + 1) >>> 0;
      h.charge("vdev.pvRequest");
      h.touchState(recOffset(slot), REC_BYTES, true);
      const raw = h.readGuest(this.slotGpa(slot), PV_SLOT_BYTES);
      if (raw === null) continue; // cannot happen: the ring was checked at set-up
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      this.handle({
        slot, seq, generation,
        op: v.getUint32(PvSlot.OP, true),
        id: v.getUint32(PvSlot.ID, true),
        addr: v.getUint32(PvSlot.ADDR, true),
        len: v.getUint32(PvSlot.LEN, true),
        arg0: v.getUint32(PvSlot.ARG0, true),
        arg1: v.getUint32(PvSlot.ARG1, true),
        takenTick: h.clock.now(),
      });
    }
  }

  /** Complete `req` well with `result` (and the op's outputs). The latency recorded runs from the tick the
   * request was taken, or from `sinceTick` (a received packet: its arrival). */
  complete(req: PvRequest, result: number, outputs?: PvOutputs, sinceTick?: Tick): void {
    this.finish(req, PV_STATUS_OK, result, outputs, sinceTick);
  }

  /** Complete `req` with PV_STATUS_ERROR | code << 8 (abi.ts PvError). */
  fail(req: PvRequest, code: number): void {
    this.finish(req, PV_STATUS_ERROR | (code << 8), 0);
  }

  /** `req` waits for an outside event; `withdraw` takes it off the device's wait list if the ring needs its
   * slot back (see the header). */
  park(req: PvRequest, withdraw: () => void): void {
    if (req.generation === this.generation) this.parked.set(req.slot, { req, withdraw });
  }

  /** Forget the ring (the partition restarts); outstanding completions are dropped. */
  reset(): void {
    this.gpa = -1;
    this.generation++;
    this.parked.clear();
  }

  private slotGpa(slot: number): number {
    return this.gpa + PV_RING_HEADER_BYTES + slot * PV_SLOT_BYTES;
  }

  private finish(req: PvRequest, status: number, result: number, outputs?: PvOutputs, sinceTick?: Tick): void {
    if (req.generation !== this.generation || this.gpa < 0) return;
    if (((req.seq - this.used) >>> 0) >= ((this.taken - this.used) >>> 0)) return; // not outstanding
    const h = this.host;
    h.charge("vdev.completion");
    h.touchState(recOffset(req.slot), REC_BYTES, true);
    const s = this.slotGpa(req.slot);
    if (outputs?.len !== undefined) h.write32(s + PvSlot.LEN, outputs.len >>> 0);
    if (outputs?.arg0 !== undefined) h.write32(s + PvSlot.ARG0, outputs.arg0 >>> 0);
    if (outputs?.arg1 !== undefined) h.write32(s + PvSlot.ARG1, outputs.arg1 >>> 0);
    h.write32(s + PvSlot.RESULT, result >>> 0);
    h.write32(s + PvSlot.STATUS, status >>> 0);
    this.done[req.slot] = 1;
    this.parked.delete(req.slot);
    const before = this.used;
    while (this.used !== this.taken && this.done[this.used & (this.entries - 1)] === 1) {
      this.done[this.used & (this.entries - 1)] = 0;
      this.used = (this.used + 1) >>> 0;
    }
    if (this.used !== before) {
      h.touchState(0, 16, true);
      h.write32(this.gpa + PvRingHeader.USED, this.used);
    }
    this.stats.record(sinceTick ?? req.takenTick, h.clock.now());
    this.turn.raise(h);
    this.recycle();
  }

  /** Return parked requests at the head of the ring while they hold back more than half of it. */
  private recycle(): void {
    if (this.recycling) return;
    this.recycling = true;
    try {
      while (((this.taken - this.used) >>> 0) > this.entries / 2) {
        const head = this.parked.get(this.used & (this.entries - 1));
        if (head === undefined) break;
        head.withdraw();
        this.recycled++;
        this.fail(head.req, PvError.DEVICE);
      }
    } finally {
      this.recycling = false;
    }
  }
}
