/**
 * Where vCPUs run (issue 6: static pinning, one vCPU per core; time-sharing schedulers -- credit, periodic
 * servers, cyclic tables, EDF -- come in a later issue behind this interface). `place` decides the initial
 * assignment; a time-sharing scheduler will also get the VMM's scheduling points (timer, halt, wake).
 */
import type { Vcpu } from "../vcpu.ts";

export interface VcpuScheduler {
  readonly name: string;
  /** Put `vcpus` (one partition's) on cores: fill vcpuOfCore. */
  place(vcpus: readonly Vcpu[], vcpuOfCore: (Vcpu | null)[]): void;
}

/** Each vCPU on its own core, for good (partitioning in the Jailhouse / ACRN-RT style). */
export class StaticPinning implements VcpuScheduler {
  readonly name = "static-pinning";

  place(vcpus: readonly Vcpu[], vcpuOfCore: (Vcpu | null)[]): void {
    for (const v of vcpus) {
      const id = v.core.id;
      const other = vcpuOfCore[id];
      if (other !== null && other !== undefined) throw new RangeError(`static pinning: core ${id} already runs ${other.name}; cannot also run ${v.name}`);
      vcpuOfCore[id] = v;
    }
  }
}
