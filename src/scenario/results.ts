/**
 * The results of one scenario run: what `vmxsim run` prints and what `--json` writes (README.md
 * "Results JSON" documents every field). Plain data with a fixed key order, so the same scenario and seed
 * give byte-identical JSON. Times from inside the model are cycles (Tick) or ns converted once at this
 * edge (shared/DESIGN.md §4).
 */

export interface RunResults {
  scenario: string;
  seed: number;
  profile: string;
  quantumCycles: number;
  /** Core clock (Hz): cycles -> ns. */
  coreHz: number;
  simulatedNs: number;
  partitions: PartitionResults[];
  /** The physical devices: what they saw from outside (probes). */
  devices: PhysicalDeviceResults[];
  /** Health-monitor events in time order. */
  faults: FaultEvent[];
}

export interface ExitComponents {
  /** VM-exit + VM-entry transition cycles (fixed, VMCS/MSR-list memory traffic). */
  transitionCycles: number;
  /** Declared handler and VMM-operation cycles (costs.ts), VMREAD/VMWRITE included. */
  handlerCycles: number;
  /** Cycles of the VMM's own data accesses beyond an L1 hit (cache misses through the hierarchy). */
  cacheMissCycles: number;
}

export interface ExitStats {
  /** SDM Appendix C name without EXIT_REASON_ (perf kvm stat style: EXTERNAL_INTERRUPT, IO_INSTRUCTION...). */
  reason: string;
  reasonNumber: number;
  count: number;
  /** Exit -> next entry, cycles. */
  totalCycles: number;
  minCycles: number;
  meanCycles: number;
  p99Cycles: number;
  p999Cycles: number;
  maxCycles: number;
  /** Sums over all exits of this reason. */
  components: ExitComponents;
  /** The components of the worst exit (what made it worst). */
  worst: ExitComponents;
}

export interface LatencyStats {
  count: number;
  minNs: number;
  meanNs: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  /** Sparse histogram: 1 µs bins, bin (µs, as a string) -> count (cyclictest --json style). */
  histogram: Record<string, number>;
}

export interface TaskResults {
  name: string;
  jobs: number;
  deadlineMisses: number;
  /** Jobs skipped (not started before their next release). */
  skipped: number;
  meanResponseNs: number;
  maxResponseNs: number;
}

export interface DeviceUseResults {
  /** Device name from the scenario. */
  name: string;
  type: string;
  mode: string;
  ops: number;
  meanLatencyNs: number;
  p99LatencyNs: number;
  maxLatencyNs: number;
  /** VM exits on this partition's vCPUs attributed to the device, per operation. */
  exitsPerOp: number;
  /** Interrupts of this device that reached the guest's ISR (guest-measured latency). */
  irqLatency: LatencyStats | null;
}

export interface CacheResults {
  /** All levels the profile has: hits and misses of the partition's cores. */
  l1d: { hits: number; misses: number };
  l1i: { hits: number; misses: number };
  l2: { hits: number; misses: number };
  l3: { hits: number; misses: number } | null;
}

export interface PartitionResults {
  name: string;
  cores: number[];
  program: string;
  /** Guest state at the end: running, halted (health monitor), exited (HC_EXIT), restarted N times. */
  state: string;
  restarts: number;
  instructions: number;
  exits: ExitStats[];
  /** Device interrupt latency as the guest measured it (IRQ records: event -> ISR), all devices. */
  irqLatency: LatencyStats | null;
  /** The same interrupts measured from outside (device event -> the driver's acknowledge), ns. */
  irqLatencyProbe: LatencyStats | null;
  /** cyclictest-style wake-up latency (guest RDTSC). */
  wakeupLatency: LatencyStats | null;
  tasks: TaskResults[];
  devices: DeviceUseResults[];
  cache: CacheResults;
  /** Records the guest dropped (log ring full). */
  logDropped: number;
}

export interface PhysicalDeviceResults {
  name: string;
  type: string;
  /** "exclusive:<partition>" or "shared". */
  owner: string;
  /** The device model's report (device-specific, plain data). */
  report: Record<string, unknown>;
}

export interface FaultEvent {
  atNs: number;
  partition: string;
  core: number;
  /** What happened: "triple-fault", "unexpected-exit:<REASON>", "ept-violation", "dma-violation", ... */
  kind: string;
  detail: string;
  action: string;
}
