/**
 * CLC STC CMC CLD STD, CLI/STI privilege (SDM Vol. 2 CLI/STI "Protected Mode Exceptions": #GP(0) if
 * CPL > IOPL), NOP forms (no memory access), PAUSE, HLT (#GP(0) at CPL > 0), CPUID (SDM Vol. 2A CPUID:
 * leaf 0 vendor string, leaf 1 signature and feature bits of Table 3-11, leaves 15H/16H and the rule
 * for leaves above the maximum), RDTSC/RDTSCP (#GP(0) if CR4.TSD = 1 and CPL > 0, SDM Vol. 3A 2.5),
 * UD2 (#UD).
 */
import { describe, expect, it } from "vitest";
import { CODE, type Case, RecordingBus, expected, faultOf, machine, observe, runCase } from "./data-harness.ts";
import { DEFAULT_CPU_IDENTITY, setCpuIdentity, type CpuIdentity } from "../../src/cpu/cpuid.ts";

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, IF = 0x200, DF = 0x400, OF = 0x800;
const IOPL = (n: number) => n << 12;
const UD = 6, GP = 13;

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
      expect(observe(runCase(t), t)).toEqual(expected(t));
    });
  });
}

table("CLC STC CMC change CF only, CLD STD change DF only", [
  { name: "clc (F8)", code: [0xf8], eflags: CF | PF | AF | ZF | SF | OF, expect: { eflags: 0x2 | PF | AF | ZF | SF | OF } },
  { name: "stc (F9)", code: [0xf9], eflags: 0, expect: { eflags: 0x2 | CF } },
  { name: "cmc (F5) with CF=1", code: [0xf5], eflags: CF | ZF, expect: { eflags: 0x2 | ZF } },
  { name: "cmc (F5) with CF=0", code: [0xf5], eflags: ZF, expect: { eflags: 0x2 | ZF | CF } },
  { name: "cld (FC)", code: [0xfc], eflags: DF | CF, expect: { eflags: 0x2 | CF } },
  { name: "std (FD)", code: [0xfd], eflags: CF, expect: { eflags: 0x2 | CF | DF } },
  // cmp 0,1: 0 - 1 = FFFFFFFFH sets CF PF AF SF; CMC inverts CF only.
  { name: "cmp 0,1 then cmc (39 D8, F5)", code: [0x39, 0xd8, 0xf5], regs: { eax: 0, ebx: 1 }, expect: { eflags: 0x2 | PF | AF | SF } },
  { name: "stc then setc cl (F9, 0F 92 C1)", code: [0xf9, 0x0f, 0x92, 0xc1], eflags: 0, regs: { ecx: 0 }, expect: { regs: { ecx: 1 } } },
]);

table("CLI/STI: #GP(0) in protected mode when CPL > IOPL; always allowed in real mode", [
  { name: "cli (FA) at CPL 0", code: [0xfa], eflags: IF | CF, expect: { eflags: 0x2 | CF } },
  { name: "sti (FB) at CPL 0", code: [0xfb], eflags: CF, expect: { eflags: 0x2 | CF | IF } },
  { name: "cli at CPL 3, IOPL 0 is #GP(0)", code: [0xfa], eflags: IF, cpl: 3, expect: { fault: [GP, 0] } },
  { name: "sti at CPL 3, IOPL 0 is #GP(0)", code: [0xfb], eflags: 0, cpl: 3, expect: { fault: [GP, 0] } },
  { name: "cli at CPL 3, IOPL 3", code: [0xfa], eflags: IF | IOPL(3), cpl: 3, expect: { eflags: 0x2 | IOPL(3) } },
  { name: "sti at CPL 1, IOPL 2", code: [0xfb], eflags: IOPL(2), cpl: 1, expect: { eflags: 0x2 | IOPL(2) | IF } },
  { name: "sti at CPL 2, IOPL 1 is #GP(0)", code: [0xfb], eflags: IOPL(1), cpl: 2, expect: { fault: [GP, 0] } },
  { name: "cli in real mode with IOPL 0", code: [0xfa], real: true, eflags: IF, expect: { eflags: 0x2 } },
  { name: "sti in real mode with IOPL 0", code: [0xfb], real: true, eflags: 0, expect: { eflags: 0x2 | IF } },
]);

describe("NOP forms change nothing but EIP and access no memory", () => {
  const forms: [string, number[]][] = [
    ["nop (90)", [0x90]],
    ["nop dword [eax] (0F 1F 00)", [0x0f, 0x1f, 0x00]],
    ["nop dword [eax+eax+0] (0F 1F 44 00 00)", [0x0f, 0x1f, 0x44, 0x00, 0x00]],
    ["nop word [eax+eax+0] (66 0F 1F 44 00 00)", [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]],
    ["nop dword [eax+0] (0F 1F 80 00 00 00 00)", [0x0f, 0x1f, 0x80, 0, 0, 0, 0]],
    ["fwait (9B)", [0x9b]],
    // Hint NOPs (run as NOPs on the host CPU): other ModRM.reg values of 0F 1F, and 0F 19-0F 1E
    ["hint nop 0F 1F /1 (0F 1F C8)", [0x0f, 0x1f, 0xc8]],
    ["hint nop 0F 1F /7 [eax] (0F 1F 38)", [0x0f, 0x1f, 0x38]],
    ["hint nop 0F 19 /0 (0F 19 C0)", [0x0f, 0x19, 0xc0]],
    ["hint nop 0F 1E [eax] (0F 1E 00)", [0x0f, 0x1e, 0x00]],
    ["endbr32 (F3 0F 1E FB) on a processor without CET", [0xf3, 0x0f, 0x1e, 0xfb]],
  ];
  it.each(forms)("%s", (_n, code) => {
    const bus = new RecordingBus();
    const regs = { eax: 0x200000, ecx: 1, edx: 2, ebx: 3, esp: 0x8000, ebp: 5, esi: 6, edi: 7 };
    const t: Case = { name: "", code, bus, regs, eflags: CF | ZF, expect: { regs, eflags: 0x2 | CF | ZF } };
    expect(observe(runCase(t), t)).toEqual(expected(t));
    expect(bus.reads).toEqual([]);
  });
});

describe("PAUSE", () => {
  it("costs 10 cycles more than NOP (pre-Skylake order; Skylake's ~140 is a CPU-profile matter)", () => {
    const cyclesOf = (code: number[]) => {
      const c = machine(code);
      c.run(1);
      return c.cycles;
    };
    expect(cyclesOf([0xf3, 0x90]) - cyclesOf([0x90])).toBe(10);
  });
  it("otherwise behaves as NOP (F3 90)", () => {
    const t: Case = { name: "", code: [0xf3, 0x90], regs: { eax: 4, ecx: 5 }, eflags: ZF, expect: { regs: { eax: 4, ecx: 5 }, eflags: 0x2 | ZF } };
    expect(observe(runCase(t), t)).toEqual(expected(t));
  });
});

describe("HLT", () => {
  it("at CPL 0 halts with EIP after the HLT", () => {
    const c = machine([0xf4]);
    expect(c.run(10)).toBe("halt");
    expect(c.halted).toBe(true);
    expect(c.eip).toBe(CODE + 1);
  });
  it("in real mode halts", () => {
    const c = machine([0xf4], { real: true });
    expect(c.run(10)).toBe("halt");
    expect(c.eip).toBe(CODE + 1);
  });
  it.each([1, 3])("at CPL %i is #GP(0) reported at the HLT", (cpl) => {
    const t: Case = { name: "", code: [0xf4], cpl, expect: { fault: [GP, 0] } };
    const c = runCase(t);
    expect(observe(c, t)).toEqual(expected(t));
    expect(c.halted).toBe(false);
  });
});

describe("UD2", () => {
  it("raises #UD reported at the UD2 (0F 0B)", () => {
    const t: Case = { name: "", code: [0x0f, 0x0b], expect: { fault: [UD, -1] } };
    expect(observe(runCase(t), t)).toEqual(expected(t));
  });
});

/** Run CPUID with EAX = leaf, ECX = subleaf; returns [EAX, EBX, ECX, EDX] unsigned. */
function cpuid(leaf: number, subleaf = 0, opts: { id?: number; identity?: CpuIdentity } = {}): number[] {
  const c = machine([0x0f, 0xa2], { id: opts.id });
  if (opts.identity) setCpuIdentity(c, opts.identity);
  c.regs.set([leaf, subleaf, -1, -1], 0);
  c.run(1);
  expect(c.eip).toBe(CODE + 2);
  return [c.regs[0] >>> 0, c.regs[3] >>> 0, c.regs[1] >>> 0, c.regs[2] >>> 0];
}

const LEAF16 = [2400, 2400, 100, 0];

describe("CPUID", () => {
  const leaves: [string, number, number, number[]][] = [
    // "Genu" "ntel" "ineI" as little-endian dwords in EBX, ECX, EDX
    ["leaf 0: max basic leaf 16H and GenuineIntel", 0, 0, [0x16, 0x756e6547, 0x6c65746e, 0x49656e69]],
    // family 6, model 0FH, stepping 0BH; EDX = TSC (4) | MSR (5) | CX8 (8) | SEP (11) | CMOV (15);
    // no FPU (0), PSE (3), PAE (6), APIC (9), MMX (23), SSE (25)
    // EDX bits per SDM Vol. 2A Table 3-11: DE 2, PSE 3, TSC 4, MSR 5, CX8 8, SEP 11, PGE 13, CMOV 15
    ["leaf 1: Q6600-like signature, DE PSE TSC MSR CX8 SEP PGE CMOV only", 1, 0, [0x000006fb, 0x00010000, 0, 0x0000a93c]],
    ["leaf 2: AL = 01H, null descriptors", 2, 0, [1, 0, 0, 0]],
    ["leaf 4 subleaf 0: no cache levels", 4, 0, [0, 0, 0, 0]],
    ["leaf 7 subleaf 0: no structured extended features", 7, 0, [0, 0, 0, 0]],
    ["leaf 0BH: zeros", 0xb, 1, [0, 0, 0, 0]],
    ["leaf 15H: TSC = 24 MHz crystal * 100 / 1", 0x15, 0, [1, 100, 24_000_000, 0]],
    ["leaf 16H: base 2400 MHz, max 2400 MHz, bus 100 MHz", 0x16, 0, LEAF16],
    ["leaf 80000000H: the highest extended leaf is 80000008H", 0x80000000, 0, [0x80000008, 0, 0, 0]],
    ["leaf 80000001H: no extended features (no Intel 64, no XD)", 0x80000001, 0, [0, 0, 0, 0]],
    // SDM Vol. 2A CPUID 80000008H: EAX[7:0] physical-address bits (MAXPHYADDR 36), EAX[15:8] linear-address bits.
    ["leaf 80000008H: MAXPHYADDR 36, 32 linear-address bits", 0x80000008, 0, [0x2024, 0, 0, 0]],
    ["leaf 17H (above max basic) returns leaf 16H's data", 0x17, 0, LEAF16],
    ["leaf 40000000H returns leaf 16H's data", 0x40000000, 0, LEAF16],
    ["leaf 80000009H (above max extended) returns leaf 16H's data", 0x80000009, 0, LEAF16],
    ["leaf FFFFFFFFH returns leaf 16H's data", 0xffffffff, 0, LEAF16],
  ];
  it.each(leaves)("%s", (_n, leaf, sub, want) => {
    expect(cpuid(leaf, sub)).toEqual(want);
  });

  it("leaf 1 EBX[31:24] is the core's initial APIC ID", () => {
    expect(cpuid(1, 0, { id: 3 })[1] >>> 24).toBe(3);
    expect(cpuid(1, 0, { id: 0 })[1] >>> 24).toBe(0);
  });

  it("leaf 1 EAX decodes as family 6, model 15, stepping 11 (SDM Figure 3-6)", () => {
    const eax = cpuid(1)[0];
    expect([(eax >> 8) & 0xf, (eax >> 4) & 0xf, eax & 0xf]).toEqual([6, 15, 11]);
  });

  it("leaf 15H and leaf 16H agree on the TSC frequency (SDM Vol. 3A 18.7.3)", () => {
    const [den, num, crystal] = cpuid(0x15);
    expect((crystal * num) / den).toBe(cpuid(0x16)[0] * 1e6);
  });

  it("answers from the identity set for the core, and only for that core", () => {
    const identity: CpuIdentity = { ...DEFAULT_CPU_IDENTITY, vendor: "VmxSimCpu123", baseMhz: 3000, crystalHz: 25_000_000 };
    expect(cpuid(0, 0, { identity }).slice(1)).toEqual([0x53786d56, 0x33323175, 0x70436d69]);
    expect(cpuid(0x16, 0, { identity })[0]).toBe(3000);
    expect(cpuid(0x15, 0, { identity })[2]).toBe(25_000_000);
    expect(cpuid(0x16)[0]).toBe(2400);
  });
});

describe("RDTSC and RDTSCP", () => {
  const run = (code: number[], setup: (c: ReturnType<typeof machine>) => void, real = false) => {
    const c = machine(code, { real });
    c.regs[1] = -1;
    setup(c);
    c.run(1);
    return c;
  };
  const BIG = 0x123456789ab;

  it.each([
    ["rdtsc (0F 31)", [0x0f, 0x31]],
    ["rdtscp (0F 01 F9)", [0x0f, 0x01, 0xf9]],
  ])("%s returns the 64-bit TSC in EDX:EAX", (_n, code) => {
    const c = run(code, (c) => { c.tscOffset = BIG; });
    expect([c.regs[2] >>> 0, c.regs[0] >>> 0]).toEqual([0x123, 0x456789ab]);
  });

  it("rdtscp loads ECX with IA32_TSC_AUX (0 after reset)", () => {
    expect(run([0x0f, 0x01, 0xf9], () => {}).regs[1]).toBe(0);
  });

  it("rdtscp returns what WRMSR wrote to IA32_TSC_AUX (C0000103H)", () => {
    // mov ecx,C0000103H / mov eax,2AH / xor edx,edx / wrmsr / rdtscp
    const c = machine([0xb9, 0x03, 0x01, 0x00, 0xc0, 0xb8, 0x2a, 0, 0, 0, 0x31, 0xd2, 0x0f, 0x30, 0x0f, 0x01, 0xf9]);
    c.run(5);
    expect(c.regs[1]).toBe(0x2a);
  });

  it("rdtsc leaves ECX alone", () => {
    expect(run([0x0f, 0x31], () => {}).regs[1]).toBe(-1);
  });

  const TSD = 1 << 2;
  it.each([
    ["rdtsc", [0x0f, 0x31], 0, 3, false],
    ["rdtsc", [0x0f, 0x31], TSD, 0, false],
    ["rdtsc", [0x0f, 0x31], TSD, 3, true],
    ["rdtsc", [0x0f, 0x31], TSD, 1, true],
    ["rdtscp", [0x0f, 0x01, 0xf9], TSD, 3, true],
    ["rdtscp", [0x0f, 0x01, 0xf9], 0, 3, false],
  ] as const)("%s with CR4 = %i at CPL %i faults: %s", (_n, code, cr4, cpl, faults) => {
    const c = machine([...code], {});
    c.cr4 = cr4;
    c.cpl = cpl;
    c.tscOffset = 77;
    c.run(20);
    const f = faultOf(c);
    if (faults) {
      expect(f).toEqual({ vector: GP, errorCode: 0, eip: CODE });
    } else {
      expect(f).toBeNull();
      expect(c.regs[0]).toBeGreaterThanOrEqual(77);
    }
  });

  it("rdtsc with CR4.TSD in real mode (CPL 0) does not fault", () => {
    const c = run([0x0f, 0x31], (c) => { c.cr4 = TSD; c.tscOffset = 5; }, true);
    expect(c.eip).toBe(CODE + 2);
    expect(c.regs[0]).toBe(5);
  });

  // The TSC increments every cycle (SDM Vol. 3A 18.17), also between two RDTSCs of one block: the
  // first RDTSC (serialize class, 40 cycles), the MOV and four NOPs (1 cycle each) retire in between.
  it("a later RDTSC in the same block reads the TSC advanced by the instructions in between", () => {
    // rdtsc / mov esi,eax / nop x4 / rdtsc
    const c = machine([0x0f, 0x31, 0x89, 0xc6, 0x90, 0x90, 0x90, 0x90, 0x0f, 0x31]);
    c.run(7);
    expect(c.regs[0] - c.regs[6]).toBe(40 + 1 + 4);
  });
});
