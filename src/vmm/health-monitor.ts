/**
 * The health monitor (issue 6 "Exit handling"): an unexpected VM exit, a guest fault that reaches the VMM
 * (triple fault, an access outside everything the partition owns), a DMA outside the partition or a failed
 * VM entry is recorded and answered with the partition's action:
 * - log: record it; a vCPU that cannot go on (a fatal fault) is parked, the rest of the partition runs on;
 * - restart: reload the partition's image and restart all its vCPUs in the boot state;
 * - halt: park all the partition's vCPUs and stop its passthrough devices' DMA and interrupts.
 * Other partitions are never touched: their cores, memory and devices are their own (tested).
 */
import type { Vmm } from "./vmm.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Partition } from "./partition.ts";
import { KICK_VECTOR } from "./vmm.ts";

export interface HealthEvent {
  atCycles: number;
  partition: string;
  core: number;
  kind: string;
  detail: string;
  action: string;
}

export class HealthMonitor {
  readonly events: HealthEvent[] = [];
  /** vCPUs to restart at their next exit (they were in non-root on other cores when the fault came). */
  private readonly restartDue = new Set<Vcpu>();

  constructor(private readonly vmm: Vmm) {}

  /** A fault of `p` seen on vCPU `v`. `fatal`: `v` cannot continue where it was. */
  report(p: Partition, v: Vcpu, kind: string, detail: string, fatal: boolean): void {
    this.vmm.chargeKey("health.fault", p);
    const action = p.onFault;
    this.events.push({ atCycles: this.vmm.machine.clock.now(), partition: p.name, core: v.core.id, kind, detail, action });
    if (action === "restart") this.restart(p);
    else if (action === "halt") this.halt(p);
    else if (fatal) v.state = "parked";
  }

  dmaViolation(p: Partition, device: string, detail: string): void {
    this.report(p, p.vcpus[0], "dma-violation", `${device}: ${detail}`, false);
  }

  private halt(p: Partition): void {
    p.state = "halted";
    for (const v of p.vcpus) {
      v.state = "parked";
      if (this.vmm.current !== v.core) this.vmm.sendVector(v.core.id, KICK_VECTOR);
    }
  }

  private restart(p: Partition): void {
    p.restarts++;
    this.vmm.chargeKey("health.restart", p);
    this.vmm.writeImage(p);
    for (const v of p.vcpus) {
      if (this.vmm.current === v.core) this.vmm.resetGuest(v);
      else {
        this.restartDue.add(v);
        this.vmm.sendVector(v.core.id, KICK_VECTOR);
      }
    }
  }

  /** At the start of every exit: apply a halt or restart decided on another core. True if the exit is
   * consumed (the vCPU was reset or parked). */
  pendingAction(v: Vcpu): boolean {
    if (v.partition.state === "halted") {
      v.state = "parked";
      return true;
    }
    if (this.restartDue.delete(v)) {
      this.vmm.resetGuest(v);
      return true;
    }
    return false;
  }
}
