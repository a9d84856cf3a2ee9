/**
 * Operations a virtual device completed and their latencies in the VMM's view (vdev.ts VdevStats: from the
 * tick the VMM took the request to the tick it completed it), for the report's I/O latency per device and
 * mode. No Intel SDM section applies. Leaves out: percentiles (the report computes them).
 */
import type { Tick } from "../../sim/event-queue.ts";
import type { VdevStats } from "./vdev.ts";

export class OpStats {
  ops = 0;
  private readonly latencies: Tick[] = [];

  record(submitTick: Tick, doneTick: Tick): void {
    this.ops++;
    this.latencies.push(Math.max(0, doneTick - submitTick));
  }

  snapshot(): VdevStats {
    return { ops: this.ops, latencies: [...this.latencies] };
  }
}
