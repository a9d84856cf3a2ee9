/**
 * LAR, LSL, VERR, VERW, ARPL. References: the SDM Vol. 2 pages (Operation sections: ZF = 0 for a null
 * selector, one beyond the table limit, a type the instruction does not accept, or DPL < CPL or RPL
 * unless the segment is conforming code; the present bit is not checked), the accepted system types
 * (LAR: 1 2 3 4 5 9 B C; LSL: 1 2 3 9 B), the LAR mask 00FxFF00H / FF00H, LSL's byte-granular limit,
 * and SDM Vol. 3A Figure 3-8 / Tables 3-1, 3-2 for the descriptor fields. Expected destination values
 * are the descriptors' second dwords worked out by hand from those fields.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../src/cpu/core.ts";
import { Reg } from "../../src/cpu/registers.ts";
import { DATA, FIRST_FREE_GDT_INDEX, descriptor, le16, machine, ring3, run } from "./system-harness.ts";

const ZF = 0x40, CF = 0x1;
const sel = (n: number) => (FIRST_FREE_GDT_INDEX + n) * 8;
const EXTRA: [number, number][] = [
  descriptor(0, 0xfffff, 0x92, 0xc), //              0: data, DPL 0
  descriptor(0, 0xfffff, 0x9a, 0xc), //              1: code, readable, DPL 0
  descriptor(0, 0xfffff, 0x9e, 0xc), //              2: conforming code, readable, DPL 0
  descriptor(0, 0xfffff, 0x9c, 0xc), //              3: conforming code, execute-only, DPL 0
  descriptor(0, 0xfffff, 0x98, 0xc), //              4: code, execute-only, DPL 0
  descriptor(0, 0xfffff, 0x90, 0xc), //              5: data, read-only, DPL 0
  descriptor(0x00345678, 0x1234, 0xf2, 0x4), //      6: data, DPL 3, byte-granular limit 1234H
  descriptor(0, 0xfffff, 0x12, 0xc), //              7: data, not present
  descriptor(0xc000, 0x17, 0x82, 0), //              8: LDT
  descriptor(0xb000, 0x67, 0x89, 0), //              9: available 32-bit TSS
  descriptor(0xb000, 0x67, 0xeb, 0), //             10: busy 32-bit TSS, DPL 3
  [0x00081000, 0x0040ec00], //                      11: 32-bit call gate, DPL 3, to 0008:00401000
  [0x00081000, 0x00408e00], //                      12: 32-bit interrupt gate (not for LAR/LSL)
  descriptor(0, 0, 0x80, 0), //                     13: system type 0 (reserved)
  [0x00280000, 0x0000e500], //                      14: task gate, DPL 3
  descriptor(0xb800, 0x2b, 0x81, 0), //             15: available 16-bit TSS
  descriptor(0, 0, 0x88, 0), //                     16: system type 8 (reserved)
  descriptor(0, 0xfffff, 0xfa, 0xc), //             17: code, readable, DPL 3
];
/** LDT at C000H: [1] (selector 0CH) data DPL 0, [2] (14H) code DPL 3. */
const LDT = [[0, 0], descriptor(0, 0xfffff, 0x92, 0xc), descriptor(0, 0xfffff, 0xfa, 0xc)];

function core(code: readonly number[], opts: { cpl3?: boolean; ldt?: boolean; ecx: number; eax?: number; flags?: number }): Core {
  return machine(code, {
    gdt: EXTRA,
    setup: (c) => {
      const v = new DataView(c.ram.buffer);
      LDT.forEach(([lo, hi], n) => {
        v.setUint32(0xc000 + n * 8, lo, true);
        v.setUint32(0xc000 + n * 8 + 4, hi, true);
      });
      // ldt: false = LDTR as LLDT with a null selector leaves it (not the reset state, which is usable).
      [c.ldtrSel, c.ldtrBase, c.ldtrLimit] = opts.ldt !== false ? [sel(8), 0xc000, 0x17] : [0, 0, 0];
      if (opts.cpl3) ring3(c);
      c.regs[Reg.ECX] = opts.ecx;
      c.regs[Reg.EAX] = opts.eax ?? 0xdeadbeef;
      c.setEflags(opts.flags ?? CF, 0x8d5);
    },
  });
}

interface QueryCase {
  name: string;
  sel: number;
  cpl3?: boolean;
  ldt?: boolean;
  /** Expected destination (ZF = 1), or null for ZF = 0 and the destination unchanged. */
  want: number | null;
}

function queryTable(title: string, code: number[], cases: QueryCase[], width = 4): void {
  describe(title, () => {
    it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
      const c = core(code, { cpl3: t.cpl3, ldt: t.ldt, ecx: 0xffff0000 | t.sel });
      expect(run(c, 10).vector).toBeNull();
      const keep = width === 4 ? 0 : 0xdead0000;
      expect(c.regs[Reg.EAX] >>> 0).toBe(t.want === null ? 0xdeadbeef : (keep | t.want) >>> 0);
      expect(c.getEflags() & (ZF | CF)).toBe((t.want === null ? 0 : ZF) | CF); // only ZF changes
    });
  });
}

queryTable("LAR eax,cx (0F 02 C1) loads the access rights dword masked by 00FxFF00H", [0x0f, 0x02, 0xc1], [
  { name: "data segment, DPL 0 = CPL", sel: sel(0), want: 0x00cf9200 },
  { name: "readable code segment", sel: sel(1), want: 0x00cf9a00 },
  { name: "data DPL 0, RPL 3: ZF = 0", sel: sel(0) | 3, want: null },
  { name: "data DPL 0 at CPL 3: ZF = 0", sel: sel(0) | 3, cpl3: true, want: null },
  { name: "conforming code DPL 0 at CPL 3: no privilege check", sel: sel(2) | 3, cpl3: true, want: 0x00cf9e00 },
  { name: "execute-only conforming code at CPL 3", sel: sel(3) | 3, cpl3: true, want: 0x00cf9c00 },
  { name: "non-conforming code DPL 0 at CPL 3: ZF = 0", sel: sel(1) | 3, cpl3: true, want: null },
  { name: "data DPL 3 at CPL 3 (limit nibble 0, D/B set)", sel: sel(6) | 3, cpl3: true, want: 0x0040f200 },
  { name: "not-present segment: P is not checked", sel: sel(7), want: 0x00cf1200 },
  { name: "LDT descriptor", sel: sel(8), want: 0x00008200 },
  { name: "available 32-bit TSS", sel: sel(9), want: 0x00008900 },
  { name: "busy 32-bit TSS, DPL 3, at CPL 3", sel: sel(10) | 3, cpl3: true, want: 0x0000eb00 },
  { name: "32-bit call gate", sel: sel(11), want: 0x0040ec00 },
  { name: "task gate", sel: sel(14), want: 0x0000e500 },
  { name: "available 16-bit TSS", sel: sel(15), want: 0x00008100 },
  { name: "interrupt gate: not accepted", sel: sel(12), want: null },
  { name: "system type 0: not accepted", sel: sel(13), want: null },
  { name: "system type 8: not accepted", sel: sel(16), want: null },
  { name: "null selector", sel: 0, want: null },
  { name: "null selector with RPL 3", sel: 3, want: null },
  { name: "beyond the GDT limit", sel: 0x1f8, want: null },
  { name: "LDT entry (TI = 1)", sel: 0x0c, want: 0x00cf9200 },
  { name: "LDT entry beyond the LDT limit", sel: 0x1c, want: null },
  { name: "TI = 1 with a null LDTR", sel: 0x0c, ldt: false, want: null },
]);

queryTable("LAR ax,cx (66 0F 02 C1) loads the access byte masked by FF00H", [0x66, 0x0f, 0x02, 0xc1], [
  { name: "data DPL 3 at CPL 3", sel: sel(6) | 3, cpl3: true, want: 0xf200 },
  { name: "code segment", sel: sel(1), want: 0x9a00 },
  { name: "null selector", sel: 0, want: null },
], 2);

queryTable("LSL eax,cx (0F 03 C1) loads the byte-granular segment limit", [0x0f, 0x03, 0xc1], [
  { name: "4 KiB-granular flat data: FFFFFFFFH", sel: sel(0), want: 0xffffffff },
  { name: "byte-granular limit 1234H, DPL 3 at CPL 3", sel: sel(6) | 3, cpl3: true, want: 0x1234 },
  { name: "conforming code at CPL 3", sel: sel(2) | 3, cpl3: true, want: 0xffffffff },
  { name: "non-conforming code DPL 0 at CPL 3: ZF = 0", sel: sel(1) | 3, cpl3: true, want: null },
  { name: "LDT", sel: sel(8), want: 0x17 },
  { name: "available 32-bit TSS", sel: sel(9), want: 0x67 },
  { name: "available 16-bit TSS", sel: sel(15), want: 0x2b },
  { name: "busy TSS DPL 3 at CPL 3", sel: sel(10) | 3, cpl3: true, want: 0x67 },
  { name: "call gate: not accepted", sel: sel(11), want: null },
  { name: "task gate: not accepted", sel: sel(14), want: null },
  { name: "system type 0: not accepted", sel: sel(13), want: null },
  { name: "not-present segment: P is not checked", sel: sel(7), want: 0xffffffff },
  { name: "null selector", sel: 0, want: null },
  { name: "beyond the GDT limit", sel: 0x1f8, want: null },
]);

queryTable("LSL ax,cx (66 0F 03 C1) loads the low 16 bits of the limit", [0x66, 0x0f, 0x03, 0xc1], [
  { name: "flat segment", sel: sel(0), want: 0xffff },
  { name: "limit 1234H at CPL 3", sel: sel(6) | 3, cpl3: true, want: 0x1234 },
], 2);

describe("VERR (0F 00 E0) and VERW (0F 00 E8) set ZF when the segment is readable / writable", () => {
  const cases: { name: string; sel: number; cpl3?: boolean; r: boolean; w: boolean }[] = [
    { name: "writable data DPL 0", sel: sel(0), r: true, w: true },
    { name: "read-only data", sel: sel(5), r: true, w: false },
    { name: "readable code", sel: sel(1), r: true, w: false },
    { name: "execute-only code", sel: sel(4), r: false, w: false },
    { name: "readable conforming code DPL 0 at CPL 3", sel: sel(2) | 3, cpl3: true, r: true, w: false },
    { name: "execute-only conforming code at CPL 3", sel: sel(3) | 3, cpl3: true, r: false, w: false },
    { name: "data DPL 0 at CPL 3", sel: sel(0) | 3, cpl3: true, r: false, w: false },
    { name: "data DPL 0 with RPL 3 at CPL 0", sel: sel(0) | 3, r: false, w: false },
    { name: "data DPL 3 at CPL 3", sel: sel(6) | 3, cpl3: true, r: true, w: true },
    { name: "readable code DPL 3 at CPL 3", sel: sel(17) | 3, cpl3: true, r: true, w: false },
    { name: "not-present data: P is not checked", sel: sel(7), r: true, w: true },
    { name: "LDT (system)", sel: sel(8), r: false, w: false },
    { name: "TSS (system)", sel: sel(9), r: false, w: false },
    { name: "call gate", sel: sel(11), r: false, w: false },
    { name: "null selector", sel: 0, r: false, w: false },
    { name: "beyond the GDT limit", sel: 0x1f8, r: false, w: false },
    { name: "LDT data entry (TI = 1)", sel: 0x0c, r: true, w: true },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    for (const [code, want] of [[[0x0f, 0x00, 0xe0], t.r], [[0x0f, 0x00, 0xe8], t.w]] as const) {
      // eax holds the selector (Ew = ax); start with ZF set to the opposite to see it change
      const c = core(code, { cpl3: t.cpl3, ecx: 0, eax: t.sel, flags: want ? CF : CF | ZF });
      expect(run(c, 10).vector).toBeNull();
      expect(c.getEflags() & (ZF | CF)).toBe((want ? ZF : 0) | CF);
    }
  });

  it("verr [ebx] reads the selector from memory (0F 00 23)", () => {
    const c = core([0x0f, 0x00, 0x23], { ecx: 0, flags: 0 });
    c.ram.set(le16(sel(0)), DATA);
    c.regs[Reg.EBX] = DATA;
    run(c, 10);
    expect(c.getEflags() & ZF).toBe(ZF);
  });
});

describe("ARPL raises the destination's RPL to the source's and reports it in ZF", () => {
  it.each([
    ["RPL 0 < 3: adjusted", 0xabcd0010, 0x23, 0xabcd0013, true],
    ["RPL 3 = 3: unchanged", 0x00000013, 0x20, 0x00000013, false],
    ["RPL 2 > 1: unchanged", 0x00000012, 0x11, 0x00000012, false],
    ["RPL 1 < 2: adjusted", 0x0000fff1, 0x02, 0x0000fff2, true],
  ] as const)("arpl ax,cx (63 C8): %s", (_n, eax, ecx, out, zf) => {
    const c = core([0x63, 0xc8], { ecx, eax });
    run(c, 10);
    expect(c.regs[Reg.EAX] >>> 0).toBe(out);
    expect(c.getEflags() & (ZF | CF)).toBe((zf ? ZF : 0) | CF);
  });

  it("arpl [ebx],cx (63 0B) adjusts a selector in memory", () => {
    const c = core([0x63, 0x0b], { ecx: 3 });
    c.ram.set([0x11, 0x00, 0xee], DATA);
    c.regs[Reg.EBX] = DATA;
    run(c, 10);
    expect([...c.ram.subarray(DATA, DATA + 3)]).toEqual([0x13, 0x00, 0xee]);
    expect(c.getEflags() & ZF).toBe(ZF);
  });
});
