/**
 * Alignment check (#AC, vector 17).
 *
 * References: SDM Vol. 3A 6.15 "Interrupt 17 - Alignment Check Exception": raised for an unaligned data
 * or stack access when CR0.AM = 1, EFLAGS.AC = 1 and CPL = 3 in protected mode (not in code fetches or
 * system-segment accesses); a fault with error code 0; Table 6-7 (word 2, doubleword 4, segment selector
 * 2, 32-bit and 48-bit pointers 4). SDM Vol. 1 3.4.3.3 / Vol. 2 POPF: AC can be changed at any CPL.
 * The alignment is that of the linear address (Bochs 2.7 access checks test laddr & (len - 1)).
 */
import { describe, expect, it } from "vitest";
import { writeCr0 } from "../../../src/cpu/control-registers.ts";
import type { Core } from "../../../src/cpu/core.ts";
import { type Asm, ax, byte, ds, dword, eax, ecx, edi, esi, esp, fword, word } from "../../../src/guests/asm/index.ts";
import { AC, CR0_AM, DATA, GDT, GP, STACK_TOP, Sel, descriptor, go, sel, stackDwords, sys, type SysOptions } from "./paging-harness.ts";

const EFLAGS_AC = 1 << 18;

interface Mode {
  cpl3?: boolean;
  am?: boolean;
  ac?: boolean;
  real?: boolean;
}
const ALL: Mode = { cpl3: true, am: true, ac: true };

function run(build: (a: Asm) => void, m: Mode, extra: SysOptions = {}) {
  const s = sys((a) => {
    build(a);
    a.label("end");
  }, {
    ...extra,
    cpl3: m.cpl3,
    real: m.real,
    setup: (c, sym) => {
      if (m.am) writeCr0(c, c.cr0 | CR0_AM);
      if (m.ac) c.setEflags(EFLAGS_AC, EFLAGS_AC);
      c.ram.set([0x44, 0x33, 0x22, 0x11, Sel.DATA3, 0, 0, 0], DATA + 4); // a far pointer 23H:11223344H
      extra.setup?.(c, sym);
    },
  });
  return { s, o: go(s, 30) };
}

type Row = [name: string, build: (a: Asm) => void, m: Mode, faults: boolean];
const misRead = (a: Asm) => {
  a.label("insn");
  a.mov(eax, dword(DATA + 1));
};

const rows: Row[] = [
  ["dword read at an address = 1 mod 4", misRead, ALL, true],
  ["dword write at an address = 2 mod 4", (a) => {
    a.label("insn");
    a.mov(dword(DATA + 2), eax);
  }, ALL, true],
  ["dword read at an aligned address", (a) => a.mov(eax, dword(DATA + 4)), ALL, false],
  ["word read at an odd address", (a) => {
    a.label("insn");
    a.mov(ax, word(DATA + 3));
  }, ALL, true],
  ["word read at an address = 2 mod 4 (words need 2)", (a) => a.mov(ax, word(DATA + 2)), ALL, false],
  ["byte read at an odd address (bytes are always aligned)", (a) => a.movzx(eax, byte(DATA + 3)), ALL, false],
  ["read-modify-write ADD to a misaligned dword", (a) => {
    a.label("insn");
    a.add(dword(DATA + 6), eax);
  }, ALL, true],
  ["segment selector stored at an odd address (Table 6-7: 2)", (a) => {
    a.label("insn");
    a.mov(word(DATA + 1), ds);
  }, ALL, true],
  ["LDS from a 48-bit pointer at an address = 2 mod 4 (Table 6-7: 4)", (a) => {
    a.label("insn");
    a.insn("lds", eax, fword(DATA + 2));
  }, ALL, true],
  ["LDS from a 48-bit pointer at an aligned address", (a) => a.insn("lds", eax, fword(DATA + 4)), ALL, false],
  ["PUSH with ESP = 2 mod 4 (stack accesses are checked)", (a) => {
    a.mov(esp, STACK_TOP - 2);
    a.label("insn");
    a.push(eax);
  }, ALL, true],
  ["POP with ESP = 1 mod 4", (a) => {
    a.mov(esp, STACK_TOP - 7);
    a.label("insn");
    a.pop(eax);
  }, ALL, true],
  ["CALL with a misaligned ESP (the return-address push)", (a) => {
    a.mov(esp, STACK_TOP - 2);
    a.label("insn");
    a.call("end");
  }, ALL, true],
  ["MOVSD with a misaligned source", (a) => {
    a.mov(esi, DATA + 1);
    a.mov(edi, DATA + 0x100);
    a.label("insn");
    a.movsd();
  }, ALL, true],
  ["REP STOSD with a misaligned destination faults on the first element", (a) => {
    a.mov(edi, DATA + 0x102);
    a.mov(ecx, 16);
    a.label("insn");
    a.rep().stosd();
  }, ALL, true],
  ["CR0.AM = 0: no check", misRead, { cpl3: true, ac: true }, false],
  ["EFLAGS.AC = 0: no check", misRead, { cpl3: true, am: true }, false],
  ["CPL 0: no check", misRead, { am: true, ac: true }, false],
  ["real-address mode: no check", (a) => a.mov(eax, dword(DATA + 1)), { real: true, am: true, ac: true }, false],
];

describe("#AC(0) needs CR0.AM, EFLAGS.AC and CPL 3, and a misaligned data or stack access (SDM 6.15, Table 6-7)", () => {
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, build, m, faults]) => {
    const { s, o } = run(build, m);
    if (faults) {
      expect([o.vector, o.errorCode, o.eip]).toEqual([AC, 0, s.sym.insn]);
    } else {
      expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
    }
  });

  it("the faulting REP STOSD wrote nothing and left ECX and EDI for a restart", () => {
    const { s, o } = run((a) => {
      a.mov(edi, DATA + 0x102);
      a.mov(ecx, 16);
      a.mov(eax, -1);
      a.rep().stosd();
    }, ALL);
    expect([o.vector, stackDwords(s.c, 1)[0], s.c.ram[DATA + 0x102]]).toEqual([AC, 0, 0]); // error code 0
    expect([s.c.regs[1], s.c.regs[7]]).toEqual([16, DATA + 0x102]);
  });

  // MOV m16, Sreg (8C) stores 16 bits whatever the operand size.
  it("segment selector stored at an address = 2 mod 4 is aligned (Table 6-7: 2)", () => {
    const { s, o } = run((a) => a.mov(word(DATA + 2), ds), ALL);
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });

  it("POPFD at CPL 3 may set AC, and the very next misaligned access faults", () => {
    const { s, o } = run((a) => {
      a.mov(eax, dword(DATA + 1)); // AC = 0: fine
      a.pushfd();
      a.or(dword(esp), EFLAGS_AC);
      a.popfd();
      a.label("insn");
      a.mov(eax, dword(DATA + 1));
    }, { cpl3: true, am: true });
    expect([o.vector, o.errorCode, o.eip]).toEqual([AC, 0, s.sym.insn]);
  });

  it("POPFD clearing AC turns the check off again", () => {
    const { s, o } = run((a) => {
      a.pushfd();
      a.and(dword(esp), ~EFLAGS_AC);
      a.popfd();
      a.mov(eax, dword(DATA + 1));
    }, ALL);
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });

  it("the linear address counts: DS base 1 makes offset 3 aligned and offset 0 misaligned", () => {
    const gdt = [descriptor(1, 0xfffff, 0xf2, 0xc)]; // data DPL 3, base 1
    const at = (off: number) => run((a) => {
      a.mov(eax, sel(0) | 3);
      a.mov(ds, ax);
      a.label("insn");
      a.mov(eax, dword(DATA + off));
    }, ALL, { gdt });
    const aligned = at(3);
    expect([aligned.o.vector, aligned.o.eip]).toEqual([null, aligned.s.sym.end]);
    const mis = at(0);
    expect([mis.o.vector, mis.o.eip]).toEqual([AC, mis.s.sym.insn]);
  });

  it("descriptor-table reads are system accesses: MOV DS with a GDT at an odd base raises no #AC", () => {
    const ODD_GDT = 0xd001;
    const { s, o } = run((a) => {
      a.mov(eax, Sel.DATA3);
      a.mov(ds, ax);
      a.mov(eax, dword(DATA + 4));
    }, ALL, {
      setup: (c: Core) => {
        c.ram.copyWithin(ODD_GDT, GDT, GDT + 0x100);
        c.gdtBase = ODD_GDT;
      },
    });
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
    expect(s.c.ram[ODD_GDT + Sel.DATA3 - 3 + 5] & 1).toBe(1); // accessed bit written there
  });

  it("code fetches are not checked: code at odd addresses runs with AM/AC at CPL 3", () => {
    const { s, o } = run((a) => {
      a.nop(); // everything after this byte is at odd addresses
      a.mov(eax, 1);
      a.inc(eax);
    }, ALL);
    expect([o.vector, o.eip, s.c.regs[0]]).toEqual([null, s.sym.end, 2]);
  });

  it("at CPL 3 with AM and AC, a privileged instruction still raises #GP first (no memory access)", () => {
    const { s, o } = run((a) => {
      a.label("insn");
      a.cli();
    }, ALL);
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
  });
});
