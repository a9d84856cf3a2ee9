/**
 * A CPU profile: everything about a processor generation that the timing model needs, as plain data
 * (shared/DESIGN.md §4, issue "Quad-core platform"): clock frequencies, the cost of each instruction
 * class, the cache and TLB geometry with latencies, the bus latency of device accesses and the
 * interrupt-delivery costs. Profiles live in cpu/profiles/, one file each, with the sources of their
 * figures cited next to the numbers; a scenario may override any field (overrideProfile).
 *
 * Units: cycles of the core clock unless a field name says otherwise (Hz, bytes).
 */
import type { TimingClass } from "./isa/types.ts";

export type Replacement = "lru" | "tree-plru";

export interface CacheGeometry {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
  /** Load-to-use latency of a hit in this level, in core cycles. */
  latencyCycles: number;
  replacement: Replacement;
  /** Cores sharing one instance: 1 = private per core, 2 = one per pair of cores (Core 2 Quad's L2),
   * 0 = one for all cores. */
  sharedBy: number;
  /** Address-hashed slices of a shared level (1 = not sliced). Sets are divided among slices. */
  slices: number;
}

export interface TlbGeometry {
  /** Entries for 4 KiB pages. */
  entries: number;
  ways: number;
  /** Entries for large (4 MiB / 2 MiB) pages. */
  largeEntries: number;
}

/** Cycles of each instruction timing class (isa/types.ts), plus the costs that depend on operands. */
export interface InstructionCosts {
  /** Base cost per timing class. A memory operand's L1 hit is included in the class cost; misses add
   * the latency of the level that hit minus the L1 latency. */
  classes: Record<TimingClass, number>;
  /** DIV/IDIV cost by operand size in bytes (replaces classes.div). */
  divBySize: { 1: number; 2: number; 4: number };
  /** MUL/IMUL cost by operand size in bytes (replaces classes.mul). */
  mulBySize: { 1: number; 2: number; 4: number };
  /** Extra cycles when a conditional branch (Jcc, LOOP, JCXZ) is taken. */
  branchTakenExtra: number;
  /** A REP string instruction: start-up cost, then per element. */
  repStartup: number;
  repPerElement: number;
  /** Delivering an interrupt or exception through the IDT (to a handler at the same privilege level). */
  interruptDelivery: number;
  /** Extra for a delivery that switches stacks (ring 3 -> 0). */
  privilegeChangeExtra: number;
}

export interface BusCosts {
  /** An IN/OUT to a device port (ISA/LPC cycle through the chipset), in core cycles. */
  portIoCycles: number;
  /** An uncached MMIO read of a device register (round trip over PCIe or the chipset). */
  mmioReadCycles: number;
  /** An MMIO write (posted: the core waits only until the write leaves its buffer). */
  mmioWriteCycles: number;
  /** A local APIC register access (on the core, xAPIC MMIO or x2APIC MSR). */
  lapicAccessCycles: number;
}

export interface CpuProfile {
  /** Short id used in scenarios: "core2-q6600", "skylake". */
  id: string;
  /** Marketing name and generation. */
  name: string;
  /** Where the figures come from: one line per source. */
  sources: string[];
  /** CPUID.1:EAX signature (family/model/stepping). */
  cpuidSignature: number;
  /** Core clock = tick rate. */
  coreHz: number;
  /** Invariant TSC rate (the nominal frequency). */
  tscHz: number;
  /** Core crystal clock reported by CPUID 0x15 (null: the CPU has no leaf 0x15). */
  crystalHz: number | null;
  /** Clock of the local APIC timer before its divider: the crystal on CPUs with leaf 0x15, the bus
   * (FSB) clock on older ones. */
  apicTimerHz: number;
  costs: InstructionCosts;
  caches: {
    l1i: CacheGeometry;
    l1d: CacheGeometry;
    l2: CacheGeometry;
    l3: CacheGeometry | null;
  };
  /** Latency of a miss in the last level (DRAM access), in core cycles. */
  memoryLatencyCycles: number;
  /** Extra cycles when the line is modified in another core's private cache (snoop hit, transfer). */
  crossCoreTransferCycles: number;
  tlb: {
    itlb: TlbGeometry;
    dtlb: TlbGeometry;
    /** Fixed cost of a page walk (its memory accesses go through the caches on top). */
    pageWalkCycles: number;
  };
  bus: BusCosts;
  /** Time from an ICR write to the IPI arriving at the target local APIC. */
  ipiLatencyCycles: number;
  /** VT-x transition and VMX-instruction costs (vmx/vmx-costs.ts explains the split). */
  vmx: VmxCosts;
}

/**
 * What the VMX transitions and instructions cost on a generation, in core cycles, beyond the memory
 * traffic the model charges through the caches (the VMCS region's lines, the host stack, MSR lists, page
 * walks after a TLB flush). A bare round trip (guest CPUID, minimal host stub) is
 * vmExitCycles + vmEntryCycles + the stub, calibrated to shared/reference/vmx.md 1a.
 */
export interface VmxCosts {
  /** VM exit: recording the exit, saving guest state, loading host state (microcode). */
  vmExitCycles: number;
  /** VMLAUNCH/VMRESUME: the checks of SDM 26.2/26.3 and loading guest state (microcode). */
  vmEntryCycles: number;
  vmreadCycles: number;
  vmwriteCycles: number;
  /** VMPTRLD of a VMCS that is not the current one (the current one: vmreadCycles). */
  vmptrldCycles: number;
  vmclearCycles: number;
  vmxonCycles: number;
  vmxoffCycles: number;
  inveptCycles: number;
  invvpidCycles: number;
  /** Each entry of an MSR-load or MSR-store list (beyond reading the list's memory). */
  msrListEntryCycles: number;
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends object
    ? NonNullable<T[K]> extends unknown[] ? T[K] : DeepPartial<NonNullable<T[K]>> | Extract<T[K], null>
    : T[K];
};
export type ProfileOverride = DeepPartial<CpuProfile>;

/** A copy of `base` with the fields of `override` replaced (nested objects merged field by field). */
export function overrideProfile(base: CpuProfile, override: ProfileOverride): CpuProfile {
  return merge(base, override) as CpuProfile;
}

function merge(a: unknown, b: unknown): unknown {
  if (b === undefined) return structuredClone(a);
  if (a === null || typeof a !== "object" || Array.isArray(a) || b === null || typeof b !== "object" || Array.isArray(b)) {
    return structuredClone(b);
  }
  const out: Record<string, unknown> = {};
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of Object.keys(ao)) out[k] = merge(ao[k], bo[k]);
  for (const k of Object.keys(bo)) if (!(k in ao)) out[k] = structuredClone(bo[k]);
  return out;
}

/** The cost of one decoded instruction of `cls` with operation size `osize` under `costs`. */
export function instructionCost(costs: InstructionCosts, cls: TimingClass, osize: number): number {
  if (cls === "div") return costs.divBySize[osize as 1 | 2 | 4] ?? costs.classes.div;
  if (cls === "mul") return costs.mulBySize[osize as 1 | 2 | 4] ?? costs.classes.mul;
  return costs.classes[cls];
}
