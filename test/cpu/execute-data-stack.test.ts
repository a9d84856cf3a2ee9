/**
 * PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE. Expected stack images are the SDM pseudo-code worked by hand
 * (SDM Vol. 2 PUSHA/PUSHAD, POPA/POPAD, PUSHF/PUSHFD, POPF/POPFD with Table 4-15, ENTER, LEAVE);
 * the ENTER nesting copy order was also checked on the host CPU ([EBP-4], [EBP-8] ..., then the
 * frame pointer).
 */
import { describe, expect, it } from "vitest";
import { type Case, expected, observe, runCase } from "./data-harness.ts";

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
const IOPL3 = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
      expect(observe(runCase(t), t)).toEqual(expected(t));
    });
  });
}

const EIGHT = { eax: 1, ecx: 2, edx: 3, ebx: 4, esp: 0x8000, ebp: 6, esi: 7, edi: 8 };
/** A 16-bit stack: SS base 20000H, SS.B = 0. */
const stack16 = (c: { ss32: boolean; segBase: Int32Array }) => {
  c.ss32 = false;
  c.segBase[2] = 0x20000;
};

table("PUSHA pushes EAX ECX EDX EBX, the original ESP, EBP ESI EDI", [
  {
    name: "pushad (60)", code: [0x60], regs: EIGHT,
    expect: {
      regs: { esp: 0x7fe0 },
      mem: { 0x7ffc: 1, 0x7ff8: 2, 0x7ff4: 3, 0x7ff0: 4, 0x7fec: 0x8000, 0x7fe8: 6, 0x7fe4: 7, 0x7fe0: 8 },
    },
  },
  {
    name: "pusha (66 60) pushes words", code: [0x66, 0x60],
    regs: { eax: 0xaaaa0001, ecx: 2, edx: 3, ebx: 4, esp: 0x8000, ebp: 6, esi: 7, edi: 0xbbbb0008 },
    expect: {
      regs: { esp: 0x7ff0 },
      mem16: { 0x7ffe: 1, 0x7ffc: 2, 0x7ffa: 3, 0x7ff8: 4, 0x7ff6: 0x8000, 0x7ff4: 6, 0x7ff2: 7, 0x7ff0: 8 },
    },
  },
  {
    name: "pushad on a 16-bit stack wraps SP and keeps ESP's upper half", code: [0x60],
    regs: { ...EIGHT, esp: 0xabcd0010 }, setup: stack16,
    expect: {
      regs: { esp: 0xabcdfff0 },
      mem: { 0x2000c: 1, 0x20008: 2, 0x20004: 3, 0x20000: 4, 0x2fffc: 0xabcd0010, 0x2fff8: 6, 0x2fff4: 7, 0x2fff0: 8 },
    },
  },
]);

table("POPA pops EDI ESI EBP, skips the ESP image, pops EBX EDX ECX EAX", [
  {
    name: "popad (61)", code: [0x61], regs: { esp: 0x7fe0 },
    mem: { 0x7ffc: 1, 0x7ff8: 2, 0x7ff4: 3, 0x7ff0: 4, 0x7fec: 0x12345678, 0x7fe8: 6, 0x7fe4: 7, 0x7fe0: 8 },
    expect: { regs: { ...EIGHT, esp: 0x8000 } },
  },
  {
    name: "popa (66 61) changes only the low words", code: [0x66, 0x61],
    regs: { eax: 0x11110000, ecx: 0x22220000, edx: 0x33330000, ebx: 0x44440000, esp: 0x7ff0, ebp: 0x66660000, esi: 0x77770000, edi: 0x88880000 },
    mem: { 0x7ffc: 0x00010002, 0x7ff8: 0x00030004, 0x7ff4: 0x99990006, 0x7ff0: 0x00070008 },
    expect: { regs: { eax: 0x11110001, ecx: 0x22220002, edx: 0x33330003, ebx: 0x44440004, esp: 0x8000, ebp: 0x66660006, esi: 0x77770007, edi: 0x88880008 } },
  },
  {
    name: "pushad then popad restores every register", code: [0x60, 0x61], regs: EIGHT, expect: { regs: EIGHT },
  },
]);

table("PUSHF pushes EFLAGS with VM and RF cleared in the image", [
  {
    name: "pushfd (9C)", code: [0x9c], eflags: CF | ZF | DF | IF | RF | AC | ID,
    expect: { regs: { esp: 0x7ffc }, mem: { 0x7ffc: 0x2 | CF | ZF | DF | IF | AC | ID } },
  },
  {
    name: "pushf (66 9C) pushes the low word", code: [0x66, 0x9c], eflags: OF | SF | IOPL3 | NT | AC,
    mem: { 0x7ffc: 0xdeadbeef },
    expect: { regs: { esp: 0x7ffe }, mem16: { 0x7ffe: 0x2 | OF | SF | IOPL3 | NT, 0x7ffc: 0xbeef } },
  },
  {
    // cmp 0,1 leaves CF PF AF SF set lazily; PUSHFD must see them (0 - 1 = FFFFFFFFH)
    name: "pushfd after cmp sees the arithmetic flags (39 D8, 9C)", code: [0x39, 0xd8, 0x9c], regs: { eax: 0, ebx: 1 },
    expect: { mem: { 0x7ffc: 0x2 | CF | PF | AF | SF } },
  },
]);

const ALL = 0xffffffff;
table("POPF loads the flags SDM Table 4-15 allows at the current CPL and IOPL", [
  {
    // TF stays clear here: with TF set the next instruction would single-step trap (see test/cpu/system).
    name: "popfd (9D) at CPL 0 with all ones but TF: VM VIF VIP stay 0, RF cleared",
    code: [0x9d], mem: { 0x7ffc: ALL & ~TF }, regs: { esp: 0x7ffc }, eflags: 0,
    expect: { regs: { esp: 0x8000 }, eflags: 0x2 | CF | PF | AF | ZF | SF | IF | DF | OF | IOPL3 | NT | AC | ID },
  },
  {
    name: "popfd (9D) with zeros clears them, bit 1 stays 1",
    code: [0x9d], mem: { 0x7ffc: 0 }, regs: { esp: 0x7ffc }, eflags: CF | ZF | IF | IOPL3 | AC,
    expect: { eflags: 0x2 },
  },
  {
    name: "popfd at CPL 3 with IOPL 0 changes neither IF nor IOPL (no fault)",
    code: [0x9d], mem: { 0x7ffc: ALL & ~TF }, regs: { esp: 0x7ffc }, eflags: 0, cpl: 3,
    expect: { eflags: 0x2 | CF | PF | AF | ZF | SF | DF | OF | NT | AC | ID },
  },
  {
    name: "popfd at CPL 3 with IOPL 3 changes IF but not IOPL",
    code: [0x9d], mem: { 0x7ffc: 0 }, regs: { esp: 0x7ffc }, eflags: IOPL3 | IF, cpl: 3,
    expect: { eflags: 0x2 | IOPL3 },
  },
  {
    name: "popf (66 9D) changes only the low 16 bits",
    code: [0x66, 0x9d], mem: { 0x7ffc: 0x00000000 }, regs: { esp: 0x7ffe }, eflags: CF | AC | ID,
    expect: { regs: { esp: 0x8000 }, eflags: 0x2 | AC | ID },
  },
  {
    name: "popfd then setc (9D, 0F 92 C1)", code: [0x9d, 0x0f, 0x92, 0xc1], mem: { 0x7ffc: CF }, regs: { esp: 0x7ffc, ecx: 0 },
    expect: { regs: { ecx: 1 } },
  },
  {
    name: "VM, VIF, VIP are never set by POPFD", code: [0x9d], mem: { 0x7ffc: VM | VIF | VIP }, regs: { esp: 0x7ffc }, eflags: 0,
    expect: { eflags: 0x2 },
  },
]);

table("ENTER builds a frame: push EBP, copy level-1 frame pointers, push the new one, reserve imm16", [
  {
    name: "enter 16,0 (C8 10 00 00)", code: [0xc8, 0x10, 0x00, 0x00], regs: { ebp: 0x1234, esp: 0x8000 },
    expect: { regs: { ebp: 0x7ffc, esp: 0x7fec }, mem: { 0x7ffc: 0x1234 } },
  },
  {
    name: "enter 8,1 (C8 08 00 01) pushes the frame pointer", code: [0xc8, 0x08, 0x00, 0x01], regs: { ebp: 0x1234, esp: 0x8000 },
    expect: { regs: { ebp: 0x7ffc, esp: 0x7ff0 }, mem: { 0x7ffc: 0x1234, 0x7ff8: 0x7ffc } },
  },
  {
    name: "enter 0,3 (C8 00 00 03) copies [EBP-4], [EBP-8]", code: [0xc8, 0x00, 0x00, 0x03], regs: { ebp: 0x9000, esp: 0x8000 },
    mem: { 0x8ffc: 0xaaaa, 0x8ff8: 0xbbbb, 0x8ff4: 0xcccc },
    expect: { regs: { ebp: 0x7ffc, esp: 0x7ff0 }, mem: { 0x7ffc: 0x9000, 0x7ff8: 0xaaaa, 0x7ff4: 0xbbbb, 0x7ff0: 0x7ffc } },
  },
  {
    name: "enter 0,33 (C8 00 00 21): the level is taken mod 32", code: [0xc8, 0x00, 0x00, 0x21], regs: { ebp: 0x1234, esp: 0x8000 },
    expect: { regs: { ebp: 0x7ffc, esp: 0x7ff8 }, mem: { 0x7ffc: 0x1234, 0x7ff8: 0x7ffc } },
  },
  {
    name: "enter 4,2 (66 C8 04 00 02) with a 16-bit operand size pushes words",
    code: [0x66, 0xc8, 0x04, 0x00, 0x02], regs: { ebp: 0x9000, esp: 0x8000 }, mem: { 0x8ffc: 0x55550000 },
    expect: { regs: { ebp: 0x7ffe, esp: 0x7ff6 }, mem16: { 0x7ffe: 0x9000, 0x7ffc: 0x5555, 0x7ffa: 0x7ffe } },
  },
  {
    name: "enter 4,0 (66 C8 04 00 00) sets BP only", code: [0x66, 0xc8, 0x04, 0x00, 0x00], regs: { ebp: 0xabcd1234, esp: 0x8000 },
    expect: { regs: { ebp: 0xabcd7ffe, esp: 0x7ffa }, mem16: { 0x7ffe: 0x1234 } },
  },
  {
    name: "enter 0FFFFH,0 (C8 FF FF 00) reserves 65535 bytes", code: [0xc8, 0xff, 0xff, 0x00], regs: { ebp: 0, esp: 0x80000 },
    expect: { regs: { ebp: 0x7fffc, esp: 0x7fffc - 0xffff } },
  },
  {
    name: "enter 8,1 on a 16-bit stack wraps SP", code: [0xc8, 0x08, 0x00, 0x01], regs: { ebp: 0x1234, esp: 0x55550004 }, setup: stack16,
    expect: { regs: { ebp: 0x55550000, esp: 0x5555fff4 }, mem: { 0x20000: 0x1234, 0x2fffc: 0x55550000 } },
  },
]);

table("LEAVE sets ESP to EBP and pops EBP", [
  { name: "leave (C9)", code: [0xc9], regs: { ebp: 0x7000, esp: 0x6000 }, mem: { 0x7000: 0x12345678 }, expect: { regs: { esp: 0x7004, ebp: 0x12345678 } } },
  { name: "leave (66 C9) pops BP only", code: [0x66, 0xc9], regs: { ebp: 0x7000, esp: 0x6000 }, mem: { 0x7000: 0x5678 }, expect: { regs: { esp: 0x7002, ebp: 0x5678 } } },
  {
    name: "enter 16,0 then leave restores ESP and EBP (C8 10 00 00, C9)", code: [0xc8, 0x10, 0x00, 0x00, 0xc9],
    regs: { ebp: 0x4321, esp: 0x8000 }, expect: { regs: { ebp: 0x4321, esp: 0x8000 } },
  },
  {
    name: "enter 0,3 then leave restores ESP and EBP", code: [0xc8, 0x00, 0x00, 0x03, 0xc9],
    regs: { ebp: 0x9000, esp: 0x8000 }, expect: { regs: { ebp: 0x9000, esp: 0x8000 } },
  },
  {
    name: "leave on a 16-bit stack uses BP and keeps ESP's upper half", code: [0xc9], setup: stack16,
    regs: { ebp: 0x7777fff0, esp: 0x12340000 }, mem: { 0x2fff0: 0xabcd },
    expect: { regs: { esp: 0x1234fff4, ebp: 0xabcd } },
  },
]);
