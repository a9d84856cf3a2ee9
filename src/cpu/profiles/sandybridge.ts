/**
 * CPU profile: Intel Core i7-2600 (Sandy Bridge, 32 nm), 3.4 GHz = 34 x 100 MHz BCLK, 256 KiB 8-way L2 per
 * core, 8 MiB 16-way inclusive L3 in four slices (one per core) on the ring, no CPUID leaf 15H.
 *
 * Follows: Intel SDM Vol. 2A CPUID (signature), Vol. 3A 10.5.4 (APIC timer at the bus clock: the 100 MHz
 * BCLK from Sandy Bridge on), Vol. 3B 17.17.1 (invariant TSC). Figures are tagged [read] / [published] /
 * [estimate] as sources.ts explains.
 *
 * Leaves out: the 512-entry STLB and the decoded-uop cache, Hyper-Threading, Turbo Boost, the per-slice
 * distance of the L3 (26-34 cycles by slice on the closely related Ivy Bridge: one average is used), and
 * the out-of-order overlap.
 */
import type { CpuProfile } from "../profile.ts";
import { nsToTicks } from "../../sim/clock.ts";
import { SRC } from "./sources.ts";
import { ROUND_TRIP_CYCLES, vmxCostsFor } from "../vmx/vmx-costs.ts";

const CORE_HZ = 3_400_000_000;
const BCLK_HZ = 100_000_000;

const L1_LATENCY = 4; // [read: TECHREPORT_SNBE (measured on Sandy Bridge-E), SEVENCPU_IVB]
const L3_LATENCY = 30; // [read: TECHREPORT_SNBE 30 on Sandy Bridge-E; SEVENCPU_IVB 26-34 by slice on the i7-3770]
const DIV = { 1: 25, 2: 25, 4: 25 }; // WriteDiv8/16/32 latency 25 [read: LLVM_SCHED_SNB]
const MUL = { 1: 3, 2: 4, 4: 4 }; // WriteIMul8/16/32 latency 3/4/4 [read: LLVM_SCHED_SNB]

export const SANDYBRIDGE: CpuProfile = {
  id: "sandybridge",
  name: "Intel Core i7-2600 (Sandy Bridge, 32 nm), 3.4 GHz, BCLK 100 MHz",
  sources: [
    SRC.LINUX_INTEL_FAMILY, SRC.SDM_CPUID_SIGNATURE, SRC.SDM_TSC, SRC.SDM_APIC_TIMER, SRC.LLVM_SCHED_SNB,
    SRC.TECHREPORT_SNBE, SRC.SEVENCPU_IVB, SRC.AGNER_MICROARCH, SRC.UOPS_INFO_HSW, SRC.LINUX_IO_DELAY, SRC.PCIE_RTT_HSW,
    SRC.SGX_STEP_IDT, SRC.SEVENCPU_WESTMERE, SRC.SHINJUKU_IPI, SRC.VMX_MD,
  ],
  // Family 6, model 2AH = INTEL_FAM6_SANDYBRIDGE [read: LINUX_INTEL_FAMILY]; stepping 7 = D2 [published:
  // Intel 2nd-generation Core spec update].
  cpuidSignature: 0x0002_06a7,
  coreHz: CORE_HZ,
  tscHz: CORE_HZ, // invariant TSC at the nominal 3.4 GHz [published: SDM_TSC]
  crystalHz: null,
  apicTimerHz: BCLK_HZ, // [read: SDM_APIC_TIMER] bus clock = BCLK 100 MHz
  costs: {
    // Same latency/throughput choice as core2-q6600.ts (see there).
    classes: {
      alu: 1, mov: 1, lea: 1, flag: 1, nop: 1, shift: 1, bit: 1, hlt: 1,
      load: L1_LATENCY,
      store: 1,
      stack: 1,
      mul: MUL[4],
      div: DIV[4],
      bcd: 3, // [estimate]
      branch: 1,
      call: 2, ret: 2, // [estimate]
      string: 4, // [estimate from UOPS_INFO_HSW MOVSB 4.0]
      io: 20, // [estimate] core-side part of IN/OUT
      rdtsc: 28, // [published: AGNER_TABLES] RDTSC on Sandy Bridge ~28 clocks
      serialize: 100,
      vmx: 1, // retirement only: VmxCosts (vmx/vmx-costs.ts) carries the VMX operations\' cost // [estimate] CPUID as measured on Haswell (UOPS_INFO_HSW 99.4); same microcode generation
      system: 60, // [estimate] as Haswell's LAR/LSL/VERR (UOPS_INFO_HSW 57-63)
      int: 150, // [estimate] see interruptDelivery
      xchg: 19, // [estimate] locked RMW as measured on Haswell (UOPS_INFO_HSW XCHG m,r 19.0)
      atomic: 19, // [estimate] as Haswell's LOCK CMPXCHG/XADD 19.0
    },
    divBySize: DIV,
    mulBySize: MUL,
    branchTakenExtra: 1, // [estimate] as measured on Haswell (UOPS_INFO_HSW JMP rel32 2.1 vs Jcc 0.5)
    repStartup: 22, // [estimate] Haswell's REP MOVSD 22.0 (UOPS_INFO_HSW)
    repPerElement: 1,
    interruptDelivery: 200, // [estimate] SGX-Step total 350 split 200 + 150 (see core2-q6600.ts)
    privilegeChangeExtra: 65, // [read: SGX_STEP_IDT] on a later CPU; assumed
  },
  caches: {
    l1i: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [published: AGNER_MICROARCH]
    l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 },
    l2: { sizeBytes: 256 * 1024, ways: 8, lineBytes: 64, latencyCycles: 12, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // 12 [read: TECHREPORT_SNBE]
    // 4 slices x 2 MiB, address-hashed; pseudo-LRU [read: SEVENCPU_IVB].
    l3: { sizeBytes: 8 * 1024 * 1024, ways: 16, lineBytes: 64, latencyCycles: L3_LATENCY, replacement: "tree-plru", sharedBy: 0, slices: 4 },
  },
  // [estimate] L3 lookup + ~60 ns DRAM (dual-channel DDR3-1333; the same order as Nehalem's ~60 ns local DRAM,
  // INTEL_NHM_PERF_GUIDE).
  memoryLatencyCycles: L3_LATENCY + nsToTicks(60, CORE_HZ),
  // [estimate] Nehalem's +35 cycles (INTEL_NHM_PERF_GUIDE) scaled to the higher clock of the ring.
  crossCoreTransferCycles: 45,
  tlb: {
    itlb: { entries: 128, ways: 4, largeEntries: 8 }, // [published: AGNER_MICROARCH]
    dtlb: { entries: 64, ways: 4, largeEntries: 32 }, // [published: AGNER_MICROARCH]; STLB 512 x 4-way not modelled
    pageWalkCycles: 20, // [estimate] (~23 on Westmere: SEVENCPU_WESTMERE)
  },
  bus: {
    portIoCycles: nsToTicks(1000, CORE_HZ), // ~1 us [read: LINUX_IO_DELAY; UOPS_INFO_HSW IN r,DX 3599 cycles on Haswell]
    mmioReadCycles: nsToTicks(850, CORE_HZ), // [estimate] Haswell's measured PCIe round trip (PCIE_RTT_HSW)
    mmioWriteCycles: 150, // [estimate]
    lapicAccessCycles: 40, // [estimate]
  },
  ipiLatencyCycles: 700, // [estimate] ~0.2 us ICR write to acceptance (see core2-q6600.ts)
  // VM exit + entry calibrated to the published round trip [read: VMX_MD]; VMX instruction costs [estimate]
  // (vmx/vmx-costs.ts explains both).
  vmx: vmxCostsFor(ROUND_TRIP_CYCLES.sandybridge, 1.2, 2 * 20), // 2 TLB refills of pageWalkCycles (vmxCostsFor)
};
