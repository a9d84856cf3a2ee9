/**
 * The sources the CPU profiles cite (cpu/profiles/*.ts), one constant per source, so that every profile
 * names them the same way in its `sources` list and in the comments next to its numbers.
 *
 * Models nothing; follows no spec section itself. Each profile comment tags a figure with how it was
 * obtained:
 * - [read]      the figure was read in the source's text while writing the profile;
 * - [published] the figure is the one the named publication gives, but its text was not available to
 *               re-read while writing (check it there before relying on the last digit);
 * - [estimate]  no source gives the figure for this part; the comment says why the value was chosen.
 */

export const SRC = {
  SDM_APIC_TIMER:
    "Intel SDM Vol. 3A 10.5.4 (APIC Timer): the timer counts at the processor's bus clock, or at the core crystal clock when CPUID leaf 15H enumerates it (quoted in Linux commit 6fef518594bc, 'KVM: x86: Add a capability to configure bus frequency for APIC timer')",
  SDM_TSC:
    "Intel SDM Vol. 3B 17.17 (Time-Stamp Counter) and 17.17.1 (Invariant TSC): Core 2 TSC counts at a constant rate set by the maximum core-clock to bus-clock ratio; invariant TSC from Nehalem on (CPUID.80000007H:EDX[8])",
  SDM_CPUID_SIGNATURE:
    "Intel SDM Vol. 2A, CPUID leaf 01H, Figure 3-6 (Version Information: stepping 3:0, model 7:4, family 11:8, type 13:12, extended model 19:16, extended family 27:20; DisplayModel includes the extended model for family 06H)",
  LINUX_INTEL_FAMILY:
    "Linux arch/x86/include/asm/intel-family.h: CORE2_MEROM 0x0F, NEHALEM_EP 0x1A, SANDYBRIDGE 0x2A, HASWELL 0x3C, SKYLAKE 0x5E (family 6)",
  LINUX_TSC_CRYSTAL:
    "Linux arch/x86/kernel/tsc.c native_calibrate_tsc(): SKYLAKE/KABYLAKE (0x4E, 0x5E, 0x8E, 0x9E) report crystal_khz = 24000 (24.0 MHz) when CPUID.15H:ECX is 0",
  LINUX_LAPIC_CRYSTAL:
    "Linux commit 2420a0b1798d ('x86/tsc: Set LAPIC timer period to crystal clock frequency'): the APIC timer is fed by the crystal clock, verified on Apollo Lake, Gemini Lake, Kaby Lake, Coffee Lake, Whiskey Lake, Amber Lake",
  LINUX_IO_DELAY:
    "Linux arch/x86/kernel/io_delay.c and commit 'x86: provide a DMI based port 0x80 I/O delay override' (udelay(2) chosen as a conservative upper bound of one OUT to port 0x80); Linux I/O port programming mini-HOWTO: inb_p/outb_p add 'about one microsecond' by writing port 0x80",
  UOPS_INFO_HSW:
    "uops.info measurements for Haswell, as stored in github.com/ashvardanian/AssemblyStats uops/haswell.csv (reciprocal throughput / latency in core cycles)",
  UOPS_INFO_SKL:
    "uops.info measurements for Skylake, as stored in github.com/ashvardanian/AssemblyStats uops/skylake.csv (reciprocal throughput / latency in core cycles)",
  LLVM_SCHED_SNB: "LLVM llvm/lib/Target/X86/X86SchedSandyBridge.td (WriteIMul8/16/32 latency 3/4/4; WriteDiv8..64 latency 25)",
  LLVM_SCHED_HSW: "LLVM llvm/lib/Target/X86/X86SchedHaswell.td (WriteIMul8/16/32 latency 3/4/4; WriteDiv8 22; LoadLatency 5)",
  LLVM_SCHED_SKL: "LLVM llvm/lib/Target/X86/X86SchedSkylakeClient.td (WriteIMul8/16/32 latency 3/4/4; WriteDiv8 25; LoadLatency 5)",
  AGNER_TABLES:
    "Agner Fog, Instruction tables (www.agner.org/optimize/instruction_tables.pdf): tables 'Intel Core 2 (Merom, 65nm)' and 'Intel Nehalem'",
  AGNER_MICROARCH:
    "Agner Fog, The microarchitecture of Intel, AMD and VIA CPUs (www.agner.org/optimize/microarchitecture.pdf): cache, TLB and REP MOVS start-up descriptions per generation",
  SNIPER_NEHALEM:
    "Sniper simulator core model 'Intel Nehalem Latencies' (citing agner.org): DIV/IDIV 32-bit 17-28 cycles, MUL/IMUL 3",
  INTEL_OPT_CORE:
    "Intel 64 and IA-32 Architectures Optimization Reference Manual, 2.1.4 (Intel Core microarchitecture): L1D 32 KiB 8-way 64 B lines; DTLB0 16 entries (4 KiB) / 16 (large), DTLB1 256 (4 KiB) / 32 (large), all 4-way; L2 shared by the two cores of a die",
  INTEL_NHM_PERF_GUIDE:
    "D. Levinthal, Performance Analysis Guide for Intel Core i7 Processor and Intel Xeon 5500 processors, latency table: L1 ~4, L2 ~10, L3 unshared ~40, L3 modified in another core ~75 cycles, local DRAM ~60 ns (as quoted on stackoverflow.com/questions/4087280)",
  XBIT_KENTSFIELD_L2:
    "X-bit labs, Core 2 Extreme QX9650 review, L2 latency table: Kentsfield QX6850 L2 latency 14 cycles (CPU-Z), 11-12 cycles (ScienceMark 64-512 B stride)",
  WIKI_KENTSFIELD:
    "Wikipedia 'Kentsfield (microprocessor)': CPUID code 06Fx, two dies on one package, 2 x 4 MiB L2, Q6600 2.4 GHz with FSB 1066 MT/s",
  UMBC_NEHALEM:
    "UMBC CMSC 611 homework 5 page (redirect.cs.umbc.edu/~olano/class/611-16-2/hw5.html): Nehalem 32 KiB 4-way L1I (3 cycles), 32 KiB 8-way L1D (4 cycles), 256 KiB L2 (10 cycles), 8 MiB 16-way inclusive L3 (40 cycles)",
  TECHREPORT_SNBE:
    "The Tech Report, Core i7-3960X (Sandy Bridge-E) review, memory subsystem page: L1 4 cycles, L2 12 cycles, L3 30 cycles",
  SEVENCPU_IVB:
    "7-cpu.com/cpu/IvyBridge.html (i7-3770, 3.4 GHz): L1 4-5, L2 12, L3 26-34 cycles by slice; Sandy Bridge LLC uses pseudo-LRU",
  SEVENCPU_WESTMERE: "7-cpu.com/cpu/Westmere.html: TLB-miss penalty ~23 cycles on top of the cache accesses of the walk",
  SEVENCPU_HSW: "7-cpu.com/cpu/Haswell.html (i7-4770): L1 4-5, L2 12, L3 36 cycles, RAM 36 cycles + 57 ns",
  SEVENCPU_SKL: "7-cpu.com/cpu/Skylake.html (i7-6700): L1 4-5, L2 12, L3 42 cycles, RAM 42 cycles + 51 ns",
  WIKICHIP_SKL: "WikiChip 'Skylake (client) - Microarchitectures - Intel': L1I/L1D 32 KiB 8-way, L2 256 KiB 4-way per core, L3 2 MiB per core (one slice per core) up to 16-way",
  HSW_TLB_SUMMARY:
    "errorhandle.ai 'Haswell memory access' summary: L1 DTLB 64 entries (4 KiB), 32 (2 MiB); L2 TLB 1024 entries 8-way",
  CPUZ_I7_4770: "CPU-Z report of an i7-4770 (pastebin.com/herCkfua): CPUID 6.C.3, extended 6.3C, stepping C0, 'Multiplier x Bus Speed 39.0 x 100.0 MHz'",
  PCIE_RTT_HSW:
    "hackingnasdaq.blogspot.com/2014/05/pcie-latency.html: PCIe round trip CPU <-> FPGA endpoint ~850 ns on an i7-4771 (Haswell) with a Gen3 link on the CPU's own root port",
  MMIO_READ_FORUM:
    "Intel community forum 'How to improve PCIe PIO Read Performance' (E3-1240 v3, > 2 us per 64-bit MMIO read incl. clock_gettime) and stackguides 'MMIO read/write latency' (~5 us on a Xeon E5 incl. rdtsc): uncached reads cost microseconds",
  SGX_STEP_IDT:
    "SGX-Step app/selftest/idt sample output (github.com/jovanbulck/sgx-step): INT n to a ring-0 handler 348-354 TSC cycles from ring 0 and 400-418 from ring 3 (SGX-capable CPU, i.e. Skylake or later)",
  SHINJUKU_IPI:
    "Shinjuku (NSDI 2019) as quoted in github.com/stanford-mast/shinjuku issue #5: 1212 cycles on the receiving core to finish an IPI",
  VMX_MD: "shared/reference/vmx.md 1a: VT-x round-trip bands per generation (Merom, Nehalem, Sandy Bridge, Haswell, Skylake client)",
} as const;
