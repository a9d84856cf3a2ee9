/**
 * CPU profile: Intel Core i7-4770 (Haswell, 22 nm), 3.4 GHz = 34 x 100 MHz BCLK, 256 KiB 8-way L2 per
 * core, 8 MiB 16-way inclusive L3 in four slices (one per core), no CPUID leaf 15H. Most instruction
 * costs here are uops.info measurements of this microarchitecture.
 *
 * Follows: Intel SDM Vol. 2A CPUID (signature), Vol. 3A 10.5.4 (APIC timer at the 100 MHz BCLK), Vol. 3B
 * 17.17.1 (invariant TSC). Figures are tagged [read] / [published] / [estimate] as sources.ts explains.
 *
 * Leaves out: the 1024-entry STLB, Hyper-Threading, Turbo Boost, TSX, per-slice L3 distance, and the
 * out-of-order overlap.
 */
import type { CpuProfile } from "../profile.ts";
import { nsToTicks } from "../../sim/clock.ts";
import { SRC } from "./sources.ts";
import { ROUND_TRIP_CYCLES, vmxCostsFor } from "../vmx/vmx-costs.ts";

const CORE_HZ = 3_400_000_000;
const BCLK_HZ = 100_000_000; // "Multiplier x Bus Speed 39.0 x 100.0 MHz" (turbo bin) [read: CPUZ_I7_4770]

const L1_LATENCY = 4; // [published: SEVENCPU_HSW]; LLVM's LoadLatency 5 includes complex addressing [read: LLVM_SCHED_HSW]
const L3_LATENCY = 36; // [published: SEVENCPU_HSW]
// DIV r8 20-24, r16 20-25, r32 20-28 (latency, upper end); reciprocal throughput 9 [read: UOPS_INFO_HSW]
const DIV = { 1: 24, 2: 25, 4: 28 };
// MUL r8 3, MUL r16 0-5, MUL r32 3-4 (one-operand form; IMUL r32,r32 is 3) [read: UOPS_INFO_HSW]
const MUL = { 1: 3, 2: 5, 4: 4 };

export const HASWELL: CpuProfile = {
  id: "haswell",
  name: "Intel Core i7-4770 (Haswell, 22 nm), 3.4 GHz, BCLK 100 MHz",
  sources: [
    SRC.CPUZ_I7_4770, SRC.LINUX_INTEL_FAMILY, SRC.SDM_CPUID_SIGNATURE, SRC.SDM_TSC, SRC.SDM_APIC_TIMER, SRC.UOPS_INFO_HSW,
    SRC.LLVM_SCHED_HSW, SRC.SEVENCPU_HSW, SRC.HSW_TLB_SUMMARY, SRC.AGNER_MICROARCH, SRC.LINUX_IO_DELAY, SRC.PCIE_RTT_HSW,
    SRC.SGX_STEP_IDT, SRC.SEVENCPU_WESTMERE, SRC.SHINJUKU_IPI, SRC.VMX_MD,
  ],
  // "CPUID 6.C.3, Extended CPUID 6.3C": family 6, model 3CH (= INTEL_FAM6_HASWELL), stepping 3 (C0)
  // [read: CPUZ_I7_4770, LINUX_INTEL_FAMILY].
  cpuidSignature: 0x0003_06c3,
  coreHz: CORE_HZ,
  tscHz: CORE_HZ, // invariant TSC at the nominal 3.4 GHz [published: SDM_TSC]
  crystalHz: null,
  apicTimerHz: BCLK_HZ, // [read: SDM_APIC_TIMER]
  costs: {
    // Same latency/throughput choice as core2-q6600.ts (see there).
    classes: {
      alu: 1, mov: 1, lea: 1, flag: 1, nop: 1, shift: 1, bit: 1, hlt: 1,
      load: L1_LATENCY,
      store: 1,
      stack: 1, // PUSH/POP reciprocal throughput 1.0 / 0.5 [read: UOPS_INFO_HSW]
      mul: MUL[4],
      div: DIV[4],
      bcd: 3, // [estimate] not measured by uops.info (invalid in 64-bit mode)
      branch: 1,
      call: 2, ret: 2, // [estimate] (uops.info's RET_NEAR 28.9 measures a mispredicted return stack, not a call/return pair)
      string: 4, // MOVSB/MOVSD 4.0, LODSB 1.2, CMPSB 4.0 [read: UOPS_INFO_HSW]
      io: 20, // [estimate] the core-side part; the measured 3600-7400 cycles of IN/OUT are the bus round trip (bus.portIoCycles)
      rdtsc: 24, // RDTSC 24 [read: UOPS_INFO_HSW]
      serialize: 100,
      vmx: 1, // retirement only: VmxCosts (vmx/vmx-costs.ts) carries the VMX operations\' cost // CPUID 99.4 [read: UOPS_INFO_HSW]; also WRMSR 137, RDMSR 92, INVLPG 208, RDTSC 24 in the same class
      system: 62, // LAR r,r 62.0; LSL 57; VERR 63; LGDT/LIDT 120, LLDT 128 [read: UOPS_INFO_HSW]
      int: 150, // [estimate] see interruptDelivery
      xchg: 19, // XCHG m32,r32 19.0 (implicitly locked) [read: UOPS_INFO_HSW]
      atomic: 19, // LOCK CMPXCHG / LOCK XADD 19.0 [read: UOPS_INFO_HSW]
    },
    divBySize: DIV,
    mulBySize: MUL,
    branchTakenExtra: 1, // JMP rel32 2.12 vs Jcc (not taken) 0.5 [read: UOPS_INFO_HSW]: ~1 more cycle when taken
    repStartup: 22, // REP MOVSD 22.0, REP MOVSB 30.1 [read: UOPS_INFO_HSW] (short counts)
    repPerElement: 1, // [estimate] fast strings: 16-32 B/cycle; 1 is the integer floor per element
    interruptDelivery: 200, // [estimate] SGX-Step total 350 for INT n split 200 + 150 (see core2-q6600.ts)
    privilegeChangeExtra: 65, // [read: SGX_STEP_IDT] on a later CPU; assumed
  },
  caches: {
    l1i: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [published: AGNER_MICROARCH]
    l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 },
    l2: { sizeBytes: 256 * 1024, ways: 8, lineBytes: 64, latencyCycles: 12, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [published: SEVENCPU_HSW]
    // 4 slices x 2 MiB [published: SEVENCPU_HSW]. Haswell's LLC policy is adaptive; tree-PLRU is the stand-in [estimate].
    l3: { sizeBytes: 8 * 1024 * 1024, ways: 16, lineBytes: 64, latencyCycles: L3_LATENCY, replacement: "tree-plru", sharedBy: 0, slices: 4 },
  },
  memoryLatencyCycles: L3_LATENCY + nsToTicks(57, CORE_HZ), // "RAM 36 cycles + 57 ns" [published: SEVENCPU_HSW]
  crossCoreTransferCycles: 50, // [estimate] Nehalem's +35 (INTEL_NHM_PERF_GUIDE) scaled to the ring at core clock
  tlb: {
    itlb: { entries: 128, ways: 8, largeEntries: 8 }, // [published: AGNER_MICROARCH]
    dtlb: { entries: 64, ways: 4, largeEntries: 32 }, // [read: HSW_TLB_SUMMARY]; STLB 1024 x 8-way not modelled
    pageWalkCycles: 20, // [estimate] (~23 on Westmere: SEVENCPU_WESTMERE)
  },
  bus: {
    portIoCycles: 3600, // IN AL,DX 3599 cycles (OUT 4800-7400 by port) [read: UOPS_INFO_HSW]: ~1 us, as LINUX_IO_DELAY says
    mmioReadCycles: nsToTicks(850, CORE_HZ), // PCIe round trip ~850 ns on an i7-4771 [read: PCIE_RTT_HSW]
    mmioWriteCycles: 150, // [estimate]
    lapicAccessCycles: 40, // [estimate]
  },
  ipiLatencyCycles: 700, // [estimate] (see core2-q6600.ts)
  // VM exit + entry calibrated to the published round trip [read: VMX_MD]; VMX instruction costs [estimate]
  // (vmx/vmx-costs.ts explains both).
  vmx: vmxCostsFor(ROUND_TRIP_CYCLES.haswell, 1.0, 2 * 20), // 2 TLB refills of pageWalkCycles (vmxCostsFor)
};
