/**
 * Segment limit and type checks on every memory access (no paging).
 *
 * Expected values come from:
 * - SDM Vol. 3A 5.3 (limit checking: for an expand-up segment every byte of the access must lie at or
 *   below the effective limit; for expand-down, above the limit and at or below FFFFH (B = 0) or
 *   FFFFFFFFH (B = 1)); 3.4.5 (G = 1 scales the limit by 4 KiB with the low 12 bits all ones);
 *   3.4.5.1 (expand-down segments);
 * - SDM Vol. 3A 5.4.1 (type checking: no writes into code segments or read-only data segments, no reads
 *   of execute-only code segments), 3.4.2 (a null selector in DS/ES/FS/GS may be loaded but not used);
 * - SDM Vol. 2 "Protected Mode Exceptions" of MOV, PUSH, POP, PUSHA, ENTER, LEAVE, MOVS/STOS/LODS:
 *   #GP(0) for DS/ES/FS/GS (and CS) violations and null selectors, #SS(0) for SS violations including
 *   "the new value of ESP is outside the stack segment limit" (ENTER: Bochs 2.7 ENTER32_IwIb finishes with
 *   a read-modify-write check of SS:[new ESP]); REP: a fault leaves ECX/ESI/EDI describing the remaining
 *   iterations and EIP at the instruction;
 * - SDM Vol. 2 "Real-Address Mode Exceptions" of MOV: #GP / #SS when an operand lies outside the 64 KiB
 *   limit; 16-bit effective addresses wrap at 64 KiB (Vol. 2 Table 2-1 forms; Bochs resolve16 masks them).
 * Tests run at CPL 3 with DPL-3 segments so that every fault, #SS on the current stack included, is
 * delivered on the TSS ring-0 stack (SDM 6.12.1).
 */
import { describe, expect, it } from "vitest";
import {
  type Asm, al, ax, bp, bx, byte, cs, ds, dword, eax, ebp, ebx, ecx, edi, es, esi, esp, far, fs, fword, gs, qword, ss, word,
} from "../../../src/guests/asm/index.ts";
import {
  DATA, GP, RING0_STACK, SS, STACK_TOP, acc, descriptor, flat, go, sel, stackDwords, sys, type SysOptions,
} from "./harness.ts";

const BASE = 0x30000;
const G4K = 0x8, B32 = 0x4;
/** Extra GDT entries: selector sel(n) | 3. */
const GDT: [number, number][] = [
  descriptor(BASE, 0x0fff, acc.data(3), B32), //            0: expand-up, byte granular, limit FFFH
  descriptor(BASE, 0x00000, acc.data(3), G4K | B32), //      1: expand-up, 4 KiB granular, limit 0 -> FFFH
  descriptor(BASE, 0x00001, acc.data(3), G4K | B32), //      2: expand-up, 4 KiB granular, limit 1 -> 1FFFH
  descriptor(BASE, 0x0fff, acc.dataDown(3), 0), //           3: expand-down, B = 0: 1000H..FFFFH
  descriptor(BASE, 0x0fff, acc.dataDown(3), B32), //         4: expand-down, B = 1: 1000H..FFFFFFFFH
  descriptor(BASE, 0x0000f, acc.dataDown(3), G4K | B32), //  5: expand-down, G = 1, limit F -> FFFFH: 10000H..
  descriptor(BASE, 0xffff, acc.dataRO(3), B32), //           6: read-only data
  flat(acc.codeXO(3)), //                                    7: execute-only code, DPL 3
  flat(acc.code(3)), //                                      8: execute/read code, DPL 3
  descriptor(0x10000, 0x0fff, acc.data(3), B32), //          9: stack: expand-up, limit FFFH
  descriptor(0x10000, 0x0fff, acc.dataDown(3), B32), //     10: stack: expand-down, 1000H..FFFFFFFFH
  descriptor(0x10000, 0x0fff, acc.dataDown(3), 0), //       11: stack: expand-down, B = 0 (16-bit SP)
];
const S = (n: number) => sel(n) | 3;

function run(build: (a: Asm) => void, opts: SysOptions = {}, budget = 40) {
  const s = sys(build, { gdt: GDT, cpl3: true, ...opts });
  return { s, o: go(s, budget) };
}

type Size = 1 | 2 | 4;
const REG = { 1: al, 2: ax, 4: eax } as const;
const MEM = { 1: byte, 2: word, 4: dword } as const;
const mem = (size: Size) => MEM[size](ebx);

describe("limit checks through DS (SDM Vol. 3A 5.3, 3.4.5.1): #GP(0)", () => {
  type Row = [name: string, n: number, off: number, size: Size, write: boolean, ok: boolean];
  const rows: Row[] = [
    ["byte limit FFFH: dword at FFCH (last byte FFFH)", 0, 0xffc, 4, false, true],
    ["byte limit FFFH: dword at FFDH (last byte 1000H)", 0, 0xffd, 4, false, false],
    ["byte limit FFFH: word write at FFEH", 0, 0xffe, 2, true, true],
    ["byte limit FFFH: word write at FFFH", 0, 0xfff, 2, true, false],
    ["byte limit FFFH: byte at FFFH", 0, 0xfff, 1, false, true],
    ["byte limit FFFH: byte at 1000H", 0, 0x1000, 1, false, false],
    ["byte limit FFFH: dword at FFFFFFFFH (offset wraps, still beyond)", 0, 0xffffffff, 4, false, false],
    ["4 KiB granular, limit 0 (= FFFH): dword at FFCH", 1, 0xffc, 4, true, true],
    ["4 KiB granular, limit 0 (= FFFH): dword at FFDH", 1, 0xffd, 4, true, false],
    ["4 KiB granular, limit 0 (= FFFH): byte at 1000H", 1, 0x1000, 1, false, false],
    ["4 KiB granular, limit 1 (= 1FFFH): dword at 1FFCH", 2, 0x1ffc, 4, false, true],
    ["4 KiB granular, limit 1 (= 1FFFH): byte at 2000H", 2, 0x2000, 1, false, false],
    ["expand-down B=0: byte at the limit (FFFH)", 3, 0xfff, 1, false, false],
    ["expand-down B=0: byte at limit + 1", 3, 0x1000, 1, true, true],
    ["expand-down B=0: word at FFFEH", 3, 0xfffe, 2, false, true],
    ["expand-down B=0: word at FFFFH (last byte 10000H > FFFFH)", 3, 0xffff, 2, false, false],
    ["expand-down B=0: byte at 10000H", 3, 0x10000, 1, false, false],
    ["expand-down B=0: dword at 0", 3, 0, 4, false, false],
    ["expand-down B=0: dword straddling the limit (FFEH)", 3, 0xffe, 4, true, false],
    ["expand-down B=1: byte at the limit", 4, 0xfff, 1, false, false],
    ["expand-down B=1: dword at 10000H", 4, 0x10000, 4, true, true],
    ["expand-down B=1: dword at FFFFFFFCH", 4, 0xfffffffc, 4, false, true],
    ["expand-down B=1: dword at FFFFFFFDH (beyond FFFFFFFFH)", 4, 0xfffffffd, 4, false, false],
    ["expand-down, G = 1, limit FH (= FFFFH): byte at FFFFH", 5, 0xffff, 1, false, false],
    ["expand-down, G = 1, limit FH (= FFFFH): byte at 10000H", 5, 0x10000, 1, false, true],
    ["expand-down, G = 1, limit FH (= FFFFH): byte at 1000H", 5, 0x1000, 1, false, false],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, n, off, size, write, ok]) => {
    const { s, o } = run((a) => {
      a.mov(eax, S(n));
      a.mov(ds, ax);
      a.mov(ebx, off);
      a.mov(eax, 0x5a5a5a5a);
      a.label("insn");
      if (write) a.mov(mem(size), REG[size]);
      else a.mov(REG[size], mem(size));
      a.label("end");
    });
    if (ok) expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
    else expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
  });

  it("a faulting write changes no byte of the segment", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(es, ax);
      a.mov(eax, -1);
      a.mov(dword({ seg: es, disp: 0xffe }), eax);
    });
    expect(o.vector).toBe(GP);
    expect(Array.from(s.c.ram.subarray(BASE + 0xffc, BASE + 0x1002))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("ES, FS and GS are checked like DS", () => {
    for (const r of [es, fs, gs]) {
      const { s, o } = run((a) => {
        a.mov(eax, S(0));
        a.mov(r, ax);
        a.label("insn");
        a.mov(eax, dword({ seg: r, disp: 0xffd }));
      });
      expect([r.name, o.vector, o.errorCode, o.eip]).toEqual([r.name, GP, 0, s.sym.insn]);
    }
  });
});

describe("type checks and null selectors (SDM Vol. 3A 5.4.1, 3.4.2): #GP(0)", () => {
  type Row = [name: string, build: (a: Asm) => void, ok: boolean];
  const rows: Row[] = [
    ["write through a read-only data segment", (a) => {
      a.mov(eax, S(6));
      a.mov(ds, ax);
      a.label("insn");
      a.mov(dword(0x10), eax);
    }, false],
    ["read through a read-only data segment", (a) => {
      a.mov(eax, S(6));
      a.mov(ds, ax);
      a.mov(eax, dword(0x10));
    }, true],
    ["STOSD into a read-only ES", (a) => {
      a.mov(eax, S(6));
      a.mov(es, ax);
      a.mov(edi, 0x10);
      a.label("insn");
      a.stosd();
    }, false],
    ["MOVSD from a read-only DS to a writable ES", (a) => {
      a.mov(eax, S(6));
      a.mov(ds, ax);
      a.mov(esi, 0x10);
      a.mov(edi, DATA);
      a.movsd();
    }, true],
    ["write through a CS override (code segments are never writable)", (a) => {
      a.label("insn");
      a.mov(dword({ seg: cs, disp: DATA }), eax);
    }, false],
    ["INC of a memory operand through a CS override (read-modify-write)", (a) => {
      a.label("insn");
      a.inc(dword({ seg: cs, disp: DATA }));
    }, false],
    ["read through a CS override of a readable code segment", (a) => {
      a.mov(eax, dword({ seg: cs, disp: DATA }));
    }, true],
    ["read through CS when CS is execute-only", (a) => {
      a.jmp(far(S(7), "xo"));
      a.label("xo");
      a.label("insn");
      a.mov(eax, dword({ seg: cs, disp: DATA }));
    }, false],
    ["CMP with a memory operand through an execute-only CS (a read)", (a) => {
      a.jmp(far(S(7), "xo"));
      a.label("xo");
      a.label("insn");
      a.cmp(dword({ seg: cs, disp: DATA }), 0);
    }, false],
    ["code fetch from an execute-only CS is fine", (a) => {
      a.jmp(far(S(7), "xo"));
      a.label("xo");
      a.mov(eax, dword(DATA));
      a.inc(eax);
    }, true],
    ["null DS: a read", (a) => {
      a.xor(eax, eax);
      a.mov(ds, ax);
      a.label("insn");
      a.mov(eax, dword(DATA));
    }, false],
    ["null DS with RPL 3 (3): a write", (a) => {
      a.mov(eax, 3);
      a.mov(ds, ax);
      a.label("insn");
      a.mov(dword(DATA), eax);
    }, false],
    ["null ES: STOSB", (a) => {
      a.xor(eax, eax);
      a.mov(es, ax);
      a.mov(edi, DATA);
      a.label("insn");
      a.stosb();
    }, false],
    ["null FS: loading it is fine, using it is not", (a) => {
      a.xor(eax, eax);
      a.mov(fs, ax);
      a.mov(ebx, 1);
      a.label("insn");
      a.mov(eax, dword({ seg: fs, disp: DATA }));
    }, false],
    ["null DS is not used by an SS-based access ([EBP])", (a) => {
      a.xor(eax, eax);
      a.mov(ds, ax);
      a.mov(ebp, STACK_TOP - 4);
      a.mov(eax, dword(ebp));
    }, true],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, build, ok]) => {
    const { s, o } = run((a) => {
      build(a);
      a.label("end");
    });
    if (ok) expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
    else expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
  });
});

describe("stack accesses through SS: #SS(0), ESP unchanged (SDM Vol. 2 PUSH, POP, PUSHA, ENTER, LEAVE, MOV)", () => {
  type Row = [name: string, ssN: number, esp: number, pre: ((a: Asm) => void) | null, insn: (a: Asm) => void, ok: boolean];
  const rows: Row[] = [
    ["PUSH with ESP = 1000H on an expand-up stack, limit FFFH (writes FFCH..FFFH)", 9, 0x1000, null, (a) => a.push(eax), true],
    ["PUSH with ESP = 0: the new ESP FFFFFFFCH is beyond the limit", 9, 0, null, (a) => a.push(eax), false],
    ["POP with ESP = FFCH", 9, 0xffc, null, (a) => a.pop(eax), true],
    ["POP with ESP = FFEH (last byte 1001H)", 9, 0xffe, null, (a) => a.pop(eax), false],
    ["expand-down stack: PUSH with ESP = 1004H", 10, 0x1004, null, (a) => a.push(eax), true],
    ["expand-down stack: PUSH with ESP = 1000H (writes FFCH, at/below the limit)", 10, 0x1000, null, (a) => a.push(eax), false],
    ["expand-down stack: POP with ESP = FFCH", 10, 0xffc, null, (a) => a.pop(eax), false],
    ["expand-down stack: POP with ESP = FFFFFFFCH", 10, 0xfffffffc, null, (a) => a.pop(eax), true],
    ["expand-down stack: POP with ESP = FFFFFFFEH (beyond FFFFFFFFH)", 10, 0xfffffffe, null, (a) => a.pop(eax), false],
    ["expand-down 16-bit stack (B = 0): PUSH AX with SP = 1002H", 11, 0x1002, null, (a) => a.push(ax), true],
    ["expand-down 16-bit stack (B = 0): PUSH AX with SP = 1000H", 11, 0x1000, null, (a) => a.push(ax), false],
    ["MOV EAX, [EBP] beyond the SS limit", 9, 0x800, (a) => a.mov(ebp, 0xffe), (a) => a.mov(eax, dword(ebp)), false],
    ["MOV EAX, SS:[EBX] beyond the SS limit", 9, 0x800, (a) => a.mov(ebx, 0x1000), (a) => a.mov(eax, dword({ base: ebx, seg: ss })), false],
    ["MOV EAX, [EBP] inside the SS limit", 9, 0x800, (a) => a.mov(ebp, 0xffc), (a) => a.mov(eax, dword(ebp)), true],
    ["PUSHAD whose last push goes below an expand-down limit", 10, 0x1010, null, (a) => a.pushad(), false],
    ["PUSHAD that fits", 10, 0x1020, null, (a) => a.pushad(), true],
    ["POPAD whose last dword lies beyond an expand-up limit", 9, 0xfe8, null, (a) => a.popad(), false],
    ["CALL with no room for the return address", 10, 0x1002, null, (a) => a.call("end"), false],
    ["ENTER 0, 0 whose push of EBP does not fit", 10, 0x1002, null, (a) => a.enter(0, 0), false],
    ["ENTER 8, 1 that fits", 10, 0x1100, null, (a) => a.enter(8, 1), true],
    ["ENTER 0, 2 reading the outer frame pointer [EBP - 4] beyond the limit", 9, 0xf00, (a) => a.mov(ebp, 0x2000), (a) => a.enter(0, 2), false],
    ["LEAVE with EBP beyond the limit", 9, 0x800, (a) => a.mov(ebp, 0x1000), (a) => a.leave(), false],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, r) => stackRow(r));

  // ENTER also checks its final ESP (see "ENTER checks its final ESP ..." below).
  it("ENTER 20H, 0: the push of EBP fits but the new ESP (FECH) is at/below the limit", () => {
    stackRow(["", 10, 0x1010, null, (a) => a.enter(0x20, 0), false]);
  });

  function stackRow([, ssN, espVal, pre, insn, ok]: Row): void {
    const { s, o } = run((a) => {
      a.mov(eax, S(ssN));
      a.mov(ss, ax);
      a.mov(esp, espVal);
      a.mov(ebp, 0x1234);
      pre?.(a);
      a.label("insn");
      insn(a);
      a.label("end");
    });
    if (ok) {
      expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
      return;
    }
    expect([o.vector, o.errorCode, o.eip]).toEqual([SS, 0, s.sym.insn]);
    // the frame went to the TSS ring-0 stack: error code, EIP, CS, EFLAGS, ESP, SS of the faulting code
    expect(s.c.regs[4]).toBe(RING0_STACK - 24);
    const [, , , , oldEsp, oldSs] = stackDwords(s.c, 6);
    expect([oldEsp, oldSs]).toEqual([espVal >>> 0, S(ssN)]);
  }
});

/**
 * SDM Vol. 2 ENTER, Protected Mode Exceptions: "#SS(0) If the new value in the SP or ESP register is
 * outside the stack segment limit" - also when nothing is written there (the allocated locals). Bochs
 * 2.7 ENTER32_IwIb ends with read_RMW_virtual_dword(SS, ESP) on the new ESP for this, and so does the
 * model (src/cpu/execute/stack.ts enter()).
 */
describe("ENTER checks its final ESP against the SS limit", () => {
  it("ENTER 20H, 0 on an expand-down stack: #SS(0), ESP and EBP as before", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(10));
      a.mov(ss, ax);
      a.mov(esp, 0x1010);
      a.mov(ebp, 0x1234);
      a.enter(0x20, 0);
    });
    expect(o.vector).toBe(SS);
    expect([s.c.regs[5], stackDwords(s.c, 6)[4]]).toEqual([0x1234, 0x1010]);
  });
});

describe("string instructions check every element (SDM Vol. 2 MOVS/STOS/LODS, REP)", () => {
  it("REP MOVSD into ES with limit FFFH: #GP(0) at the third element; ECX = 2, EDI = 1000H, ESI advanced by 8", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(es, ax);
      a.mov(esi, DATA);
      a.mov(edi, 0xff8);
      a.mov(ecx, 4);
      a.label("insn");
      a.rep().movsd();
    });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
    expect([s.c.regs[1], s.c.regs[7], s.c.regs[6]]).toEqual([2, 0x1000, DATA + 8]);
  });

  it("REP STOSB running past the limit: the bytes before it are written, ECX = 3", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(es, ax);
      a.mov(edi, 0xffe);
      a.mov(ecx, 5);
      a.mov(eax, 0x77);
      a.label("insn");
      a.rep().stosb();
    });
    expect([o.vector, o.errorCode, o.eip, s.c.regs[1], s.c.regs[7]]).toEqual([GP, 0, s.sym.insn, 3, 0x1000]);
    expect(Array.from(s.c.ram.subarray(BASE + 0xffe, BASE + 0x1001))).toEqual([0x77, 0x77, 0]);
  });

  it("REP MOVSB backwards (DF = 1) into an expand-down ES stops at the limit: ECX = 2, EDI = FFFH", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(4));
      a.mov(es, ax);
      a.mov(esi, DATA + 0x10);
      a.mov(edi, 0x1001);
      a.mov(ecx, 4);
      a.std();
      a.label("insn");
      a.rep().movsb();
    });
    expect([o.vector, o.errorCode, o.eip, s.c.regs[1], s.c.regs[7]]).toEqual([GP, 0, s.sym.insn, 2, 0xfff]);
  });

  it("LODSD with ESI = FFEH through DS with limit FFFH: #GP(0)", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(ds, ax);
      a.mov(esi, 0xffe);
      a.label("insn");
      a.lodsd();
    });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
  });

  it("MOVSB with an FS source override checks FS, not DS", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(fs, ax);
      a.mov(esi, 0x1000);
      a.mov(edi, DATA);
      a.label("insn");
      a.seg(fs).movsb();
    });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
    const ok = run((a) => {
      a.mov(eax, S(0));
      a.mov(fs, ax);
      a.mov(esi, 0xfff);
      a.mov(edi, DATA);
      a.seg(fs).movsb();
      a.label("end");
    });
    expect([ok.o.vector, ok.o.eip]).toEqual([null, ok.s.sym.end]);
  });

  it("CMPSB reads through a read-only ES without fault", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(6));
      a.mov(es, ax);
      a.mov(esi, DATA);
      a.mov(edi, 0);
      a.cmpsb();
      a.label("end");
    });
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });
});

/**
 * Which instructions write their memory operand and how many bytes it covers (memory-operand.ts drives
 * the checks of ea()): from each instruction's "Operation" and operand description in SDM Vol. 2 -
 * the destination is written (CMPXCHG always writes, SDM CMPXCHG "the destination is written back"),
 * CMP/TEST/BT/PUSH m/MUL/IMUL/LAR/LSL/VERR/BOUND only read; LEA and INVLPG do not access memory;
 * LDS/LES m16:32 and SGDT are 6 bytes, BOUND m32&32 and CMPXCHG8B 8 bytes, MOVZX/MOVSX their source size.
 */
describe("memory operands: direction (read-only DS) and size (limit FFFH) per instruction (SDM Vol. 2)", () => {
  const ro = (insn: (a: Asm) => void) => (a: Asm) => {
    a.mov(eax, S(6)); // read-only data
    a.mov(ds, ax);
    a.xor(eax, eax);
    a.mov(ebx, 0x100);
    a.mov(ecx, 1);
    a.label("insn");
    insn(a);
  };
  type Row = [name: string, insn: (a: Asm) => void, writes: boolean];
  const m = dword(ebx);
  const direction: Row[] = [
    ["MOV m, r", (a) => a.mov(m, eax), true],
    ["ADD m, r", (a) => a.add(m, eax), true],
    ["SUB m, imm", (a) => a.sub(m, 1), true],
    ["AND m, r", (a) => a.and(m, eax), true],
    ["INC m", (a) => a.inc(m), true],
    ["NOT m", (a) => a.not(m), true],
    ["NEG m", (a) => a.neg(m), true],
    ["SHL m, 1", (a) => a.shl(m, 1), true],
    ["XCHG m, r", (a) => a.xchg(m, eax), true],
    ["XADD m, r", (a) => a.xadd(m, eax), true],
    ["CMPXCHG m, r (writes even when the compare fails)", (a) => a.cmpxchg(m, ecx), true],
    ["SETZ m8", (a) => a.setz(byte(ebx)), true],
    ["BTS m, imm", (a) => a.bts(m, 1), true],
    ["POP m", (a) => a.pop(m), true],
    ["SGDT m", (a) => a.sgdt(fword(ebx)), true],
    ["STR m16", (a) => a.str(word(ebx)), true],
    ["MOV m16, DS", (a) => a.mov(word(ebx), ds), true],
    ["MOV r, m", (a) => a.mov(eax, m), false],
    ["ADD r, m", (a) => a.add(eax, m), false],
    ["CMP m, r", (a) => a.cmp(m, eax), false],
    ["TEST m, r", (a) => a.test(m, eax), false],
    ["BT m, imm", (a) => a.bt(m, 1), false],
    ["PUSH m", (a) => a.push(m), false],
    ["MUL m", (a) => a.mul(m), false],
    ["IMUL r, m, imm", (a) => a.imul(eax, m, 3), false],
    ["MOVZX r, m8", (a) => a.movzx(eax, byte(ebx)), false],
    ["LSL r, m16", (a) => a.lsl(eax, word(ebx)), false],
    ["VERR m16", (a) => a.verr(word(ebx)), false],
    ["BOUND r, m32&32", (a) => a.bound(eax, qword(ebx)), false],
  ];
  it.each(direction.map((r) => [r[0], r] as const))("%s", (_n, [, insn, writes]) => {
    const { s, o } = run((a) => {
      ro(insn)(a);
      a.label("end");
    });
    if (writes) expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
    else expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });

  type SizeRow = [name: string, insn: (at: number) => (a: Asm) => void, lastOk: number];
  const sizes: SizeRow[] = [
    ["MOVZX r, m8 reads 1 byte", (at) => (a) => a.movzx(eax, byte(at)), 0xfff],
    ["MOVSX r, m16 reads 2 bytes", (at) => (a) => a.movsx(eax, word(at)), 0xffe],
    ["LDS r32, m16:32 reads 6 bytes", (at) => (a) => a.lds(eax, fword(at)), 0xffa],
    ["SGDT writes 6 bytes", (at) => (a) => a.sgdt(fword(at)), 0xffa],
    ["BOUND r32, m32&32 reads 8 bytes", (at) => (a) => a.bound(eax, qword(at)), 0xff8],
    ["CMPXCHG8B reads and writes 8 bytes", (at) => (a) => a.cmpxchg8b(qword(at)), 0xff8],
    ["PUSH m32 reads 4 bytes", (at) => (a) => a.push(dword(at)), 0xffc],
    // MOV to/from a segment register accesses 16 bits in memory whatever the operand size (SDM Vol. 2 MOV,
    // "the 16-bit segment selector is ... written to/read from memory"), also as 8C/8E without 66H.
    ["MOV m16, DS writes 2 bytes", (at) => (a) => a.mov(word(at), ds), 0xffe],
    ["MOV ES, m16 reads 2 bytes", (at) => (a) => a.mov(es, word(at)), 0xffe],
  ];
  for (const [name, insn, lastOk] of sizes) {
    for (const [at, ok] of [[lastOk, true], [lastOk + 1, false]] as const) {
      it(`${name}: at ${at.toString(16).toUpperCase()}H ${ok ? "fits" : "crosses the limit"}`, () => {
        const { s, o } = run((a) => {
          a.mov(eax, S(0));
          a.mov(ds, ax);
          a.mov(es, ax);
          a.xor(eax, eax);
          a.label("insn");
          insn(at)(a);
          a.label("end");
        });
        if (ok) expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
        else expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
      });
    }
  }

  it("LEA and INVLPG-style M operands access nothing: LEA of an address far beyond the limit is fine", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(ds, ax);
      a.lea(eax, dword(0x123456));
      a.label("end");
    });
    expect([o.vector, o.eip, s.c.regs[0]]).toEqual([null, s.sym.end, 0x123456]);
  });

  it("BT m, r with a register bit offset addresses [EBX + ECX / 8]: beyond the limit is #GP(0) (SDM Vol. 2 BT)", () => {
    const { s, o } = run((a) => {
      a.mov(eax, S(0));
      a.mov(ds, ax);
      a.xor(ebx, ebx);
      a.mov(ecx, 0x8000); // bit 32768: the dword at offset 1000H
      a.label("insn");
      a.bt(dword(ebx), ecx);
    });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, s.sym.insn]);
  });
});

describe("real-address mode: 64 KiB limits vs. 16-bit offset wrap (SDM Vol. 2 MOV Real-Address Mode Exceptions)", () => {
  const real = (build: (a: Asm) => void) => {
    const s = sys((a) => {
      build(a);
      a.label("end");
    }, { real: true });
    return { s, o: go(s, 20) };
  };

  it("a byte at offset FFFFH is inside the limit", () => {
    const { s, o } = real((a) => a.mov(al, byte(0xffff)));
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
  });

  it("a word at offset FFFFH crosses the limit: #GP (vector 13, no error code in real mode), IP of the instruction", () => {
    const { s, o } = real((a) => {
      a.label("insn");
      a.mov(ax, word(0xffff));
    });
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, null, s.sym.insn]);
  });

  it("[BX+1] with BX = FFFFH wraps to offset 0: no fault, reads DS:0", () => {
    const { s, o } = real((a) => {
      a.mov(bx, 0xffff);
      a.mov(al, byte(bx, 1));
    });
    expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
    expect(s.c.regs[0] & 0xff).toBe(s.c.ram[0]);
  });

  it("a 32-bit address [EBX] with EBX = 10000H is beyond the 64 KiB limit: #GP", () => {
    const { s, o } = real((a) => {
      a.mov(ebx, 0x10000);
      a.label("insn");
      a.mov(al, byte(ebx));
    });
    expect([o.vector, o.eip]).toEqual([GP, s.sym.insn]);
  });

  it("[BP] with BP = FFFFH, word: SS limit, #SS (vector 12)", () => {
    const { s, o } = real((a) => {
      a.mov(bp, 0xffff);
      a.label("insn");
      a.mov(ax, word(bp));
    });
    expect([o.vector, o.eip]).toEqual([SS, s.sym.insn]);
  });

  it("PUSH with SP = 0 wraps to FFFEH (inside the limit)", () => {
    const { s, o } = real((a) => {
      a.mov(esp, 0);
      a.mov(ax, 0x4242);
      a.push(ax);
    });
    expect([o.vector, o.eip, s.c.regs[4] & 0xffff, s.c.ram[0xfffe]]).toEqual([null, s.sym.end, 0xfffe, 0x42]);
  });
});
