/**
 * Tests of the VMX capability MSRs (src/cpu/vmx/vmx-capabilities.ts), per generation, against references
 * that are not our code:
 * - the RDMSR dumps of yulyugin/vmlatency `results/<CPU>.txt` ([VML], the files shared/reference/vmx.md 1a
 *   cites), copied below line for line for the CPUs each generation is taken from;
 * - the capability table of shared/reference/vmx.md 1a (revision id, region size, MISC, preemption timer);
 * - the rules of SDM Vol. 3C Appendix A (A.1 BASIC, A.2 default1 and the TRUE MSRs, A.3.3 and A.10 which MSRs
 *   exist, A.6 MISC, A.7/A.8 fixed CR0/CR4 bits, A.9 VMCS_ENUM) and the control dependencies of 26.2.1.1;
 * - kvm-unit-tests `x86/vmx.c` test_vmx_caps (VMCS_ENUM at least 2AH), as quoted in vmx.md 3a.
 */
import { describe, expect, it } from "vitest";
import {
  vmxCapabilities, vmxGenerationOf, readVmxCapabilityMsr, decodeVmxBasic, decodeVmxMisc, guestCr0Fixed0,
  REAL_VMX_MSRS, APICV_SIBLINGS, VMX_GENERATIONS, VMX_GENERATION_OF_PROFILE, CONTROL_MSR, type VmxGeneration,
  type MsrValue, type RealVmxMsrs,
  IA32_VMX_BASIC, IA32_VMX_PINBASED_CTLS, IA32_VMX_PROCBASED_CTLS, IA32_VMX_EXIT_CTLS, IA32_VMX_ENTRY_CTLS,
  IA32_VMX_MISC, IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1,
  IA32_VMX_VMCS_ENUM, IA32_VMX_PROCBASED_CTLS2, IA32_VMX_EPT_VPID_CAP, IA32_VMX_TRUE_PINBASED_CTLS,
  IA32_VMX_TRUE_PROCBASED_CTLS, IA32_VMX_TRUE_EXIT_CTLS, IA32_VMX_TRUE_ENTRY_CTLS, IA32_VMX_VMFUNC,
} from "../../../src/cpu/vmx/vmx-capabilities.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { CONTROL_KINDS, DEFAULT1, type ControlKind } from "../../../src/cpu/vmx/vmx-controls.ts";
import { PROFILES } from "../../../src/cpu/profiles/index.ts";
import { CR4_IMPLEMENTED } from "../../../src/cpu/control-registers.ts";


/** [VML] dumps: CPU -> the MSR lines as printed by vmlatency. */
const DUMPS: Readonly<Record<string, string>> = {
  // results/Intel(R) Core(TM)2 CPU         T7400  @ 2.16GHz.txt
  T7400: `
IA32_VMX_BASIC                 (0x480): 0x001a040000000007
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000001f00000016
IA32_VMX_PROCBASED_CTLS        (0x482): 0x77b9fffe0401e172
IA32_VMX_EXIT_CTLS             (0x483): 0x0003efff00036dff
IA32_VMX_ENTRY_CTLS            (0x484): 0x00001fff000011ff
IA32_VMX_MSR_MISC              (0x485): 0x00000000000403c0
IA32_VMX_CR0_FIXED0            (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1            (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0            (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1            (0x489): 0x00000000000027ff
IA32_VMX_VMCS_ENUM             (0x48a): 0x000000000000002c`,
  // results/Intel(R) Core(TM)2 Duo CPU     E8500  @ 3.16GHz.txt
  E8500: `
IA32_VMX_BASIC                 (0x480): 0x005a08000000000d
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000003f00000016
IA32_VMX_PROCBASED_CTLS        (0x482): 0xf7f9fffe0401e172
IA32_VMX_EXIT_CTLS             (0x483): 0x0003ffff00036dff
IA32_VMX_ENTRY_CTLS            (0x484): 0x00003fff000011ff
IA32_VMX_MSR_MISC              (0x485): 0x00000000000403c0
IA32_VMX_CR0_FIXED0            (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1            (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0            (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1            (0x489): 0x00000000000467ff
IA32_VMX_VMCS_ENUM             (0x48a): 0x000000000000002c
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x0000004100000000`,
  // results/Intel(R) Core(TM) i5 CPU 760 @ 2.80GHz.txt
  "i5-760": `
IA32_VMX_BASIC (0x480): 0x00da04000000000e
IA32_VMX_PINBASED_CTLS (0x481): 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS (0x482): 0xfff9fffe0401e172
IA32_VMX_EXIT_CTLS (0x483): 0x007fffff00036dff
IA32_VMX_ENTRY_CTLS (0x484): 0x0000ffff000011ff
IA32_VMX_MSR_MISC (0x485): 0x00000000000401c5
IA32_VMX_CR0_FIXED0 (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1 (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0 (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1 (0x489): 0x00000000000067ff
IA32_VMX_VMCS_ENUM (0x48a): 0x000000000000002a
IA32_VMX_PROCBASED_CTLS2 (0x48b): 0x0000007f00000000
IA32_VMX_EPT_VPID_CAP (0x48c): 0x00000f0106114141
IA32_VMX_TRUE_PINBASED_CTLS (0x48d): 0x0000007f00000016
IA32_VMX_TRUE_PROCBASED_CTLS (0x48e): 0xfff9fffe04006172
IA32_VMX_TRUE_EXIT_CTLS (0x48f): 0x007fffff00036dfb
IA32_VMX_TRUE_ENTRY_CTLS (0x490): 0x0000ffff000011fb`,
  // results/Intel(R) Core(TM) i7-2600 CPU @ 3.40GHz.txt
  "i7-2600": `
IA32_VMX_BASIC                 (0x480): 0x00da040000000010
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS        (0x482): 0xfff9fffe0401e172
IA32_VMX_EXIT_CTLS             (0x483): 0x007fffff00036dff
IA32_VMX_ENTRY_CTLS            (0x484): 0x0000ffff000011ff
IA32_VMX_MSR_MISC              (0x485): 0x00000000100401e5
IA32_VMX_CR0_FIXED0            (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1            (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0            (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1            (0x489): 0x00000000000667ff
IA32_VMX_VMCS_ENUM             (0x48a): 0x000000000000002a
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x000000ff00000000
IA32_VMX_EPT_VPID_CAP          (0x48c): 0x00000f0106114141
IA32_VMX_TRUE_PINBASED_CTLS    (0x48d): 0x0000007f00000016
IA32_VMX_TRUE_PROCBASED_CTLS   (0x48e): 0xfff9fffe04006172
IA32_VMX_TRUE_EXIT_CTLS        (0x48f): 0x007fffff00036dfb
IA32_VMX_TRUE_ENTRY_CTLS       (0x490): 0x0000ffff000011fb`,
  // results/Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz.txt
  "i7-4770": `
IA32_VMX_BASIC                 (0x480): 0x00da040000000012
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS        (0x482): 0xfff9fffe0401e172
IA32_VMX_EXIT_CTLS             (0x483): 0x007fffff00036dff
IA32_VMX_ENTRY_CTLS            (0x484): 0x0000ffff000011ff
IA32_VMX_MSR_MISC              (0x485): 0x00000000300481e5
IA32_VMX_CR0_FIXED0            (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1            (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0            (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1            (0x489): 0x00000000001767ff
IA32_VMX_VMCS_ENUM             (0x48a): 0x000000000000002a
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x00007cff00000000
IA32_VMX_EPT_VPID_CAP          (0x48c): 0x00000f0106334141
IA32_VMX_TRUE_PINBASED_CTLS    (0x48d): 0x0000007f00000016
IA32_VMX_TRUE_PROCBASED_CTLS   (0x48e): 0xfff9fffe04006172
IA32_VMX_TRUE_EXIT_CTLS        (0x48f): 0x007fffff00036dfb
IA32_VMX_TRUE_ENTRY_CTLS       (0x490): 0x0000ffff000011fb
IA32_VMX_VMFUNC                (0x491): 0x0000000000000001`,
  // results/Intel(R) Xeon(R) CPU E3-1270 v5 @ 3.60GHz.txt
  "E3-1270v5": `
IA32_VMX_BASIC                 (0x480): 0x00da040000000004
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS        (0x482): 0xfff9fffe0401e172
IA32_VMX_EXIT_CTLS             (0x483): 0x01ffffff00036dff
IA32_VMX_ENTRY_CTLS            (0x484): 0x0003ffff000011ff
IA32_VMX_MSR_MISC              (0x485): 0x000000007004c1e7
IA32_VMX_CR0_FIXED0            (0x486): 0x0000000080000021
IA32_VMX_CR0_FIXED1            (0x487): 0x00000000ffffffff
IA32_VMX_CR4_FIXED0            (0x488): 0x0000000000002000
IA32_VMX_CR4_FIXED1            (0x489): 0x00000000003767ff
IA32_VMX_VMCS_ENUM             (0x48a): 0x000000000000002e
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x001ffcff00000000
IA32_VMX_EPT_VPID_CAP          (0x48c): 0x00000f0106334141
IA32_VMX_TRUE_PINBASED_CTLS    (0x48d): 0x0000007f00000016
IA32_VMX_TRUE_PROCBASED_CTLS   (0x48e): 0xfff9fffe04006172
IA32_VMX_TRUE_EXIT_CTLS        (0x48f): 0x01ffffff00036dfb
IA32_VMX_TRUE_ENTRY_CTLS       (0x490): 0x0003ffff000011fb
IA32_VMX_VMFUNC                (0x491): 0x0000000000000001`,
  // results/Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz.txt (Haswell-EP, the APICv sibling)
  "E5-2680v3": `
IA32_VMX_PINBASED_CTLS         (0x481): 0x000000ff00000016
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x00007fff00000000`,
  // results/Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz.txt (Skylake-SP, the APICv sibling)
  "Gold6140": `
IA32_VMX_PINBASED_CTLS         (0x481): 0x000000ff00000016
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x025f7fff00000000`,
  // results/Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz.txt (Sandy Bridge-EP: no APICv)
  "E5-2670": `
IA32_VMX_PINBASED_CTLS         (0x481): 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x000004ff00000000`,
  // results/Intel(R) Xeon(R) CPU E5-2697 v2 @ 2.70GHz.txt (Ivy Bridge-EP: the first with APICv)
  "E5-2697v2": `
IA32_VMX_PINBASED_CTLS         (0x481): 0x000000ff00000016
IA32_VMX_PROCBASED_CTLS2       (0x48b): 0x00000fff00000000`,
};

/** Parse a dump: MSR index -> [lo, hi]. */
function parseDump(text: string): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const line of text.split("\n")) {
    const mm = /\(0x([0-9a-f]+)\):\s*0x([0-9a-f]{16})/.exec(line);
    if (mm === null) continue;
    const v = mm[2];
    out.set(parseInt(mm[1], 16), [parseInt(v.slice(8), 16), parseInt(v.slice(0, 8), 16)]);
  }
  return out;
}

/** shared/reference/vmx.md 1a, "IA32_VMX_BASIC revision id / VMCS region size | IA32_VMX_MISC | preemption
 * timer available", one row per generation the model has. */
const VMX_MD_1A = {
  merom: { revisionId: 0x7, regionSize: 1024, misc: 0x403c0, rate: 0, preemptionTimer: false },
  penryn: { revisionId: 0xd, regionSize: 2048, misc: 0x403c0, rate: 0, preemptionTimer: false },
  nehalem: { revisionId: 0xe, regionSize: 1024, misc: 0x401c5, rate: 5, preemptionTimer: true },
  sandybridge: { revisionId: 0x10, regionSize: 1024, misc: 0x100401e5, rate: 5, preemptionTimer: true },
  haswell: { revisionId: 0x12, regionSize: 1024, misc: 0x300481e5, rate: 5, preemptionTimer: true },
  skylake: { revisionId: 0x4, regionSize: 1024, misc: 0x7004c1e7, rate: 7, preemptionTimer: true },
} as const;

/** Which [VML] dump each generation's REAL_VMX_MSRS must equal. */
const DUMP_OF_GENERATION = {
  merom: "T7400", penryn: "E8500", nehalem: "i5-760", sandybridge: "i7-2600", haswell: "i7-4770", skylake: "E3-1270v5",
} as const;

// ---------------------------------------------------------------------------------------------------------

const GENS = VMX_GENERATIONS;
const hex = (v: MsrValue | readonly number[] | undefined) =>
  v === undefined ? "none" : `${(v[1] >>> 0).toString(16).padStart(8, "0")}_${(v[0] >>> 0).toString(16).padStart(8, "0")}`;
const dumpOf = (g: VmxGeneration) => parseDump(DUMPS[DUMP_OF_GENERATION[g]]);
const msr = (g: VmxGeneration | ReturnType<typeof vmxCapabilities>, index: number) =>
  readVmxCapabilityMsr(typeof g === "string" ? vmxCapabilities(g) : g, index);
const allowed1 = (caps: ReturnType<typeof vmxCapabilities>, k: ControlKind) => caps.controls[k][1];
const has = (v: number, mask: number) => ((v & mask) >>> 0) === mask >>> 0;

/** Every option combination a generation accepts. */
function variants(g: VmxGeneration): ReturnType<typeof vmxCapabilities>[] {
  const out: ReturnType<typeof vmxCapabilities>[] = [];
  for (const apicv of [true, false]) {
    for (const unrestrictedGuest of [true, false]) {
      try {
        out.push(vmxCapabilities(g, { apicv, unrestrictedGuest }));
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    }
  }
  return out;
}

const REAL_FIELD_INDEX: ReadonlyArray<[keyof RealVmxMsrs, number]> = [
  ["basic", IA32_VMX_BASIC], ["pin", IA32_VMX_PINBASED_CTLS], ["proc", IA32_VMX_PROCBASED_CTLS],
  ["exit", IA32_VMX_EXIT_CTLS], ["entry", IA32_VMX_ENTRY_CTLS], ["misc", IA32_VMX_MISC],
  ["cr0Fixed0", IA32_VMX_CR0_FIXED0], ["cr0Fixed1", IA32_VMX_CR0_FIXED1], ["cr4Fixed0", IA32_VMX_CR4_FIXED0],
  ["cr4Fixed1", IA32_VMX_CR4_FIXED1], ["vmcsEnum", IA32_VMX_VMCS_ENUM], ["proc2", IA32_VMX_PROCBASED_CTLS2],
  ["eptVpidCap", IA32_VMX_EPT_VPID_CAP], ["truePin", IA32_VMX_TRUE_PINBASED_CTLS],
  ["trueProc", IA32_VMX_TRUE_PROCBASED_CTLS], ["trueExit", IA32_VMX_TRUE_EXIT_CTLS],
  ["trueEntry", IA32_VMX_TRUE_ENTRY_CTLS],
];

describe("the hardware values the model starts from equal the [VML] dumps", () => {
  it.each(GENS)("%s: every MSR 480H-490H, present or absent", (g) => {
    const dump = dumpOf(g);
    const real = REAL_VMX_MSRS[g];
    for (const [field, index] of REAL_FIELD_INDEX) {
      const v = real[field] as MsrValue | undefined;
      expect(hex(v), `${g} ${field}`).toBe(hex(dump.get(index)));
    }
  });

  it("the APICv siblings' pin-based and secondary allowed-1 equal the server dumps", () => {
    const hsw = parseDump(DUMPS["E5-2680v3"]);
    const skx = parseDump(DUMPS["Gold6140"]);
    expect(APICV_SIBLINGS.haswell?.pinAllowed1).toBe(hsw.get(0x481)![1]);
    expect(APICV_SIBLINGS.haswell?.proc2Allowed1).toBe(hsw.get(0x48b)![1]);
    expect(APICV_SIBLINGS.skylake?.pinAllowed1).toBe(skx.get(0x481)![1]);
    expect(APICV_SIBLINGS.skylake?.proc2Allowed1).toBe(skx.get(0x48b)![1]);
    expect(APICV_SIBLINGS.sandybridge).toBeUndefined();
  });

  it("APICv appears with Ivy Bridge-EP: Sandy Bridge-EP lacks it, the client Haswell/Skylake lack it", () => {
    const apicv = (d: Map<number, [number, number]>) =>
      has(d.get(0x481)![1], C.PIN_PROCESS_POSTED_INTERRUPTS) &&
      has(d.get(0x48b)![1], C.PROC2_APIC_REGISTER_VIRTUALIZATION | C.PROC2_VIRTUAL_INTERRUPT_DELIVERY);
    expect(apicv(parseDump(DUMPS["E5-2670"]))).toBe(false);
    expect(apicv(parseDump(DUMPS["E5-2697v2"]))).toBe(true);
    expect(apicv(parseDump(DUMPS["i7-4770"]))).toBe(false);
    expect(apicv(parseDump(DUMPS["E3-1270v5"]))).toBe(false);
    expect(apicv(parseDump(DUMPS["E5-2680v3"]))).toBe(true);
    expect(apicv(parseDump(DUMPS["Gold6140"]))).toBe(true);
  });
});

describe("vmx.md 1a: revision id, region size, preemption-timer rate and availability", () => {
  it.each(GENS)("%s", (g) => {
    const want = VMX_MD_1A[g];
    const caps = vmxCapabilities(g);
    const basic = decodeVmxBasic(msr(caps, IA32_VMX_BASIC)!);
    expect(basic.revisionId).toBe(want.revisionId);
    expect(basic.regionSize).toBe(want.regionSize);
    expect(decodeVmxMisc(msr(caps, IA32_VMX_MISC)!).preemptionTimerRate).toBe(want.rate);
    expect(REAL_VMX_MSRS[g].misc[0]).toBe(want.misc);
    expect(has(allowed1(caps, "pin"), C.PIN_ACTIVATE_PREEMPTION_TIMER)).toBe(want.preemptionTimer);
    // "save VMX-preemption timer value" exists exactly where the timer does (SDM 26.2.1.2).
    expect(has(allowed1(caps, "exit"), C.EXIT_SAVE_PREEMPTION_TIMER_VALUE)).toBe(want.preemptionTimer);
  });
});

describe("IA32_VMX_BASIC (SDM A.1)", () => {
  it.each(GENS)("%s: WB memory type, no 32-bit address limit, no dual-monitor SMM, bits 54/55 as the hardware", (g) => {
    const b = decodeVmxBasic(msr(g, IA32_VMX_BASIC)!);
    const hw = decodeVmxBasic(dumpOf(g).get(0x480)!);
    expect(b.memoryType).toBe(6);
    expect(b.physAddr32).toBe(false);
    expect(b.dualMonitor).toBe(false);
    expect(hw.dualMonitor).toBe(true); // the hardware has it; the model has no SMM
    expect(b.insOutsInfo).toBe(hw.insOutsInfo);
    expect(b.trueControls).toBe(hw.trueControls);
    expect(b.insOutsInfo).toBe(g !== "merom");
    expect(b.trueControls).toBe(g !== "merom" && g !== "penryn");
  });
});

describe("which capability MSRs exist", () => {
  it.each(GENS)("%s: 480H-48AH always; 48BH iff secondary controls (A.3.3); 48CH iff EPT or VPID (A.10); 48DH-490H iff BASIC[55] (A.2); never 491H", (g) => {
    for (const caps of variants(g)) {
      for (let i = IA32_VMX_BASIC; i <= IA32_VMX_VMCS_ENUM; i++) expect(msr(caps, i), i.toString(16)).toBeDefined();
      const secondary = has(msr(caps, IA32_VMX_PROCBASED_CTLS)![1], C.PROC_ACTIVATE_SECONDARY_CONTROLS);
      expect(msr(caps, IA32_VMX_PROCBASED_CTLS2) !== undefined).toBe(secondary);
      const p2 = msr(caps, IA32_VMX_PROCBASED_CTLS2)?.[1] ?? 0;
      expect(msr(caps, IA32_VMX_EPT_VPID_CAP) !== undefined)
        .toBe((p2 & (C.PROC2_ENABLE_EPT | C.PROC2_ENABLE_VPID)) !== 0);
      const tru = decodeVmxBasic(msr(caps, IA32_VMX_BASIC)!).trueControls;
      for (let i = IA32_VMX_TRUE_PINBASED_CTLS; i <= IA32_VMX_TRUE_ENTRY_CTLS; i++) {
        expect(msr(caps, i) !== undefined, i.toString(16)).toBe(tru);
      }
      expect(msr(caps, IA32_VMX_VMFUNC)).toBeUndefined();
      expect(msr(caps, 0x47f)).toBeUndefined();
      expect(msr(caps, 0x492)).toBeUndefined();
    }
  });

  it("Merom has no secondary controls and no TRUE MSRs; Penryn has secondary controls but no EPT/VPID MSR", () => {
    expect(msr("merom", IA32_VMX_PROCBASED_CTLS2)).toBeUndefined();
    expect(msr("merom", IA32_VMX_TRUE_PROCBASED_CTLS)).toBeUndefined();
    expect(hex(msr("penryn", IA32_VMX_PROCBASED_CTLS2))).toBe("00000041_00000000");
    expect(msr("penryn", IA32_VMX_EPT_VPID_CAP)).toBeUndefined();
    expect(msr("nehalem", IA32_VMX_EPT_VPID_CAP)).toBeDefined();
  });
});

describe("control MSRs: default1 and the TRUE MSRs (SDM A.2, A.3-A.5)", () => {
  it.each(GENS)("%s: the plain MSRs report every default1 bit as must-be-1, like the hardware", (g) => {
    const caps = vmxCapabilities(g);
    const dump = dumpOf(g);
    for (const k of CONTROL_KINDS) {
      const plain = msr(caps, CONTROL_MSR[k].plain);
      if (plain === undefined) continue;
      expect(plain[0], k).toBe(DEFAULT1[k]);
      expect(dump.get(CONTROL_MSR[k].plain)![0], `hardware ${k}`).toBe(DEFAULT1[k]);
    }
  });

  it.each(GENS)("%s: allowed-0 is a subset of allowed-1 in every control MSR (some setting is legal)", (g) => {
    for (const caps of variants(g)) {
      for (const [index, v] of caps.msrs) {
        if (index === IA32_VMX_BASIC || (index >= IA32_VMX_MISC && index <= IA32_VMX_VMCS_ENUM) || index === IA32_VMX_EPT_VPID_CAP) continue;
        expect((v[0] & ~v[1]) >>> 0, index.toString(16)).toBe(0);
      }
    }
  });

  it.each(GENS.filter((g) => g !== "merom" && g !== "penryn"))("%s: TRUE allowed-1 = plain allowed-1; TRUE allowed-0 within plain allowed-0, differing only in default1 bits", (g) => {
    for (const caps of variants(g)) {
      for (const k of ["pin", "proc", "exit", "entry"] as const) {
        const plain = msr(caps, CONTROL_MSR[k].plain)!;
        const tru = msr(caps, CONTROL_MSR[k].true!)!;
        expect(tru[1], k).toBe(plain[1]);
        expect((tru[0] & ~plain[0]) >>> 0, k).toBe(0);
        expect(((plain[0] ^ tru[0]) & ~DEFAULT1[k]) >>> 0, k).toBe(0);
        // VM entry checks against the TRUE MSR when there is one.
        expect(caps.controls[k]).toEqual(tru);
      }
    }
  });

  it("the TRUE MSRs free CR3-load/store exiting and save/load debug controls (as the hardware's do)", () => {
    const caps = vmxCapabilities("nehalem");
    const plainProc = msr(caps, IA32_VMX_PROCBASED_CTLS)!;
    const trueProc = msr(caps, IA32_VMX_TRUE_PROCBASED_CTLS)!;
    expect((plainProc[0] ^ trueProc[0]) >>> 0).toBe(C.PROC_CR3_LOAD_EXITING | C.PROC_CR3_STORE_EXITING);
    expect((msr(caps, IA32_VMX_EXIT_CTLS)![0] ^ msr(caps, IA32_VMX_TRUE_EXIT_CTLS)![0]) >>> 0).toBe(C.EXIT_SAVE_DEBUG_CONTROLS);
    expect((msr(caps, IA32_VMX_ENTRY_CTLS)![0] ^ msr(caps, IA32_VMX_TRUE_ENTRY_CTLS)![0]) >>> 0).toBe(C.ENTRY_LOAD_DEBUG_CONTROLS);
    expect(msr(caps, IA32_VMX_TRUE_PINBASED_CTLS)![0]).toBe(msr(caps, IA32_VMX_PINBASED_CTLS)![0]);
  });

  it("without TRUE MSRs (Core 2) VM entry checks against the plain ones; absent secondary controls check as [0, 0]", () => {
    const caps = vmxCapabilities("merom");
    expect(caps.controls.proc).toEqual(msr(caps, IA32_VMX_PROCBASED_CTLS));
    expect(caps.controls.proc2).toEqual([0, 0]);
  });
});

/** The controls the VT-x issue asks the model to implement (issue 5 and the capability brief), by word. */
const ISSUE_LIST: Readonly<Record<ControlKind, number>> = {
  pin: C.PIN_EXTERNAL_INTERRUPT_EXITING | C.PIN_NMI_EXITING | C.PIN_VIRTUAL_NMIS | C.PIN_ACTIVATE_PREEMPTION_TIMER |
    C.PIN_PROCESS_POSTED_INTERRUPTS,
  proc: (C.PROC_INTERRUPT_WINDOW_EXITING | C.PROC_USE_TSC_OFFSETTING | C.PROC_HLT_EXITING | C.PROC_INVLPG_EXITING |
    C.PROC_MWAIT_EXITING | C.PROC_RDPMC_EXITING | C.PROC_RDTSC_EXITING | C.PROC_CR3_LOAD_EXITING |
    C.PROC_CR3_STORE_EXITING | C.PROC_USE_TPR_SHADOW | C.PROC_NMI_WINDOW_EXITING | C.PROC_MOV_DR_EXITING |
    C.PROC_UNCONDITIONAL_IO_EXITING | C.PROC_USE_IO_BITMAPS | C.PROC_USE_MSR_BITMAPS | C.PROC_MONITOR_EXITING |
    C.PROC_PAUSE_EXITING | C.PROC_ACTIVATE_SECONDARY_CONTROLS) >>> 0,
  proc2: C.PROC2_VIRTUALIZE_APIC_ACCESSES | C.PROC2_ENABLE_EPT | C.PROC2_ENABLE_VPID | C.PROC2_WBINVD_EXITING |
    C.PROC2_UNRESTRICTED_GUEST | C.PROC2_APIC_REGISTER_VIRTUALIZATION | C.PROC2_VIRTUAL_INTERRUPT_DELIVERY,
  exit: C.EXIT_SAVE_DEBUG_CONTROLS | C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT | C.EXIT_SAVE_IA32_PAT |
    C.EXIT_LOAD_IA32_PAT | C.EXIT_SAVE_IA32_EFER | C.EXIT_LOAD_IA32_EFER | C.EXIT_SAVE_PREEMPTION_TIMER_VALUE,
  entry: C.ENTRY_LOAD_DEBUG_CONTROLS | C.ENTRY_LOAD_IA32_PAT | C.ENTRY_LOAD_IA32_EFER,
};

describe("what the model offers: the issue's list where the hardware has it, nothing else", () => {
  it.each(GENS)("%s (APICv per option, server sibling included): allowed-1 = default1 | (hardware ∩ issue list)", (g) => {
    const dump = dumpOf(g);
    for (const caps of variants(g)) {
      const apicv = has(allowed1(caps, "pin"), C.PIN_PROCESS_POSTED_INTERRUPTS);
      const ug = has(allowed1(caps, "proc2"), C.PROC2_UNRESTRICTED_GUEST);
      for (const k of CONTROL_KINDS) {
        let hw = dump.get(CONTROL_MSR[k].plain)?.[1] ?? 0;
        let list = ISSUE_LIST[k];
        if (apicv && k === "pin") hw |= APICV_SIBLINGS[g]!.pinAllowed1;
        if (apicv && k === "proc2") hw |= APICV_SIBLINGS[g]!.proc2Allowed1;
        if (!apicv && k === "pin") list &= ~C.PIN_PROCESS_POSTED_INTERRUPTS;
        if (!apicv && k === "proc2") list &= ~(C.PROC2_APIC_REGISTER_VIRTUALIZATION | C.PROC2_VIRTUAL_INTERRUPT_DELIVERY);
        if (!ug && k === "proc2") list &= ~C.PROC2_UNRESTRICTED_GUEST;
        expect(hex([0, allowed1(caps, k)]), `${g} ${k}`).toBe(hex([0, (DEFAULT1[k] | (hw & list)) >>> 0]));
      }
    }
  });

  it.each(GENS)("%s: never CR8 exiting, MTF, IA-32e guest, host address-space size, SMM entry, PERF_GLOBAL_CTRL, or the unmodelled secondary controls", (g) => {
    for (const caps of variants(g)) {
      const never: Array<[ControlKind, number]> = [
        ["proc", C.PROC_CR8_LOAD_EXITING], ["proc", C.PROC_CR8_STORE_EXITING], ["proc", C.PROC_MONITOR_TRAP_FLAG],
        ["entry", C.ENTRY_IA32E_MODE_GUEST], ["exit", C.EXIT_HOST_ADDRESS_SPACE_SIZE], ["entry", C.ENTRY_TO_SMM],
        ["entry", C.ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT], ["entry", C.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL],
        ["exit", C.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL], ["exit", C.EXIT_CONCEAL_VMX_FROM_PT],
        ["proc2", C.PROC2_DESCRIPTOR_TABLE_EXITING], ["proc2", C.PROC2_ENABLE_RDTSCP],
        ["proc2", C.PROC2_VIRTUALIZE_X2APIC_MODE], ["proc2", C.PROC2_PAUSE_LOOP_EXITING],
        ["proc2", C.PROC2_ENABLE_VM_FUNCTIONS], ["proc2", C.PROC2_VMCS_SHADOWING], ["proc2", C.PROC2_ENABLE_PML],
        ["proc2", C.PROC2_EPT_VIOLATION_VE], ["proc2", C.PROC2_ENABLE_INVPCID], ["proc2", C.PROC2_RDRAND_EXITING],
      ];
      for (const [k, bit] of never) expect((allowed1(caps, k) & bit) >>> 0, `${k} ${C.controlBitNames(k, bit)}`).toBe(0);
    }
  });

  it("per generation, as the hardware reports", () => {
    const merom = vmxCapabilities("merom");
    expect(has(allowed1(merom, "pin"), C.PIN_VIRTUAL_NMIS)).toBe(false);
    expect(has(allowed1(merom, "proc"), C.PROC_NMI_WINDOW_EXITING)).toBe(false);
    expect(has(allowed1(merom, "proc"), C.PROC_ACTIVATE_SECONDARY_CONTROLS)).toBe(false);
    expect(has(allowed1(merom, "proc"), C.PROC_USE_TPR_SHADOW)).toBe(true);
    expect(has(allowed1(merom, "exit"), C.EXIT_LOAD_IA32_PAT)).toBe(false);
    expect(has(allowed1(merom, "exit"), C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT)).toBe(true);
    const penryn = vmxCapabilities("penryn");
    expect(has(allowed1(penryn, "pin"), C.PIN_VIRTUAL_NMIS)).toBe(true);
    expect(allowed1(penryn, "proc2")).toBe(C.PROC2_VIRTUALIZE_APIC_ACCESSES | C.PROC2_WBINVD_EXITING);
    const nehalem = vmxCapabilities("nehalem");
    expect(allowed1(nehalem, "proc2")).toBe(C.PROC2_VIRTUALIZE_APIC_ACCESSES | C.PROC2_ENABLE_EPT |
      C.PROC2_ENABLE_VPID | C.PROC2_WBINVD_EXITING);
    expect(has(allowed1(nehalem, "entry"), C.ENTRY_LOAD_IA32_EFER | C.ENTRY_LOAD_IA32_PAT)).toBe(true);
    expect(has(allowed1(vmxCapabilities("sandybridge"), "proc2"), C.PROC2_UNRESTRICTED_GUEST)).toBe(true);
    const haswell = vmxCapabilities("haswell");
    expect(has(allowed1(haswell, "pin"), C.PIN_PROCESS_POSTED_INTERRUPTS)).toBe(true);
    expect(has(allowed1(haswell, "proc2"), C.PROC2_VIRTUAL_INTERRUPT_DELIVERY | C.PROC2_APIC_REGISTER_VIRTUALIZATION)).toBe(true);
  });

  it.each(GENS)("%s: every offered control's SDM 26.2.1.1/26.2.1.2 prerequisites are offered too", (g) => {
    for (const caps of variants(g)) {
      const pin = allowed1(caps, "pin"), proc = allowed1(caps, "proc"), proc2 = allowed1(caps, "proc2");
      const exit = allowed1(caps, "exit");
      const implies = (a: boolean, b: boolean, what: string) => expect(!a || b, what).toBe(true);
      implies(has(proc, C.PROC_NMI_WINDOW_EXITING), has(pin, C.PIN_VIRTUAL_NMIS), "NMI-window needs virtual NMIs");
      implies(has(pin, C.PIN_VIRTUAL_NMIS), has(pin, C.PIN_NMI_EXITING), "virtual NMIs need NMI exiting");
      implies(has(pin, C.PIN_PROCESS_POSTED_INTERRUPTS),
        has(proc2, C.PROC2_VIRTUAL_INTERRUPT_DELIVERY) && has(exit, C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT),
        "posted interrupts need virtual-interrupt delivery and acknowledge interrupt on exit");
      implies(has(proc2, C.PROC2_VIRTUAL_INTERRUPT_DELIVERY), has(pin, C.PIN_EXTERNAL_INTERRUPT_EXITING),
        "virtual-interrupt delivery needs external-interrupt exiting");
      implies((proc2 & (C.PROC2_APIC_REGISTER_VIRTUALIZATION | C.PROC2_VIRTUAL_INTERRUPT_DELIVERY)) !== 0,
        has(proc, C.PROC_USE_TPR_SHADOW), "APIC-register virtualization / virtual-interrupt delivery need TPR shadow");
      implies(has(proc2, C.PROC2_UNRESTRICTED_GUEST), has(proc2, C.PROC2_ENABLE_EPT), "unrestricted guest needs EPT");
      implies(has(exit, C.EXIT_SAVE_PREEMPTION_TIMER_VALUE), has(pin, C.PIN_ACTIVATE_PREEMPTION_TIMER),
        "save preemption timer needs the timer");
      // SDM A.6: MISC bit 5 is 1 on any processor that supports unrestricted guest.
      implies(has(proc2, C.PROC2_UNRESTRICTED_GUEST), decodeVmxMisc(msr(caps, IA32_VMX_MISC)!).storesLma, "MISC[5]");
    }
  });
});

describe("options: APIC virtualization and unrestricted guest", () => {
  it("haswell/skylake offer APICv by default and exactly the client part without it", () => {
    for (const g of ["haswell", "skylake"] as const) {
      const on = vmxCapabilities(g);
      const off = vmxCapabilities(g, { apicv: false });
      expect(((allowed1(on, "pin") ^ allowed1(off, "pin")) >>> 0)).toBe(C.PIN_PROCESS_POSTED_INTERRUPTS);
      expect(((allowed1(on, "proc2") ^ allowed1(off, "proc2")) >>> 0))
        .toBe(C.PROC2_APIC_REGISTER_VIRTUALIZATION | C.PROC2_VIRTUAL_INTERRUPT_DELIVERY);
      expect(msr(off, IA32_VMX_PINBASED_CTLS)![1]).toBe(dumpOf(g).get(0x481)![1]);
      expect(on.sources.length).toBe(2);
      expect(off.sources).toEqual([REAL_VMX_MSRS[g].source]);
    }
  });

  it("APICv before Ivy Bridge-EP and unrestricted guest before Westmere are refused", () => {
    for (const g of ["merom", "penryn", "nehalem", "sandybridge"] as const) {
      expect(() => vmxCapabilities(g, { apicv: true })).toThrow(RangeError);
      expect(has(allowed1(vmxCapabilities(g), "pin"), C.PIN_PROCESS_POSTED_INTERRUPTS)).toBe(false);
    }
    for (const g of ["merom", "penryn", "nehalem"] as const) expect(() => vmxCapabilities(g, { unrestrictedGuest: true })).toThrow(RangeError);
  });

  it("{ unrestrictedGuest: false } withdraws only that control", () => {
    const on = vmxCapabilities("sandybridge");
    const off = vmxCapabilities("sandybridge", { unrestrictedGuest: false });
    expect(((allowed1(on, "proc2") ^ allowed1(off, "proc2")) >>> 0)).toBe(C.PROC2_UNRESTRICTED_GUEST);
    for (const k of ["pin", "proc", "exit", "entry"] as const) expect(allowed1(off, k)).toBe(allowed1(on, k));
  });
});

describe("IA32_VMX_MISC (SDM A.6)", () => {
  it.each(GENS)("%s: 4 CR3 targets, HLT/shutdown/wait-for-SIPI, 512-entry MSR lists, no SMM or PT bits, within the hardware's value", (g) => {
    const v = msr(g, IA32_VMX_MISC)!;
    const d = decodeVmxMisc(v);
    const hw = decodeVmxMisc(dumpOf(g).get(0x485)!);
    expect(d.cr3TargetCount).toBe(4);
    expect(d.activityHlt && d.activityShutdown && d.activityWaitForSipi).toBe(true);
    expect(d.maxMsrListEntries).toBe(512);
    expect(d.msegRevision).toBe(0);
    expect((v[0] & ((1 << 14) | (1 << 15) | (1 << 28))) >>> 0).toBe(0);
    expect((v[0] & ~dumpOf(g).get(0x485)![0]) >>> 0).toBe(0);
    expect(d.storesLma).toBe(hw.storesLma);
    // VMWRITE to the exit-information fields (bit 29) and zero-length injection (bit 30), per generation.
    expect(d.vmwriteAnyField).toBe(hw.vmwriteAnyField);
    expect(d.vmwriteAnyField).toBe(g === "haswell" || g === "skylake");
    expect(d.injectLengthZero).toBe(g === "skylake");
  });
});

describe("CR0/CR4 fixed bits (SDM A.7, A.8; guest CR0 rule of 26.3.1.1)", () => {
  it.each(GENS)("%s: CR0_FIXED0 = PE|NE|PG, CR0_FIXED1 all ones, CR4_FIXED0 = VMXE", (g) => {
    expect(hex(msr(g, IA32_VMX_CR0_FIXED0))).toBe("00000000_80000021");
    expect(hex(msr(g, IA32_VMX_CR0_FIXED1))).toBe("00000000_ffffffff");
    expect(hex(msr(g, IA32_VMX_CR4_FIXED0))).toBe("00000000_00002000");
  });

  it.each(GENS)("%s: CR4_FIXED1 = the CR4 bits both the hardware and the model have, VMXE included", (g) => {
    const f1 = msr(g, IA32_VMX_CR4_FIXED1)![0];
    const hw = dumpOf(g).get(0x489)![0];
    expect(f1 & 0x2000).toBe(0x2000);
    expect((f1 & ~hw) >>> 0).toBe(0);
    expect((f1 & ~(CR4_IMPLEMENTED | 0x2000)) >>> 0).toBe(0);
    // TSD, DE, PSE, MCE, PGE, PCE: bits every generation's CR4_FIXED1 has (27FFH and up).
    expect(f1).toBe((CR4_IMPLEMENTED | 0x2000) >>> 0);
  });

  it("guest CR0 must-be-1 bits: PE and PG drop out only with unrestricted guest under activated secondary controls", () => {
    const caps = vmxCapabilities("sandybridge");
    const sec = C.PROC_ACTIVATE_SECONDARY_CONTROLS;
    expect(guestCr0Fixed0(caps, 0, 0)).toBe(0x80000021);
    expect(guestCr0Fixed0(caps, sec, C.PROC2_ENABLE_EPT)).toBe(0x80000021);
    expect(guestCr0Fixed0(caps, sec, C.PROC2_ENABLE_EPT | C.PROC2_UNRESTRICTED_GUEST)).toBe(0x20);
    expect(guestCr0Fixed0(caps, 0, C.PROC2_ENABLE_EPT | C.PROC2_UNRESTRICTED_GUEST)).toBe(0x80000021);
  });
});

describe("IA32_VMX_VMCS_ENUM (SDM A.9)", () => {
  // SDM Appendix B: VMX-preemption timer value 482EH, guest IA32_SYSENTER_CS 482AH; index = encoding bits 9:1.
  const index = (enc: number) => (enc >>> 1) & 0x1ff;
  it.each(GENS)("%s: the highest index of the model's fields, at least 2AH (kvm-unit-tests test_vmx_caps)", (g) => {
    const caps = vmxCapabilities(g);
    const v = msr(caps, IA32_VMX_VMCS_ENUM)!;
    const timer = has(allowed1(caps, "pin"), C.PIN_ACTIVATE_PREEMPTION_TIMER);
    expect((v[0] >>> 1) & 0x1ff).toBe(timer ? index(0x482e) : index(0x482a));
    expect(v[0] & 0x3fe).toBeGreaterThanOrEqual(0x2a);
    expect(v[1]).toBe(0);
  });
});

describe("IA32_VMX_EPT_VPID_CAP (SDM A.10)", () => {
  it.each(["nehalem", "sandybridge", "haswell", "skylake"] as const)("%s: 4-level walks, WB and UC, INVEPT/INVVPID types, within the hardware's value", (g) => {
    const v = msr(g, IA32_VMX_EPT_VPID_CAP)!;
    const hw = dumpOf(g).get(0x48c)!;
    const bit = (n: number) => ((v[0] >>> n) & 1) === 1;
    expect(bit(6) && bit(8) && bit(14) && bit(20) && bit(25) && bit(26)).toBe(true);
    expect(bit(0)).toBe(true); // execute-only translations (every generation's hardware has it)
    expect(bit(16)).toBe(true); // 2-MiB pages
    expect(bit(17) && bit(21)).toBe(g === "haswell" || g === "skylake"); // 1-GiB pages, accessed/dirty flags
    expect(bit(22)).toBe(false); // no advanced EPT-violation information
    expect(v[1]).toBe(0xf01); // INVVPID with all four types
    expect((v[0] & ~hw[0]) >>> 0).toBe(0);
    expect((v[1] & ~hw[1]) >>> 0).toBe(0);
  });
});

describe("ids and determinism", () => {
  it("every CPU profile id names a generation; generations name themselves", () => {
    for (const id of Object.keys(PROFILES)) expect(VMX_GENERATIONS).toContain(vmxGenerationOf(id));
    expect(Object.keys(VMX_GENERATION_OF_PROFILE).sort()).toEqual(Object.keys(PROFILES).sort());
    expect(vmxGenerationOf("core2-q6600")).toBe("merom");
    for (const g of GENS) expect(vmxGenerationOf(g)).toBe(g);
    expect(vmxCapabilities("core2-q6600").msrs).toEqual(vmxCapabilities("merom").msrs);
  });

  it("an unknown id is a RangeError naming the known ones", () => {
    expect(() => vmxCapabilities("pentium4")).toThrow(/known: merom, penryn.*core2-q6600/);
  });

  it("values are frozen and identical across calls", () => {
    const a = vmxCapabilities("skylake");
    const b = vmxCapabilities("skylake");
    expect([...a.msrs]).toEqual([...b.msrs]);
    expect(Object.isFrozen(a.msrs.get(IA32_VMX_BASIC))).toBe(true);
    expect(Object.isFrozen(a.controls)).toBe(true);
  });
});
