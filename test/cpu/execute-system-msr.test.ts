/**
 * RDMSR, WRMSR, RDPMC, SYSENTER, SYSEXIT and the MSR registry. References: SDM Vol. 2 RDMSR/WRMSR
 * (ECX selects the MSR, EDX:EAX the value; an unimplemented MSR or a reserved bit raises #GP(0)),
 * SDM Vol. 4 Table 2-2 (IA32_TSC 10H, IA32_APIC_BASE 1BH with BSP flag bit 8, EN bit 11 and reset base
 * FEE00000H per Vol. 3A 10.4.4, IA32_FEATURE_CONTROL 3AH with its lock bit (Vol. 3C 23.7),
 * IA32_SYSENTER_CS/ESP/EIP 174H-176H, IA32_MISC_ENABLE 1A0H, IA32_TSC_AUX C0000103H with bits 63:32
 * reserved), Vol. 3B 18.17 (a WRMSR to IA32_TSC sets the counter RDTSC reads), RDPMC (an ECX that names
 * no counter: #GP(0)), and the SYSENTER/SYSEXIT Operation sections (flat selectors SYSENTER_CS,
 * +8, +16 | 3, +24 | 3; #GP(0) when SYSENTER_CS[15:2] = 0 or in real-address mode).
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../src/cpu/core.ts";
import { Eflags, Reg, Seg } from "../../src/cpu/registers.ts";
import { costOf } from "../../src/cpu/timing.ts";
import { defineMsr, readMsr, writeMsr } from "../../src/cpu/msr.ts";
import { CODE, endOf, machine, ring3, run, Sel } from "./system-harness.ts";

const GP = 13;
const RDMSR = [0x0f, 0x32], WRMSR = [0x0f, 0x30];

function rdmsr(index: number, opts: { id?: number; setup?: (c: Core) => void } = {}) {
  const c = machine(RDMSR, { id: opts.id, setup: (c) => { opts.setup?.(c); c.regs[Reg.ECX] = index | 0; c.regs[Reg.EAX] = 0x5555; c.regs[Reg.EDX] = 0x6666; } });
  const o = run(c, 10);
  return { o, c, value: [c.regs[Reg.EAX] >>> 0, c.regs[Reg.EDX] >>> 0] };
}

function wrmsr(index: number, lo: number, hi: number, setup?: (c: Core) => void) {
  // wrmsr / rdmsr: write, then read back
  const code = [...WRMSR, ...RDMSR];
  const c = machine(code, { setup: (c) => { setup?.(c); c.regs[Reg.ECX] = index | 0; c.regs[Reg.EAX] = lo | 0; c.regs[Reg.EDX] = hi | 0; } });
  const o = run(c, 10);
  return { o, c, value: [c.regs[Reg.EAX] >>> 0, c.regs[Reg.EDX] >>> 0] };
}

describe("RDMSR reads the architectural MSRs' reset values", () => {
  it.each([
    ["IA32_APIC_BASE on the BSP (core 0): base FEE00000H, EN, BSP", 0x1b, 0, [0xfee00900, 0]],
    ["IA32_APIC_BASE on an AP (core 1): no BSP flag", 0x1b, 1, [0xfee00800, 0]],
    ["IA32_FEATURE_CONTROL: unlocked, VMX off", 0x3a, 0, [0, 0]],
    ["IA32_SYSENTER_CS", 0x174, 0, [0, 0]],
    ["IA32_SYSENTER_ESP", 0x175, 0, [0, 0]],
    ["IA32_SYSENTER_EIP", 0x176, 0, [0, 0]],
    ["IA32_MISC_ENABLE: fast strings, BTS and PEBS unavailable", 0x1a0, 0, [0x1801, 0]],
    ["IA32_TSC_AUX", 0xc0000103, 0, [0, 0]],
  ] as const)("%s", (_n, index, id, value) => {
    const r = rdmsr(index, { id });
    expect(r.o.vector).toBeNull();
    expect(r.value).toEqual(value);
  });

  it.each([
    ["an unknown index", 0x12345678], ["IA32_P5_MC_ADDR (not modelled)", 0x0], ["an index with bit 31", 0x80000010],
  ] as const)("%s raises #GP(0) and leaves EDX:EAX", (_n, index) => {
    const r = rdmsr(index);
    expect(r.o).toEqual({ vector: GP, errorCode: 0, eip: CODE });
    expect(r.value).toEqual([0x5555, 0x6666]);
  });
});

describe("WRMSR stores what the MSR accepts and raises #GP(0) for the rest", () => {
  const cases: { name: string; index: number; lo: number; hi: number; read?: [number, number]; gp?: true; setup?: (c: Core) => void }[] = [
    { name: "IA32_SYSENTER_CS", index: 0x174, lo: 0x0008, hi: 0, read: [0x0008, 0] },
    { name: "IA32_SYSENTER_ESP", index: 0x175, lo: 0x00007ffc, hi: 0, read: [0x00007ffc, 0] },
    { name: "IA32_SYSENTER_EIP", index: 0x176, lo: 0xc0001000, hi: 0, read: [0xc0001000, 0] },
    { name: "IA32_APIC_BASE moved, BSP flag kept", index: 0x1b, lo: 0xfec00800, hi: 0, read: [0xfec00900, 0] },
    { name: "IA32_APIC_BASE disabled", index: 0x1b, lo: 0xfee00000, hi: 0, read: [0xfee00100, 0] },
    { name: "IA32_APIC_BASE reserved bit 0", index: 0x1b, lo: 0xfee00801, hi: 0, gp: true },
    { name: "IA32_APIC_BASE above MAXPHYADDR (32)", index: 0x1b, lo: 0xfee00800, hi: 1, gp: true },
    { name: "IA32_FEATURE_CONTROL lock + VMX outside SMX", index: 0x3a, lo: 5, hi: 0, read: [5, 0] },
    { name: "IA32_FEATURE_CONTROL VMX inside SMX (no SMX)", index: 0x3a, lo: 2, hi: 0, gp: true },
    {
      name: "IA32_FEATURE_CONTROL once locked", index: 0x3a, lo: 4, hi: 0, gp: true,
      setup: (c) => writeMsr(c, 0x3a, [1, 0]),
    },
    { name: "IA32_MISC_ENABLE keeps its read-only ones", index: 0x1a0, lo: 0, hi: 0, read: [0x1800, 0] },
    { name: "IA32_TSC_AUX low 32 bits", index: 0xc0000103, lo: 0xdeadbeef, hi: 0, read: [0xdeadbeef, 0] },
    { name: "IA32_TSC_AUX bits 63:32 reserved", index: 0xc0000103, lo: 1, hi: 1, gp: true },
    { name: "an unknown MSR", index: 0x12345678, lo: 0, hi: 0, gp: true },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const r = wrmsr(t.index, t.lo, t.hi, t.setup);
    if (t.gp) {
      expect(r.o).toEqual({ vector: GP, errorCode: 0, eip: CODE });
    } else {
      expect(r.o.vector).toBeNull();
      expect(r.value).toEqual(t.read);
    }
  });

  it("keeps a store per core", () => {
    const a = machine([]);
    const b = machine([], { id: 1 });
    writeMsr(a, 0x174, [0x10, 0]);
    expect([...readMsr(a, 0x174)]).toEqual([0x10, 0]);
    expect([...readMsr(b, 0x174)]).toEqual([0, 0]);
  });
});

describe("IA32_TSC is the time-stamp counter RDTSC reads", () => {
  it("reads the counter and moves with the cycles", () => {
    const c = machine([]);
    c.cycles = 0x123456789;
    expect([...readMsr(c, 0x10)]).toEqual([0x23456789, 1]);
    c.cycles += 10;
    expect([...readMsr(c, 0x10)]).toEqual([0x23456793, 1]);
  });

  it("a write sets the counter: it reads back the written value, then advances from there", () => {
    const c = machine([]);
    c.cycles = 5000;
    writeMsr(c, 0x10, [0xfffffff0, 0x7]);
    expect([...readMsr(c, 0x10)]).toEqual([0xfffffff0, 7]);
    c.cycles += 0x20;
    expect([...readMsr(c, 0x10)]).toEqual([0x00000010, 8]);
  });

  it("WRMSR and RDMSR see the exact cycle inside a block, as RDTSC does", () => {
    // nop / wrmsr (ends the block) / rdmsr / mov ebx,eax / mov esi,edx / rdtsc
    // The TSC counts from the written value at the cycle WRMSR starts; WRMSR then takes its cost, so the
    // RDMSR that opens the next block reads value + cost(wrmsr), and RDTSC two MOVs later that plus
    // cost(rdmsr) + 2 cost(mov).
    const code = [0x90, ...WRMSR, ...RDMSR, 0x89, 0xc3, 0x89, 0xd6, 0x0f, 0x31];
    const c = machine(code, { setup: (c) => { c.regs[Reg.ECX] = 0x10; c.regs[Reg.EAX] = 1000; c.regs[Reg.EDX] = 2; } });
    run(c, 10);
    const atRdmsr = 1000 + costOf("serialize");
    expect([c.regs[Reg.EBX], c.regs[Reg.ESI]]).toEqual([atRdmsr, 2]);
    expect([c.regs[Reg.EAX], c.regs[Reg.EDX]]).toEqual([atRdmsr + costOf("serialize") + 2 * costOf("mov"), 2]);
  });
});

describe("the MSR registry can be extended by later layers", () => {
  it("a defined MSR becomes readable and writable; a duplicate definition is refused", () => {
    defineMsr({ index: 0x4000_0abc, name: "TEST_MSR", reset: () => [7, 8] });
    expect(() => defineMsr({ index: 0x4000_0abc, name: "TEST_MSR_AGAIN" })).toThrow(/twice/);
    const r = rdmsr(0x4000_0abc);
    expect(r.value).toEqual([7, 8]);
  });
});

describe("RDPMC: no performance counter exists, so any ECX raises #GP(0)", () => {
  it.each([
    ["CPL 0, ECX = 0", (c: Core): void => { c.regs[Reg.ECX] = 0; }],
    ["CPL 3 with CR4.PCE", (c: Core): void => { c.cr4 = 0x100; ring3(c); }],
    ["CPL 3 without CR4.PCE", (c: Core): void => ring3(c)],
  ] as const)("%s", (_n, setup) => {
    const c = machine([0x0f, 0x33], { setup });
    expect(run(c, 10)).toEqual({ vector: GP, errorCode: 0, eip: CODE });
  });
});

describe("SYSENTER and SYSEXIT switch to the flat ring-0 and ring-3 segments the MSRs define", () => {
  const KERNEL = 0x3000;
  function setupMsrs(c: Core, cs: number = Sel.CODE0): void {
    writeMsr(c, 0x174, [cs, 0]);
    writeMsr(c, 0x175, [0x7000, 0]);
    writeMsr(c, 0x176, [KERNEL, 0]);
  }

  it("sysenter from CPL 3: CS = SYSENTER_CS, SS = +8, CPL 0, ESP/EIP from the MSRs, IF and RF cleared", () => {
    const c = machine([0x0f, 0x34], {
      setup: (c) => {
        setupMsrs(c);
        ring3(c);
        c.setEflags(Eflags.IF | Eflags.RF | Eflags.CF, Eflags.IF | Eflags.RF | Eflags.CF);
      },
    });
    c.ram.set([0xeb, 0xfe], KERNEL);
    c.run(5);
    expect(c.eip).toBe(KERNEL);
    expect([c.segSel[Seg.CS], c.segSel[Seg.SS], c.cpl]).toEqual([0x08, 0x10, 0]);
    expect([c.segBase[Seg.CS], c.segLimit[Seg.CS] >>> 0, c.segAttr[Seg.CS]]).toEqual([0, 0xffffffff, 0xc09b]);
    expect([c.segBase[Seg.SS], c.segLimit[Seg.SS] >>> 0, c.segAttr[Seg.SS]]).toEqual([0, 0xffffffff, 0xc093]);
    expect(c.regs[Reg.ESP]).toBe(0x7000);
    expect(c.getEflags() & (Eflags.IF | Eflags.RF | Eflags.CF)).toBe(Eflags.CF);
  });

  it("sysenter clears the RPL of SYSENTER_CS", () => {
    const c = machine([0x0f, 0x34], { setup: (c) => setupMsrs(c, 0x0b) });
    c.ram.set([0xeb, 0xfe], KERNEL);
    c.run(5);
    expect([c.segSel[Seg.CS], c.segSel[Seg.SS]]).toEqual([0x08, 0x10]);
  });

  it("sysexit: CS = SYSENTER_CS + 16 | 3, SS = + 24 | 3, CPL 3, ESP = ECX, EIP = EDX", () => {
    const user = CODE + 0x100;
    const c = machine([0x0f, 0x35], {
      setup: (c) => {
        setupMsrs(c);
        c.regs[Reg.ECX] = 0x6000;
        c.regs[Reg.EDX] = user;
      },
    });
    c.ram.set([0xeb, 0xfe], user);
    c.run(5);
    expect(c.eip).toBe(user);
    expect([c.segSel[Seg.CS], c.segSel[Seg.SS], c.cpl]).toEqual([0x1b, 0x23, 3]);
    expect([c.segAttr[Seg.CS], c.segAttr[Seg.SS], c.segLimit[Seg.CS] >>> 0]).toEqual([0xc0fb, 0xc0f3, 0xffffffff]);
    expect(c.regs[Reg.ESP]).toBe(0x6000);
  });

  it("a user -> kernel -> user round trip", () => {
    // user: sysenter / (jmp $ at the end); kernel: mov ecx,esp-ish values / mov edx,back / sysexit
    const code = [0x0f, 0x34];
    const back = endOf(code);
    const c = machine(code, { setup: (c) => { setupMsrs(c); ring3(c); } });
    c.ram.set([0xb9, 0x00, 0x50, 0, 0, 0xba, back & 0xff, back >> 8, 0, 0, 0x0f, 0x35], KERNEL);
    const o = run(c, 10);
    expect(o).toEqual({ vector: null, errorCode: null, eip: back });
    expect([c.cpl, c.segSel[Seg.CS], c.regs[Reg.ESP]]).toEqual([3, 0x1b, 0x5000]);
  });

  it.each([
    ["sysenter with SYSENTER_CS = 0", [0x0f, 0x34], 0],
    ["sysenter with SYSENTER_CS = 3 (null selector with RPL)", [0x0f, 0x34], 3],
    ["sysexit with SYSENTER_CS = 0", [0x0f, 0x35], 0],
  ] as const)("%s raises #GP(0)", (_n, code, cs) => {
    const c = machine(code, { setup: (c) => setupMsrs(c, cs) });
    expect(run(c, 10)).toEqual({ vector: GP, errorCode: 0, eip: CODE });
  });
});
