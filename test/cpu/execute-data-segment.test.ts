/**
 * MOV to and from segment registers, PUSH/POP Sreg, LDS/LES/LSS/LFS/LGS (SDM Vol. 2 MOV, PUSH, POP,
 * LDS/LES/LFS/LGS/LSS; protected-mode descriptor loads per SDM Vol. 3A 3.4.3 and 5.4; real-address
 * mode base = selector * 16 per SDM Vol. 3A 20.1.1). Exceptions and their error codes are the ones each
 * page's "Protected Mode Exceptions" lists. The implementation-specific PUSH Sreg upper half follows
 * modern Intel (16-bit store); the host (AMD) zero-extends, see segment-move.ts.
 */
import { describe, expect, it } from "vitest";
import {
  BASED_BASE, type Case, DATA, SEL_ABSENT, SEL_BASED, SEL_DATA, GDT_LIMIT, expected, observe, runCase,
} from "./data-harness.ts";

const UD = 6, NP = 11, SS = 12, GP = 13;
const BEYOND_GDT = (GDT_LIMIT + 1) & ~7;

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
      expect(observe(runCase(t), t)).toEqual(expected(t));
    });
  });
}

const stack16 = (c: { ss32: boolean; segBase: Int32Array }) => {
  c.ss32 = false;
  c.segBase[2] = 0x20000;
};

table("MOV r/m, Sreg stores the selector", [
  { name: "mov eax,ds (8C D8) zero-extends", code: [0x8c, 0xd8], regs: { eax: 0xffffffff }, expect: { regs: { eax: SEL_DATA } } },
  { name: "mov ax,ds (66 8C D8) keeps EAX[31:16]", code: [0x66, 0x8c, 0xd8], regs: { eax: 0xffffffff }, expect: { regs: { eax: 0xffff0000 | SEL_DATA } } },
  { name: "mov ecx,cs (8C C9)", code: [0x8c, 0xc9], regs: { ecx: 0xffffffff }, expect: { regs: { ecx: 0x08 } } },
  { name: "mov [ebx],ds (8C 1B) stores 16 bits", code: [0x8c, 0x1b], regs: { ebx: DATA }, mem: { [DATA]: 0xdeadbeef }, expect: { mem: { [DATA]: 0xdead0000 | SEL_DATA } } },
  { name: "mov [ebx],ds (66 8C 1B) stores 16 bits", code: [0x66, 0x8c, 0x1b], regs: { ebx: DATA }, mem: { [DATA]: 0xdeadbeef }, expect: { mem: { [DATA]: 0xdead0000 | SEL_DATA } } },
  { name: "Sreg encoding 6 (8C F0) is #UD", code: [0x8c, 0xf0], expect: { fault: [UD, -1] } },
  { name: "Sreg encoding 7 (8C F8) is #UD", code: [0x8c, 0xf8], expect: { fault: [UD, -1] } },
]);

table("MOV Sreg, r/m loads the segment register and its descriptor", [
  { name: "mov ds,eax (8E D8) uses AX", code: [0x8e, 0xd8], regs: { eax: 0xffff0000 | SEL_BASED }, expect: { seg: { ds: [SEL_BASED, BASED_BASE] } } },
  { name: "mov ds,[ebx] (8E 1B)", code: [0x8e, 0x1b], regs: { ebx: DATA }, mem: { [DATA]: 0xffff0000 | SEL_BASED }, expect: { seg: { ds: [SEL_BASED, BASED_BASE] } } },
  { name: "mov es,eax (8E C0)", code: [0x8e, 0xc0], regs: { eax: SEL_BASED }, expect: { seg: { es: [SEL_BASED, BASED_BASE] } } },
  { name: "mov fs,eax (8E E0)", code: [0x8e, 0xe0], regs: { eax: SEL_BASED }, expect: { seg: { fs: [SEL_BASED, BASED_BASE] } } },
  { name: "mov gs,eax (8E E8)", code: [0x8e, 0xe8], regs: { eax: SEL_BASED }, expect: { seg: { gs: [SEL_BASED, BASED_BASE] } } },
  { name: "mov ss,eax (8E D0)", code: [0x8e, 0xd0], regs: { eax: SEL_DATA }, expect: { seg: { ss: [SEL_DATA, 0] } } },
  { name: "mov ds,eax with a null selector (RPL 3) is allowed", code: [0x8e, 0xd8], regs: { eax: 3 }, expect: { seg: { ds: [3, 0] } } },
  { name: "mov cs,eax (8E C8) is #UD", code: [0x8e, 0xc8], regs: { eax: 0x08 }, expect: { fault: [UD, -1] } },
  { name: "Sreg encoding 6 (8E F0) is #UD", code: [0x8e, 0xf0], regs: { eax: SEL_DATA }, expect: { fault: [UD, -1] } },
  { name: "mov ss,eax with a null selector is #GP(0)", code: [0x8e, 0xd0], regs: { eax: 0 }, expect: { fault: [GP, 0] } },
  { name: "mov ds,eax beyond the GDT limit is #GP(selector)", code: [0x8e, 0xd8], regs: { eax: BEYOND_GDT | 3 }, expect: { fault: [GP, BEYOND_GDT] } },
  { name: "mov ds,eax with a not-present descriptor is #NP(selector)", code: [0x8e, 0xd8], regs: { eax: SEL_ABSENT }, expect: { fault: [NP, SEL_ABSENT] } },
  { name: "mov ss,eax with a not-present descriptor is #SS(selector)", code: [0x8e, 0xd0], regs: { eax: SEL_ABSENT }, expect: { fault: [SS, SEL_ABSENT] } },
  {
    name: "real mode: mov ds,ax (8E D8) gives base = selector * 16, then mov ax,[bx] (8B 07) reads through it",
    real: true, code: [0x8e, 0xd8, 0x8b, 0x07], regs: { eax: 0x1234, ebx: 0x10 }, mem: { 0x12350: 0xbeef },
    expect: { seg: { ds: [0x1234, 0x12340] }, regs: { eax: 0xbeef } },
  },
]);

table("PUSH Sreg: 32-bit pushes move ESP by 4 and store 16 bits", [
  { name: "push ds (1E)", code: [0x1e], mem: { 0x7ffc: 0xdeadbeef }, expect: { regs: { esp: 0x7ffc }, mem: { 0x7ffc: 0xdead0000 | SEL_DATA } } },
  { name: "push cs (0E)", code: [0x0e], mem: { 0x7ffc: 0xdeadbeef }, expect: { regs: { esp: 0x7ffc }, mem: { 0x7ffc: 0xdead0008 } } },
  { name: "push ss (16)", code: [0x16], mem: { 0x7ffc: 0 }, expect: { mem: { 0x7ffc: SEL_DATA } } },
  { name: "push es (06)", code: [0x06], mem: { 0x7ffc: 0 }, expect: { mem: { 0x7ffc: SEL_DATA } } },
  { name: "push fs (0F A0)", code: [0x0f, 0xa0], setup: (c) => { c.segSel[4] = 0x1234; }, mem: { 0x7ffc: 0 }, expect: { mem: { 0x7ffc: 0x1234 } } },
  { name: "push gs (0F A8)", code: [0x0f, 0xa8], setup: (c) => { c.segSel[5] = 0x4321; }, mem: { 0x7ffc: 0 }, expect: { mem: { 0x7ffc: 0x4321 } } },
  { name: "push ds (66 1E) pushes a word", code: [0x66, 0x1e], mem: { 0x7ffc: 0xdeadbeef }, expect: { regs: { esp: 0x7ffe }, mem: { 0x7ffc: SEL_DATA << 16 | 0xbeef } } },
  {
    name: "push ds (1E) on a 16-bit stack wraps SP", code: [0x1e], regs: { esp: 0xabcd0002 }, setup: stack16,
    mem: { 0x2fffc: 0xdeadbeef }, expect: { regs: { esp: 0xabcdfffe }, mem: { 0x2fffc: SEL_DATA << 16 | 0xbeef } },
  },
]);

table("POP Sreg loads the selector from the stack; ESP moves only if the load succeeds", [
  { name: "pop ds (1F)", code: [0x1f], regs: { esp: 0x7ffc }, mem: { 0x7ffc: 0xffff0000 | SEL_BASED }, expect: { regs: { esp: 0x8000 }, seg: { ds: [SEL_BASED, BASED_BASE] } } },
  { name: "pop ds (66 1F) pops a word", code: [0x66, 0x1f], regs: { esp: 0x7ffe }, mem: { 0x7ffc: SEL_BASED << 16 }, expect: { regs: { esp: 0x8000 }, seg: { ds: [SEL_BASED, BASED_BASE] } } },
  { name: "pop es (07)", code: [0x07], regs: { esp: 0x7ffc }, mem: { 0x7ffc: SEL_BASED }, expect: { seg: { es: [SEL_BASED, BASED_BASE] } } },
  { name: "pop fs (0F A1)", code: [0x0f, 0xa1], regs: { esp: 0x7ffc }, mem: { 0x7ffc: SEL_BASED }, expect: { seg: { fs: [SEL_BASED, BASED_BASE] } } },
  { name: "pop gs (0F A9)", code: [0x0f, 0xa9], regs: { esp: 0x7ffc }, mem: { 0x7ffc: SEL_BASED }, expect: { seg: { gs: [SEL_BASED, BASED_BASE] } } },
  { name: "pop ss (17)", code: [0x17], regs: { esp: 0x7ffc }, mem: { 0x7ffc: SEL_DATA }, expect: { regs: { esp: 0x8000 }, seg: { ss: [SEL_DATA, 0] } } },
  // The #GP frame (error code, EIP, CS, EFLAGS) is pushed below the unchanged ESP 7FFCH: 7FECH.
  { name: "pop ss (17) of a null selector is #GP(0) and leaves ESP", code: [0x17], regs: { esp: 0x7ffc }, mem: { 0x7ffc: 0 }, expect: { fault: [GP, 0], regs: { esp: 0x7fec } } },
  { name: "pop ds (1F) of a not-present selector is #NP(selector)", code: [0x1f], regs: { esp: 0x7ffc }, mem: { 0x7ffc: SEL_ABSENT }, expect: { fault: [NP, SEL_ABSENT], regs: { esp: 0x7fec } } },
  { name: "push ds, pop es (1E 07) copies DS to ES", code: [0x1e, 0x07], setup: (c) => { c.segSel[3] = SEL_BASED; }, expect: { regs: { esp: 0x8000 }, seg: { es: [SEL_BASED, BASED_BASE] } } },
]);

table("LDS/LES/LSS/LFS/LGS load the offset, then the selector", [
  {
    name: "lds eax,[ebx] (C5 03)", code: [0xc5, 0x03], regs: { ebx: DATA }, mem: { [DATA]: 0x11223344, [DATA + 4]: 0xffff0000 | SEL_BASED },
    expect: { regs: { eax: 0x11223344 }, seg: { ds: [SEL_BASED, BASED_BASE] } },
  },
  {
    name: "lds ax,[ebx] (66 C5 03) reads m16:16", code: [0x66, 0xc5, 0x03], regs: { eax: 0xaaaaaaaa, ebx: DATA }, mem: { [DATA]: SEL_BASED << 16 | 0x3344 },
    expect: { regs: { eax: 0xaaaa3344 }, seg: { ds: [SEL_BASED, BASED_BASE] } },
  },
  {
    name: "les ecx,[ebx] (C4 0B)", code: [0xc4, 0x0b], regs: { ebx: DATA }, mem: { [DATA]: 5, [DATA + 4]: SEL_BASED },
    expect: { regs: { ecx: 5 }, seg: { es: [SEL_BASED, BASED_BASE] } },
  },
  {
    name: "lss esp,[ebx] (0F B2 23)", code: [0x0f, 0xb2, 0x23], regs: { ebx: DATA }, mem: { [DATA]: 0x6000, [DATA + 4]: SEL_DATA },
    expect: { regs: { esp: 0x6000 }, seg: { ss: [SEL_DATA, 0] } },
  },
  {
    name: "lfs edx,[ebx] (0F B4 13)", code: [0x0f, 0xb4, 0x13], regs: { ebx: DATA }, mem: { [DATA]: 7, [DATA + 4]: SEL_BASED },
    expect: { regs: { edx: 7 }, seg: { fs: [SEL_BASED, BASED_BASE] } },
  },
  {
    name: "lgs esi,[ebx] (0F B5 33)", code: [0x0f, 0xb5, 0x33], regs: { ebx: DATA }, mem: { [DATA]: 8, [DATA + 4]: SEL_BASED },
    expect: { regs: { esi: 8 }, seg: { gs: [SEL_BASED, BASED_BASE] } },
  },
  {
    name: "lds eax,[eax] (C5 00): the base register may be the destination", code: [0xc5, 0x00], regs: { eax: DATA },
    mem: { [DATA]: 0x12345678, [DATA + 4]: SEL_BASED }, expect: { regs: { eax: 0x12345678 } },
  },
  { name: "lds eax,eax (C5 C0) is #UD", code: [0xc5, 0xc0], expect: { fault: [UD, -1] } },
  {
    name: "lss eax,[ebx] (0F B2 03) with a null selector is #GP(0); EAX is unchanged", code: [0x0f, 0xb2, 0x03],
    regs: { eax: 0x55, ebx: DATA }, mem: { [DATA]: 0x1000, [DATA + 4]: 0 }, expect: { fault: [GP, 0], regs: { eax: 0x55 } },
  },
  {
    name: "real mode: lds ax,[bx] (C5 07)", real: true, code: [0xc5, 0x07], regs: { ebx: DATA }, mem: { [DATA]: 0x12345678 },
    expect: { regs: { eax: 0x5678 }, seg: { ds: [0x1234, 0x12340] } },
  },
  {
    name: "real mode, 16-bit addressing: the selector offset wraps at 64 KiB (lds ax,[bx] with BX = FFFEH)",
    real: true, code: [0xc5, 0x07], regs: { ebx: 0xfffe }, mem: { 0xfffc: 0xbbbb0000, 0x0: 0x00001000 },
    expect: { regs: { eax: 0xbbbb }, seg: { ds: [0x1000, 0x10000] } },
  },
]);
