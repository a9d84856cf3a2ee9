/**
 * Interrupt and exception delivery. References: SDM Vol. 3A Table 6-1 (vector classes and error codes),
 * 6.12.1 and Figure 6-4 (stack frames with and without a privilege change), 6.12.1.1 (gate DPL checked
 * for INT n/INT3/INTO only), 6.13 (error code: EXT, IDT bits), 6.15 Tables 6-4/6-5 (double fault,
 * triple fault), 17.3.1.1 (RF pushed as 1 for faults, 0 for INT n), 20.1.4 (real-mode IVT); Vol. 2
 * "INT n/INTO/INT3" pseudo-code for the order of the checks and their error codes. Stack images are
 * worked out from Figure 6-4, not from the model.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { EXCEPTIONS } from "../../../src/cpu/exceptions.ts";
import { isDoubleFault } from "../../../src/cpu/interrupts.ts";
import { type Asm, ax, dword, eax, ds, qword } from "../../../src/guests/asm/index.ts";
import {
  BP, BR, DATA, DF, G, GP, NP, OF, RING0_STACK, SS, STACK_TOP, STUBS, Sel, TS, TSS_SS0, UD, acc, descriptor, flat,
  gate, go, sel, stackDwords, stackWords, sys, type SysOptions,
} from "./harness.ts";

const IF = 1 << 9, RF = 1 << 16, TF = 1 << 8, NT = 1 << 14, OFLAG = 1 << 11;

const GDT: [number, number][] = [
  flat(acc.conforming(0)), //                 0 (30H): conforming code DPL 0
  flat(acc.code(3)), //                       1 (38H): code DPL 3
  flat(acc.data(0)), //                       2 (40H): data DPL 0
  flat(acc.code(0, false)), //                3 (48H): code DPL 0, not present
  descriptor(0, 0x0fff, acc.code(0), 0x4), // 4 (50H): code DPL 0, byte limit FFFH
  descriptor(0, 0x0fff, acc.data(0), 0x4), // 5 (58H): data DPL 0, byte limit FFFH (small stack)
  flat(acc.data(0, false)), //                6 (60H): data DPL 0, not present
];

/** An IDT gate to the harness stub of `v` through code segment `cs`. */
const stubGate = (v: number, type: number = G.INT32, dpl = 3, cs: number = Sel.CODE0) => gate(type, cs, STUBS + 4 * v, dpl);
/** Gates that deliver #DF/#TS/#NP/#SS/#GP at the current CPL, on the current stack (conforming target). */
const atCpl = (vs: number[]) => Object.fromEntries(vs.map((v) => [v, stubGate(v, G.INT32, 3, sel(0))]));

function run(build: (a: Asm) => void, opts: SysOptions = {}, budget = 20) {
  const s = sys(build, { gdt: GDT, ...opts });
  return { s, o: go(s, budget) };
}

describe("SDM Table 6-1: every vector 0-19 is classified (type, error code) and Table 6-4 (class)", () => {
  const TABLE_6_1: [number, string, boolean][] = [
    [0, "fault", false], [1, "fault/trap", false], [2, "interrupt", false], [3, "trap", false], [4, "trap", false],
    [5, "fault", false], [6, "fault", false], [7, "fault", false], [8, "abort", true], [9, "fault", false],
    [10, "fault", true], [11, "fault", true], [12, "fault", true], [13, "fault", true], [14, "fault", true],
    [15, "fault", false], [16, "fault", false], [17, "fault", true], [18, "abort", false], [19, "fault", false],
  ];
  it.each(TABLE_6_1)("vector %i: %s, error code %s", (v, type, code) => {
    expect([EXCEPTIONS[v].type, EXCEPTIONS[v].errorCode]).toEqual([type, code]);
  });
  it("Table 6-4: contributory = 0, 10-13; page fault = 14; the rest benign", () => {
    const classes = EXCEPTIONS.map((e, v) => [v, e.class]);
    const want = EXCEPTIONS.map((_e, v) => [v, [0, 10, 11, 12, 13].includes(v) ? "contributory" : v === 14 ? "page-fault" : "benign"]);
    expect(classes).toEqual(want);
  });
  it("Table 6-5: which second exception during delivery of a first one is a double fault", () => {
    const pairs: [number, number, boolean][] = [
      [13, 13, true], [0, 11, true], [10, 12, true], [14, 14, true], [14, 13, true], [14, 6, false],
      [13, 14, false], [6, 13, false], [3, 13, false], [-1, 13, false], [-1, 14, false], [17, 13, false],
    ];
    expect(pairs.map(([a, b]) => isDoubleFault(a, b))).toEqual(pairs.map((p) => p[2]));
  });
});

describe("INT n from CPL 3 to a ring-0 handler: TSS stack switch (SDM 6.12.1, Figure 6-4)", () => {
  const cpl3 = { cpl3: true, setup: (c: Core) => c.setEflags(IF, IF) };

  it("interrupt gate: frame SS, ESP, EFLAGS, CS, EIP on the TSS stack; IF cleared; CPL 0", () => {
    const { s, o } = run((a) => {
      a.int(0x1f);
      a.label("after");
    }, cpl3);
    expect([o.vector, s.c.cpl, s.c.segSel[1], s.c.segSel[2], s.c.regs[4]]).toEqual([31, 0, Sel.CODE0, Sel.DATA0, RING0_STACK - 20]);
    const [eip, cs, eflags, esp, ss] = stackDwords(s.c, 5);
    expect([eip, cs, esp, ss]).toEqual([s.sym.after, Sel.CODE3, STACK_TOP, Sel.DATA3]);
    expect(eflags & (IF | RF)).toBe(IF); // IF as it was, RF = 0 for INT n
    expect(s.c.getEflags() & (IF | TF | NT | RF)).toBe(0);
  });

  it("trap gate: IF stays set", () => {
    const { s, o } = run((a) => a.int(0x1f), { ...cpl3, idt: { 31: stubGate(31, G.TRAP32) } });
    expect(o.vector).toBe(31);
    expect(s.c.getEflags() & IF).toBe(IF);
  });

  it("INT n clears TF, NT and RF; the image keeps TF and NT but has RF = 0 (SDM 17.3.1.1)", () => {
    const { s } = run((a) => a.int(0x1f), { cpl3: true, setup: (c) => { c.eflags |= NT | RF; } });
    expect(stackDwords(s.c, 3)[2] & (NT | RF)).toBe(NT);
    expect(s.c.getEflags() & (NT | RF)).toBe(0);
  });

  it("16-bit interrupt gate at CPL 0: three words FLAGS, CS, IP and a 16-bit offset", () => {
    const { s, o } = run((a) => {
      a.int(0x1e);
      a.label("after");
    }, { idt: { 30: [((Sel.CODE0 << 16) | (STUBS + 4 * 30)) >>> 0, 0x00008600 | 0xffff0000] } });
    expect(o.vector).toBe(30); // the high offset half is ignored by a 16-bit gate
    expect(s.c.regs[4]).toBe(STACK_TOP - 6);
    expect([stackWords(s.c, 2)[0], stackWords(s.c, 2)[1]]).toEqual([s.sym.after, Sel.CODE0]);
  });

  it("conforming handler from CPL 3: no stack switch, CPL stays 3, frame EFLAGS, CS, EIP", () => {
    const { s, o } = run((a) => {
      a.int(0x1f);
      a.label("after");
    }, { cpl3: true, idt: atCpl([31]) });
    expect([o.vector, s.c.cpl, s.c.segSel[1], s.c.segSel[2], s.c.regs[4]]).toEqual([31, 3, sel(0) | 3, Sel.DATA3, STACK_TOP - 12]);
    expect(stackDwords(s.c, 2)).toEqual([s.sym.after, Sel.CODE3]);
  });

  it("a fault at CPL 3 pushes its error code on the ring-0 stack and RF = 1 in the EFLAGS image", () => {
    const { s, o } = run((a) => {
      a.mov(eax, sel(2));
      a.label("insn");
      a.mov(ds, ax); // DPL-0 data at CPL 3
    }, { cpl3: true });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, sel(2), s.sym.insn]);
    const [code, eip, cs, eflags, esp, ss] = stackDwords(s.c, 6);
    expect([code, eip, cs, esp, ss]).toEqual([sel(2), s.sym.insn, Sel.CODE3, STACK_TOP, Sel.DATA3]);
    expect(eflags & RF).toBe(RF);
  });
});

describe("IDT and gate checks, in the order of SDM Vol. 2 INT n, with their error codes (SDM 6.13)", () => {
  interface Row {
    name: string;
    vector: number;
    idt?: SysOptions["idt"];
    cpl3?: boolean;
    setup?: (c: Core) => void;
    /** How the event is raised: INT n (default), or as an external interrupt. */
    external?: boolean;
    want: [number, number];
  }
  const notPresent = (v: number): [number, number] => [(Sel.CODE0 << 16) | (STUBS + 4 * v), 0x6e00];
  const rows: Row[] = [
    { name: "INT n beyond the IDT limit: #GP(vector*8+2)", vector: 31, setup: (c) => { c.idtLimit = 31 * 8 + 6; }, want: [GP, 31 * 8 + 2] },
    { name: "external interrupt beyond the IDT limit: #GP(vector*8+2+EXT)", vector: 31, external: true, setup: (c) => { c.idtLimit = 31 * 8 + 6; }, want: [GP, 31 * 8 + 3] },
    { name: "INT n with gate DPL 0 at CPL 3: #GP(vector*8+2)", vector: 31, cpl3: true, idt: { 31: stubGate(31, G.INT32, 0) }, want: [GP, 31 * 8 + 2] },
    { name: "INT3 with gate DPL 0 at CPL 3: #GP(3*8+2)", vector: BP, cpl3: true, idt: { 3: stubGate(3, G.INT32, 0) }, want: [GP, 3 * 8 + 2] },
    { name: "external interrupt ignores the gate DPL", vector: 31, external: true, cpl3: true, idt: { 31: stubGate(31, G.INT32, 0) }, want: [31, -1] },
    { name: "INT n with gate DPL 0 at CPL 0 is allowed", vector: 31, idt: { 31: stubGate(31, G.INT32, 0) }, want: [31, -1] },
    { name: "INT n through a not-present gate: #NP(vector*8+2)", vector: 31, idt: { 31: notPresent(31) }, want: [NP, 31 * 8 + 2] },
    { name: "external interrupt through a not-present gate: #NP(vector*8+2+EXT)", vector: 31, external: true, idt: { 31: notPresent(31) }, want: [NP, 31 * 8 + 3] },
    { name: "not present and DPL 0 at CPL 3: the DPL check comes first, #GP", vector: 31, cpl3: true, idt: { 31: [notPresent(31)[0], 0x0e00] }, want: [GP, 31 * 8 + 2] },
    { name: "task gate (task switching not modelled): #GP(vector*8+2)", vector: 30, idt: { 30: gate(G.TASK, Sel.TSS_BUSY, 0, 3) }, want: [GP, 30 * 8 + 2] },
    { name: "call gate in the IDT: #GP(vector*8+2)", vector: 30, idt: { 30: gate(G.CALL32, Sel.CODE0, STUBS, 3) }, want: [GP, 30 * 8 + 2] },
    { name: "code-segment descriptor in the IDT: #GP(vector*8+2)", vector: 30, idt: { 30: flat(acc.code(3)) }, want: [GP, 30 * 8 + 2] },
    { name: "gate with a null code selector: #GP(0)", vector: 31, idt: { 31: gate(G.INT32, 0, STUBS, 3) }, want: [GP, 0] },
    { name: "external interrupt, gate with a null code selector: #GP(EXT)", vector: 31, external: true, idt: { 31: gate(G.INT32, 0, STUBS, 3) }, want: [GP, 1] },
    { name: "gate code selector beyond the GDT: #GP(selector)", vector: 31, idt: { 31: gate(G.INT32, 0x100, STUBS, 3) }, want: [GP, 0x100] },
    { name: "gate to a data segment: #GP(selector)", vector: 31, idt: { 31: gate(G.INT32, sel(2), STUBS, 3) }, want: [GP, sel(2)] },
    { name: "gate to code DPL 3 at CPL 0 (DPL > CPL): #GP(selector)", vector: 31, idt: { 31: gate(G.INT32, sel(1), STUBS, 3) }, want: [GP, sel(1)] },
    { name: "external interrupt, gate to code DPL 3 at CPL 0: #GP(selector+EXT)", vector: 31, external: true, idt: { 31: gate(G.INT32, sel(1), STUBS, 3) }, want: [GP, sel(1) | 1] },
    { name: "gate to a not-present code segment: #NP(selector)", vector: 31, idt: { 31: gate(G.INT32, sel(3), STUBS, 3) }, want: [NP, sel(3)] },
    { name: "gate offset beyond the code-segment limit: #GP(0)", vector: 31, idt: { 31: gate(G.INT32, sel(4), 0x1000, 3) }, want: [GP, 0] },
    {
      name: "ring switch with SS0 null, external interrupt: #TS(EXT)", vector: 31, external: true, cpl3: true,
      idt: atCpl([10]), setup: (c) => c.write16(TSS_SS0, 0), want: [TS, 1],
    },
    {
      name: "ring switch with SS0 not present, INT n: #SS(selector)", vector: 31, cpl3: true,
      idt: atCpl([12]), setup: (c) => c.write16(TSS_SS0, sel(6)), want: [SS, sel(6)],
    },
    {
      name: "ring switch onto a stack without room (ESP0 = 1008H, limit FFFH), external: #SS(selector+EXT)", vector: 31, external: true, cpl3: true,
      idt: atCpl([12]), setup: (c) => { c.write16(TSS_SS0, sel(5)); c.write32(c.trBase + 4, 0x1008); }, want: [SS, sel(5) | 1],
    },
  ];
  it.each(rows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const s = sys((a) => {
      a.label("insn");
      if (t.vector === BP) a.int3();
      else a.int(t.vector);
      a.label("after");
    }, { gdt: GDT, idt: t.idt, cpl3: t.cpl3, setup: t.setup });
    if (t.external) s.c.interrupt(t.vector);
    else s.c.run(1);
    const o = go(s, 0);
    expect([o.vector, o.errorCode ?? -1]).toEqual(t.want);
    // Faults of INT n report the INT instruction; an external interrupt's fault reports where it struck
    // (the same address here: the interrupt arrives before the INT instruction runs).
    if (t.want[0] !== t.vector) expect(o.eip).toBe(s.sym.insn);
  });
});

describe("INTO, INT3 and BOUND (SDM Vol. 2 INTO, INT3, BOUND; Table 6-1: #BP/#OF traps, #BR fault)", () => {
  it("INTO with OF = 0 does nothing", () => {
    const { s, o } = run((a) => {
      a.into();
      a.label("end");
    });
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });
  it("INTO with OF = 1 raises #OF as a trap: saved EIP after INTO", () => {
    const { s, o } = run((a) => {
      a.into();
      a.label("after");
    }, { setup: (c) => c.setEflags(OFLAG, OFLAG) });
    expect([o.vector, o.eip]).toEqual([OF, s.sym.after]);
  });
  it("INTO at CPL 3 through a DPL-0 gate: #GP(4*8+2) at the INTO", () => {
    const { s, o } = run((a) => {
      a.label("insn");
      a.into();
    }, { cpl3: true, idt: { 4: stubGate(4, G.INT32, 0) }, setup: (c) => c.setEflags(OFLAG, OFLAG) });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 4 * 8 + 2, s.sym.insn]);
  });
  it("INT3 is a trap: saved EIP after the 1-byte CC", () => {
    const { s, o } = run((a) => {
      a.int3();
      a.label("after");
    }, { cpl3: true });
    expect([o.vector, o.eip, s.c.cpl]).toEqual([BP, s.sym.after, 0]);
  });
  it("BOUND out of range raises #BR as a fault: saved EIP at BOUND, RF = 1 in the image", () => {
    const { s, o } = run((a) => {
      a.mov(dword(DATA), 10);
      a.mov(dword(DATA + 4), 20);
      a.mov(eax, 21);
      a.label("insn");
      a.bound(eax, qword(DATA));
    });
    expect([o.vector, o.eip]).toEqual([BR, s.sym.insn]);
    expect(stackDwords(s.c, 3)[2] & RF).toBe(RF);
  });
  it("BOUND within range continues", () => {
    const { s, o } = run((a) => {
      a.mov(dword(DATA), 10);
      a.mov(dword(DATA + 4), 20);
      a.mov(eax, 20);
      a.bound(eax, qword(DATA));
      a.label("end");
    });
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });
});

describe("double and triple faults (SDM 6.15 Table 6-5, interrupt 8)", () => {
  const np = (v: number): [number, number] => [(Sel.CODE0 << 16) | (STUBS + 4 * v), 0xee00 & ~0x8000];

  it("#GP whose gate is not present: #NP is contributory, so #DF(0) with the #GP's saved EIP", () => {
    const { s, o } = run((a) => {
      a.label("insn");
      a.mov(ds, ax); // EAX = 0FFFFH: beyond the GDT
    }, { idt: { 13: np(13) }, setup: (c) => { c.regs[0] = 0xffff; } });
    expect([o.vector, o.errorCode, o.eip]).toEqual([DF, 0, s.sym.insn]);
  });

  it("#UD (benign) whose gate is not present: the #NP is delivered serially, with EXT", () => {
    const { s, o } = run((a) => {
      a.label("insn");
      a.ud2();
    }, { idt: { 6: np(6) } });
    expect([o.vector, o.errorCode, o.eip]).toEqual([NP, UD * 8 + 2 + 1, s.sym.insn]);
  });

  it("#PF whose gate is not present: #NP after a page fault is a double fault", () => {
    const s = sys(() => {}, { gdt: GDT, idt: { 14: np(14) } });
    s.c.raise(14, 2, 0x1234);
    expect(go(s, 0)).toEqual({ vector: DF, errorCode: 0, eip: 0x1234 });
  });

  it("an external interrupt on vector 8 through a not-present gate is not a double fault: #NP(8*8+2+EXT)", () => {
    const s = sys(() => {}, { gdt: GDT, idt: { 8: np(8) } });
    s.c.interrupt(8);
    expect(go(s, 0)).toEqual({ vector: NP, errorCode: 8 * 8 + 3, eip: 0x1000 });
    expect(s.c.shutdown).toBe(false);
  });

  it("#GP at CPL 3 with a broken SS0: #TS during delivery, then #DF delivered at CPL 3", () => {
    const { s, o } = run((a) => {
      a.label("insn");
      a.mov(ds, ax);
    }, { cpl3: true, idt: atCpl([8]), setup: (c) => { c.regs[0] = 0xffff; c.write16(TSS_SS0, 0); } });
    expect([o.vector, o.errorCode, o.eip, s.c.cpl]).toEqual([DF, 0, s.sym.insn, 3]);
  });

  it("a fault while delivering #DF is a triple fault: the core shuts down", () => {
    const s = sys((a) => {
      a.mov(ds, ax);
    }, { gdt: GDT, idt: { 13: np(13), 8: np(8) }, setup: (c) => { c.regs[0] = 0xffff; } });
    expect(s.c.run(10)).toBe("shutdown");
    expect(s.c.shutdown).toBe(true);
  });
});

describe("real-address mode delivery through the IVT (SDM 20.1.4)", () => {
  it("INT n pushes FLAGS, CS, IP and clears IF (TF's single-step interplay is the run loop's test)", () => {
    const { s, o } = run((a) => {
      a.int(0x10);
      a.label("after");
    }, { real: true, setup: (c) => c.setEflags(IF, IF) }, 1);
    expect(o.vector).toBe(0x10);
    const [ip, cs, flags] = stackWords(s.c, 3);
    expect([ip, cs, flags & IF]).toEqual([s.sym.after, 0, IF]);
    expect(s.c.getEflags() & IF).toBe(0);
  });
  it("a vector beyond the IVT limit raises #GP", () => {
    const { o } = run((a) => a.int(0x10), { real: true, setup: (c) => { c.idtLimit = 0x10 * 4 + 2; } }, 1);
    expect(o.vector).toBe(GP);
  });
});
