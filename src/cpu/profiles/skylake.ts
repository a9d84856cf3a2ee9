/**
 * CPU profile: Intel Xeon E3-1220 v5 (Skylake-S, 14 nm), 3.0 GHz, 4 cores, 256 KiB 4-way L2 per core,
 * 8 MiB 16-way inclusive L3 in four slices (one per core). The first generation here with CPUID leaf 15H:
 * a 24 MHz core crystal, TSC = 125 x crystal, and the APIC timer counting at the crystal. (An i7-6700 at
 * 3.4 GHz is the same die: override coreHz/tscHz, see docs/cpu-profiles.md.)
 *
 * Follows: Intel SDM Vol. 2A CPUID leaf 15H (TSC/crystal ratio) and leaf 01H (signature), Vol. 3A 10.5.4
 * (the APIC timer counts at the core crystal clock when leaf 15H enumerates it), Vol. 3B 17.17.1
 * (invariant TSC). Figures are tagged [read] / [published] / [estimate] as sources.ts explains.
 *
 * Leaves out: real Skylake client parts report CPUID.15H:ECX = 0 and leave the 24 MHz to a model table
 * (Linux hardcodes it); crystalHz is the value software ends up using. Also the 1536-entry STLB,
 * Hyper-Threading, Turbo Boost, per-slice L3 distance and the out-of-order overlap.
 */
import type { CpuProfile } from "../profile.ts";
import { nsToTicks } from "../../sim/clock.ts";
import { SRC } from "./sources.ts";
import { ROUND_TRIP_CYCLES, vmxCostsFor } from "../vmx/vmx-costs.ts";

const CORE_HZ = 3_000_000_000;
const CRYSTAL_HZ = 24_000_000; // [read: LINUX_TSC_CRYSTAL] SKYLAKE_DESKTOP (5EH): crystal_khz = 24000

const L1_LATENCY = 4; // [published: SEVENCPU_SKL]; LLVM's LoadLatency 5 includes complex addressing [read: LLVM_SCHED_SKL]
const L3_LATENCY = 42; // [published: SEVENCPU_SKL]
// DIV r8 21-25, r16 21-24, r32 23-28 (latency, upper end); reciprocal throughput 6 [read: UOPS_INFO_SKL]
const DIV = { 1: 25, 2: 24, 4: 28 };
// MUL r8 3, MUL r16 0-5, MUL r32 3-4 (one-operand form; IMUL r32,r32 is 3) [read: UOPS_INFO_SKL]
const MUL = { 1: 3, 2: 5, 4: 4 };

export const SKYLAKE: CpuProfile = {
  id: "skylake",
  name: "Intel Xeon E3-1220 v5 (Skylake-S, 14 nm), 3.0 GHz, 24 MHz crystal",
  sources: [
    SRC.LINUX_INTEL_FAMILY, SRC.LINUX_TSC_CRYSTAL, SRC.LINUX_LAPIC_CRYSTAL, SRC.SDM_CPUID_SIGNATURE, SRC.SDM_TSC,
    SRC.SDM_APIC_TIMER, SRC.UOPS_INFO_SKL, SRC.LLVM_SCHED_SKL, SRC.SEVENCPU_SKL, SRC.WIKICHIP_SKL, SRC.AGNER_MICROARCH,
    SRC.LINUX_IO_DELAY, SRC.PCIE_RTT_HSW, SRC.SGX_STEP_IDT, SRC.SEVENCPU_WESTMERE, SRC.SHINJUKU_IPI, SRC.VMX_MD,
  ],
  // Family 6, model 5EH = INTEL_FAM6_SKYLAKE (desktop/DT) [read: LINUX_INTEL_FAMILY, LINUX_TSC_CRYSTAL];
  // stepping 3 = R0 [published: Intel 6th-generation / E3-1200 v5 spec update].
  cpuidSignature: 0x0005_06e3,
  coreHz: CORE_HZ,
  tscHz: CORE_HZ, // invariant TSC at the nominal 3.0 GHz = 125 x 24 MHz, an exact CPUID.15H ratio [published: SDM_TSC]
  crystalHz: CRYSTAL_HZ,
  // The APIC timer counts at the crystal when leaf 15H enumerates it [read: SDM_APIC_TIMER], confirmed by
  // Linux setting lapic_timer_period from the crystal on Kaby Lake and later (same core and uncore as
  // Skylake client) [read: LINUX_LAPIC_CRYSTAL].
  apicTimerHz: CRYSTAL_HZ,
  costs: {
    // Same latency/throughput choice as core2-q6600.ts (see there).
    classes: {
      alu: 1, mov: 1, lea: 1, flag: 1, nop: 1, shift: 1, bit: 1, hlt: 1,
      load: L1_LATENCY,
      store: 1,
      stack: 1,
      mul: MUL[4],
      div: DIV[4],
      bcd: 3, // [estimate] not measured by uops.info (invalid in 64-bit mode)
      branch: 1,
      call: 2, ret: 2, // [estimate]
      string: 4, // MOVSB/MOVSD 4.0, CMPSB 4.0 [read: UOPS_INFO_SKL]
      io: 20, // [estimate] core-side part of IN/OUT
      rdtsc: 25, // [published: UOPS_INFO_SKL] RDTSC ~25 clocks
      serialize: 101,
      vmx: 1, // retirement only: VmxCosts (vmx/vmx-costs.ts) carries the VMX operations\' cost // CPUID 100.7 [read: UOPS_INFO_SKL]; INVLPG 211, MOV DR 201 in the same class
      system: 60, // LAR r,r 60.0, LSL 58, LGDT 121, LLDT 129 [read: UOPS_INFO_SKL]
      int: 150, // INT n total measured, split with interruptDelivery (see there)
      xchg: 18, // [estimate] = LOCK INC/DEC m 18.0 [read: UOPS_INFO_SKL]; XCHG m,r was not in the part read
      atomic: 18, // LOCK CMPXCHG 17.0, LOCK INC/DEC 18.0 [read: UOPS_INFO_SKL]
    },
    divBySize: DIV,
    mulBySize: MUL,
    branchTakenExtra: 1, // JMP rel32 2.12 vs Jcc (not taken) 0.5 [read: UOPS_INFO_SKL]
    repStartup: 25, // REP MOVSD 25.0, REP MOVSB 24.0 [read: UOPS_INFO_SKL] (short counts)
    repPerElement: 1, // [estimate] integer floor per element
    // INT n to the ring-0 handler: 348-354 TSC cycles (= core cycles at the nominal clock) on an SGX-capable
    // CPU [read: SGX_STEP_IDT]. The core charges INT n as classes.int + interruptDelivery, so the 350 is split
    // 200 (delivery, also paid by hardware interrupts) + 150 (the instruction; also IRET's cost) [estimate of the split].
    interruptDelivery: 200,
    privilegeChangeExtra: 65, // 400-418 from ring 3 vs 348-354 from ring 0 [read: SGX_STEP_IDT]
  },
  caches: {
    l1i: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [read: WIKICHIP_SKL]
    l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [read: WIKICHIP_SKL]
    l2: { sizeBytes: 256 * 1024, ways: 4, lineBytes: 64, latencyCycles: 12, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // 4-way [read: WIKICHIP_SKL]; 12 [published: SEVENCPU_SKL]
    // One 2 MiB slice per core [read: WIKICHIP_SKL]; adaptive policy on hardware, tree-PLRU here [estimate].
    l3: { sizeBytes: 8 * 1024 * 1024, ways: 16, lineBytes: 64, latencyCycles: L3_LATENCY, replacement: "tree-plru", sharedBy: 0, slices: 4 },
  },
  memoryLatencyCycles: L3_LATENCY + nsToTicks(51, CORE_HZ), // "RAM 42 cycles + 51 ns" [published: SEVENCPU_SKL]
  crossCoreTransferCycles: 55, // [estimate] Nehalem's +35 (INTEL_NHM_PERF_GUIDE) scaled to the longer Skylake L3 path
  tlb: {
    itlb: { entries: 128, ways: 8, largeEntries: 8 }, // [published: AGNER_MICROARCH]
    dtlb: { entries: 64, ways: 4, largeEntries: 32 }, // [published: AGNER_MICROARCH]; STLB 1536 x 12-way not modelled
    pageWalkCycles: 20, // [estimate] (~23 on Westmere: SEVENCPU_WESTMERE)
  },
  bus: {
    // ~1 us [read: LINUX_IO_DELAY]. uops.info's Skylake machine measured IN at 12,100-14,900 cycles
    // (UOPS_INFO_SKL): port I/O is at least this slow and varies with the platform.
    portIoCycles: nsToTicks(1000, CORE_HZ),
    mmioReadCycles: nsToTicks(850, CORE_HZ), // [estimate] Haswell's measured PCIe round trip (PCIE_RTT_HSW)
    mmioWriteCycles: 150, // [estimate]
    lapicAccessCycles: 40, // [estimate]
  },
  ipiLatencyCycles: 700, // [estimate] (see core2-q6600.ts)
  // VM exit + entry calibrated to the published round trip [read: VMX_MD]; VMX instruction costs [estimate]
  // (vmx/vmx-costs.ts explains both).
  vmx: vmxCostsFor(ROUND_TRIP_CYCLES.skylake, 1.0, 2 * 20), // 2 TLB refills of pageWalkCycles (vmxCostsFor)
};
