/**
 * Far JMP, far CALL and far RET in protected mode, directly and through call gates, with the privilege
 * rules of SDM Vol. 3A 5.8 (Tables 5-1/5-2 and Figure 5-13 "Stack Switching During an Interprivilege-Level
 * Call"), the "Operation" pseudo-code and "Protected Mode Exceptions" of SDM Vol. 2 JMP, CALL and RET.
 * Expected selectors, stack images and error codes are worked out from those pages and the descriptor
 * layouts (Figure 3-8, Figure 5-8), not from the model. Hardware task switching is not modelled: a TSS or
 * task gate as a target raises #GP(selector) (documented in far-transfer.ts; the issue allows it).
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { type Asm, eax, ds, es, gs, ax, far } from "../../../src/guests/asm/index.ts";
import {
  G, GP, NP, RING0_STACK, SS, STACK_TOP, STUBS, Sel, TS, TSS, TSS_ESP0, TSS_SS0, acc, descriptor, flat, gate,
  gdtAccess, go, sel, stackDwords, stackWords, sys, type Sys,
} from "./harness.ts";

/** Fixed entry points (the gates need their offsets before the code is assembled). */
const R0 = 0x1800; // ring-0 routine entered through the call gates
const R3 = 0x1a00; // ring-3 target of same-privilege transfers
const R0_RET = 0x1c00; // ring-0 routine that returns with RETF 8
const LAST = 0x1ffe; // a 2-byte instruction ending at the limit (1FFFH) of GDT entry 5

const GDT: [number, number][] = [
  flat(acc.code(0)), //                            0 (30H): code DPL 0
  flat(acc.code(3)), //                            1 (38H): code DPL 3
  flat(acc.conforming(0)), //                      2 (40H): conforming code DPL 0
  flat(acc.data(0)), //                            3 (48H): data DPL 0
  flat(acc.code(0, false)), //                     4 (50H): code DPL 0, not present
  descriptor(0, 0x1fff, acc.code(0), 0x4), //      5 (58H): code DPL 0, 32-bit, byte limit 1FFFH
  gate(G.CALL32, sel(0), R0, 3, { params: 2 }), // 6 (60H): 32-bit call gate DPL 3 -> ring 0, 2 dwords
  gate(G.CALL32, sel(0), R0, 0), //                7 (68H): 32-bit call gate DPL 0 -> ring 0
  gate(G.CALL32, sel(0), R0, 3, { present: false }), // 8 (70H): not present
  descriptor(TSS, 0x67, 0x89, 0), //               9 (78H): available 32-bit TSS
  gate(G.TASK, 0x78, 0, 3), //                    10 (80H): task gate DPL 3
  gate(G.CALL16, sel(0), R0, 3, { params: 2 }), // 11 (88H): 16-bit call gate DPL 3 -> ring 0, 2 words
  gate(G.CALL32, sel(1), R3, 3), //               12 (90H): call gate DPL 3 -> ring-3 code
  gate(G.CALL32, sel(3), R0, 3), //               13 (98H): call gate to a data segment
  gate(G.CALL32, 0, R0, 3), //                    14 (A0H): call gate with a null selector
  flat(acc.code(1)), //                           15 (A8H): code DPL 1
  flat(acc.data(3)), //                           16 (B0H): data DPL 3
  gate(G.CALL32, sel(2), R0, 3), //               17 (B8H): call gate DPL 3 -> conforming code DPL 0
  flat(acc.dataRO(0)), //                         18 (C0H): read-only data DPL 0
  flat(acc.data(0, false)), //                    19 (C8H): data DPL 0, not present
  descriptor(0, 0x0fff, acc.data(0), 0x4), //     20 (D0H): data DPL 0, byte limit FFFH, B = 1
  gate(G.CALL32, sel(1), R3, 0), //               21 (D8H): call gate DPL 0 -> code DPL 3
  flat(acc.conforming(3)), //                     22 (E0H): conforming code DPL 3
  flat(acc.dataRO(3)), //                         23 (E8H): read-only data DPL 3
  flat(acc.data(3, false)), //                    24 (F0H): data DPL 3, not present
  descriptor(0, 0x1fff, acc.code(3), 0x4), //     25 (F8H): code DPL 3, byte limit 1FFFH
];

/** Ring-0 and ring-3 routines at their fixed addresses, each parking on `jmp $`. */
function routines(a: Asm): void {
  a.org(R0);
  a.label("r0");
  a.jmp("r0");
  a.org(R3);
  a.label("r3");
  a.jmp("r3");
  a.org(R0_RET);
  a.retf(8);
  a.org(LAST);
  a.label("last");
  a.jmp("last"); // EB FE: its last byte is at the limit of segment 5
}

type Kind = "jmp" | "call";
interface Row {
  name: string;
  kind: Kind;
  sel: number;
  off?: number;
  cpl3?: boolean;
  fault?: [number, number];
  /** Expected CS selector, CPL and EIP after the transfer. */
  to?: [number, number, number];
}

function transfer(t: Row): { s: Sys; o: ReturnType<typeof go> } {
  const s = sys((a) => {
    a.label("insn");
    if (t.kind === "jmp") a.jmp(far(t.sel, t.off ?? R3));
    else a.call(far(t.sel, t.off ?? R3));
    a.label("after");
    a.jmp("after");
    routines(a);
  }, { gdt: GDT, cpl3: t.cpl3 });
  return { s, o: go(s, 20) };
}

const directRows: Row[] = [
  // SDM Vol. 2 JMP/CALL "Protected Mode Exceptions" and Vol. 3A 5.8.1-5.8.2
  { name: "jmp to a null selector: #GP(0)", kind: "jmp", sel: 0, fault: [GP, 0] },
  { name: "jmp to a null selector with RPL 3: #GP(0)", kind: "jmp", sel: 3, fault: [GP, 0] },
  { name: "jmp beyond the GDT limit: #GP(selector)", kind: "jmp", sel: 0x100, fault: [GP, 0x100] },
  { name: "jmp to non-conforming code DPL = CPL 0", kind: "jmp", sel: sel(0), to: [sel(0), 0, R3] },
  { name: "jmp to non-conforming code with RPL 3 > CPL 0: #GP(selector)", kind: "jmp", sel: sel(0) | 3, fault: [GP, sel(0)] },
  { name: "jmp to non-conforming code DPL 3 != CPL 0: #GP(selector)", kind: "jmp", sel: sel(1), fault: [GP, sel(1)] },
  { name: "jmp at CPL 3 to non-conforming code DPL 0: #GP(selector)", kind: "jmp", sel: sel(0), cpl3: true, fault: [GP, sel(0)] },
  { name: "jmp at CPL 3 to non-conforming code DPL 3", kind: "jmp", sel: sel(1) | 3, cpl3: true, to: [sel(1) | 3, 3, R3] },
  { name: "jmp at CPL 3 to non-conforming code DPL 3 with RPL 0: CS.RPL becomes CPL", kind: "jmp", sel: sel(1), cpl3: true, to: [sel(1) | 3, 3, R3] },
  { name: "jmp at CPL 3 to conforming code DPL 0: CPL stays 3", kind: "jmp", sel: sel(2), cpl3: true, to: [sel(2) | 3, 3, R3] },
  { name: "jmp at CPL 0 to conforming code DPL 3: DPL > CPL, #GP(selector)", kind: "jmp", sel: sel(22), fault: [GP, sel(22)] },
  { name: "jmp to a data segment: #GP(selector)", kind: "jmp", sel: sel(3), fault: [GP, sel(3)] },
  { name: "jmp to a not-present code segment: #NP(selector)", kind: "jmp", sel: sel(4), fault: [NP, sel(4)] },
  { name: "jmp at CPL 3 to a not-present DPL-0 segment: #GP first (privilege before presence)", kind: "jmp", sel: sel(4) | 3, cpl3: true, fault: [GP, sel(4)] },
  { name: "jmp beyond the target's limit: #GP(0)", kind: "jmp", sel: sel(5), off: 0x2000, fault: [GP, 0] },
  { name: "jmp to an instruction ending at the target's limit", kind: "jmp", sel: sel(5), off: LAST, to: [sel(5), 0, LAST] },
  { name: "jmp to an available TSS (task switch, not modelled): #GP(selector)", kind: "jmp", sel: sel(9), fault: [GP, sel(9)] },
  { name: "jmp to a task gate (task switch, not modelled): #GP(selector)", kind: "jmp", sel: sel(10), fault: [GP, sel(10)] },
  { name: "call to a task gate (task switch, not modelled): #GP(selector)", kind: "call", sel: sel(10), fault: [GP, sel(10)] },
  { name: "call to non-conforming code DPL = CPL 0", kind: "call", sel: sel(0), to: [sel(0), 0, R3] },
  { name: "call at CPL 3 to conforming code DPL 0: CPL stays 3", kind: "call", sel: sel(2), cpl3: true, to: [sel(2) | 3, 3, R3] },
  { name: "call at CPL 3 to non-conforming code DPL 0 (no gate): #GP(selector)", kind: "call", sel: sel(0), cpl3: true, fault: [GP, sel(0)] },
  { name: "call to a not-present code segment: #NP(selector)", kind: "call", sel: sel(4), fault: [NP, sel(4)] },
  { name: "call beyond the target's limit: #GP(0)", kind: "call", sel: sel(5), off: 0x2000, fault: [GP, 0] },
  // Through call gates (SDM Vol. 3A 5.8.4 Table 5-1 / Figure 5-11; Vol. 2 JMP/CALL "CALL-GATE")
  { name: "call gate DPL 0 at CPL 3: #GP(gate selector)", kind: "call", sel: sel(7), cpl3: true, fault: [GP, sel(7)] },
  { name: "call gate DPL 0 named with RPL 3 at CPL 0: #GP(gate selector)", kind: "call", sel: sel(7) | 3, fault: [GP, sel(7)] },
  { name: "jmp through a call gate DPL 0 at CPL 0", kind: "jmp", sel: sel(7), to: [sel(0), 0, R0] },
  { name: "jmp through a DPL-3 gate to DPL-0 code at CPL 3: JMP never changes privilege, #GP(code selector)", kind: "jmp", sel: sel(6) | 3, cpl3: true, fault: [GP, sel(0)] },
  { name: "jmp through a gate to ring-3 code at CPL 3", kind: "jmp", sel: sel(12) | 3, cpl3: true, to: [sel(1) | 3, 3, R3] },
  { name: "call through a gate to ring-3 code at CPL 3 (same privilege)", kind: "call", sel: sel(12) | 3, cpl3: true, to: [sel(1) | 3, 3, R3] },
  { name: "call through a gate to conforming DPL-0 code at CPL 3: CPL stays 3", kind: "call", sel: sel(17) | 3, cpl3: true, to: [sel(2) | 3, 3, R0] },
  { name: "call through a DPL-0 gate to DPL-3 code at CPL 0: DPL > CPL, #GP(code selector)", kind: "call", sel: sel(21), fault: [GP, sel(1)] },
  { name: "call gate not present: #NP(gate selector)", kind: "call", sel: sel(8) | 3, cpl3: true, fault: [NP, sel(8)] },
  { name: "jmp gate not present: #NP(gate selector)", kind: "jmp", sel: sel(8), fault: [NP, sel(8)] },
  { name: "call gate with a null code selector: #GP(0)", kind: "call", sel: sel(14), fault: [GP, 0] },
  { name: "call gate to a data segment: #GP(code selector)", kind: "call", sel: sel(13), fault: [GP, sel(3)] },
  { name: "jmp gate to a data segment: #GP(code selector)", kind: "jmp", sel: sel(13), fault: [GP, sel(3)] },
];

describe("far JMP/CALL: selector, type, privilege, presence and limit checks", () => {
  it.each(directRows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const { s, o } = transfer(t);
    if (t.fault) {
      expect([o.vector, o.errorCode, o.eip]).toEqual([t.fault[0], t.fault[1], s.sym.insn]);
    } else {
      expect(o.vector).toBeNull();
      expect([s.c.segSel[1], s.c.cpl, o.eip]).toEqual(t.to);
    }
  });
});

describe("far CALL and RET at the same privilege level", () => {
  it("call far pushes CS and the return EIP as dwords; CS.RPL = CPL (SDM Vol. 2 CALL)", () => {
    const { s } = transfer({ name: "", kind: "call", sel: sel(0) | 0, to: [sel(0), 0, R3] });
    expect(s.c.regs[4]).toBe(STACK_TOP - 8);
    expect(stackDwords(s.c, 2)).toEqual([s.sym.after, Sel.CODE0]);
    expect(gdtAccess(s.c, 0) & 1).toBe(1); // accessed bit set by the CS load
  });

  it("call far with a 16-bit operand size pushes words and truncates the target offset (SDM Vol. 2 CALL)", () => {
    const s = sys((a) => {
      a.o16().call(far(sel(0), R3));
      a.label("after");
      routines(a);
    }, { gdt: GDT });
    expect(go(s, 5).eip).toBe(R3);
    expect(s.c.regs[4]).toBe(STACK_TOP - 4);
    expect(stackWords(s.c, 2)).toEqual([s.sym.after & 0xffff, Sel.CODE0]);
  });

  it("call at CPL 3 into conforming code pushes the CPL-3 CS; retf comes back (SDM Vol. 3A 5.8.2.2)", () => {
    const s = sys((a) => {
      a.call(far(sel(2), "conf"));
      a.label("back");
      a.jmp("back");
      a.label("conf");
      a.mov(eax, 0x55);
      a.retf();
    }, { gdt: GDT, cpl3: true });
    expect(go(s, 20).eip).toBe(s.sym.back);
    expect([s.c.segSel[1], s.c.cpl, s.c.regs[0], s.c.regs[4]]).toEqual([Sel.CODE3, 3, 0x55, STACK_TOP]);
  });

  it("a faulting far call leaves ESP unchanged (the #GP(0) frame sits right below the old ESP)", () => {
    const { s, o } = transfer({ name: "", kind: "call", sel: sel(5), off: 0x2000 });
    expect(o.vector).toBe(GP);
    // frame: error code, EIP, CS, EFLAGS at the old ESP - 16
    expect(s.c.regs[4]).toBe(STACK_TOP - 16);
  });
});

describe("call gate to a more privileged level: TSS stack switch and parameter copy (SDM Vol. 3A 5.8.5, Figure 5-13)", () => {
  it("32-bit gate with 2 parameters from CPL 3 to ring 0", () => {
    const s = sys((a) => {
      a.push(0x11111111);
      a.push(0x22222222);
      a.label("insn");
      a.call(far(sel(6) | 3, 0));
      a.label("after");
      a.jmp("after");
      routines(a);
    }, { gdt: GDT, cpl3: true });
    expect(go(s, 20).eip).toBe(R0);
    expect([s.c.cpl, s.c.segSel[1], s.c.segSel[2]]).toEqual([0, sel(0), Sel.DATA0]);
    expect(s.c.regs[4]).toBe(RING0_STACK - 24);
    // EIP, CS, param 1 (at the caller's ESP), param 2, caller's ESP, caller's SS
    expect(stackDwords(s.c, 6)).toEqual([s.sym.after, Sel.CODE3, 0x22222222, 0x11111111, STACK_TOP - 8, Sel.DATA3]);
  });

  it("16-bit gate with 2 parameters pushes words and uses the gate's 16-bit offset", () => {
    const s = sys((a) => {
      a.push(0x1111);
      a.push(0x2222);
      a.call(far(sel(11) | 3, 0));
      a.label("after");
      routines(a);
    }, { gdt: GDT, cpl3: true });
    expect(go(s, 20).eip).toBe(R0);
    expect(s.c.regs[4]).toBe(RING0_STACK - 12);
    expect(stackWords(s.c, 6)).toEqual([s.sym.after & 0xffff, Sel.CODE3, 0x2222, 0, (STACK_TOP - 8) & 0xffff, Sel.DATA3]);
  });

  it("RETF 8 back to CPL 3 pops the parameters, restores SS:ESP and nulls DS and GS (DPL 0) but keeps ES (conforming) and FS (DPL 3)", () => {
    const s = sys((a) => {
      a.push(0x11111111);
      a.push(0x22222222);
      a.call(far(sel(6) | 3, 0));
      a.label("back");
      a.jmp("back");
      a.org(R0);
      a.mov(eax, Sel.DATA0);
      a.mov(ds, ax);
      a.mov(eax, sel(2)); // conforming readable code, DPL 0
      a.mov(es, ax);
      a.mov(eax, sel(0)); // non-conforming readable code, DPL 0
      a.mov(gs, ax);
      a.retf(8);
    }, { gdt: GDT, cpl3: true });
    expect(go(s, 30).eip).toBe(s.sym.back);
    const c = s.c;
    expect([c.cpl, c.segSel[1], c.segSel[2], c.regs[4]]).toEqual([3, Sel.CODE3, Sel.DATA3, STACK_TOP]);
    expect([c.segSel[3], c.segSel[0], c.segSel[4], c.segSel[5]]).toEqual([0, sel(2), Sel.DATA3, 0]);
    expect(c.segAttr[3] & 0x80).toBe(0); // DS unusable
  });

  // Faults raised while switching stacks. The IDT gates for #TS/#SS/#GP lead to a conforming segment so
  // that the fault is delivered at CPL 3 on the caller's stack, whatever the broken TSS says.
  const conformingFaults = Object.fromEntries([8, 10, 11, 12, 13].map((v) => [v, gate(G.INT32, sel(2), STUBS + 4 * v, 3)]));
  const tssRows: { name: string; setup: (c: Core) => void; fault?: [number, number] }[] = [
    { name: "TSS limit 8 does not cover SS0 (bytes 8-9): #TS(TR selector)", setup: (c) => { c.trLimit = 8; }, fault: [TS, Sel.TSS_BUSY] },
    { name: "TSS limit 9 covers SS0 exactly", setup: (c) => { c.trLimit = 9; } },
    { name: "SS0 null: #TS(0)", setup: (c) => c.write16(TSS_SS0, 0), fault: [TS, 0] },
    { name: "SS0 beyond the GDT limit: #TS(selector)", setup: (c) => c.write16(TSS_SS0, 0x100), fault: [TS, 0x100] },
    { name: "SS0 with RPL 3 != new CPL 0: #TS(selector)", setup: (c) => c.write16(TSS_SS0, Sel.DATA0 | 3), fault: [TS, Sel.DATA0] },
    { name: "SS0 DPL 3 != new CPL 0: #TS(selector)", setup: (c) => c.write16(TSS_SS0, sel(16)), fault: [TS, sel(16)] },
    { name: "SS0 read-only data: #TS(selector)", setup: (c) => c.write16(TSS_SS0, sel(18)), fault: [TS, sel(18)] },
    { name: "SS0 code segment: #TS(selector)", setup: (c) => c.write16(TSS_SS0, sel(0)), fault: [TS, sel(0)] },
    { name: "SS0 not present: #SS(selector)", setup: (c) => c.write16(TSS_SS0, sel(19)), fault: [SS, sel(19)] },
    {
      name: "new stack has no room for the frame (ESP0 = 1010H, limit FFFH): #SS(new SS selector)",
      setup: (c) => { c.write16(TSS_SS0, sel(20)); c.write32(TSS_ESP0, 0x1010); },
      fault: [SS, sel(20)],
    },
  ];
  it.each(tssRows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const s = sys((a) => {
      a.push(0x11111111);
      a.push(0x22222222);
      a.label("insn");
      a.call(far(sel(6) | 3, 0));
      routines(a);
    }, { gdt: GDT, cpl3: true, idt: conformingFaults, setup: t.setup });
    const o = go(s, 20);
    if (t.fault) {
      expect([o.vector, o.errorCode, o.eip, s.c.cpl]).toEqual([t.fault[0], t.fault[1], s.sym.insn, 3]);
      expect(s.c.segSel[2]).toBe(Sel.DATA3); // still on the caller's stack
    } else {
      expect([o.vector, o.eip, s.c.cpl]).toEqual([null, R0, 0]);
    }
  });
});

describe("far RET: return-selector checks and return to an outer level (SDM Vol. 2 RET)", () => {
  interface RetRow {
    name: string;
    /** Frame pushed before RETF (top of stack last): [EIP, CS] or [EIP, CS, ESP, SS]. */
    frame: number[];
    cpl3?: boolean;
    imm?: number;
    fault?: [number, number];
    /** [CS, CPL, SS, ESP] after the return. */
    to?: [number, number, number, number];
  }
  const OUTER_ESP = 0x6000;
  const rows: RetRow[] = [
    { name: "same level: CS RPL = CPL 0", frame: [R3, sel(0)], to: [sel(0), 0, Sel.DATA0, STACK_TOP] },
    { name: "outer level: CS RPL 3 pops SS:ESP", frame: [R3, Sel.CODE3, OUTER_ESP, Sel.DATA3], to: [Sel.CODE3, 3, Sel.DATA3, OUTER_ESP] },
    { name: "outer level with RETF 8: ESP = popped ESP + 8", frame: [R3, Sel.CODE3, 0, 0, OUTER_ESP, Sel.DATA3], imm: 8, to: [Sel.CODE3, 3, Sel.DATA3, OUTER_ESP + 8] },
    { name: "CS null: #GP(0)", frame: [R3, 0], fault: [GP, 0] },
    { name: "CS beyond the GDT limit: #GP(selector)", frame: [R3, 0x103], fault: [GP, 0x100] },
    { name: "CS RPL 0 < CPL 3: #GP(selector)", frame: [R3, Sel.CODE0], cpl3: true, fault: [GP, Sel.CODE0] },
    { name: "non-conforming CS with DPL 0 != RPL 3: #GP(selector)", frame: [R3, sel(0) | 3, OUTER_ESP, Sel.DATA3], fault: [GP, sel(0)] },
    { name: "conforming CS with DPL 3 > RPL 1: #GP(selector)", frame: [R3, sel(22) | 1, OUTER_ESP, Sel.DATA3], fault: [GP, sel(22)] },
    { name: "CS is a data segment: #GP(selector)", frame: [R3, sel(3)], fault: [GP, sel(3)] },
    { name: "CS not present: #NP(selector)", frame: [R3, sel(4)], fault: [NP, sel(4)] },
    { name: "EIP beyond the CS limit: #GP(0)", frame: [0x2000, sel(5)], fault: [GP, 0] },
    { name: "outer: EIP beyond the CS limit: #GP(0)", frame: [0x2000, sel(25) | 3, OUTER_ESP, Sel.DATA3], fault: [GP, 0] },
    { name: "outer: SS null: #GP(0)", frame: [R3, Sel.CODE3, OUTER_ESP, 3], fault: [GP, 0] },
    { name: "outer: SS beyond the GDT limit: #GP(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, 0x103], fault: [GP, 0x100] },
    { name: "outer: SS RPL 0 != CS RPL 3: #GP(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, Sel.DATA3 & ~3], fault: [GP, Sel.DATA3 & ~3] },
    { name: "outer: SS DPL 0 != CS RPL 3: #GP(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, sel(3) | 3], fault: [GP, sel(3)] },
    { name: "outer: SS read-only data: #GP(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, sel(23) | 3], fault: [GP, sel(23)] },
    { name: "outer: SS is code: #GP(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, sel(1) | 3], fault: [GP, sel(1)] },
    { name: "outer: SS not present: #SS(selector)", frame: [R3, Sel.CODE3, OUTER_ESP, sel(24) | 3], fault: [SS, sel(24)] },
  ];
  it.each(rows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const s = sys((a) => {
      for (let k = t.frame.length - 1; k >= 0; k--) a.push(t.frame[k]);
      a.label("insn");
      if (t.imm) a.retf(t.imm);
      else a.retf();
      routines(a);
    }, { gdt: GDT, cpl3: t.cpl3 });
    const o = go(s, 20);
    if (t.fault) {
      expect([o.vector, o.errorCode, o.eip]).toEqual([t.fault[0], t.fault[1], s.sym.insn]);
    } else {
      expect([o.vector, o.eip]).toEqual([null, R3]);
      expect([s.c.segSel[1], s.c.cpl, s.c.segSel[2], s.c.regs[4]]).toEqual(t.to);
    }
  });

  it("RETF 8 from a 32-bit gate call: the parameters are skipped on both stacks", () => {
    const s = sys((a) => {
      a.push(1);
      a.push(2);
      a.call(far(sel(6) | 3, 0));
      a.label("back");
      a.jmp("back");
      a.org(R0);
      a.jmp(R0_RET);
      a.org(R0_RET);
      a.retf(8);
    }, { gdt: GDT, cpl3: true });
    expect(go(s, 20).eip).toBe(s.sym.back);
    expect([s.c.cpl, s.c.regs[4], s.c.segSel[2]]).toEqual([3, STACK_TOP, Sel.DATA3]);
  });
});

describe("real-address mode far transfers (SDM Vol. 2 JMP/CALL/RET 'real-address mode')", () => {
  it("far call loads CS base = selector * 16 and far ret comes back", () => {
    const s = sys((a) => {
      a.call(far(0x0100, 0x0200));
      a.label("back");
      a.jmp("back");
      a.org(0x1200); // = 0100H:0200H
      a.mov(ax, 0x77);
      a.retf();
    }, { real: true });
    const c = s.c;
    c.run(1);
    expect([c.segSel[1], c.segBase[1], c.eip]).toEqual([0x0100, 0x1000, 0x0200]);
    c.run(10);
    expect([c.segSel[1], c.segBase[1], c.eip, c.regs[0] & 0xffff]).toEqual([0, 0, s.sym.back, 0x77]);
  });

  it("a far jmp beyond the CS limit is #GP (SDM Vol. 2 JMP: real-address mode exceptions)", () => {
    const s = sys((a) => {
      a.o32().jmp(far(0, 0x10000));
    }, { real: true });
    expect(go(s, 5).vector).toBe(GP);
  });
});
