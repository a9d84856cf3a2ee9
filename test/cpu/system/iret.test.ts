/**
 * IRET/IRETD in protected mode. References: SDM Vol. 2 IRET "Operation" (RETURN-TO-SAME-PRIVILEGE-LEVEL,
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL, the EFLAGS bits each case loads, the data-segment nulling loop) and
 * "Protected Mode Exceptions"; SDM Vol. 3A 6.14 (the round trip through an interrupt to ring 0 and back)
 * and 17.3.1.1 (IRETD loads RF from the image). NT = 1 (task return) raises #GP(0): task switching is
 * not modelled, the choice IA-32e processors make (SDM IRET: IA-32e mode, NT = 1 -> #GP(0)); see
 * interrupt-return.ts.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { ax, eax, ds, es, fs } from "../../../src/guests/asm/index.ts";
import { G, GP, NP, SS, STACK_TOP, Sel, acc, descriptor, flat, gate, go, sel, setIopl, sys } from "./harness.ts";

const CF = 1, IF = 1 << 9, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
const IOPL3 = 3 << 12;
const R0 = 0x1800; // ring-0 interrupt handler: IRETD

const GDT: [number, number][] = [
  flat(acc.code(0)), //                       0 (30H): code DPL 0
  flat(acc.conforming(3)), //                 1 (38H): conforming code DPL 3
  flat(acc.data(0)), //                       2 (40H): data DPL 0
  flat(acc.code(3, false)), //                3 (48H): code DPL 3, not present
  descriptor(0, 0x0fff, acc.code(3), 0x4), // 4 (50H): code DPL 3, byte limit FFFH
  flat(acc.dataRO(3)), //                     5 (58H): read-only data DPL 3
  flat(acc.data(3, false)), //                6 (60H): data DPL 3, not present
];

interface Row {
  name: string;
  /** [EIP, CS, EFLAGS] or [EIP, CS, EFLAGS, ESP, SS]. */
  frame: number[];
  cpl3?: boolean;
  o16?: boolean;
  /** EFLAGS before the IRET (IOPL, AC ...). */
  flags?: number;
  fault?: [number, number];
  /** Expected EFLAGS bits after (compared under `mask`). */
  eflags?: number;
  mask?: number;
  /** [CS, CPL, SS, ESP] after. */
  to?: [number, number, number, number];
}

const OUTER_ESP = 0x6000;
const TARGET = 0x1a00;

function runRow(t: Row) {
  const s = sys((a) => {
    for (let k = t.frame.length - 1; k >= 0; k--) {
      if (t.o16) a.o16().push(t.frame[k]);
      else a.push(t.frame[k]);
    }
    a.label("insn");
    if (t.o16) a.iret();
    else a.iretd();
    a.org(TARGET);
    a.label("target");
    a.jmp("target");
  }, {
    gdt: GDT,
    cpl3: t.cpl3,
    setup: (c: Core) => {
      if (t.flags !== undefined) c.setEflags(t.flags, 0x3f7fd5);
    },
  });
  // Exactly the pushes and the IRET: RF loaded by IRETD is cleared once the next instruction completes.
  return { s, o: go(s, t.frame.length + 1) };
}

const rows: Row[] = [
  // Same privilege level
  { name: "same level at CPL 0: EIP, CS, EFLAGS popped, ESP + 12", frame: [TARGET, Sel.CODE0, CF | 2], to: [Sel.CODE0, 0, Sel.DATA0, STACK_TOP], eflags: CF, mask: CF },
  { name: "CPL 0 loads IF and IOPL", frame: [TARGET, Sel.CODE0, IF | IOPL3 | 2], eflags: IF | IOPL3, mask: IF | IOPL3 },
  { name: "IRETD loads RF, AC and ID (SDM IRET, OperandSize = 32)", frame: [TARGET, Sel.CODE0, RF | AC | ID | 2], eflags: RF | AC | ID, mask: RF | AC | ID },
  { name: "CPL 0 loads VIF and VIP; VM is ignored (virtual-8086 mode not modelled)", frame: [TARGET, Sel.CODE0, VM | VIF | VIP | 2], eflags: VIF | VIP, mask: VM | VIF | VIP },
  { name: "CPL 3 with IOPL 0 changes neither IF nor IOPL (no fault)", cpl3: true, frame: [TARGET, Sel.CODE3, IF | IOPL3 | CF | 2], eflags: CF, mask: IF | IOPL3 | CF },
  { name: "CPL 3 with IOPL 3 changes IF but not IOPL", cpl3: true, flags: IOPL3, frame: [TARGET, Sel.CODE3, IF | 2], eflags: IF | IOPL3, mask: IF | IOPL3 },
  { name: "CPL 3 does not load VIF/VIP", cpl3: true, frame: [TARGET, Sel.CODE3, VIF | VIP | 2], eflags: 0, mask: VIF | VIP },
  { name: "16-bit IRET loads only FLAGS[15:0]: AC stays set", o16: true, flags: AC, frame: [TARGET, Sel.CODE0, CF | 2], eflags: AC | CF, mask: AC | CF },
  { name: "16-bit IRET: ESP + 6", o16: true, frame: [TARGET, Sel.CODE0, 2], to: [Sel.CODE0, 0, Sel.DATA0, STACK_TOP] },
  { name: "conforming CS with DPL 3 = RPL 3 at CPL 3", cpl3: true, frame: [TARGET, sel(1) | 3, 2], to: [sel(1) | 3, 3, Sel.DATA3, STACK_TOP] },
  // Outer privilege level
  { name: "CPL 0 to 3: SS:ESP popped too, CPL 3", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, Sel.DATA3], to: [Sel.CODE3, 3, Sel.DATA3, OUTER_ESP] },
  { name: "CPL 0 to 3: IOPL and IF loaded with the old CPL's rights", frame: [TARGET, Sel.CODE3, IF | IOPL3 | 2, OUTER_ESP, Sel.DATA3], eflags: IF | IOPL3, mask: IF | IOPL3 },
  { name: "16-bit IRET to CPL 3: SP popped as a word", o16: true, frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, Sel.DATA3], to: [Sel.CODE3, 3, Sel.DATA3, OUTER_ESP] },
  // Checks and their error codes
  { name: "NT = 1 (task return, not modelled): #GP(0)", flags: NT, frame: [TARGET, Sel.CODE0, 2], fault: [GP, 0] },
  { name: "CS null: #GP(0)", frame: [TARGET, 0, 2], fault: [GP, 0] },
  { name: "CS beyond the GDT limit: #GP(selector)", frame: [TARGET, 0x100, 2], fault: [GP, 0x100] },
  { name: "CS RPL 0 < CPL 3: #GP(selector)", cpl3: true, frame: [TARGET, Sel.CODE0, 2], fault: [GP, Sel.CODE0] },
  { name: "non-conforming CS DPL 0 != RPL 3: #GP(selector)", frame: [TARGET, sel(0) | 3, 2, OUTER_ESP, Sel.DATA3], fault: [GP, sel(0)] },
  { name: "conforming CS DPL 3 > RPL 0: #GP(selector)", frame: [TARGET, sel(1), 2], fault: [GP, sel(1)] },
  { name: "CS is a data segment: #GP(selector)", frame: [TARGET, sel(2), 2], fault: [GP, sel(2)] },
  { name: "CS not present: #NP(selector)", frame: [TARGET, sel(3) | 3, 2, OUTER_ESP, Sel.DATA3], fault: [NP, sel(3)] },
  { name: "EIP beyond the CS limit: #GP(0)", frame: [0x1000, sel(4) | 3, 2, OUTER_ESP, Sel.DATA3], fault: [GP, 0] },
  { name: "outer: SS null: #GP(0)", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, 3], fault: [GP, 0] },
  { name: "outer: SS RPL 0 != CS RPL 3: #GP(selector)", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, Sel.DATA3 & ~3], fault: [GP, Sel.DATA3 & ~3] },
  { name: "outer: SS DPL 0 != CS RPL 3: #GP(selector)", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, sel(2) | 3], fault: [GP, sel(2)] },
  { name: "outer: SS read-only: #GP(selector)", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, sel(5) | 3], fault: [GP, sel(5)] },
  { name: "outer: SS not present: #SS(selector)", frame: [TARGET, Sel.CODE3, 2, OUTER_ESP, sel(6) | 3], fault: [SS, sel(6)] },
];

describe("IRET: selector checks, privilege levels and the EFLAGS it may load", () => {
  it.each(rows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const { s, o } = runRow(t);
    if (t.fault) {
      expect([o.vector, o.errorCode, o.eip]).toEqual([t.fault[0], t.fault[1], s.sym.insn]);
      return;
    }
    expect([o.vector, o.eip]).toEqual([null, TARGET]);
    if (t.to) expect([s.c.segSel[1], s.c.cpl, s.c.segSel[2], s.c.regs[4]]).toEqual(t.to);
    if (t.eflags !== undefined) expect(s.c.getEflags() & t.mask!).toBe(t.eflags);
  });
});

describe("interrupt from ring 3 to ring 0 and IRETD back (SDM Vol. 3A 6.12.1, 6.14)", () => {
  it("restores CS, EIP, EFLAGS, SS, ESP; nulls DS and ES (DPL 0) but keeps FS (DPL 3)", () => {
    const s = sys((a) => {
      a.int(0x1f);
      a.label("back");
      a.jmp("back");
      a.org(R0);
      a.mov(eax, Sel.DATA0);
      a.mov(ds, ax);
      a.mov(eax, sel(2));
      a.mov(es, ax);
      a.mov(eax, Sel.DATA3);
      a.mov(fs, ax);
      a.iretd();
    }, {
      gdt: GDT,
      cpl3: true,
      idt: { 31: gate(G.INT32, sel(0), R0, 3) },
      setup: (c) => { setIopl(c, 0); c.setEflags(IF | CF, IF | CF); },
    });
    expect(go(s, 30).eip).toBe(s.sym.back);
    const c = s.c;
    expect([c.cpl, c.segSel[1], c.segSel[2], c.regs[4]]).toEqual([3, Sel.CODE3, Sel.DATA3, STACK_TOP]);
    expect(c.getEflags() & (IF | CF)).toBe(IF | CF);
    expect([c.segSel[3], c.segSel[0], c.segSel[4]]).toEqual([0, 0, Sel.DATA3]);
    expect([c.segAttr[3] & 0x80, c.segAttr[0] & 0x80]).toEqual([0, 0]);
  });
});
