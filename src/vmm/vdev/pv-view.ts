/**
 * A partition's paravirtual view of a shared device (vdev.ts VirtualDevice in mode "paravirtual"): the ring
 * (pv-ring.ts) plus the device type's request handler, which either completes a request at once (an error,
 * a console write) or hands it to the backend and completes it later. An op the device type does not know
 * completes with PvError.BAD_OP (the handler's job). No Intel SDM section applies (abi.ts is the spec).
 * Leaves out: several rings per device.
 */
import { PvRing, type PvRequest } from "./pv-ring.ts";
import { OpStats } from "./op-stats.ts";
import type { VdevHost, VdevStats, VirtualDevice } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

export class PvView implements VirtualDevice {
  readonly mode = "paravirtual" as const;
  readonly ring: PvRing;
  readonly opStats = new OpStats();

  constructor(readonly host: VdevHost, private readonly turn: VmmTurn, handle: (req: PvRequest, view: PvView) => void) {
    this.ring = new PvRing(host, turn, this.opStats, (req) => handle(req, this));
  }

  setupRing(gpa: number, entries: number): boolean {
    return this.turn.run(() => this.ring.setup(gpa, entries));
  }

  notify(): void {
    this.ring.notify();
  }

  stats(): VdevStats {
    return this.opStats.snapshot();
  }

  /** The partition restarts: forget the ring (completions still in flight are dropped). */
  reset(): void {
    this.ring.reset();
  }
}
