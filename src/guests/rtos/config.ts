/**
 * The RTOS guest's build-time configuration, as the kernel sees it: the shape of the scenario's
 * RtosGuestConfig / TaskConfig / FaultGuestConfig (src/scenario/config.ts), restated here because guests may
 * not import from src/scenario (shared/DESIGN.md §2: guests import only cpu/isa, vmm/abi and guests).
 * TypeScript's structural typing makes the scenario's objects assignable to these; a field the kernel does
 * not read is simply absent. No SDM section applies (our own format). Leaves out: validation and defaults,
 * which are the scenario schema's job; the builder only rejects what it cannot build.
 */

export interface RtosTaskSpec {
  name: string;
  kind: "periodic" | "sporadic";
  /** periodic: the period; sporadic: the minimum inter-arrival (not enforced by the kernel). */
  periodUs: number;
  /** Relative deadline. */
  deadlineUs: number;
  /** Higher number = higher priority (fixed-priority scheduling; ignored by EDF). */
  priority: number;
  /** Calibrated work per job, in microseconds. */
  workUs: number;
  /** Bytes the work loop walks. */
  workingSetKiB: number;
  /** sporadic: the name of the device whose interrupt releases a job. */
  device: string | null;
  /** An I/O operation each job performs through its driver after its work. */
  io: { device: string; op: "read" | "write" | "tx" | "job" | "actuate"; bytes: number } | null;
}

export interface RtosSpec {
  scheduler: "fixed-priority" | "edf";
  timer: "tsc-deadline" | "one-shot";
  tasks: RtosTaskSpec[];
  cyclictest: { intervalUs: number; priority: number } | null;
}

export interface FaultSpec {
  afterUs: number;
  fault: "triple" | "ept" | "dma" | "ud";
}
