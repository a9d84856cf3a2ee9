/**
 * Segment-register loads in protected mode: MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS. Each row's expected
 * vector and error code come from the "Protected Mode Exceptions" and "Operation" sections of SDM Vol. 2
 * MOV (the same checks apply to POP and LxS: SDM Vol. 2 POP, LDS/LES/LFS/LGS/LSS) and SDM Vol. 3A 5.5-5.7
 * (privilege rules for data and stack segments), 3.4.2 (null selector), 3.4.5.1 (accessed bit).
 * The order rows (wrong privilege AND not present -> #GP, not #NP) follow Bochs's load_seg_reg, which
 * checks type and privilege before presence, as the SDM's pseudo-code lists them.
 */
import { describe, expect, it } from "vitest";
import { ax, dword, eax, ebx, es, ds, fs, fword, gs, ss, word, type RegOperand } from "../../../src/guests/asm/index.ts";
import { DATA, GP, NP, SS, acc, descriptor, flat, gdtAccess, go, ldtSel, sel, sys, LDT_BASE } from "./harness.ts";

/** Extra GDT entries: selector sel(n). Access bytes have A = 0, so a load must set it. */
const GDT: [number, number][] = [
  flat(acc.data(0)), //                 0: data DPL 0
  flat(acc.data(3)), //                 1: data DPL 3
  flat(acc.data(2)), //                 2: data DPL 2
  flat(acc.dataRO(0)), //               3: read-only data DPL 0
  flat(acc.code(0)), //                 4: readable code DPL 0
  flat(acc.codeXO(0)), //               5: execute-only code DPL 0
  flat(acc.conforming(0)), //           6: conforming readable code DPL 0
  flat(acc.data(0, false)), //          7: data DPL 0, not present
  flat(acc.data(3, false)), //          8: data DPL 3, not present
  descriptor(LDT_BASE, 0x0f, 0x82, 0), // 9: LDT (system descriptor)
  [0x00081000, 0x0000ec00], //          10: 32-bit call gate DPL 3 (system descriptor)
  flat(0x80 | 0x1c), //                 11: conforming execute-only code DPL 0
  descriptor(0x20000, 0x0fff, acc.dataDown(3), 0x4), // 12: expand-down data DPL 3 (B = 1)
  descriptor(0x345000, 0xffff, acc.data(0), 0), // 13: data DPL 0, base 345000H, byte limit FFFFH
];
/** LDT: [0] data DPL 0 (selector 04H), [1] data DPL 3 (0CH). */
const LDT: [number, number][] = [flat(acc.data(0)), flat(acc.data(3))];

type Form = "mov" | "pop" | "lxs";
const SREG: Record<string, RegOperand> = { es, ss, ds, fs, gs };
const LXS = { es: "les", ss: "lss", ds: "lds", fs: "lfs", gs: "lgs" } as const;

interface Row {
  name: string;
  seg: keyof typeof LXS;
  sel: number;
  form?: Form;
  cpl3?: boolean;
  /** No LDT (LDTR null). */
  noLdt?: boolean;
  /** [vector, error code] or the loaded [selector, base]. */
  fault?: [number, number];
  loaded?: [number, number];
}

function runRow(t: Row) {
  const s = sys((a) => {
    a.mov(eax, t.sel);
    if (t.form === "pop") a.push(eax);
    if (t.form === "lxs") {
      a.mov(dword(DATA), 0x1234);
      a.mov(word(DATA + 4), ax);
    }
    a.label("insn");
    if (t.form === "pop") a.pop(SREG[t.seg]);
    else if (t.form === "lxs") a.insn(LXS[t.seg], ebx, fword(DATA));
    else a.mov(SREG[t.seg], ax);
    a.label("end");
  }, { gdt: GDT, ldt: t.noLdt ? undefined : LDT, cpl3: t.cpl3 });
  return { s, o: go(s, 20) };
}

const rows: Row[] = [
  // DS/ES/FS/GS at CPL 0 (SDM Vol. 2 MOV: "IF DS, ES, FS, or GS is loaded with non-NULL selector")
  { name: "null selector: DS becomes unusable, no fault (SDM 3.4.2)", seg: "ds", sel: 0, loaded: [0, 0] },
  { name: "null selector with RPL 3 keeps the RPL (SDM 3.4.2)", seg: "es", sel: 3, loaded: [3, 0] },
  { name: "data DPL 0", seg: "ds", sel: sel(0), loaded: [sel(0), 0] },
  { name: "data with a base", seg: "gs", sel: sel(13), loaded: [sel(13), 0x345000] },
  { name: "index beyond the GDT limit: #GP(selector)", seg: "ds", sel: 0x100, fault: [GP, 0x100] },
  { name: "beyond the GDT limit, RPL dropped from the error code", seg: "fs", sel: 0x103, fault: [GP, 0x100] },
  { name: "LDT selector with a null LDTR: #GP(selector)", seg: "ds", sel: ldtSel(1), noLdt: true, fault: [GP, ldtSel(1)] },
  { name: "LDT data DPL 0", seg: "ds", sel: ldtSel(0), loaded: [ldtSel(0), 0] },
  { name: "index beyond the LDT limit: #GP(selector)", seg: "ds", sel: ldtSel(2), fault: [GP, ldtSel(2)] },
  { name: "system descriptor (LDT): #GP(selector)", seg: "ds", sel: sel(9), fault: [GP, sel(9)] },
  { name: "call gate: #GP(selector)", seg: "es", sel: sel(10), fault: [GP, sel(10)] },
  { name: "execute-only code: #GP(selector)", seg: "ds", sel: sel(5), fault: [GP, sel(5)] },
  { name: "readable code is allowed", seg: "ds", sel: sel(4), loaded: [sel(4), 0] },
  { name: "read-only data is allowed in DS", seg: "ds", sel: sel(3), loaded: [sel(3), 0] },
  { name: "not present: #NP(selector)", seg: "ds", sel: sel(7), fault: [NP, sel(7)] },
  { name: "data DPL 2 with RPL 3 at CPL 0: max(CPL, RPL) > DPL, #GP(selector)", seg: "ds", sel: sel(2) | 3, fault: [GP, sel(2)] },
  { name: "data DPL 2 with RPL 2 at CPL 0", seg: "ds", sel: sel(2) | 2, loaded: [sel(2) | 2, 0] },
  // DS/ES/FS/GS at CPL 3
  { name: "CPL 3: data DPL 0 is #GP(selector)", seg: "ds", sel: sel(0), cpl3: true, fault: [GP, sel(0)] },
  { name: "CPL 3: data DPL 3", seg: "ds", sel: sel(1) | 3, cpl3: true, loaded: [sel(1) | 3, 0] },
  { name: "CPL 3: readable non-conforming code DPL 0 is #GP(selector)", seg: "es", sel: sel(4) | 3, cpl3: true, fault: [GP, sel(4)] },
  { name: "CPL 3: readable conforming code DPL 0 is allowed (no privilege check)", seg: "es", sel: sel(6) | 3, cpl3: true, loaded: [sel(6) | 3, 0] },
  { name: "CPL 3: execute-only conforming code is #GP(selector)", seg: "fs", sel: sel(11) | 3, cpl3: true, fault: [GP, sel(11)] },
  { name: "CPL 3: not-present DPL 0 data is #GP (privilege before presence)", seg: "ds", sel: sel(7) | 3, cpl3: true, fault: [GP, sel(7)] },
  { name: "CPL 3: not-present DPL 3 data is #NP(selector)", seg: "gs", sel: sel(8) | 3, cpl3: true, fault: [NP, sel(8)] },
  { name: "CPL 3: LDT data DPL 0 is #GP(selector)", seg: "ds", sel: ldtSel(0) | 3, cpl3: true, fault: [GP, ldtSel(0)] },
  { name: "CPL 3: LDT data DPL 3", seg: "ds", sel: ldtSel(1) | 3, cpl3: true, loaded: [ldtSel(1) | 3, 0] },
  // SS (SDM Vol. 2 MOV: "IF SS is loaded")
  { name: "SS null: #GP(0)", seg: "ss", sel: 0, fault: [GP, 0] },
  { name: "SS null with RPL 3: #GP(0)", seg: "ss", sel: 3, fault: [GP, 0] },
  { name: "SS data DPL 0 at CPL 0", seg: "ss", sel: sel(0), loaded: [sel(0), 0] },
  { name: "SS RPL 3 != CPL 0: #GP(selector)", seg: "ss", sel: sel(0) | 3, fault: [GP, sel(0)] },
  { name: "SS DPL 3 != CPL 0: #GP(selector)", seg: "ss", sel: sel(1), fault: [GP, sel(1)] },
  { name: "SS read-only data: #GP(selector)", seg: "ss", sel: sel(3), fault: [GP, sel(3)] },
  { name: "SS code segment: #GP(selector)", seg: "ss", sel: sel(4), fault: [GP, sel(4)] },
  { name: "SS system descriptor: #GP(selector)", seg: "ss", sel: sel(9), fault: [GP, sel(9)] },
  { name: "SS beyond the GDT limit: #GP(selector)", seg: "ss", sel: 0x108, fault: [GP, 0x108] },
  { name: "SS not present: #SS(selector)", seg: "ss", sel: sel(7), fault: [SS, sel(7)] },
  { name: "CPL 3: SS data DPL 3", seg: "ss", sel: sel(1) | 3, cpl3: true, loaded: [sel(1) | 3, 0] },
  { name: "CPL 3: SS expand-down data DPL 3", seg: "ss", sel: sel(12) | 3, cpl3: true, loaded: [sel(12) | 3, 0x20000] },
  { name: "CPL 3: SS RPL 0 != CPL: #GP(selector)", seg: "ss", sel: sel(1), cpl3: true, fault: [GP, sel(1)] },
  { name: "CPL 3: SS not present DPL 3: #SS(selector)", seg: "ss", sel: sel(8) | 3, cpl3: true, fault: [SS, sel(8)] },
  { name: "CPL 3: SS not present DPL 0: #GP (privilege before presence)", seg: "ss", sel: sel(7) | 3, cpl3: true, fault: [GP, sel(7)] },
  // The same checks through POP Sreg and LDS/LES/LFS/LGS/LSS (SDM Vol. 2 POP, LDS/LES/LFS/LGS/LSS)
  { name: "pop ds: not present, #NP(selector)", form: "pop", seg: "ds", sel: sel(7), fault: [NP, sel(7)] },
  { name: "pop ss: RPL != CPL, #GP(selector)", form: "pop", seg: "ss", sel: sel(0) | 3, fault: [GP, sel(0)] },
  { name: "pop es at CPL 3: DPL 0 data, #GP(selector)", form: "pop", seg: "es", sel: sel(0), cpl3: true, fault: [GP, sel(0)] },
  { name: "pop fs: LDT data", form: "pop", seg: "fs", sel: ldtSel(1), loaded: [ldtSel(1), 0] },
  { name: "lss: not present, #SS(selector)", form: "lxs", seg: "ss", sel: sel(7), fault: [SS, sel(7)] },
  { name: "lss: null, #GP(0)", form: "lxs", seg: "ss", sel: 0, fault: [GP, 0] },
  { name: "lds at CPL 3: DPL 0 data, #GP(selector)", form: "lxs", seg: "ds", sel: sel(0) | 3, cpl3: true, fault: [GP, sel(0)] },
  { name: "les: execute-only code, #GP(selector)", form: "lxs", seg: "es", sel: sel(5), fault: [GP, sel(5)] },
  { name: "lfs: data with a base", form: "lxs", seg: "fs", sel: sel(13), loaded: [sel(13), 0x345000] },
  { name: "lgs: null selector", form: "lxs", seg: "gs", sel: 0, loaded: [0, 0] },
];

const SEG_INDEX = { es: 0, ss: 2, ds: 3, fs: 4, gs: 5 } as const;

describe("segment-register loads: null, limit, type, privilege and presence checks in the SDM's order", () => {
  it.each(rows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const { s, o } = runRow(t);
    if (t.fault) {
      expect([o.vector, o.errorCode, o.eip]).toEqual([t.fault[0], t.fault[1], s.sym.insn]);
    } else {
      expect(o.vector).toBeNull();
      expect(o.eip).toBe(s.sym.end);
      const n = SEG_INDEX[t.seg];
      expect([s.c.segSel[n], s.c.segBase[n] >>> 0]).toEqual(t.loaded);
      if ((t.sel & 0xfffc) === 0) expect(s.c.segAttr[n] & 0x80).toBe(0); // unusable: not present
      else expect(s.c.segAttr[n] & 0x81).toBe(0x81); // present, accessed
    }
  });
});

describe("descriptor side effects", () => {
  it("a load sets the accessed bit of the descriptor in memory (SDM 3.4.5.1, Table 3-1 'A')", () => {
    const s = sys((a) => {
      a.mov(eax, sel(1) | 3);
      a.mov(ds, ax);
      a.mov(eax, sel(0));
      a.mov(ss, ax);
    }, { gdt: GDT });
    expect(gdtAccess(s.c, 1)).toBe(0xf2);
    go(s, 10);
    expect(gdtAccess(s.c, 1)).toBe(0xf3);
    expect(gdtAccess(s.c, 0)).toBe(0x93);
    expect(gdtAccess(s.c, 2)).toBe(0xd2); // untouched
  });

  it("a faulting load leaves the segment register and the descriptor unchanged (SDM 6.5: faults restart)", () => {
    const s = sys((a) => {
      a.mov(eax, sel(7));
      a.mov(ds, ax);
    }, { gdt: GDT });
    const before = [s.c.segSel[3], s.c.segBase[3], s.c.segAttr[3]];
    expect(go(s, 10).vector).toBe(NP);
    expect([s.c.segSel[3], s.c.segBase[3], s.c.segAttr[3]]).toEqual(before);
    expect(gdtAccess(s.c, 7)).toBe(0x12);
  });

  it("a data access through a null-loaded DS is #GP(0) (SDM 3.4.2)", () => {
    const s = sys((a) => {
      a.xor(eax, eax);
      a.mov(ds, ax);
      a.label("use");
      a.mov(eax, dword(DATA));
    });
    const o = go(s, 10);
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.use]);
  });

  it("real mode: base = selector * 16, limit and attributes kept (SDM 20.1.1; Bochs load_seg_reg)", () => {
    const s = sys((a) => {
      a.mov(ax, 0x1234);
      a.mov(ds, ax);
      a.mov(ss, ax);
    }, { real: true, setup: (c) => { c.segLimit[3] = 0x1ffff; c.segAttr[3] = 0x4093; } });
    expect(go(s, 3).vector).toBeNull();
    expect([s.c.segSel[3], s.c.segBase[3], s.c.segLimit[3], s.c.segAttr[3]]).toEqual([0x1234, 0x12340, 0x1ffff, 0x4093]);
    expect(s.c.segBase[2]).toBe(0x12340);
  });
});
