/**
 * The scenario as data, after validation (scenario-schema.ts produces exactly these types; defaults are
 * filled in there). A scenario describes one partitioned machine: the CPU profile, the physical devices,
 * the partitions (cores, memory, cache share, devices and how each is given, the guest), the VMM's costs,
 * and how long to run. Units are in the names (Us, Ms, MiB, KiB, Cycles). Our own format, documented in
 * README.md "Scenario files"; shared/DESIGN.md §3 "Scenarios are data".
 */

export type DeviceType = "rt-io" | "block" | "nic" | "dsp" | "uart";
/** exclusive = passthrough to one partition; emulated / paravirtual = shared through the VMM. */
export type DeviceMode = "exclusive" | "emulated" | "paravirtual";
export type IrqDelivery = "posted" | "exit-and-inject";
export type FaultAction = "log" | "restart" | "halt";
export type CacheLevelName = "l2" | "l3";

export interface ScenarioConfig {
  /** Short name (results carry it). */
  name: string;
  description: string;
  /** CPU profile id (src/cpu/profiles). */
  profile: string;
  seed: number;
  durationMs: number;
  quantumCycles: number;
  machine: MachineConfig;
  vmm: VmmConfig;
  cache: CacheConfig;
  devices: DeviceConfig[];
  partitions: PartitionConfig[];
}

export interface MachineConfig {
  /** 1 .. 8; partitions may use a subset. */
  cores: number;
  ramMiB: number;
}

export interface VmmConfig {
  /** Overrides of the declared handler and operation costs (vmm/costs.ts keys), in cycles. */
  costs: Record<string, number>;
  /** The core that takes the physical interrupts of the devices the VMM owns (shared devices). */
  serviceCore: number;
  /** Host memory the VMM keeps for itself (VMCS, vCPU and device-model state), placed first in RAM. */
  memoryMiB: number;
  /** Cache share of the VMM's own data: a class of service (cache.classes) and/or page colours. */
  clos: number | null;
  colours: number[] | null;
}

export interface CacheConfig {
  /** The level CAT masks and page colours apply to (default: the last level of the profile). */
  level: CacheLevelName;
  /** CAT classes of service: clos 0 is the default (all ways) unless listed. */
  classes: { clos: number; ways: number[] }[];
}

export interface DeviceConfig {
  name: string;
  type: DeviceType;
  /** The device model's own options (RtIoOptions, BlockOptions, NicOptions, DspOptions; none for uart). */
  options: Record<string, unknown>;
  /** Host-physical MMIO base of its registers (cards; default: assigned from FEB00000H, 4 KiB apart). */
  mmioBase: number | null;
  /** I/O port base (uart; default 3F8H, then 2F8H, 3E8H, 2E8H). */
  port: number | null;
  /** IOAPIC pin (default: uart 4, 3, ...; cards 16, 17, ...). */
  irq: number | null;
}

export interface PartitionDeviceConfig {
  /** A name from devices[]. */
  device: string;
  mode: DeviceMode;
  /** The guest vector its interrupts arrive on (default 40H + index in this list). */
  vector: number | null;
}

export interface PartitionConfig {
  name: string;
  /** Physical cores, one pinned vCPU each (vCPU i on cores[i]). */
  cores: number[];
  memoryMiB: number;
  /** Host-physical base in MiB (default: the next free range after the VMM and earlier partitions). */
  hostBaseMiB: number | null;
  /** Cache share: a CAT class of service and/or the page colours its memory is allocated from. */
  clos: number | null;
  colours: number[] | null;
  devices: PartitionDeviceConfig[];
  irqDelivery: IrqDelivery;
  onFault: FaultAction;
  guest: GuestConfig;
}

export type GuestConfig = RtosGuestConfig | GposLoadGuestConfig | DspOffloadGuestConfig | ImageGuestConfig | FaultGuestConfig;

export interface RtosGuestConfig {
  program: "rtos";
  scheduler: "fixed-priority" | "edf";
  timer: "tsc-deadline" | "one-shot";
  tasks: TaskConfig[];
  /** A cyclictest-style thread (highest priority) or null. */
  cyclictest: { intervalUs: number; priority: number } | null;
}

export interface TaskConfig {
  name: string;
  kind: "periodic" | "sporadic";
  /** periodic: the period; sporadic: the minimum inter-arrival (for the deadline-miss check only). */
  periodUs: number;
  /** Relative deadline (default: the period). */
  deadlineUs: number;
  /** Higher number = higher priority (fixed-priority scheduling; ignored by EDF). */
  priority: number;
  /** Execution time as calibrated work: the job runs the work loop for this many microseconds' worth. */
  workUs: number;
  /** Bytes the work loop walks (its working set; cache interference acts on it). */
  workingSetKiB: number;
  /** sporadic: the device (name) whose interrupt releases a job. */
  device: string | null;
  /** An I/O operation each job performs through its driver (after its work), or null. */
  io: { device: string; op: "read" | "write" | "tx" | "job" | "actuate"; bytes: number } | null;
}

export interface GposLoadGuestConfig {
  program: "gpos-load";
  /** One workload per vCPU (vCPU i runs vcpus[i % length]). */
  vcpus: GposWorkload[];
}

export type GposWorkload =
  | { kind: "cpu" }
  | { kind: "thrash"; bufferKiB: number; strideBytes: number; writes: boolean }
  | { kind: "io"; device: string; op: "read" | "write" | "tx"; bytes: number; intervalUs: number };

export interface DspOffloadGuestConfig {
  program: "dsp-offload";
  device: string;
  jobBytes: number;
  intervalUs: number;
  op: "crc32" | "scale" | "sum";
}

export interface ImageGuestConfig {
  program: "image";
  /** Path of a Multiboot ELF (relative to the scenario file). */
  image: string;
  cmdline: string;
}

/** A guest that runs normally for `afterUs`, then faults (for containment tests and demos). */
export interface FaultGuestConfig {
  program: "fault";
  afterUs: number;
  fault: "triple" | "ept" | "dma" | "ud";
}
