/**
 * The VMX capability MSRs (SDM Vol. 3C Appendix A, "VMX Capability Reporting Facility"): per processor
 * generation, the values of IA32_VMX_BASIC (480H, A.1), the control MSRs PINBASED/PROCBASED/EXIT/ENTRY
 * (481H-484H, A.3-A.5) and their TRUE_ variants (48DH-490H), MISC (485H, A.6), CR0/CR4_FIXED0/1
 * (486H-489H, A.7/A.8), VMCS_ENUM (48AH, A.9), PROCBASED_CTLS2 (48BH, A.3.3) and EPT_VPID_CAP (48CH,
 * A.10), reporting exactly what this model implements: each value is the real processor's value (the
 * MSR dumps of [VML] that shared/reference/vmx.md 1a cites) with every feature the model does not
 * implement cleared. Plus the allowed-0/allowed-1 rule of A.3 (`allowed`), used by VM entry's control
 * checks (SDM 26.2.1, VM-instruction error 7).
 *
 * Generations: "merom" (Core 2, 65 nm: the core2-q6600 profile, Kentsfield = two Merom-class dies, CPUID
 * family 6 model 0FH like the T5600/T7400 dumps), "penryn" (Core 2, 45 nm; no profile of its own),
 * "nehalem", "sandybridge", "haswell", "skylake". vmxCapabilities() takes a generation or a profile id.
 *
 * What the model reports, and why (the choices the VT-x issue leaves open):
 * - The modelled processor does not support Intel 64 (CPUID has no LM; IA-32e is out of scope), so every
 *   control the SDM says must be 0 on such processors is not allowed: CR8-load/CR8-store exiting (Table
 *   24-6; Bochs offers them only with long mode), host address-space size (Table 24-10), IA-32e mode guest.
 *   "Use TPR shadow" is offered (early SDMs tied it to Intel 64 too, when MOV CR8 was its only use; with
 *   "virtualize APIC accesses" it works in 32-bit mode). On Merom, which has no secondary controls, it can
 *   never take effect in this model.
 * - CR0_FIXED0/1 and CR4_FIXED0 are the hardware's; CR4_FIXED1 keeps only the CR4 bits the core implements
 *   (control-registers.ts CR4_IMPLEMENTED) plus VMXE. BASIC bit 54 (INS/OUTS instruction information) and
 *   MISC bits 5, 29 and 30 are the hardware's per generation: the exit, VMWRITE and injection code must
 *   follow them.
 * - No SMM: entry to SMM, deactivate dual-monitor treatment, BASIC bit 49 (dual-monitor support), MISC
 *   bits 15 and 28 and the MSEG revision are 0. No Intel PT (MISC bit 14, the "conceal VMX from PT"
 *   controls), no perfmon global control, no MPX (BNDCFGS controls).
 * - Not modelled, so not offered: monitor trap flag, descriptor-table exiting, RDTSCP (the core has no
 *   RDTSCP), virtualize x2APIC mode, PAUSE-loop exiting, RDRAND/RDSEED exiting, INVPCID, VM functions (so no
 *   IA32_VMX_VMFUNC, 491H), VMCS shadowing, PML, #VE, XSAVES, advanced EPT-violation exit information.
 * - APIC virtualization: APIC-register virtualization, virtual-interrupt delivery (secondary bits 8/9) and
 *   process posted interrupts (pin-based bit 7) came with Ivy Bridge-EP (Xeon E5 v2: pin-based allowed-1
 *   FFH, secondary FFFH [VML]); Sandy Bridge-EP (E5-2670) has none of them, and the client parts of the
 *   profiles (i7-4770, E3-1270 v5 = the Skylake-S die of the E3-1220 v5 profile) do not report them
 *   either. The model's "haswell" and "skylake" report them by default, as their server siblings do
 *   (Haswell-EP E5-2680 v3: pin FFH, secondary 7FFFH; Skylake-SP Gold 6140: pin FFH, secondary 025F7FFFH
 *   [VML]), because posted interrupts are what the issue's interrupt-latency experiments need;
 *   `{ apicv: false }` gives the client parts' reporting. Earlier generations cannot have them.
 * - Unrestricted guest is reported where the hardware has it (Westmere and later: "sandybridge",
 *   "haswell", "skylake"); `{ unrestrictedGuest: false }` withdraws it.
 * - VMCS_ENUM reports the highest field index the model's VMCS holds (vmcs-fields.ts, for the features
 *   offered here), not the hardware's (2CH on Core 2, 2AH up to Haswell, 2EH on Skylake): kvm-unit-tests
 *   require it to equal the highest index found by probing VMREAD.
 * - IA32_VMX_BASIC bit 48 is 0 (addresses limited by MAXPHYADDR, as on every real generation).
 *
 * Source keys: [VML] yulyugin/vmlatency `results/<CPU>.txt`, the per-CPU RDMSR dumps that vmx.md 1a's
 * capability table is made from; [SDM] Vol. 3C Appendix A; [BX] Bochs `cpu/vmx.cc`
 * init_vmx_capabilities (which controls depend on long mode, EPT, virtual NMIs).
 *
 * Leaves out: IA32_VMX_VMFUNC (491H; no VM functions), IA32_VMX_PROCBASED_CTLS3 (492H), IA32_VMX_EXIT_CTLS2
 * (493H), the SMM monitor MSR; Westmere, Ivy Bridge, Broadwell and later as generations of their own.
 */
import { CR4_IMPLEMENTED } from "../control-registers.ts";
import {
  type ControlKind, CONTROL_KINDS,
  PIN_EXTERNAL_INTERRUPT_EXITING, PIN_NMI_EXITING, PIN_VIRTUAL_NMIS, PIN_ACTIVATE_PREEMPTION_TIMER,
  PIN_PROCESS_POSTED_INTERRUPTS,
  PROC_INTERRUPT_WINDOW_EXITING, PROC_USE_TSC_OFFSETTING, PROC_HLT_EXITING, PROC_INVLPG_EXITING,
  PROC_MWAIT_EXITING, PROC_RDPMC_EXITING, PROC_RDTSC_EXITING, PROC_CR3_LOAD_EXITING, PROC_CR3_STORE_EXITING,
  PROC_USE_TPR_SHADOW, PROC_NMI_WINDOW_EXITING, PROC_MOV_DR_EXITING, PROC_UNCONDITIONAL_IO_EXITING,
  PROC_USE_IO_BITMAPS, PROC_USE_MSR_BITMAPS, PROC_MONITOR_EXITING, PROC_PAUSE_EXITING,
  PROC_ACTIVATE_SECONDARY_CONTROLS,
  PROC2_VIRTUALIZE_APIC_ACCESSES, PROC2_ENABLE_EPT, PROC2_ENABLE_VPID, PROC2_WBINVD_EXITING,
  PROC2_UNRESTRICTED_GUEST, PROC2_APIC_REGISTER_VIRTUALIZATION, PROC2_VIRTUAL_INTERRUPT_DELIVERY,
  EXIT_SAVE_DEBUG_CONTROLS, EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT, EXIT_SAVE_IA32_PAT, EXIT_LOAD_IA32_PAT,
  EXIT_SAVE_IA32_EFER, EXIT_LOAD_IA32_EFER, EXIT_SAVE_PREEMPTION_TIMER_VALUE,
  ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_LOAD_IA32_PAT, ENTRY_LOAD_IA32_EFER,
} from "./vmx-controls.ts";
import { type VmcsFeature, supportedFields, highestIndex } from "./vmcs-fields.ts";

/** A 64-bit MSR value as [bits 31:0, bits 63:32], both unsigned (the core's RDMSR/WRMSR convention). */
export type MsrValue = readonly [lo: number, hi: number];

// ---- MSR indices (SDM Vol. 4 Table 2-2; Vol. 3C Appendix A) ----
export const IA32_VMX_BASIC = 0x480;
export const IA32_VMX_PINBASED_CTLS = 0x481;
export const IA32_VMX_PROCBASED_CTLS = 0x482;
export const IA32_VMX_EXIT_CTLS = 0x483;
export const IA32_VMX_ENTRY_CTLS = 0x484;
export const IA32_VMX_MISC = 0x485;
export const IA32_VMX_CR0_FIXED0 = 0x486;
export const IA32_VMX_CR0_FIXED1 = 0x487;
export const IA32_VMX_CR4_FIXED0 = 0x488;
export const IA32_VMX_CR4_FIXED1 = 0x489;
export const IA32_VMX_VMCS_ENUM = 0x48a;
export const IA32_VMX_PROCBASED_CTLS2 = 0x48b;
export const IA32_VMX_EPT_VPID_CAP = 0x48c;
export const IA32_VMX_TRUE_PINBASED_CTLS = 0x48d;
export const IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e;
export const IA32_VMX_TRUE_EXIT_CTLS = 0x48f;
export const IA32_VMX_TRUE_ENTRY_CTLS = 0x490;
export const IA32_VMX_VMFUNC = 0x491;

/** The plain and TRUE control MSR of each control word (PROCBASED_CTLS2 has no TRUE variant). */
export const CONTROL_MSR: Readonly<Record<ControlKind, { plain: number; true: number | null }>> = Object.freeze({
  pin: { plain: IA32_VMX_PINBASED_CTLS, true: IA32_VMX_TRUE_PINBASED_CTLS },
  proc: { plain: IA32_VMX_PROCBASED_CTLS, true: IA32_VMX_TRUE_PROCBASED_CTLS },
  proc2: { plain: IA32_VMX_PROCBASED_CTLS2, true: null },
  exit: { plain: IA32_VMX_EXIT_CTLS, true: IA32_VMX_TRUE_EXIT_CTLS },
  entry: { plain: IA32_VMX_ENTRY_CTLS, true: IA32_VMX_TRUE_ENTRY_CTLS },
});

export type VmxGeneration = "merom" | "penryn" | "nehalem" | "sandybridge" | "haswell" | "skylake";

export const VMX_GENERATIONS: readonly VmxGeneration[] = ["merom", "penryn", "nehalem", "sandybridge", "haswell", "skylake"];

/** The generation of each CPU profile (src/cpu/profiles). */
export const VMX_GENERATION_OF_PROFILE: Readonly<Record<string, VmxGeneration>> = Object.freeze({
  "core2-q6600": "merom",
  nehalem: "nehalem",
  sandybridge: "sandybridge",
  haswell: "haswell",
  skylake: "skylake",
});

/** [hi, lo] as written in an RDMSR dump -> MsrValue. */
function m(hi: number, lo: number): MsrValue {
  return [lo >>> 0, hi >>> 0];
}

/** One processor's capability MSRs as read on hardware; a missing field is an MSR that does not exist. */
export interface RealVmxMsrs {
  /** Which dump, by [VML] file name. */
  readonly source: string;
  readonly basic: MsrValue;
  readonly pin: MsrValue;
  readonly proc: MsrValue;
  readonly exit: MsrValue;
  readonly entry: MsrValue;
  readonly misc: MsrValue;
  readonly cr0Fixed0: MsrValue;
  readonly cr0Fixed1: MsrValue;
  readonly cr4Fixed0: MsrValue;
  readonly cr4Fixed1: MsrValue;
  readonly vmcsEnum: MsrValue;
  readonly proc2?: MsrValue;
  readonly eptVpidCap?: MsrValue;
  readonly truePin?: MsrValue;
  readonly trueProc?: MsrValue;
  readonly trueExit?: MsrValue;
  readonly trueEntry?: MsrValue;
}

/** The TRUE control MSRs every TRUE-capable generation here reports (identical in all [VML] dumps from
 * Nehalem to Skylake): primary allowed-0 without CR3-load/store exiting (04006172H), exit and entry
 * allowed-0 without save/load debug controls (...DFBH / 11FBH); the high halves equal the plain MSRs'. */
function trueOf(pin: MsrValue, proc: MsrValue, exit: MsrValue, entry: MsrValue) {
  return {
    truePin: m(pin[1], 0x00000016),
    trueProc: m(proc[1], 0x04006172),
    trueExit: m(exit[1], 0x00036dfb),
    trueEntry: m(entry[1], 0x000011fb),
  };
}

const NEHALEM_LIKE_PROC = m(0xfff9fffe, 0x0401e172);
const NEHALEM_LIKE_EXIT = m(0x007fffff, 0x00036dff);
const NEHALEM_LIKE_ENTRY = m(0x0000ffff, 0x000011ff);
const CR0_FIXED0_REAL = m(0, 0x80000021); // PE, NE, PG: every [VML] dump
const CR0_FIXED1_REAL = m(0, 0xffffffff); // every [VML] dump
const CR4_FIXED0_REAL = m(0, 0x00002000); // VMXE: every [VML] dump

/** The hardware values, per generation (client parts; the dump the model's profile matches best). */
export const REAL_VMX_MSRS: Readonly<Record<VmxGeneration, RealVmxMsrs>> = Object.freeze({
  // [VML] "Intel(R) Core(TM)2 CPU T7400 @ 2.16GHz.txt" (Merom; the T5600 dump is identical). No secondary
  // controls (primary allowed-1 bit 31 = 0), no virtual NMIs (pin allowed-1 1FH), no TRUE MSRs (bit 55 = 0).
  merom: {
    source: "[VML] Core(TM)2 T7400 (Merom)",
    basic: m(0x001a0400, 0x00000007),
    pin: m(0x0000001f, 0x00000016),
    proc: m(0x77b9fffe, 0x0401e172),
    exit: m(0x0003efff, 0x00036dff),
    entry: m(0x00001fff, 0x000011ff),
    misc: m(0, 0x000403c0),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x000027ff),
    vmcsEnum: m(0, 0x0000002c),
  },
  // [VML] "Intel(R) Core(TM)2 Duo CPU E8500 @ 3.16GHz.txt" (Penryn; T9600 and P9500 in vmx.md 1a agree on
  // revision and MISC). 2048-byte VMCS region, virtual NMIs, secondary controls with only virtualize APIC
  // accesses and WBINVD exiting (41H).
  penryn: {
    source: "[VML] Core(TM)2 Duo E8500 (Penryn)",
    basic: m(0x005a0800, 0x0000000d),
    pin: m(0x0000003f, 0x00000016),
    proc: m(0xf7f9fffe, 0x0401e172),
    exit: m(0x0003ffff, 0x00036dff),
    entry: m(0x00003fff, 0x000011ff),
    misc: m(0, 0x000403c0),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x000467ff),
    vmcsEnum: m(0, 0x0000002c),
    proc2: m(0x00000041, 0),
  },
  // [VML] "Intel(R) Core(TM) i5 CPU 760 @ 2.80GHz.txt" (Lynnfield; the profile is a Bloomfield i7-920 of
  // the same microarchitecture and revision id 0EH, vmx.md 1a). First preemption timer (rate 5), EPT, VPID,
  // TRUE MSRs; no unrestricted guest (secondary allowed-1 7FH).
  nehalem: {
    source: "[VML] Core(TM) i5 760 (Nehalem, Lynnfield)",
    basic: m(0x00da0400, 0x0000000e),
    pin: m(0x0000007f, 0x00000016),
    proc: NEHALEM_LIKE_PROC,
    exit: NEHALEM_LIKE_EXIT,
    entry: NEHALEM_LIKE_ENTRY,
    misc: m(0, 0x000401c5),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x000067ff),
    vmcsEnum: m(0, 0x0000002a),
    proc2: m(0x0000007f, 0),
    eptVpidCap: m(0x00000f01, 0x06114141),
    ...trueOf(m(0x0000007f, 0x16), NEHALEM_LIKE_PROC, NEHALEM_LIKE_EXIT, NEHALEM_LIKE_ENTRY),
  },
  // [VML] "Intel(R) Core(TM) i7-2600 CPU @ 3.40GHz.txt" (the sandybridge profile's CPU). Unrestricted guest
  // (secondary allowed-1 FFH), MISC bit 5 (exits store EFER.LMA).
  sandybridge: {
    source: "[VML] Core(TM) i7-2600 (Sandy Bridge)",
    basic: m(0x00da0400, 0x00000010),
    pin: m(0x0000007f, 0x00000016),
    proc: NEHALEM_LIKE_PROC,
    exit: NEHALEM_LIKE_EXIT,
    entry: NEHALEM_LIKE_ENTRY,
    misc: m(0, 0x100401e5),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x000667ff),
    vmcsEnum: m(0, 0x0000002a),
    proc2: m(0x000000ff, 0),
    eptVpidCap: m(0x00000f01, 0x06114141),
    ...trueOf(m(0x0000007f, 0x16), NEHALEM_LIKE_PROC, NEHALEM_LIKE_EXIT, NEHALEM_LIKE_ENTRY),
  },
  // [VML] "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz.txt" (the haswell profile's CPU). EPT A/D and 1 GiB pages
  // (EPT_VPID_CAP 06334141H), MISC bit 29 (VMWRITE to exit-information fields).
  haswell: {
    source: "[VML] Core(TM) i7-4770 (Haswell)",
    basic: m(0x00da0400, 0x00000012),
    pin: m(0x0000007f, 0x00000016),
    proc: NEHALEM_LIKE_PROC,
    exit: NEHALEM_LIKE_EXIT,
    entry: NEHALEM_LIKE_ENTRY,
    misc: m(0, 0x300481e5),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x001767ff),
    vmcsEnum: m(0, 0x0000002a),
    proc2: m(0x00007cff, 0),
    eptVpidCap: m(0x00000f01, 0x06334141),
    ...trueOf(m(0x0000007f, 0x16), NEHALEM_LIKE_PROC, NEHALEM_LIKE_EXIT, NEHALEM_LIKE_ENTRY),
  },
  // [VML] "Intel(R) Xeon(R) CPU E3-1270 v5 @ 3.60GHz.txt" (Skylake-S, the die of the profile's E3-1220 v5;
  // the i7-6700K dump differs only in secondary bit 15, ENCLS exiting). Preemption-timer rate 7, MISC bit
  // 30 (injection with instruction length 0), revision id 4.
  skylake: {
    source: "[VML] Xeon(R) E3-1270 v5 (Skylake-S)",
    basic: m(0x00da0400, 0x00000004),
    pin: m(0x0000007f, 0x00000016),
    proc: NEHALEM_LIKE_PROC,
    exit: m(0x01ffffff, 0x00036dff),
    entry: m(0x0003ffff, 0x000011ff),
    misc: m(0, 0x7004c1e7),
    cr0Fixed0: CR0_FIXED0_REAL, cr0Fixed1: CR0_FIXED1_REAL, cr4Fixed0: CR4_FIXED0_REAL,
    cr4Fixed1: m(0, 0x003767ff),
    vmcsEnum: m(0, 0x0000002e),
    proc2: m(0x001ffcff, 0),
    eptVpidCap: m(0x00000f01, 0x06334141),
    ...trueOf(m(0x0000007f, 0x16), NEHALEM_LIKE_PROC, m(0x01ffffff, 0x36dff), m(0x0003ffff, 0x11ff)),
  },
});

/** The server sibling of a generation whose client part lacks APIC virtualization: its pin-based and
 * secondary allowed-1 settings (the other MSRs of these dumps equal the client's in every bit the model
 * offers). */
interface ApicvSibling {
  readonly source: string;
  readonly pinAllowed1: number;
  readonly proc2Allowed1: number;
}

export const APICV_SIBLINGS: Readonly<Partial<Record<VmxGeneration, ApicvSibling>>> = Object.freeze({
  // [VML] "Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz.txt": PINBASED 000000FF_00000016, CTLS2 00007FFF_0.
  haswell: { source: "[VML] Xeon(R) E5-2680 v3 (Haswell-EP)", pinAllowed1: 0xff, proc2Allowed1: 0x00007fff },
  // [VML] "Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz.txt": PINBASED 000000FF_00000016, CTLS2 025F7FFF_0.
  skylake: { source: "[VML] Xeon(R) Gold 6140 (Skylake-SP)", pinAllowed1: 0xff, proc2Allowed1: 0x025f7fff },
});

// ---- What the model implements (the VT-x issue's list; the header says why each other bit is absent) ----
const MODEL_PIN = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |
  PIN_ACTIVATE_PREEMPTION_TIMER | PIN_PROCESS_POSTED_INTERRUPTS;
const MODEL_PROC = (PROC_INTERRUPT_WINDOW_EXITING | PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING |
  PROC_INVLPG_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |
  PROC_CR3_STORE_EXITING | PROC_USE_TPR_SHADOW | PROC_NMI_WINDOW_EXITING | PROC_MOV_DR_EXITING |
  PROC_UNCONDITIONAL_IO_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING |
  PROC_PAUSE_EXITING | PROC_ACTIVATE_SECONDARY_CONTROLS) >>> 0;
const MODEL_PROC2 = PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING |
  PROC2_UNRESTRICTED_GUEST | PROC2_APIC_REGISTER_VIRTUALIZATION | PROC2_VIRTUAL_INTERRUPT_DELIVERY;
const MODEL_EXIT = EXIT_SAVE_DEBUG_CONTROLS | EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT | EXIT_SAVE_IA32_PAT |
  EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER | EXIT_SAVE_PREEMPTION_TIMER_VALUE;
const MODEL_ENTRY = ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER;

const MODEL_ALLOWED1: Readonly<Record<ControlKind, number>> = {
  pin: MODEL_PIN, proc: MODEL_PROC, proc2: MODEL_PROC2, exit: MODEL_EXIT, entry: MODEL_ENTRY,
};

const APICV_PIN = PIN_PROCESS_POSTED_INTERRUPTS;
const APICV_PROC2 = PROC2_APIC_REGISTER_VIRTUALIZATION | PROC2_VIRTUAL_INTERRUPT_DELIVERY;

/** IA32_VMX_BASIC bits 63:32 the model reports (SDM A.1): region size 44:32, memory type 53:50,
 * INS/OUTS information 54, TRUE controls 55. Cleared: 48 (32-bit address limit; 0 on every generation),
 * 49 (dual-monitor treatment of SMM), 56 (no generation here has it). */
const BASIC_HI_MODEL = (0x1fff | (0xf << 18) | (1 << 22) | (1 << 23)) >>> 0;

/** IA32_VMX_MISC bits 31:0 the model reports (SDM A.6): 4:0 preemption-timer rate, 5 exits store
 * EFER.LMA, 8:6 activity states HLT/shutdown/wait-for-SIPI, 24:16 CR3-target count, 27:25 MSR-list size,
 * 29 VMWRITE to every field, 30 injection with instruction length 0. Cleared: 14 (Intel PT), 15 (SMBASE
 * read in SMM), 28 (SMI blocking in SMM), the undefined bit 9 that Core 2 sets; MSEG revision (63:32) 0. */
const MISC_LO_MODEL = (0x1ff | (0x1ff << 16) | (7 << 25) | (1 << 29) | (1 << 30)) >>> 0;

/** IA32_VMX_EPT_VPID_CAP bits the model reports (SDM A.10): 0 execute-only, 6 4-level walk, 8 UC and 14 WB
 * paging-structure memory type, 16 2-MiB and 17 1-GiB pages, 20 INVEPT, 21 accessed/dirty flags, 25/26
 * single-context/all-context INVEPT; high: 32 INVVPID, 40-43 its four types. Cleared: 22 (advanced
 * EPT-violation information), 23 (shadow stacks) and everything undefined. */
const EPT_LO_MODEL = ((1 << 0) | (1 << 6) | (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 20) | (1 << 21) |
  (1 << 25) | (1 << 26)) >>> 0;
const EPT_HI_MODEL = ((1 << 0) | (0xf << 8)) >>> 0;

const CR4_VMXE = 1 << 13;

export interface VmxCapabilityOptions {
  /** Offer APIC-register virtualization, virtual-interrupt delivery and posted interrupts. Default: true on
   * haswell and skylake (their server parts), impossible (RangeError) on earlier generations. */
  readonly apicv?: boolean;
  /** Offer unrestricted guest. Default: true where the hardware has it (sandybridge and later);
   * impossible (RangeError) on earlier generations. */
  readonly unrestrictedGuest?: boolean;
}

export interface VmxCapabilities {
  readonly generation: VmxGeneration;
  /** The hardware dumps the values derive from. */
  readonly sources: readonly string[];
  /** Every capability MSR that exists, by index; RDMSR of a missing one is #GP(0), and all are read-only
   * (WRMSR: #GP(0)). */
  readonly msrs: ReadonlyMap<number, MsrValue>;
  /** Per control word, the MSR VM entry checks it against (SDM 26.2.1.1-26.2.1.3 with A.3-A.5): the TRUE
   * MSR where it exists (it reports the 0-settings the processor really supports), else the plain one;
   * for the secondary controls [0, 0] when they do not exist (VM entry treats them as 0, SDM 24.6.2). */
  readonly controls: Readonly<Record<ControlKind, MsrValue>>;
  /** The features that decide which VMCS fields exist here (vmcs-fields.ts supportedFields): VMREAD and
   * VMWRITE of any other field fail with error 12. */
  readonly vmcsFeatures: readonly VmcsFeature[];
}

/** The generation an id names: a generation itself or a profile id (src/cpu/profiles). */
export function vmxGenerationOf(id: string): VmxGeneration {
  if ((VMX_GENERATIONS as readonly string[]).includes(id)) return id as VmxGeneration;
  const g = Object.prototype.hasOwnProperty.call(VMX_GENERATION_OF_PROFILE, id) ? VMX_GENERATION_OF_PROFILE[id] : undefined;
  if (g === undefined) {
    throw new RangeError(`no VMX capabilities for '${id}'; known: ${[...VMX_GENERATIONS, ...Object.keys(VMX_GENERATION_OF_PROFILE)].join(", ")}`);
  }
  return g;
}

function hasBit(v: number, mask: number): boolean {
  return ((v & mask) >>> 0) !== 0;
}

/** The capability MSRs of the model on generation `id` (a generation or a profile id). */
export function vmxCapabilities(id: string, options: VmxCapabilityOptions = {}): VmxCapabilities {
  const generation = vmxGenerationOf(id);
  const real = REAL_VMX_MSRS[generation];
  const sibling = APICV_SIBLINGS[generation];
  const sources = [real.source];

  const apicv = options.apicv ?? sibling !== undefined;
  if (apicv && sibling === undefined) {
    throw new RangeError(`${generation} has no APIC virtualization (posted interrupts, virtual-interrupt delivery): Ivy Bridge-EP was the first`);
  }
  const realUg = real.proc2 !== undefined && hasBit(real.proc2[1], PROC2_UNRESTRICTED_GUEST);
  const ug = options.unrestrictedGuest ?? realUg;
  if (ug && !realUg) throw new RangeError(`${generation} has no unrestricted guest: Westmere was the first`);

  // The hardware allowed-1 settings, with the server sibling's for APIC virtualization.
  const hwAllowed1: Record<ControlKind, number> = {
    pin: real.pin[1], proc: real.proc[1], proc2: real.proc2?.[1] ?? 0, exit: real.exit[1], entry: real.entry[1],
  };
  if (apicv && sibling !== undefined) {
    hwAllowed1.pin |= sibling.pinAllowed1 & APICV_PIN;
    hwAllowed1.proc2 |= sibling.proc2Allowed1 & APICV_PROC2;
    sources.push(sibling.source);
  }
  const model: Record<ControlKind, number> = { ...MODEL_ALLOWED1 };
  if (!apicv) {
    model.pin &= ~APICV_PIN;
    model.proc2 &= ~APICV_PROC2;
  }
  if (!ug) model.proc2 &= ~PROC2_UNRESTRICTED_GUEST;

  // allowed-1 = what the hardware allows and the model implements, plus every must-be-1 bit (allowed-0).
  const plainLo: Record<ControlKind, number> = {
    pin: real.pin[0], proc: real.proc[0], proc2: 0, exit: real.exit[0], entry: real.entry[0],
  };
  const allowed1 = {} as Record<ControlKind, number>;
  for (const k of CONTROL_KINDS) allowed1[k] = ((hwAllowed1[k] & model[k]) | plainLo[k]) >>> 0;
  // No secondary control left: the secondary controls do not exist (as Bochs does, [BX]).
  if (allowed1.proc2 === 0) allowed1.proc = (allowed1.proc & ~PROC_ACTIVATE_SECONDARY_CONTROLS) >>> 0;
  const hasProc2 = hasBit(allowed1.proc, PROC_ACTIVATE_SECONDARY_CONTROLS);
  const hasTrue = hasBit(real.basic[1], 1 << 23);
  const features = vmcsFeaturesOf(allowed1);

  const msrs = new Map<number, MsrValue>();
  const put = (index: number, lo: number, hi: number) => msrs.set(index, Object.freeze([lo >>> 0, hi >>> 0]) as MsrValue);
  put(IA32_VMX_BASIC, real.basic[0], real.basic[1] & BASIC_HI_MODEL);
  put(IA32_VMX_PINBASED_CTLS, plainLo.pin, allowed1.pin);
  put(IA32_VMX_PROCBASED_CTLS, plainLo.proc, allowed1.proc);
  put(IA32_VMX_EXIT_CTLS, plainLo.exit, allowed1.exit);
  put(IA32_VMX_ENTRY_CTLS, plainLo.entry, allowed1.entry);
  put(IA32_VMX_MISC, real.misc[0] & MISC_LO_MODEL, 0);
  put(IA32_VMX_CR0_FIXED0, real.cr0Fixed0[0], real.cr0Fixed0[1]);
  put(IA32_VMX_CR0_FIXED1, real.cr0Fixed1[0], real.cr0Fixed1[1]);
  put(IA32_VMX_CR4_FIXED0, real.cr4Fixed0[0], real.cr4Fixed0[1]);
  // A CR4 bit may be 1 in VMX operation only if the model implements it at all (control-registers.ts).
  put(IA32_VMX_CR4_FIXED1, real.cr4Fixed1[0] & (CR4_IMPLEMENTED | CR4_VMXE), 0);
  // SDM A.9: bits 9:1 = the highest index of any field this processor's VMCS has (vmcs-fields.ts).
  put(IA32_VMX_VMCS_ENUM, highestIndex(supportedFields(features)) << 1, 0);
  if (hasProc2) {
    put(IA32_VMX_PROCBASED_CTLS2, 0, allowed1.proc2);
    // SDM A.10: EPT_VPID_CAP exists if secondary controls allow EPT or VPID.
    if (real.eptVpidCap !== undefined && hasBit(allowed1.proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)) {
      const eptLo = hasBit(allowed1.proc2, PROC2_ENABLE_EPT) ? real.eptVpidCap[0] & EPT_LO_MODEL : 0;
      const vpidHi = hasBit(allowed1.proc2, PROC2_ENABLE_VPID) ? real.eptVpidCap[1] & EPT_HI_MODEL : 0;
      put(IA32_VMX_EPT_VPID_CAP, eptLo, vpidHi);
    }
  }
  if (hasTrue) {
    // SDM A.3.1/A.3.2/A.4/A.5: the TRUE MSRs report the real 0-settings of the default1 bits; their
    // allowed-1 halves equal the plain MSRs'.
    const t = [
      [IA32_VMX_TRUE_PINBASED_CTLS, real.truePin, "pin"],
      [IA32_VMX_TRUE_PROCBASED_CTLS, real.trueProc, "proc"],
      [IA32_VMX_TRUE_EXIT_CTLS, real.trueExit, "exit"],
      [IA32_VMX_TRUE_ENTRY_CTLS, real.trueEntry, "entry"],
    ] as const;
    for (const [index, value, kind] of t) {
      if (value === undefined) throw new Error(`${generation}: IA32_VMX_BASIC bit 55 without ${kind} TRUE MSR`);
      put(index, value[0], allowed1[kind]);
    }
  }

  const zero = Object.freeze([0, 0]) as MsrValue;
  const effective = (k: ControlKind): MsrValue => {
    const idx = CONTROL_MSR[k];
    return (idx.true !== null ? msrs.get(idx.true) : undefined) ?? msrs.get(idx.plain) ?? zero;
  };
  const controls = Object.freeze({
    pin: effective("pin"), proc: effective("proc"), proc2: effective("proc2"), exit: effective("exit"),
    entry: effective("entry"),
  });
  return Object.freeze({ generation, sources: Object.freeze(sources), msrs, controls, vmcsFeatures: Object.freeze(features) });
}

/** The VMX features that decide which VMCS fields exist (SDM Appendix B footnotes: "exists only on
 * processors that support the 1-setting of ..."), from the allowed-1 settings. */
function vmcsFeaturesOf(a1: Readonly<Record<ControlKind, number>>): VmcsFeature[] {
  const out: VmcsFeature[] = [];
  const secondary = hasBit(a1.proc, PROC_ACTIVATE_SECONDARY_CONTROLS);
  const p2 = secondary ? a1.proc2 : 0;
  if (hasBit(p2, PROC2_ENABLE_VPID)) out.push("vpid");
  if (hasBit(a1.pin, PIN_PROCESS_POSTED_INTERRUPTS)) out.push("posted-interrupts");
  if (hasBit(p2, PROC2_VIRTUAL_INTERRUPT_DELIVERY)) out.push("virtual-interrupt-delivery");
  if (hasBit(p2, PROC2_ENABLE_EPT)) out.push("ept");
  if (hasBit(a1.proc, PROC_USE_TPR_SHADOW)) out.push("tpr-shadow");
  if (hasBit(p2, PROC2_VIRTUALIZE_APIC_ACCESSES)) out.push("apic-access");
  if (secondary) out.push("secondary-controls");
  if (hasBit(a1.exit, EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT) || hasBit(a1.entry, ENTRY_LOAD_IA32_PAT)) out.push("pat");
  if (hasBit(a1.exit, EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER) || hasBit(a1.entry, ENTRY_LOAD_IA32_EFER)) out.push("efer");
  if (hasBit(a1.pin, PIN_ACTIVATE_PREEMPTION_TIMER)) out.push("preemption-timer");
  return out;
}

/** RDMSR of a VMX capability MSR: its value, or undefined when it does not exist here (#GP(0)). */
export function readVmxCapabilityMsr(caps: VmxCapabilities, index: number): MsrValue | undefined {
  return caps.msrs.get(index);
}

// ---- The allowed-0/allowed-1 rule (SDM A.3.1, A.3.2, A.3.3, A.4, A.5) ----

export interface ControlCheck {
  /** True when the control word satisfies the MSR. */
  readonly ok: boolean;
  /** Bits that are 0 but must be 1 (bit X of the low dword is 1). */
  readonly mustBeOne: number;
  /** Bits that are 1 but must be 0 (bit X of the high dword is 0). */
  readonly mustBeZero: number;
}

/** Which bits of the proposed control word `value` violate the control MSR `msr`: control X may be 0
 * iff bit X of the low dword is 0, and may be 1 iff bit X of the high dword is 1 (SDM A.3.1). VM entry
 * fails with VM-instruction error 7 when any does (SDM 26.2.1). */
export function allowed(msr: MsrValue, value: number): ControlCheck {
  const mustBeOne = (msr[0] & ~value) >>> 0;
  const mustBeZero = (value & ~msr[1]) >>> 0;
  return { ok: (mustBeOne | mustBeZero) === 0, mustBeOne, mustBeZero };
}

/** The legal control word closest to `wanted`: every must-be-1 bit set, every not-allowed bit cleared
 * (what a VMM does with the capability MSRs, SDM 31.5.1 "Algorithms for Determining VMX Capabilities"). */
export function adjustControls(msr: MsrValue, wanted: number): number {
  return ((wanted & msr[1]) | msr[0]) >>> 0;
}

// ---- Decoders (SDM A.1, A.6) ----

export interface VmxBasic {
  /** Bits 30:0: the VMCS revision identifier. */
  readonly revisionId: number;
  /** Bits 44:32: bytes to allocate for the VMXON region and any VMCS region. */
  readonly regionSize: number;
  /** Bit 48: physical addresses of VMX structures limited to 32 bits. */
  readonly physAddr32: boolean;
  /** Bit 49: dual-monitor treatment of SMIs and SMM. */
  readonly dualMonitor: boolean;
  /** Bits 53:50: memory type for the VMCS and the structures it points to (6 = write-back). */
  readonly memoryType: number;
  /** Bit 54: VM exits due to INS/OUTS report the VM-exit instruction information. */
  readonly insOutsInfo: boolean;
  /** Bit 55: the TRUE control MSRs exist. */
  readonly trueControls: boolean;
}

export function decodeVmxBasic(v: MsrValue): VmxBasic {
  const hi = v[1];
  return {
    revisionId: v[0] & 0x7fffffff,
    regionSize: hi & 0x1fff,
    physAddr32: ((hi >>> 16) & 1) !== 0,
    dualMonitor: ((hi >>> 17) & 1) !== 0,
    memoryType: (hi >>> 18) & 0xf,
    insOutsInfo: ((hi >>> 22) & 1) !== 0,
    trueControls: ((hi >>> 23) & 1) !== 0,
  };
}

export interface VmxMisc {
  /** Bits 4:0: the VMX-preemption timer counts down each time TSC bit X changes. */
  readonly preemptionTimerRate: number;
  /** Bit 5: VM exits store IA32_EFER.LMA into the "IA-32e mode guest" entry control. */
  readonly storesLma: boolean;
  /** Bits 6, 7, 8: activity states 1 (HLT), 2 (shutdown), 3 (wait-for-SIPI) supported. */
  readonly activityHlt: boolean;
  readonly activityShutdown: boolean;
  readonly activityWaitForSipi: boolean;
  /** Bits 24:16: number of CR3-target values. */
  readonly cr3TargetCount: number;
  /** Bits 27:25 = N: recommended maximum of 512 * (N + 1) entries per MSR list. */
  readonly maxMsrListEntries: number;
  /** Bit 29: VMWRITE may write every field, the VM-exit information fields included. */
  readonly vmwriteAnyField: boolean;
  /** Bit 30: VM entry may inject software interrupts/exceptions with instruction length 0. */
  readonly injectLengthZero: boolean;
  /** Bits 63:32: MSEG revision identifier. */
  readonly msegRevision: number;
}

export function decodeVmxMisc(v: MsrValue): VmxMisc {
  const lo = v[0];
  return {
    preemptionTimerRate: lo & 0x1f,
    storesLma: ((lo >>> 5) & 1) !== 0,
    activityHlt: ((lo >>> 6) & 1) !== 0,
    activityShutdown: ((lo >>> 7) & 1) !== 0,
    activityWaitForSipi: ((lo >>> 8) & 1) !== 0,
    cr3TargetCount: (lo >>> 16) & 0x1ff,
    maxMsrListEntries: 512 * (((lo >>> 25) & 7) + 1),
    vmwriteAnyField: ((lo >>> 29) & 1) !== 0,
    injectLengthZero: ((lo >>> 30) & 1) !== 0,
    msegRevision: v[1],
  };
}

/** The CR0 bits a guest must have set at VM entry (SDM 26.3.1.1): IA32_VMX_CR0_FIXED0, except PE and PG
 * when "unrestricted guest" is 1 (it counts only when the secondary controls are activated). */
export function guestCr0Fixed0(caps: VmxCapabilities, proc: number, proc2: number): number {
  const fixed0 = caps.msrs.get(IA32_VMX_CR0_FIXED0)?.[0] ?? 0;
  const ug = hasBit(proc, PROC_ACTIVATE_SECONDARY_CONTROLS) && hasBit(proc2, PROC2_UNRESTRICTED_GUEST);
  return ug ? (fixed0 & ~((1 << 0) | 0x80000000)) >>> 0 : fixed0 >>> 0;
}
