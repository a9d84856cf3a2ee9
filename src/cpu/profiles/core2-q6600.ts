/**
 * CPU profile: Intel Core 2 Quad Q6600 (Kentsfield: two Core-microarchitecture dies of the Merom/Conroe
 * family on one package), 2.4 GHz, FSB 1066 MT/s (bus clock 266.67 MHz), 2 x 4 MiB L2 each shared by the
 * two cores of a die, no L3, no CPUID leaf 15H. The project's default profile.
 *
 * Follows: Intel SDM Vol. 2A CPUID (signature layout), Vol. 3A 10.5.4 (the APIC timer counts at the bus
 * clock on parts without leaf 15H), Vol. 3B 17.17 (Core 2: constant-rate TSC at the maximum core/bus
 * ratio). Figures are tagged [read] / [published] / [estimate] as sources.ts explains.
 *
 * Leaves out: the cross-die penalty as a separate figure (crossCoreTransferCycles is one number: the
 * cross-die case is used), DTLB0 (16 entries in front of the 256-entry DTLB), branch misprediction,
 * macro-fusion and the out-of-order overlap of independent instructions (costs are per instruction).
 */
import type { CpuProfile } from "../profile.ts";
import { nsToTicks } from "../../sim/clock.ts";
import { SRC } from "./sources.ts";
import { ROUND_TRIP_CYCLES, vmxCostsFor } from "../vmx/vmx-costs.ts";

const CORE_HZ = 2_400_000_000;
// FSB 1066 MT/s is quad-pumped: 1066.67 / 4 = 266.67 MHz bus clock; 9 x 266.67 = 2400 MHz. [read: WIKI_KENTSFIELD]
const BUS_HZ = 266_666_667;

const L1_LATENCY = 3; // Intel optimization manual 2.1.4 (Core): 3-cycle load-to-use L1D hit. [published: INTEL_OPT_CORE]
const DIV = { 1: 18, 2: 26, 4: 42 }; // DIV r8 18, r16 18-26, r32 18-42 (data-dependent; upper bound taken). [published: AGNER_TABLES Merom]
const MUL = { 1: 3, 2: 5, 4: 5 }; // MUL r8 3, MUL r16 5, MUL r32 5 (one-operand, widening form). [published: AGNER_TABLES Merom]

export const CORE2_Q6600: CpuProfile = {
  id: "core2-q6600",
  name: "Intel Core 2 Quad Q6600 (Kentsfield, Core microarchitecture, 65 nm), 2.4 GHz, FSB 1066",
  sources: [
    SRC.WIKI_KENTSFIELD, SRC.LINUX_INTEL_FAMILY, SRC.SDM_CPUID_SIGNATURE, SRC.SDM_TSC, SRC.SDM_APIC_TIMER,
    SRC.INTEL_OPT_CORE, SRC.XBIT_KENTSFIELD_L2, SRC.AGNER_TABLES, SRC.AGNER_MICROARCH, SRC.UOPS_INFO_HSW,
    SRC.LINUX_IO_DELAY, SRC.SGX_STEP_IDT, SRC.SEVENCPU_WESTMERE, SRC.SHINJUKU_IPI, SRC.VMX_MD,
  ],
  // Family 6, model 0FH (Merom/Conroe/Kentsfield), stepping 0BH = G0 (B3 parts report 06F7H). Kentsfield's
  // CPUID code is 06Fx [read: WIKI_KENTSFIELD]; model 0FH = INTEL_FAM6_CORE2_MEROM [read: LINUX_INTEL_FAMILY];
  // the G0 stepping number is from Intel's Q6600 spec update [published].
  cpuidSignature: 0x0000_06fb,
  coreHz: CORE_HZ,
  // Constant-rate TSC at the maximum non-turbo ratio (Core 2 has no turbo): = core clock. [published: SDM_TSC]
  tscHz: CORE_HZ,
  crystalHz: null, // no CPUID leaf 15H before Skylake
  // The APIC timer counts at the bus clock (FSB base clock). [read: SDM_APIC_TIMER]
  apicTimerHz: BUS_HZ,
  costs: {
    // Choice per class: 1-cycle classes are throughput-bound (the real core retires up to 4 of them per
    // cycle; 1 is the floor of a per-instruction model). Loads cost the L1 latency (so an Lx hit costs
    // exactly Lx's latency); long-latency classes (MUL, DIV, serializing, locked, microcoded) cost their
    // latency, the upper end of data-dependent ranges, since the users ask for worst cases.
    classes: {
      alu: 1, mov: 1, lea: 1, flag: 1, nop: 1, shift: 1, bit: 1, hlt: 1,
      load: L1_LATENCY,
      store: 1, // retires into the store buffer
      stack: 1, // stack engine: PUSH/POP throughput 1 [published: AGNER_MICROARCH]
      mul: MUL[4],
      div: DIV[4],
      bcd: 3, // [estimate] DAA/AAA-style adjusts: a few uops; no compiler emits them
      branch: 1, // not taken; taken adds branchTakenExtra
      call: 2, ret: 2, // [estimate] CALL/RET reciprocal throughput ~2 on the Core family (uops.info HSW RET is microcode-bound and not comparable)
      string: 4, // one non-REP MOVS/STOS/LODS: ~4-5 uops [estimate from UOPS_INFO_HSW MOVSB 4.0]
      io: 20, // [estimate] the core-side part of IN/OUT; the chipset round trip is bus.portIoCycles
      rdtsc: 65, // [published: AGNER_TABLES] RDTSC on Merom/Penryn ~64 clocks
      serialize: 150,
      vmx: 1, // retirement only: VmxCosts (vmx/vmx-costs.ts) carries the VMX operations\' cost // [estimate] CPUID on Core 2: Agner lists ~100-200 clocks; between that and the ~100 of Haswell (UOPS_INFO_HSW CPUID 99.4)
      system: 60, // [estimate] LAR/LSL/VERR-class descriptor instructions: 57-63 on Haswell (UOPS_INFO_HSW), assumed no faster here
      int: 150, // [estimate] IRET (and INT n's own part); see interruptDelivery
      xchg: 20, // XCHG with memory is implicitly locked [estimate: locked RMW ~20 clocks, AGNER_MICROARCH]
      atomic: 20, // LOCK XADD/CMPXCHG [estimate: as xchg]
    },
    divBySize: DIV,
    mulBySize: MUL,
    branchTakenExtra: 1, // [estimate] a taken branch costs one fetch bubble (uops.info HSW: JMP rel32 2.1 vs Jcc not taken 0.5)
    repStartup: 20, // [estimate] REP MOVS start-up tens of clocks on the Core family [AGNER_MICROARCH]; below Haswell's measured 22
    repPerElement: 1, // [estimate] fast strings move 8-16 B/clock; 1 is the model's integer floor per element
    // INT n to the handler measured 350 TSC cycles on an SGX-capable (Skylake+) CPU [read: SGX_STEP_IDT]; no
    // Core 2 measurement found [estimate]: the same total is used, split as delivery 200 + class int 150.
    interruptDelivery: 200,
    privilegeChangeExtra: 65, // ring 3 -> 0 adds ~65 (415 vs 350) on the SGX-Step machine [read: SGX_STEP_IDT]; assumed here
  },
  caches: {
    l1i: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [published: AGNER_MICROARCH]; latency assumed = L1D
    l1d: { sizeBytes: 32 * 1024, ways: 8, lineBytes: 64, latencyCycles: L1_LATENCY, replacement: "tree-plru", sharedBy: 1, slices: 1 }, // [read: INTEL_OPT_CORE]
    // 4 MiB 16-way per die, shared by its 2 cores; 14 cycles (CPU-Z on Kentsfield). [read: XBIT_KENTSFIELD_L2, WIKI_KENTSFIELD]
    // Replacement: Intel does not document it; tree-PLRU [estimate].
    l2: { sizeBytes: 4 * 1024 * 1024, ways: 16, lineBytes: 64, latencyCycles: 14, replacement: "tree-plru", sharedBy: 2, slices: 1 },
    l3: null,
  },
  // [estimate] ~80 ns to DRAM through the FSB and the P35/X38 memory controller hub (DDR2-800): no
  // measurement of this part was found; 14 (L2 miss detect) + 80 ns.
  memoryLatencyCycles: 14 + nsToTicks(80, CORE_HZ),
  // [estimate] a line Modified in a core of the other die comes over the FSB (a snoop and an implicit
  // writeback): ~60 ns. Same-die transfers are cheaper (through the shared L2) but one figure is modelled.
  crossCoreTransferCycles: nsToTicks(60, CORE_HZ),
  tlb: {
    itlb: { entries: 128, ways: 4, largeEntries: 8 }, // [published: AGNER_MICROARCH Core 2]
    dtlb: { entries: 256, ways: 4, largeEntries: 32 }, // DTLB1 [read: INTEL_OPT_CORE]
    pageWalkCycles: 20, // [estimate] fixed walk overhead besides its cache accesses (~23 on Westmere: SEVENCPU_WESTMERE)
  },
  bus: {
    portIoCycles: nsToTicks(1000, CORE_HZ), // OUT to port 0x80 ~1 us on LPC-era chipsets [read: LINUX_IO_DELAY]
    mmioReadCycles: nsToTicks(800, CORE_HZ), // [estimate] uncached read through the MCH's PCIe root port; ~850 ns measured on Haswell (PCIE_RTT_HSW)
    mmioWriteCycles: 150, // [estimate] posted: the core waits until the UC store leaves its buffer
    lapicAccessCycles: 40, // [estimate] xAPIC register access on the core: tens of cycles
  },
  // [estimate] ICR write to acceptance by the target APIC, messages over the FSB: ~0.4 us. Shinjuku measures
  // 1212 cycles receive-side on a modern Xeon (SHINJUKU_IPI), which also includes the delivery.
  ipiLatencyCycles: 1000,
  // VM exit + entry calibrated to the published round trip [read: VMX_MD]; VMX instruction costs [estimate]
  // (vmx/vmx-costs.ts explains both).
  vmx: vmxCostsFor(ROUND_TRIP_CYCLES.merom, 2.0, 2 * 20), // 2 TLB refills of pageWalkCycles (vmxCostsFor)
};
