/**
 * CPU profile: Intel Core i7-920 (Bloomfield, Nehalem microarchitecture, 45 nm), 2.66 GHz = 20 x 133.33
 * MHz BCLK, 256 KiB 8-way L2 per core, 8 MiB 16-way inclusive L3 shared by the four cores, integrated
 * memory controller (triple-channel DDR3), QPI to the X58 IOH, no CPUID leaf 15H.
 *
 * Follows: Intel SDM Vol. 2A CPUID (signature), Vol. 3A 10.5.4 (APIC timer at the bus clock = BCLK on
 * this generation), Vol. 3B 17.17.1 (invariant TSC, first on Nehalem). Figures are tagged [read] /
 * [published] / [estimate] as sources.ts explains.
 *
 * Leaves out: the 512-entry second-level TLB (TlbGeometry has one level; its effect is folded into
 * pageWalkCycles), Hyper-Threading (the profile describes one logical processor per core), Turbo Boost
 * (the core runs at the nominal clock), the loop stream detector and the out-of-order overlap.
 */
import type { CpuProfile } from "../profile.ts";
import { nsToTicks } from "../../sim/clock.ts";
import { SRC } from "./sources.ts";
import { ROUND_TRIP_CYCLES, vmxCostsFor } from "../vmx/vmx-costs.ts";

const BCLK_HZ = 133_333_333; // [published] Bloomfield BCLK 133.33 MHz
const CORE_HZ = 2_666_666_667; // 20 x BCLK, the i7-920's nominal 2.66 GHz

const L1_LATENCY = 4; // ~4 cycles [read: INTEL_NHM_PERF_GUIDE, UMBC_NEHALEM]
const L3_LATENCY = 40; // unshared line ~40 cycles [read: INTEL_NHM_PERF_GUIDE]
const DIV = { 1: 21, 2: 22, 4: 28 }; // DIV r32 17-28 [read: SNIPER_NEHALEM]; r8 up to 21, r16 up to 22 [published: AGNER_TABLES Nehalem]
const MUL = { 1: 3, 2: 5, 4: 5 }; // MUL r8 3; r16/r32 one-operand 5 [published: AGNER_TABLES Nehalem]; IMUL r,r 3 [read: SNIPER_NEHALEM]

export const NEHALEM: CpuProfile = {
  id: "nehalem",
  name: "Intel Core i7-920 (Bloomfield, Nehalem, 45 nm), 2.66 GHz, BCLK 133 MHz",
  sources: [
    SRC.LINUX_INTEL_FAMILY, SRC.SDM_CPUID_SIGNATURE, SRC.SDM_TSC, SRC.SDM_APIC_TIMER, SRC.INTEL_NHM_PERF_GUIDE,
    SRC.UMBC_NEHALEM, SRC.SNIPER_NEHALEM, SRC.AGNER_TABLES, SRC.AGNER_MICROARCH, SRC.UOPS_INFO_HSW, SRC.LINUX_IO_DELAY,
    SRC.SGX_STEP_IDT, SRC.SEVENCPU_WESTMERE, SRC.PCIE_RTT_HSW, SRC.SHINJUKU_IPI, SRC.VMX_MD,
  ],
  // Family 6, model 1AH (extended model 1, model AH) = INTEL_FAM6_NEHALEM_EP, which covers Bloomfield i7-9xx
  // [read: LINUX_INTEL_FAMILY]; stepping 5 = D0 (C0/C1 parts report 106A4H) [published: Intel i7-900 spec update].
  cpuidSignature: 0x0001_06a5,
  coreHz: CORE_HZ,
  tscHz: CORE_HZ, // invariant TSC at the nominal frequency [published: SDM_TSC]
  crystalHz: null,
  apicTimerHz: BCLK_HZ, // bus clock = BCLK [read: SDM_APIC_TIMER]
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
      rdtsc: 24, // [published: AGNER_TABLES] RDTSC on Nehalem ~24 clocks
      serialize: 120,
      vmx: 1, // retirement only: VmxCosts (vmx/vmx-costs.ts) carries the VMX operations\' cost // [estimate] CPUID: between Core 2's and Haswell's 99.4 (UOPS_INFO_HSW)
      system: 60, // [estimate] as Haswell's LAR/LSL/VERR (UOPS_INFO_HSW 57-63)
      int: 150, // [estimate] see interruptDelivery
      xchg: 20, // [estimate] locked RMW ~20 (Haswell measures 19: UOPS_INFO_HSW)
      atomic: 20, // [estimate]
    },
    divBySize: DIV,
    mulBySize: MUL,
    branchTakenExtra: 1, // [estimate] one fetch bubble, as measured on Haswell (UOPS_INFO_HSW JMP rel32 2.1)
    repStartup: 22, // [estimate] Haswell's measured REP MOVSD (UOPS_INFO_HSW 22.0) assumed
    repPerElement: 1, // [estimate] integer floor
    interruptDelivery: 200, // [estimate] the SGX-Step total (350 for INT n) split 200 + 150, as for Core 2
    privilegeChangeExtra: 65, // [read: SGX_STEP_IDT] on a later CPU; assumed
  },
  caches: {
    l1i: { sizeBytes: 32 * 1024, ways: 4, lineBytes: 64, latencyCycles: 3, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // 4-way, 3 cycles [read: UMBC_NEHALEM]
    l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [read: UMBC_NEHALEM]
    l2: { sizeBytes: 256 * 1024, ways: 8, lineBytes: 64, latencyCycles: 10, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // ~10 [read: INTEL_NHM_PERF_GUIDE]
    // 8 MiB 16-way inclusive, one for the package [read: UMBC_NEHALEM]; Bloomfield's L3 sits on a crossbar,
    // not an address-hashed ring, so it is one slice. Replacement undocumented: tree-PLRU [estimate].
    l3: { sizeBytes: 8 * 1024 * 1024, ways: 16, lineBytes: 64, latencyCycles: L3_LATENCY, replacement: "tree-plru", sharedBy: 0, slices: 1 },
  },
  // L3 miss = L3 lookup + local DRAM ~60 ns [read: INTEL_NHM_PERF_GUIDE].
  memoryLatencyCycles: L3_LATENCY + nsToTicks(60, CORE_HZ),
  // "L3 hit, modified in another core ~75 cycles" vs ~40 unshared: 35 extra [read: INTEL_NHM_PERF_GUIDE].
  crossCoreTransferCycles: 75 - L3_LATENCY,
  tlb: {
    itlb: { entries: 128, ways: 4, largeEntries: 7 }, // 7 large-page entries per thread [published: AGNER_MICROARCH]
    dtlb: { entries: 64, ways: 4, largeEntries: 32 }, // [published: AGNER_MICROARCH]; STLB 512 x 4-way not modelled
    pageWalkCycles: 20, // [estimate] (~23 on Westmere: SEVENCPU_WESTMERE)
  },
  bus: {
    portIoCycles: nsToTicks(1000, CORE_HZ), // ~1 us [read: LINUX_IO_DELAY]
    mmioReadCycles: nsToTicks(1000, CORE_HZ), // [estimate] QPI hop to the X58 IOH then PCIe: a little above Haswell's 850 ns (PCIE_RTT_HSW)
    mmioWriteCycles: 150, // [estimate]
    lapicAccessCycles: 40, // [estimate]
  },
  ipiLatencyCycles: 800, // [estimate] ~0.3 us ICR write to acceptance (see core2-q6600.ts)
  // VM exit + entry calibrated to the published round trip [read: VMX_MD]; VMX instruction costs [estimate]
  // (vmx/vmx-costs.ts explains both).
  vmx: vmxCostsFor(ROUND_TRIP_CYCLES.nehalem, 1.5, 2 * 20), // 2 TLB refills of pageWalkCycles (vmxCostsFor)
};
