/**
 * IN/OUT/INS/OUTS at CPL 3 against IOPL and the TSS I/O permission bitmap, end to end. References: SDM
 * Vol. 1 19.5.2 "I/O Permission Bit Map" (base at TSS offset 66H; one bit per byte port, every bit of a
 * multi-byte access must be clear; bytes beyond the TSS limit deny), 19.5.1 (CPL <= IOPL: no bitmap
 * check), Vol. 2 IN/OUT/INS/OUTS "Protected Mode Exceptions" (#GP(0)), Vol. 3A 7.6 (a 16-bit TSS has
 * no bitmap; Bochs allow_io denies every port then). The harness TSS is 32-bit with an all-clear bitmap
 * of 8 KiB at offset 68H followed by an FFH byte.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { type Asm, al, ax, dx, eax } from "../../../src/guests/asm/index.ts";
import { RecordingBus, TSS, TSS_IOMAP, denyPort } from "../system-harness.ts";
import { GP, Sel, descriptor, go, setIopl, sys } from "./harness.ts";

const TSS16 = 0xb800;
const GDT: [number, number][] = [
  descriptor(TSS16, 0x2b, 0x81, 0), // 30H: available 16-bit TSS (SDM Table 3-2 type 1)
];

interface Row {
  name: string;
  insn: (a: Asm) => void;
  setup?: (c: Core) => void;
  allowed: boolean;
}

const inb = (port: number) => (a: Asm) => {
  a.label("insn");
  a.in(al, port);
};
const inDx = (port: number, reg: typeof al | typeof ax | typeof eax) => (a: Asm) => {
  a.mov(dx, port);
  a.label("insn");
  a.in(reg, dx);
};

const rows: Row[] = [
  { name: "in al,80h with its bit clear: allowed", insn: inb(0x80), allowed: true },
  { name: "in al,80h with its bit set: #GP(0)", insn: inb(0x80), setup: (c) => denyPort(c, 0x80), allowed: false },
  { name: "IOPL 3 = CPL: the bitmap is not consulted", insn: inb(0x80), setup: (c) => { denyPort(c, 0x80); setIopl(c, 3); }, allowed: true },
  { name: "in ax,dx at 7FH covers port 80H (denied): #GP(0)", insn: inDx(0x7f, ax), setup: (c) => denyPort(c, 0x80), allowed: false },
  { name: "in al,dx at 7FH next to a denied 80H: allowed", insn: inDx(0x7f, al), setup: (c) => denyPort(c, 0x80), allowed: true },
  { name: "in eax,dx at FFFFH reaches the FFH byte after the map: #GP(0)", insn: inDx(0xffff, eax), allowed: false },
  { name: "in al,dx at FFFFH: allowed", insn: inDx(0xffff, al), allowed: true },
  { name: "map byte of port 80H (offset 78H) beyond the TSS limit 77H: #GP(0)", insn: inb(0x80), setup: (c) => { c.trLimit = TSS_IOMAP + 0x0f; }, allowed: false },
  { name: "map byte at the TSS limit 78H: the 2-byte read needs 79H, #GP(0)", insn: inb(0x80), setup: (c) => { c.trLimit = TSS_IOMAP + 0x10; }, allowed: false },
  { name: "TSS limit 79H covers both bytes: allowed", insn: inb(0x80), setup: (c) => { c.trLimit = TSS_IOMAP + 0x11; }, allowed: true },
  { name: "map base pointing beyond the limit: #GP(0)", insn: inb(0x00), setup: (c) => c.write16(TSS + 0x66, 0x3000), allowed: false },
  {
    name: "outsb to a denied port: #GP(0)",
    insn: (a) => { a.mov(dx, 0x80); a.label("insn"); a.outsb(); },
    setup: (c) => denyPort(c, 0x80),
    allowed: false,
  },
  {
    name: "rep insb to a denied port with ECX = 0 still faults (Bochs order)",
    insn: (a) => { a.mov(dx, 0x80); a.label("insn"); a.rep().insb(); },
    setup: (c) => { denyPort(c, 0x80); c.regs[1] = 0; },
    allowed: false,
  },
];

describe("I/O permission at CPL 3 > IOPL 0", () => {
  it.each(rows.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const bus = new RecordingBus();
    const s = sys((a) => {
      t.insn(a); // defines "insn" at the I/O instruction
      a.label("end");
    }, { cpl3: true, setup: (c) => { c.bus = bus; t.setup?.(c); } });
    const o = go(s, 5);
    if (t.allowed) {
      expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
      expect(bus.ports.length).toBe(1);
    } else {
      expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
      expect(bus.ports.length).toBe(0);
    }
  });

  it("with a 16-bit TSS in TR (loaded by LTR) every port is denied, and the #GP frame uses its SS0:SP0", () => {
    const s = sys((a) => {
      a.mov(eax, 0x30);
      a.ltr(ax);
      // to ring 3 with IRETD: EIP, CS, EFLAGS, ESP, SS
      a.push(Sel.DATA3);
      a.push(0x6000);
      a.push(0x2);
      a.push(Sel.CODE3);
      a.push("user");
      a.iretd();
      a.label("user");
      a.label("insn");
      a.in(al, 0x80);
    }, {
      gdt: GDT,
      setup: (c) => {
        c.trSel = 0; // LTR needs an available TSS; the harness TR is just replaced
        c.write16(TSS16 + 2, 0x5000); // SP0
        c.write16(TSS16 + 4, Sel.DATA0); // SS0
      },
    });
    const o = go(s, 20);
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
    expect([s.c.cpl, s.c.segSel[2], s.c.regs[4]]).toEqual([0, Sel.DATA0, 0x5000 - 24]);
    expect(s.c.read8(s.c.gdtBase + 0x30 + 5)).toBe(0x83); // busy 16-bit TSS
  });
});
