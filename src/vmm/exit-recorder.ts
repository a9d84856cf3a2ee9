/**
 * Per-partition record of every VM exit the VMM handled (what perf kvm stat records per exit -> entry pair):
 * the basic reason and the cycles from the start of the exit transition to the end of the next VM entry,
 * split into transition (exit + entry: fixed, VMCS/MSR-list memory), handler (declared costs, VMREAD/VMWRITE,
 * MMIO/APIC accesses) and cache-miss (the VMM's data accesses beyond an L1 hit) parts; and which device an
 * exit served, for exits per I/O operation. Samples are kept whole (growable typed arrays), so percentiles
 * are exact. Leaves out: per-vCPU splits (a partition's vCPUs are summed, as `perf kvm stat` without --vcpu).
 */

export interface ExitSample {
  reason: number;
  totalCycles: number;
  transitionCycles: number;
  handlerCycles: number;
  cacheMissCycles: number;
}

class Column {
  data = new Float64Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface ReasonSamples {
  total: Float64Array;
  transition: Float64Array;
  handler: Float64Array;
  cacheMiss: Float64Array;
}

export class ExitRecorder {
  private readonly byReason = new Map<number, Column[]>();
  /** Exits attributed to a device index of the partition. */
  readonly deviceExits = new Map<number, number>();

  record(s: ExitSample, device: number | null): void {
    let cols = this.byReason.get(s.reason);
    if (cols === undefined) {
      cols = [new Column(), new Column(), new Column(), new Column()];
      this.byReason.set(s.reason, cols);
    }
    cols[0].push(s.totalCycles);
    cols[1].push(s.transitionCycles);
    cols[2].push(s.handlerCycles);
    cols[3].push(s.cacheMissCycles);
    if (device !== null) this.deviceExits.set(device, (this.deviceExits.get(device) ?? 0) + 1);
  }

  /** Reasons in ascending order with their samples. */
  reasons(): [number, ReasonSamples][] {
    return [...this.byReason.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([r, c]) => [r, { total: c[0].values(), transition: c[1].values(), handler: c[2].values(), cacheMiss: c[3].values() }]);
  }

  count(): number {
    let n = 0;
    for (const c of this.byReason.values()) n += c[0].length;
    return n;
  }
}
