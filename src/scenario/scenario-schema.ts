/**
 * The shape of a scenario file (shared/DESIGN.md §3 "Scenarios are data"; issue 6 "Scenarios and the CLI"):
 * one zod schema whose output is exactly ScenarioConfig (config.ts) with every default filled in. Objects
 * are strict, so a misspelt key is an error; numbers carry their ranges; `.describe()` texts become the
 * descriptions of the exported JSON Schema (json-schema.ts) that editors use.
 *
 * Follows: our own format (config.ts documents each field). Ranges taken from the model: IOAPIC pins 0-23
 * (io-apic.ts, 24 pins); x86 vectors 20H-FEH (SDM Vol. 3A 6.2: 0-31 are reserved for exceptions, FFH is the
 * spurious vector by convention); CAT classes of service 0-15 (MemoryHierarchy's default closCount, as
 * CPUID.10H reports COS_MAX = 15 on Skylake-SP); ramMiB at most 3072 (RAM below the 3 GiB PCI hole,
 * where the cards' BARs, IOAPIC, HPET and local APIC sit); partition memory at least 2 MiB (guest images
 * are linked at GUEST_IMAGE_GPA = 1 MiB, vmm/abi.ts).
 * Leaves out: every check across objects (cores, names, references, memory, resources, cache geometry,
 * CPU capabilities): scenario-validate.ts does those once the shape is valid.
 */
import { z } from "zod";
import type {
  CacheLevelName, DeviceType, ScenarioConfig,
} from "./config.ts";
import { DEFAULT_VMM_COSTS, type VmmCostKey } from "../vmm/costs.ts";
import { PROFILES } from "../cpu/profiles/index.ts";

export const DEFAULT_SCENARIO_PROFILE = "skylake";
export const DEVICE_TYPES = ["rt-io", "block", "nic", "dsp", "uart"] as const satisfies readonly DeviceType[];
export const MAX_MACHINE_CORES = 8;
export const MAX_RAM_MIB = 3072;
export const MIN_PARTITION_MIB = 2;
export const IOAPIC_PINS = 24;
export const MIN_VECTOR = 0x20;
export const MAX_VECTOR = 0xfe;
export const MAX_CLOS = 15;

const COST_KEYS = Object.keys(DEFAULT_VMM_COSTS) as [VmmCostKey, ...VmmCostKey[]];
const PROFILE_IDS = Object.keys(PROFILES) as [string, ...string[]];

/** Names of devices, partitions and tasks: they become symbols and dotted stat paths. */
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const name = (what: string) =>
  z.string().regex(NAME_RE, `a ${what} name: a letter, then letters, digits, '_' or '-'`).describe(`The ${what}'s name`);

const int = () => z.number().int();
const count = (min: number, max?: number) => (max === undefined ? int().min(min) : int().min(min).max(max));
const positiveUs = () => z.number().positive();
const coreIndex = () => int().min(0).max(MAX_MACHINE_CORES - 1);
const clos = () => int().min(0).max(MAX_CLOS);
const colours = () => z.array(int().min(0)).min(1);

// ---- machine, VMM, cache ----

const machineSchema = z.strictObject({
  cores: count(1, MAX_MACHINE_CORES).default(4).describe("Physical cores (1-8)"),
  ramMiB: count(1, MAX_RAM_MIB).default(256).describe("RAM in MiB (at most 3072: below the PCI hole)"),
});

const vmmSchema = z.strictObject({
  costs: z.partialRecord(z.enum(COST_KEYS), count(0)).default({})
    .describe("Overrides of the declared VMM costs (vmm/costs.ts keys), in cycles"),
  serviceCore: coreIndex().default(0).describe("The core that takes the physical interrupts of the shared devices"),
  memoryMiB: count(1).default(16).describe("Host memory the VMM keeps for itself, placed first in RAM"),
  clos: clos().nullable().default(null).describe("CAT class of service of the VMM's own data (0 or one of cache.classes)"),
  colours: colours().nullable().default(null).describe("Page colours of the VMM's own data"),
});

const cacheSchema = z.strictObject({
  level: z.enum(["l2", "l3"]).optional().describe("The level CAT masks and page colours apply to (default: the profile's last level)"),
  classes: z.array(z.strictObject({
    clos: clos().describe("Class of service (0-15)"),
    ways: z.array(int().min(0)).min(1).describe("The ways it may fill: contiguous way indices (CAT masks are contiguous)"),
  })).default([]).describe("CAT classes of service; clos 0 has all ways unless listed"),
});

// ---- devices ----

const deviceSchema = z.strictObject({
  name: name("device"),
  type: z.enum(DEVICE_TYPES).describe("Device model: rt-io, block, nic, dsp (PCI cards) or uart (16550A)"),
  options: z.record(z.string(), z.unknown()).default({}).describe("The device model's own options (none for uart)"),
  mmioBase: int().min(0).max(0xffffffff).nullable().default(null)
    .describe("Host-physical MMIO base of a card's registers (default FEB00000H + 4 KiB x card index)"),
  port: int().min(0).max(0xffff).nullable().default(null).describe("I/O port base of a uart (default 3F8H, 2F8H, 3E8H, 2E8H)"),
  irq: int().min(0).max(IOAPIC_PINS - 1).nullable().default(null)
    .describe("IOAPIC pin (default: uarts 4, 3, 4, 3; cards 16 + card index)"),
});

const partitionDeviceSchema = z.strictObject({
  device: z.string().describe("A name from devices[]"),
  mode: z.enum(["exclusive", "emulated", "paravirtual"])
    .describe("exclusive = passthrough to this partition; emulated / paravirtual = shared through the VMM"),
  vector: int().min(MIN_VECTOR).max(MAX_VECTOR).nullable().default(null)
    .describe("Guest vector of its interrupts (default 40H + index in this list)"),
});

// ---- guests ----

const ioSchema = z.strictObject({
  device: z.string().describe("One of the partition's devices"),
  op: z.enum(["read", "write", "tx", "job", "actuate"]).describe("block: read/write; nic: tx; dsp: job; rt-io: actuate; uart: write"),
  bytes: count(1).describe("Bytes per operation (block: a multiple of 512)"),
});

const taskSchema = z.strictObject({
  name: name("task"),
  kind: z.enum(["periodic", "sporadic"]),
  periodUs: positiveUs().describe("Period (periodic) or minimum inter-arrival time (sporadic), microseconds"),
  deadlineUs: positiveUs().optional().describe("Relative deadline in microseconds (default: the period)"),
  priority: count(0).describe("Higher number = higher priority (fixed-priority scheduling)"),
  workUs: z.number().min(0).describe("Execution time as calibrated work, microseconds"),
  workingSetKiB: count(0).default(16).describe("Bytes the work loop walks, KiB"),
  device: z.string().nullable().default(null).describe("sporadic: the device whose interrupt releases a job"),
  io: ioSchema.nullable().default(null).describe("An I/O operation each job performs after its work"),
}).transform((t) => ({
  name: t.name, kind: t.kind, periodUs: t.periodUs, deadlineUs: t.deadlineUs ?? t.periodUs, priority: t.priority,
  workUs: t.workUs, workingSetKiB: t.workingSetKiB, device: t.device, io: t.io,
}));

const rtosSchema = z.strictObject({
  program: z.literal("rtos"),
  scheduler: z.enum(["fixed-priority", "edf"]).default("fixed-priority"),
  timer: z.enum(["tsc-deadline", "one-shot"]).default("tsc-deadline"),
  tasks: z.array(taskSchema).default([]),
  cyclictest: z.strictObject({
    intervalUs: positiveUs().describe("Sleep interval, microseconds"),
    priority: count(0),
  }).nullable().default(null).describe("A cyclictest-style wake-up latency thread, or null"),
});

const gposWorkloadSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("cpu") }),
  z.strictObject({
    kind: z.literal("thrash"),
    bufferKiB: count(1).describe("Buffer the thrasher walks, KiB"),
    strideBytes: count(1).describe("Stride between accesses, bytes"),
    writes: z.boolean().describe("Store as well as load"),
  }),
  z.strictObject({
    kind: z.literal("io"),
    device: z.string().describe("One of the partition's devices"),
    op: z.enum(["read", "write", "tx"]),
    bytes: count(1),
    intervalUs: positiveUs(),
  }),
]);

const gposSchema = z.strictObject({
  program: z.literal("gpos-load"),
  vcpus: z.array(gposWorkloadSchema).min(1).describe("One workload per vCPU (vCPU i runs vcpus[i % length])"),
});

const dspOffloadSchema = z.strictObject({
  program: z.literal("dsp-offload"),
  device: z.string().describe("A dsp card of the partition"),
  jobBytes: count(1),
  intervalUs: positiveUs(),
  op: z.enum(["crc32", "scale", "sum"]),
});

const imageSchema = z.strictObject({
  program: z.literal("image"),
  image: z.string().min(1).describe("Path of a Multiboot ELF, relative to the scenario file"),
  cmdline: z.string().default(""),
});

const faultSchema = z.strictObject({
  program: z.literal("fault"),
  afterUs: z.number().min(0).describe("Runs normally this long, then faults"),
  fault: z.enum(["triple", "ept", "dma", "ud"]),
});

const guestSchema = z.discriminatedUnion("program", [rtosSchema, gposSchema, dspOffloadSchema, imageSchema, faultSchema]);

// ---- partitions and the scenario ----

const partitionSchema = z.strictObject({
  name: name("partition"),
  cores: z.array(coreIndex()).min(1).describe("Physical cores, one pinned vCPU each (vCPU i on cores[i])"),
  memoryMiB: count(MIN_PARTITION_MIB, MAX_RAM_MIB).describe("Guest-physical memory, MiB"),
  hostBaseMiB: count(0, MAX_RAM_MIB).nullable().default(null)
    .describe("Host-physical base in MiB (default: placed automatically after the VMM and earlier partitions)"),
  clos: clos().nullable().default(null).describe("CAT class of service (0 or one of cache.classes)"),
  colours: colours().nullable().default(null).describe("Page colours its memory is allocated from"),
  devices: z.array(partitionDeviceSchema).default([]),
  irqDelivery: z.enum(["posted", "exit-and-inject"]).default("posted")
    .describe("posted (no exit per interrupt; needs APIC virtualization: haswell, skylake) or exit-and-inject"),
  onFault: z.enum(["log", "restart", "halt"]).default("log").describe("The health monitor's action on a fault"),
  guest: guestSchema,
});

/** The last cache level of a profile (the default cache.level); "l3" for an unknown id. */
export function lastCacheLevel(profileId: string): CacheLevelName {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, profileId) ? PROFILES[profileId] : undefined;
  return p !== undefined && p.caches.l3 === null ? "l2" : "l3";
}

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).describe("Short name (results carry it)"),
  description: z.string().describe("What the scenario shows"),
  profile: z.enum(PROFILE_IDS).default(DEFAULT_SCENARIO_PROFILE).describe("CPU profile id (src/cpu/profiles)"),
  seed: int().min(0).max(Number.MAX_SAFE_INTEGER).default(1).describe("Seed of every random stream"),
  durationMs: z.number().positive().default(100).describe("Simulated time to run, milliseconds"),
  quantumCycles: count(1).default(1000).describe("Cycles per core turn"),
  machine: machineSchema.prefault({}),
  vmm: vmmSchema.prefault({}),
  cache: cacheSchema.prefault({}),
  devices: z.array(deviceSchema).default([]),
  partitions: z.array(partitionSchema).min(1),
}).transform((s) => ({
  name: s.name, description: s.description, profile: s.profile, seed: s.seed, durationMs: s.durationMs,
  quantumCycles: s.quantumCycles, machine: s.machine, vmm: s.vmm,
  cache: { level: s.cache.level ?? lastCacheLevel(s.profile), classes: s.cache.classes },
  devices: s.devices, partitions: s.partitions,
}));

/** What a scenario file may contain (defaults optional). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
type ScenarioOutput = z.output<typeof scenarioSchema>;

// Compile-time: the schema's output and ScenarioConfig are assignable both ways (config.ts is the target).
type Assignable<A, B> = [A] extends [B] ? true : false;
const outputIsConfig: Assignable<ScenarioOutput, ScenarioConfig> = true;
const configIsOutput: Assignable<ScenarioConfig, ScenarioOutput> = true;
void outputIsConfig;
void configIsOutput;
