/**
 * A virtual CPU of a partition, pinned to one physical core (issue 6, static pinning): its VMCS and the
 * pages the CPU uses with it (virtual-APIC page, posted-interrupt descriptor: SDM Vol. 3C 24.6.8, 29.6),
 * its VPID, the VMM's own per-vCPU state block (at a host-physical address, so the VMM's accesses to it go
 * through the cache model), its virtual LAPIC timer deadline and the interrupts waiting for its next entry.
 */
import type { Core } from "../cpu/core.ts";
import type { VmxApi } from "../cpu/vmx/vmx-api.ts";
import type { Partition } from "./partition.ts";

export type VcpuState = "running" | "parked" | "exited";

export class Vcpu {
  /** TSC at which the virtual LAPIC timer fires (null: not armed). */
  timerDeadline: number | null = null;
  /** LVT timer mode as last written (0 one-shot, 1 periodic, 2 TSC-deadline) and the one-shot period. */
  timerPeriodTicks = 0;
  /** LVT timer mode last seen (0 one-shot, 1 periodic, 2 TSC-deadline). */
  lvtTimerMode = 0;
  /** Vectors to make pending at the next VM entry (exit-and-inject from another core, kicks). */
  readonly pending: number[] = [];
  /** Device index that caused each pending vector, for exit attribution (-1: none). */
  readonly pendingDevice: number[] = [];
  state: VcpuState = "running";
  /** Whether the preemption timer value in the VMCS is the "disarmed" maximum. */
  timerIdle = true;
  /** The device an exit in progress served (for exits per operation), or null. */
  exitDevice: number | null = null;

  constructor(
    readonly partition: Partition,
    /** Index in the partition (the guest's ESI at boot and its virtual APIC ID). */
    readonly index: number,
    readonly core: Core,
    readonly api: VmxApi,
    readonly vmcs: number,
    readonly vapic: number,
    readonly pid: number,
    readonly vpid: number,
    /** The VMM's state block for this vCPU (one page). */
    readonly stateHpa: number,
  ) {}

  get name(): string {
    return `${this.partition.name}/vcpu${this.index}`;
  }
}
