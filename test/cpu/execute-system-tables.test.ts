/**
 * LGDT LIDT SGDT SIDT LLDT SLDT LTR STR, and the mode/privilege rules of every system instruction.
 * References: the SDM Vol. 2 pages of each instruction (Operation, "Protected Mode Exceptions",
 * "Real-Address Mode Exceptions"), SDM Vol. 3A 5.9 (privileged instructions: #GP(0) at CPL > 0),
 * Table 3-2 (system-descriptor types: 2 = LDT, 1/9 = available 16/32-bit TSS, 3/B busy), 7.2.2 (the busy
 * flag LTR sets), and 6.13 (the error code of #GP/#NP for a selector: its index and TI bits, RPL cleared).
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../src/cpu/core.ts";
import { Reg } from "../../src/cpu/registers.ts";
import {
  CODE, DATA, FIRST_FREE_GDT_INDEX, GDT, descriptor, endOf, le16, le32, machine, ring3, run,
} from "./system-harness.ts";

const UD = 6, NP = 11, GP = 13;

/** Selector of the n-th extra GDT entry. */
const sel = (n: number) => (FIRST_FREE_GDT_INDEX + n) * 8;
const EXTRA = [
  descriptor(0xc000, 0x2f, 0x82, 0), //        0: LDT, present
  descriptor(0xc000, 0x2f, 0x02, 0), //        1: LDT, not present
  descriptor(0xb000, 0x67, 0x89, 0), //        2: available 32-bit TSS
  descriptor(0xb000, 0x67, 0x09, 0), //        3: 32-bit TSS, not present
  descriptor(0xb000, 0x67, 0x8b, 0), //        4: busy 32-bit TSS
  descriptor(0xb800, 0x2b, 0x81, 0), //        5: available 16-bit TSS
  descriptor(0, 0xfffff, 0x92, 0xc), //        6: data segment
  descriptor(0x00123456, 0x12, 0x82, 0x8), //  7: LDT with G = 1 (limit 12FFFH), base 123456H
];

const LDT_SEL = sel(0), LDT_ABSENT = sel(1), TSS_AVAIL = sel(2), TSS_ABSENT = sel(3), TSS_BUSY = sel(4);
const TSS16 = sel(5), DATA_SEG = sel(6), LDT_PAGES = sel(7);

function sys(code: readonly number[], setup?: (c: Core) => void): Core {
  return machine(code, { gdt: EXTRA, setup });
}

describe("LGDT/LIDT load a 6-byte pseudo-descriptor; SGDT/SIDT store one", () => {
  it.each([
    ["lgdt [ebx] (0F 01 13), 32-bit operand: all 32 base bits", [0x0f, 0x01, 0x13], "gdt", 0x12345678],
    ["lidt [ebx] (0F 01 1B)", [0x0f, 0x01, 0x1b], "idt", 0x12345678],
    ["o16 lgdt [ebx] (66 0F 01 13): 24-bit base, top byte zero", [0x66, 0x0f, 0x01, 0x13], "gdt", 0x00345678],
    ["o16 lidt [ebx] (66 0F 01 1B): 24-bit base", [0x66, 0x0f, 0x01, 0x1b], "idt", 0x00345678],
  ] as const)("%s", (_n, code, table, base) => {
    const c = sys(code, (c) => {
      c.ram.set([...le16(0x1fff), ...le32(0x12345678)], DATA);
      c.regs[Reg.EBX] = DATA;
    });
    const o = run(c, 10);
    expect(o.vector).toBeNull();
    if (table === "gdt") expect([c.gdtLimit, c.gdtBase >>> 0]).toEqual([0x1fff, base]);
    else expect([c.idtLimit, c.idtBase >>> 0]).toEqual([0x1fff, base]);
  });

  it.each([
    ["sgdt [ebx] (0F 01 03)", [0x0f, 0x01, 0x03], "gdt"],
    ["sidt [ebx] (0F 01 0B)", [0x0f, 0x01, 0x0b], "idt"],
    ["o16 sgdt [ebx] stores the full 32-bit base too", [0x66, 0x0f, 0x01, 0x03], "gdt"],
  ] as const)("%s", (_n, code, table) => {
    const c = sys(code, (c) => {
      c.regs[Reg.EBX] = DATA;
      c.ram.fill(0xee, DATA, DATA + 8);
    });
    if (table === "gdt") [c.gdtLimit, c.gdtBase] = [0x0fff, 0xfedcba98 | 0];
    else [c.idtLimit, c.idtBase] = [0x07ff, 0xfedcba98 | 0];
    run(c, 10);
    expect([...c.ram.subarray(DATA, DATA + 7)]).toEqual([...le16(table === "gdt" ? 0x0fff : 0x07ff), ...le32(0xfedcba98), 0xee]);
  });

  it("lgdt works in real-address mode (lgdt [bx], 0F 01 17)", () => {
    const c = machine([0x0f, 0x01, 0x17], {
      real: true,
      setup: (c) => {
        c.ram.set([...le16(0x27), ...le32(0x00012345)], DATA);
        c.regs[Reg.EBX] = DATA;
      },
    });
    expect(run(c, 10).vector).toBeNull();
    expect([c.gdtLimit, c.gdtBase]).toEqual([0x27, 0x12345]); // 16-bit operand size: 24-bit base
  });
});

describe("LLDT loads LDTR from an LDT descriptor in the GDT", () => {
  const cases: { name: string; sel: number; fault?: [number, number]; base?: number; limit?: number }[] = [
    { name: "present LDT descriptor", sel: LDT_SEL, base: 0xc000, limit: 0x2f },
    { name: "RPL bits are ignored", sel: LDT_SEL | 3, base: 0xc000, limit: 0x2f },
    { name: "4 KiB granularity scales the limit", sel: LDT_PAGES, base: 0x123456, limit: 0x12fff },
    { name: "null selector: LDTR unusable, no fault", sel: 0, base: 0, limit: 0 },
    { name: "null selector with RPL 3: no fault", sel: 3, base: 0, limit: 0 },
    { name: "TI = 1: #GP(selector)", sel: LDT_SEL | 4, fault: [GP, LDT_SEL | 4] },
    { name: "not an LDT (data segment): #GP(selector)", sel: DATA_SEG, fault: [GP, DATA_SEG] },
    { name: "not an LDT (TSS): #GP(selector)", sel: TSS_AVAIL | 1, fault: [GP, TSS_AVAIL] },
    { name: "not present: #NP(selector)", sel: LDT_ABSENT, fault: [NP, LDT_ABSENT] },
    { name: "beyond the GDT limit: #GP(selector)", sel: 0x1000, fault: [GP, 0x1000] },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const c = sys([0x0f, 0x00, 0xd0], (c) => { // lldt ax
      c.regs[Reg.EAX] = 0xffff0000 | t.sel;
      c.ldtrSel = 0x99;
      c.ldtrBase = 0x777;
      c.ldtrLimit = 7;
    });
    const o = run(c, 10);
    if (t.fault) {
      expect(o).toEqual({ vector: t.fault[0], errorCode: t.fault[1], eip: CODE });
      expect([c.ldtrSel, c.ldtrBase, c.ldtrLimit]).toEqual([0x99, 0x777, 7]);
    } else {
      expect(o.vector).toBeNull();
      expect([c.ldtrSel, c.ldtrBase, c.ldtrLimit]).toEqual([t.sel, t.base, t.limit]);
    }
  });

  it("lldt [ebx] reads the selector from memory (0F 00 13)", () => {
    const c = sys([0x0f, 0x00, 0x13], (c) => {
      c.ram.set(le16(LDT_SEL), DATA);
      c.regs[Reg.EBX] = DATA;
    });
    run(c, 10);
    expect(c.ldtrBase).toBe(0xc000);
  });
});

describe("LTR loads TR from an available TSS descriptor and marks it busy", () => {
  const cases: { name: string; sel: number; fault?: [number, number]; base?: number; limit?: number; busyType?: number }[] = [
    { name: "available 32-bit TSS", sel: TSS_AVAIL, base: 0xb000, limit: 0x67, busyType: 0x8b },
    { name: "available 16-bit TSS", sel: TSS16, base: 0xb800, limit: 0x2b, busyType: 0x83 },
    { name: "null selector: #GP(0)", sel: 0, fault: [GP, 0] },
    { name: "null selector with RPL: #GP(0)", sel: 2, fault: [GP, 0] },
    { name: "TI = 1: #GP(selector)", sel: TSS_AVAIL | 4, fault: [GP, TSS_AVAIL | 4] },
    { name: "busy TSS: #GP(selector)", sel: TSS_BUSY, fault: [GP, TSS_BUSY] },
    { name: "LDT descriptor: #GP(selector)", sel: LDT_SEL, fault: [GP, LDT_SEL] },
    { name: "data segment: #GP(selector)", sel: DATA_SEG | 3, fault: [GP, DATA_SEG] },
    { name: "not present: #NP(selector)", sel: TSS_ABSENT, fault: [NP, TSS_ABSENT] },
    { name: "beyond the GDT limit: #GP(selector)", sel: 0x2000, fault: [GP, 0x2000] },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const c = sys([0x0f, 0x00, 0xd8], (c) => { // ltr ax
      c.regs[Reg.EAX] = t.sel;
    });
    const before = [c.trSel, c.trBase, c.trLimit];
    const o = run(c, 10);
    if (t.fault) {
      expect(o).toEqual({ vector: t.fault[0], errorCode: t.fault[1], eip: CODE });
      expect([c.trSel, c.trBase, c.trLimit]).toEqual(before);
    } else {
      expect(o.vector).toBeNull();
      expect([c.trSel, c.trBase, c.trLimit]).toEqual([t.sel, t.base, t.limit]);
      expect(c.ram[GDT + (t.sel & ~7) + 5]).toBe(t.busyType); // access byte: type | 2 (busy)
    }
  });
});

describe("SLDT and STR store the selector; a 32-bit register gets it zero-extended", () => {
  it.each([
    ["sldt eax (0F 00 C0)", [0x0f, 0x00, 0xc0], "ldtr", 0x00000030],
    ["sldt ax (66 0F 00 C0) keeps the upper half", [0x66, 0x0f, 0x00, 0xc0], "ldtr", 0xdead0030],
    ["str eax (0F 00 C8)", [0x0f, 0x00, 0xc8], "tr", 0x00000028],
    ["str ax (66 0F 00 C8)", [0x66, 0x0f, 0x00, 0xc8], "tr", 0xdead0028],
  ] as const)("%s", (_n, code, _r, eax) => {
    const c = sys(code, (c) => {
      c.regs[Reg.EAX] = 0xdeadbeef | 0;
      c.ldtrSel = 0x30;
    });
    run(c, 10);
    expect(c.regs[Reg.EAX] >>> 0).toBe(eax);
  });

  it.each([
    ["sldt [ebx] (0F 00 03)", [0x0f, 0x00, 0x03]],
    ["str [ebx] (0F 00 0B)", [0x0f, 0x00, 0x0b]],
  ] as const)("%s writes 16 bits to memory", (_n, code) => {
    const c = sys(code, (c) => {
      c.ram.fill(0xee, DATA, DATA + 4);
      c.regs[Reg.EBX] = DATA;
      c.ldtrSel = 0x30;
    });
    run(c, 10);
    expect([...c.ram.subarray(DATA, DATA + 3)]).toEqual([code[2] === 0x03 ? 0x30 : 0x28, 0, 0xee]);
  });
});

describe("mode and privilege: #UD in real-address mode for pmodeOnly rows, #GP(0) at CPL 3 for privileged ones", () => {
  // Encodings in protected mode (32-bit) and, for the real-mode run, the same bytes in 16-bit code
  // (register operands only, so the bytes mean the same instruction). ECX = 10H (IA32_TSC) so that
  // RDMSR/WRMSR could only fail on privilege.
  const rows: { name: string; code: number[]; cpl3: "ok" | "gp"; real: "ok" | "ud" | "gp" }[] = [
    { name: "sldt ax", code: [0x0f, 0x00, 0xc0], cpl3: "ok", real: "ud" },
    { name: "str ax", code: [0x0f, 0x00, 0xc8], cpl3: "ok", real: "ud" },
    { name: "lldt ax", code: [0x0f, 0x00, 0xd0], cpl3: "gp", real: "ud" },
    { name: "ltr ax", code: [0x0f, 0x00, 0xd8], cpl3: "gp", real: "ud" },
    { name: "verr ax", code: [0x0f, 0x00, 0xe0], cpl3: "ok", real: "ud" },
    { name: "verw ax", code: [0x0f, 0x00, 0xe8], cpl3: "ok", real: "ud" },
    { name: "lar ax,cx", code: [0x0f, 0x02, 0xc1], cpl3: "ok", real: "ud" },
    { name: "lsl ax,cx", code: [0x0f, 0x03, 0xc1], cpl3: "ok", real: "ud" },
    { name: "arpl ax,cx", code: [0x63, 0xc8], cpl3: "ok", real: "ud" },
    { name: "smsw ax", code: [0x0f, 0x01, 0xe0], cpl3: "ok", real: "ok" },
    { name: "lmsw ax", code: [0x0f, 0x01, 0xf0], cpl3: "gp", real: "ok" },
    { name: "clts", code: [0x0f, 0x06], cpl3: "gp", real: "ok" },
    { name: "invd", code: [0x0f, 0x08], cpl3: "gp", real: "ok" },
    { name: "wbinvd", code: [0x0f, 0x09], cpl3: "gp", real: "ok" },
    { name: "mov eax,cr0", code: [0x0f, 0x20, 0xc0], cpl3: "gp", real: "ok" },
    { name: "mov cr0,eax", code: [0x0f, 0x22, 0xc0], cpl3: "gp", real: "ok" },
    { name: "mov eax,dr7", code: [0x0f, 0x21, 0xf8], cpl3: "gp", real: "ok" },
    { name: "mov dr7,eax", code: [0x0f, 0x23, 0xf8], cpl3: "gp", real: "ok" },
    { name: "rdmsr", code: [0x0f, 0x32], cpl3: "gp", real: "ok" },
    { name: "wrmsr", code: [0x0f, 0x30], cpl3: "gp", real: "ok" },
    { name: "sysexit", code: [0x0f, 0x35], cpl3: "gp", real: "gp" },
    { name: "sysenter (IA32_SYSENTER_CS = 0)", code: [0x0f, 0x34], cpl3: "gp", real: "gp" },
  ];
  const memRows: { name: string; code32: number[]; code16: number[]; cpl3: "ok" | "gp" }[] = [
    { name: "lgdt [ebx]", code32: [0x0f, 0x01, 0x13], code16: [0x0f, 0x01, 0x17], cpl3: "gp" },
    { name: "lidt [ebx]", code32: [0x0f, 0x01, 0x1b], code16: [0x0f, 0x01, 0x1f], cpl3: "gp" },
    { name: "sgdt [ebx]", code32: [0x0f, 0x01, 0x03], code16: [0x0f, 0x01, 0x07], cpl3: "ok" },
    { name: "sidt [ebx]", code32: [0x0f, 0x01, 0x0b], code16: [0x0f, 0x01, 0x0f], cpl3: "ok" },
    { name: "invlpg [ebx]", code32: [0x0f, 0x01, 0x3b], code16: [0x0f, 0x01, 0x3f], cpl3: "gp" },
  ];
  const prep = (c: Core) => {
    c.regs[Reg.EAX] = c.cr0; // MOV CR0 / LMSW write back what is there
    c.regs[Reg.ECX] = 0x10;
    c.regs[Reg.EBX] = DATA;
    c.ram.set([...le16(0xff), ...le32(0x600)], DATA); // lgdt/lidt operand: harmless table
  };
  const expectOutcome = (code: readonly number[], c: Core, want: "ok" | "ud" | "gp") => {
    const o = run(c, 10);
    if (want === "ok") expect(o).toEqual({ vector: null, errorCode: null, eip: endOf(code) });
    else if (want === "ud") expect(o).toEqual({ vector: UD, errorCode: null, eip: CODE });
    else expect(o).toEqual({ vector: GP, errorCode: c.protectedMode ? 0 : null, eip: CODE });
  };
  it.each(rows.map((t) => [t.name, t] as const))("%s at CPL 3", (_n, t) => {
    const c = sys(t.code, (c) => { prep(c); ring3(c); c.regs[Reg.EAX] = 0x23; });
    if (t.name.startsWith("mov cr0") || t.name === "lmsw ax") c.regs[Reg.EAX] = c.cr0;
    expectOutcome(t.code, c, t.cpl3);
  });
  it.each(rows.map((t) => [t.name, t] as const))("%s in real-address mode", (_n, t) => {
    const c = machine(t.code, { real: true, setup: prep });
    if (t.name === "lmsw ax") c.regs[Reg.EAX] = 0; // PE stays 0
    expectOutcome(t.code, c, t.real);
  });
  it.each(memRows.map((t) => [t.name, t] as const))("%s at CPL 3", (_n, t) => {
    const c = sys(t.code32, (c) => { prep(c); ring3(c); });
    expectOutcome(t.code32, c, t.cpl3);
  });
  it.each(memRows.map((t) => [t.name, t] as const))("%s in real-address mode", (_n, t) => {
    const c = machine(t.code16, { real: true, setup: prep });
    expectOutcome(t.code16, c, "ok");
  });
});
