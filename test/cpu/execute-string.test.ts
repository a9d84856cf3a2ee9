/**
 * MOVS CMPS STOS LODS SCAS with REP/REPE/REPNE. Expected values are the SDM's Operation sections worked
 * by hand (SDM Vol. 2: MOVS/MOVSB/MOVSW/MOVSD, CMPS, STOS, LODS, SCAS, "REP/REPE/REPZ/REPNE/REPNZ";
 * Vol. 1 7.3.9 string operations): each element advances (E)SI/(E)DI by the element size in the
 * direction of DF, the count register is decremented after each element, a zero count does nothing, and
 * elements are copied one after another (so an overlapping forward MOVS replicates, it is not memmove).
 * CMPS/SCAS flags are those of CMP on the same operands (SDM CMP: SRC1 - SRC2).
 */
import { describe, expect, it } from "vitest";
import { Reg, Seg } from "../../src/cpu/registers.ts";
import { setSegment } from "../../src/cpu/segments.ts";
import { costOf } from "../../src/cpu/timing.ts";
import { ELEMENT_CYCLES, REP_CHUNK_ELEMENTS } from "../../src/cpu/execute/string.ts";
import { CODE, DATA, RAM_BYTES, RecordingBus, endOf, le32, machine, run } from "./system-harness.ts";

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;
const ARITH = CF | PF | AF | ZF | SF | OF;
const SRC = DATA;
const DST = 0x4000;

/** Source pattern: byte k = (k * 7 + 3) & 0xff (no two neighbours equal, no zero at the start). */
function pattern(n: number): number[] {
  return Array.from({ length: n }, (_, k) => (k * 7 + 3) & 0xff);
}

describe("MOVS moves ECX elements from DS:ESI to ES:EDI in the direction DF gives", () => {
  const cases = [
    { name: "rep movsb forward", code: [0xf3, 0xa4], size: 1, n: 37, df: false },
    { name: "rep movsw forward", code: [0x66, 0xf3, 0xa5], size: 2, n: 37, df: false },
    { name: "rep movsd forward", code: [0xf3, 0xa5], size: 4, n: 37, df: false },
    { name: "rep movsd forward, 3000 elements (several pages)", code: [0xf3, 0xa5], size: 4, n: 3000, df: false },
    { name: "rep movsb backward", code: [0xf3, 0xa4], size: 1, n: 37, df: true },
    { name: "rep movsw backward", code: [0x66, 0xf3, 0xa5], size: 2, n: 37, df: true },
    { name: "rep movsd backward", code: [0xf3, 0xa5], size: 4, n: 300, df: true },
    { name: "movsd without rep moves one element", code: [0xa5], size: 4, n: 1, df: false },
    { name: "repne movsb (F2) repeats like rep on Intel", code: [0xf2, 0xa4], size: 1, n: 9, df: false },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const bytes = t.n * t.size;
    const src = pattern(bytes);
    // With DF = 1 the registers start at the last element and walk down (SDM MOVS Operation).
    const first = t.df ? (t.n - 1) * t.size : 0;
    const c = machine(t.code, {
      setup: (c) => {
        c.ram.set(src, SRC);
        c.regs[Reg.ESI] = SRC + first;
        c.regs[Reg.EDI] = DST + first;
        c.regs[Reg.ECX] = t.n === 1 ? 0x55 : t.n;
        if (t.df) c.setEflags(DF, DF);
      },
    });
    const o = run(c, 100);
    expect(o.vector).toBeNull();
    expect(o.eip).toBe(endOf(t.code));
    expect([...c.ram.subarray(DST, DST + bytes)]).toEqual(src);
    expect(c.ram[DST + bytes]).toBe(0); // nothing beyond
    const delta = (t.df ? -1 : 1) * bytes;
    expect(c.regs[Reg.ESI] >>> 0).toBe(SRC + first + delta);
    expect(c.regs[Reg.EDI] >>> 0).toBe(DST + first + delta);
    expect(c.regs[Reg.ECX]).toBe(t.n === 1 ? 0x55 : 0); // without REP, ECX is not used
  });

  it("an overlapping forward copy replicates the first elements (element by element, not memmove)", () => {
    // rep movsb with EDI = ESI + 1: every element copies the byte the previous one just wrote.
    const c = machine([0xf3, 0xa4], {
      setup: (c) => {
        c.ram.set([0xab, 1, 2, 3, 4, 5, 6, 7, 8], SRC);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = SRC + 1;
        c.regs[Reg.ECX] = 8;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(SRC, SRC + 10)]).toEqual([0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0]);
  });

  it("an overlapping copy with the destination below the source shifts the data down", () => {
    const c = machine([0xf3, 0xa5], {
      setup: (c) => {
        c.ram.set(pattern(16), SRC + 2);
        c.regs[Reg.ESI] = SRC + 2;
        c.regs[Reg.EDI] = SRC;
        c.regs[Reg.ECX] = 4;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(SRC, SRC + 16)]).toEqual(pattern(16));
  });

  it("a dword copy with a 2-byte forward overlap reads what the previous element wrote", () => {
    // Worked by hand, ESI = 0, EDI = 2 over 11 22 33 44 55 66 77 88 99 AA:
    // element 0 reads 11 22 33 44 at 0, writes it at 2 -> 11 22 11 22 33 44 77 88 99 AA;
    // element 1 reads 33 44 77 88 at 4, writes it at 6 -> 11 22 11 22 33 44 33 44 77 88.
    const c = machine([0xf3, 0xa5], {
      setup: (c) => {
        c.ram.set([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa], SRC);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = SRC + 2;
        c.regs[Reg.ECX] = 2;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(SRC, SRC + 10)]).toEqual([0x11, 0x22, 0x11, 0x22, 0x33, 0x44, 0x33, 0x44, 0x77, 0x88]);
  });

  it("takes the source segment from an override prefix; the destination stays ES", () => {
    // fs: rep movsb (64 F3 A4) with FS base 10000H
    const c = machine([0x64, 0xf3, 0xa4], {
      setup: (c) => {
        setSegment(c, Seg.FS, 0x10, 0x10000, -1, 0xc093);
        c.ram.set([1, 2, 3], 0x10000 + 0x100);
        c.ram.set([9, 9, 9], 0x100);
        c.regs[Reg.ESI] = 0x100;
        c.regs[Reg.EDI] = DST;
        c.regs[Reg.ECX] = 3;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(DST, DST + 3)]).toEqual([1, 2, 3]);
  });

  it("ignores a segment override for the destination (always ES)", () => {
    // fs: stosb (64 AA) writes ES:EDI, not FS:EDI
    const c = machine([0x64, 0xaa], {
      setup: (c) => {
        setSegment(c, Seg.FS, 0x10, 0x10000, -1, 0xc093);
        c.regs[Reg.EAX] = 0x5a;
        c.regs[Reg.EDI] = DST;
      },
    });
    run(c, 10);
    expect(c.ram[DST]).toBe(0x5a);
    expect(c.ram[0x10000 + DST]).toBe(0);
  });

  it("with a 16-bit address size uses SI, DI and CX and wraps them at 64 KiB", () => {
    // a16 rep movsb (67 F3 A4): SI = FFFEH, 3 bytes -> SI wraps to 0001H; upper halves untouched.
    const c = machine([0x67, 0xf3, 0xa4], {
      setup: (c) => {
        c.ram.set([7, 8], 0xfffe);
        c.ram[0] = 9;
        c.regs[Reg.ESI] = 0x1234fffe | 0;
        c.regs[Reg.EDI] = 0x56780100;
        c.regs[Reg.ECX] = 0xabcd0003 | 0;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(0x100, 0x103)]).toEqual([7, 8, 9]);
    expect(c.regs[Reg.ESI] >>> 0).toBe(0x12340001);
    expect(c.regs[Reg.EDI] >>> 0).toBe(0x56780103);
    expect(c.regs[Reg.ECX] >>> 0).toBe(0xabcd0000);
  });

  it("writes beyond RAM through the bus, element by element", () => {
    const bus = new RecordingBus();
    const c = machine([0xf3, 0xa4], {
      bus,
      setup: (c) => {
        c.ram.set([1, 2, 3, 4], SRC);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = RAM_BYTES - 2;
        c.regs[Reg.ECX] = 4;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(RAM_BYTES - 2)]).toEqual([1, 2]);
    expect(bus.phys).toEqual([
      { dir: "write", pa: RAM_BYTES, size: 1, value: 3 },
      { dir: "write", pa: RAM_BYTES + 1, size: 1, value: 4 },
    ]);
  });
});

describe("STOS stores AL/AX/EAX to ES:EDI", () => {
  const cases = [
    { name: "rep stosb", code: [0xf3, 0xaa], size: 1, n: 5000, eax: 0x11223344, df: false },
    { name: "rep stosw, distinct bytes", code: [0x66, 0xf3, 0xab], size: 2, n: 33, eax: 0x11223344, df: false },
    { name: "rep stosd, distinct bytes, odd address", code: [0xf3, 0xab], size: 4, n: 1500, eax: 0x11223344, df: false, odd: 1 },
    { name: "rep stosd, uniform bytes", code: [0xf3, 0xab], size: 4, n: 100, eax: 0xa5a5a5a5, df: false },
    { name: "rep stosd backward", code: [0xf3, 0xab], size: 4, n: 100, eax: 0x01020304, df: true },
    { name: "stosw", code: [0x66, 0xab], size: 2, n: 1, eax: 0xbeef, df: false },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const start = DST + (t.odd ?? 0) + (t.df ? (t.n - 1) * t.size : 0);
    const c = machine(t.code, {
      setup: (c) => {
        c.regs[Reg.EAX] = t.eax;
        c.regs[Reg.EDI] = start;
        c.regs[Reg.ECX] = t.n;
        if (t.df) c.setEflags(DF, DF);
      },
    });
    const o = run(c, 100);
    expect(o.eip).toBe(endOf(t.code));
    const lo = DST + (t.odd ?? 0);
    const elem = le32(t.eax).slice(0, t.size);
    const want = Array.from({ length: t.n }, () => elem).flat();
    expect([...c.ram.subarray(lo, lo + t.n * t.size)]).toEqual(want);
    expect(c.ram[lo - 1]).toBe(0);
    expect(c.ram[lo + t.n * t.size]).toBe(0);
    expect(c.regs[Reg.EDI] >>> 0).toBe(start + (t.df ? -1 : 1) * t.n * t.size);
  });
});

describe("LODS loads DS:ESI into AL/AX/EAX", () => {
  it.each([
    ["lodsb keeps the rest of EAX", [0xac], 0xffffff44],
    ["lodsw keeps the upper half", [0x66, 0xad], 0xffff3344],
    ["lodsd", [0xad], 0x11223344],
  ] as const)("%s", (_n, code, eax) => {
    const c = machine(code, {
      setup: (c) => {
        c.ram.set(le32(0x11223344), SRC);
        c.regs[Reg.EAX] = -1;
        c.regs[Reg.ESI] = SRC;
      },
    });
    run(c, 10);
    expect(c.regs[Reg.EAX] >>> 0).toBe(eax);
    expect(c.regs[Reg.ESI]).toBe(SRC + (code.length === 1 && code[0] === 0xac ? 1 : code[0] === 0x66 ? 2 : 4));
  });

  it.each([
    ["a16 lodsb (67 AC) wraps SI at 64 KiB", [0x67, 0xac], 0, 0x1234ffff, 0x12340000],
    ["a16 lodsw (66 67 AD) with DF = 1 wraps SI below 0", [0x66, 0x67, 0xad], 0x400, 0x12340000, 0x1234fffe],
  ] as const)("%s", (_n, code, df, esi, after) => {
    const c = machine(code, {
      setup: (c) => {
        c.ram.set([0x5a, 0x6b], esi & 0xffff);
        c.regs[Reg.ESI] = esi;
        c.setEflags(df, DF);
      },
    });
    run(c, 10);
    expect(c.regs[Reg.EAX] & (code.length === 2 ? 0xff : 0xffff)).toBe(code.length === 2 ? 0x5a : 0x6b5a);
    expect(c.regs[Reg.ESI] >>> 0).toBe(after);
  });

  it("rep lodsb leaves the last element in AL", () => {
    const c = machine([0xf3, 0xac], {
      setup: (c) => {
        c.ram.set([1, 2, 3], SRC);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.ECX] = 3;
      },
    });
    run(c, 10);
    expect(c.regs[Reg.EAX] & 0xff).toBe(3);
    expect(c.regs[Reg.ESI]).toBe(SRC + 3);
  });
});

describe("CMPS and SCAS set the flags of CMP SRC1, SRC2 and stop REPE/REPNE on ZF", () => {
  // Flags of CMP a - b worked by hand (SDM CMP / SUB flag definitions).
  const single = [
    { name: "cmpsb equal", code: [0xa6], a: 0x41, b: 0x41, flags: ZF | PF },
    { name: "cmpsb below (borrow)", code: [0xa6], a: 0x58, b: 0x59, flags: CF | SF | AF | PF }, // FF
    { name: "cmpsd signed overflow", code: [0xa7], a: 0x80000000, b: 1, flags: OF | AF | PF }, // 7FFFFFFF
    { name: "cmpsw 16-bit result", code: [0x66, 0xa7], a: 0x0000, b: 0x0001, flags: CF | SF | AF | PF }, // FFFF
  ];
  it.each(single.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const c = machine(t.code, {
      setup: (c) => {
        c.ram.set(le32(t.a), SRC);
        c.ram.set(le32(t.b), DST);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = DST;
      },
    });
    run(c, 10);
    expect(c.getEflags() & ARITH).toBe(t.flags);
  });

  it("scasd compares EAX with ES:EDI (EAX is SRC1)", () => {
    const c = machine([0xaf], {
      setup: (c) => {
        c.ram.set(le32(5), DST);
        c.regs[Reg.EAX] = 3;
        c.regs[Reg.EDI] = DST;
      },
    });
    run(c, 10);
    // 3 - 5 = FFFFFFFE: CF, SF, AF (bit 4 borrow), PF clear (7 ones)
    expect(c.getEflags() & ARITH).toBe(CF | SF | AF);
    expect(c.regs[Reg.EDI]).toBe(DST + 4);
  });

  it("repe cmpsb stops after the first differing element", () => {
    const c = machine([0xf3, 0xa6], {
      setup: (c) => {
        c.ram.set([...Buffer.from("abcXefg")], SRC);
        c.ram.set([...Buffer.from("abcYefg")], DST);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = DST;
        c.regs[Reg.ECX] = 7;
      },
    });
    const o = run(c, 10);
    expect(o.eip).toBe(endOf([0xf3, 0xa6]));
    expect(c.regs[Reg.ECX]).toBe(3);
    expect(c.regs[Reg.ESI]).toBe(SRC + 4);
    expect(c.regs[Reg.EDI]).toBe(DST + 4);
    expect(c.getEflags() & (ZF | CF)).toBe(CF); // 'X' - 'Y' borrows
  });

  it("repe cmpsb over equal strings runs the count out with ZF = 1", () => {
    const c = machine([0xf3, 0xa6], {
      setup: (c) => {
        c.ram.set([1, 2, 3], SRC);
        c.ram.set([1, 2, 3], DST);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = DST;
        c.regs[Reg.ECX] = 3;
      },
    });
    run(c, 10);
    expect(c.regs[Reg.ECX]).toBe(0);
    expect(c.getEflags() & ZF).toBe(ZF);
  });

  it("repne scasb finds the terminating zero (the strlen idiom)", () => {
    const c = machine([0xf2, 0xae], {
      setup: (c) => {
        c.ram.set([...Buffer.from("hello\0")], DST);
        c.regs[Reg.EAX] = 0;
        c.regs[Reg.EDI] = DST;
        c.regs[Reg.ECX] = -1;
      },
    });
    run(c, 10);
    expect(c.getEflags() & ZF).toBe(ZF);
    expect(c.regs[Reg.ECX]).toBe(-7); // -1 - 6 elements; strlen = ~ECX - 1 = 5
    expect(c.regs[Reg.EDI]).toBe(DST + 6);
  });

  it("repe scasw with DF = 1 walks down until an element differs", () => {
    const c = machine([0x66, 0xf3, 0xaf], {
      setup: (c) => {
        c.ram.set([0x34, 0x12, 0x34, 0x12, 0x00, 0x00], DST); // words 1234 1234 0000, from low to high
        c.regs[Reg.EAX] = 0x1234;
        c.regs[Reg.EDI] = DST + 4;
        c.regs[Reg.ECX] = 10;
        c.setEflags(DF, DF);
      },
    });
    run(c, 10);
    // first element (0000 at DST+4) differs already: one element, ZF = 0
    expect(c.regs[Reg.ECX]).toBe(9);
    expect(c.regs[Reg.EDI]).toBe(DST + 2);
    expect(c.getEflags() & ZF).toBe(0);
  });
});

describe("a zero count does nothing", () => {
  it.each([
    ["rep movsb", [0xf3, 0xa4]],
    ["repe cmpsb", [0xf3, 0xa6]],
    ["repne scasd", [0xf2, 0xaf]],
    ["rep stosd", [0xf3, 0xab]],
    ["rep insb", [0xf3, 0x6c]],
    ["rep outsd", [0xf3, 0x6f]],
  ] as const)("%s", (_n, code) => {
    const bus = new RecordingBus();
    const c = machine(code, {
      bus,
      setup: (c) => {
        c.ram.fill(0x77, SRC, SRC + 16);
        c.regs[Reg.ESI] = SRC;
        c.regs[Reg.EDI] = DST;
        c.regs[Reg.ECX] = 0;
        c.setEflags(ZF | CF | OF, ARITH);
      },
    });
    const o = run(c, 10);
    expect(o.eip).toBe(endOf(code));
    expect(c.regs[Reg.ESI]).toBe(SRC);
    expect(c.regs[Reg.EDI]).toBe(DST);
    expect(c.getEflags() & ARITH).toBe(ZF | CF | OF);
    expect(c.ram[DST]).toBe(0);
    expect(bus.ports).toEqual([]);
  });
});

describe("a long REP yields to the run loop between elements and resumes where it stopped", () => {
  it.each([
    ["rep stosb, bulk path", false],
    ["rep stosb, DF = 1 element path", true],
  ] as const)("%s", (_n, df) => {
    const n = 3 * REP_CHUNK_ELEMENTS + 5;
    const c = machine([0xf3, 0xaa], {
      setup: (c) => {
        c.regs[Reg.EAX] = 0xcc;
        c.regs[Reg.EDI] = df ? DST + n - 1 : DST;
        c.regs[Reg.ECX] = n;
        if (df) c.setEflags(DF, DF);
      },
    });
    c.run(1);
    // The REP instruction is still current and its registers say how far it got.
    expect(c.eip).toBe(CODE);
    expect(c.regs[Reg.ECX]).toBe(n - REP_CHUNK_ELEMENTS);
    expect(c.regs[Reg.EDI]).toBe(df ? DST + n - 1 - REP_CHUNK_ELEMENTS : DST + REP_CHUNK_ELEMENTS);
    c.run(3);
    expect(c.eip).toBe(endOf([0xf3, 0xaa]));
    expect(c.regs[Reg.ECX]).toBe(0);
    expect(c.ram.subarray(DST, DST + n).every((b) => b === 0xcc)).toBe(true);
    expect(c.ram[DST + n]).toBe(0);
  });

  it("stops after the element during which the board asked the core to stop", () => {
    const bus = new RecordingBus();
    const c = machine([0xf3, 0x6e], { bus }); // rep outsb
    c.ram.set([10, 11, 12, 13, 14], SRC);
    c.regs[Reg.ESI] = SRC;
    c.regs[Reg.ECX] = 5;
    c.regs[Reg.EDX] = 0x80;
    bus.onOut = (_p, v) => {
      if (v === 11) c.requestStop();
    };
    expect(c.run(100)).toBe("budget");
    expect(bus.ports.map((p) => p.value)).toEqual([10, 11]);
    expect(c.eip).toBe(CODE);
    expect(c.regs[Reg.ECX]).toBe(3);
    c.run(100);
    expect(bus.ports.map((p) => p.value)).toEqual([10, 11, 12, 13, 14]);
    expect(c.regs[Reg.ECX]).toBe(0);
  });
});

describe("a store into decoded code is seen by later execution (SDM Vol. 3A 8.1.3)", () => {
  // call T / mov ebx,eax / mov edi,T / mov ecx,5 / mov al,90h / rep stosb / xor eax,eax / call T / (jmp $)
  // T: mov eax,1 / ret  -- the first call runs T as written, the second runs the NOPs stored over it.
  function program(std: boolean): number[] {
    const t = CODE + 0x40;
    const rel = (from: number) => le32(t - from);
    const code: number[] = [];
    code.push(0xe8, ...rel(CODE + 5));
    code.push(0x89, 0xc3);
    code.push(0xbf, ...le32(std ? t + 4 : t));
    code.push(0xb9, ...le32(5));
    code.push(0xb0, 0x90);
    if (std) code.push(0xfd);
    code.push(0xf3, 0xaa);
    if (std) code.push(0xfc);
    code.push(0x31, 0xc0);
    const at = CODE + code.length;
    code.push(0xe8, ...rel(at + 5));
    code.push(0xeb, 0xfe);
    while (code.length < 0x40) code.push(0xcc);
    code.push(0xb8, ...le32(1), 0xc3);
    return code;
  }
  it.each([["bulk path", false], ["element path (DF = 1)", true]] as const)("%s", (_n, std) => {
    const c = machine(program(std));
    c.run(100);
    expect(c.regs[Reg.EBX]).toBe(1);
    expect(c.regs[Reg.EAX]).toBe(0);
  });
});

describe("cycle cost: the row's cost plus a per-element cost after the first, whichever path runs", () => {
  it.each([
    ["rep movsd", [0xf3, 0xa5], ELEMENT_CYCLES.movs, 500],
    ["rep stosb", [0xf3, 0xaa], ELEMENT_CYCLES.stos, 700],
    ["repe cmpsd", [0xf3, 0xa7], ELEMENT_CYCLES.cmps, 40],
    ["rep lodsw", [0x66, 0xf3, 0xad], ELEMENT_CYCLES.lods, 40],
  ] as const)("%s", (_n, code, perElement, n) => {
    const cost = (df: boolean) => {
      const c = machine(code, {
        setup: (c) => {
          c.regs[Reg.ESI] = df ? SRC + 0x1000 : SRC;
          c.regs[Reg.EDI] = df ? DST + 0x1000 : DST;
          c.regs[Reg.ECX] = n;
          if (df) c.setEflags(DF, DF);
        },
      });
      const before = c.cycles;
      c.run(1);
      expect(c.regs[Reg.ECX]).toBe(0);
      return c.cycles - before;
    };
    const want = costOf("string") + (n - 1) * perElement;
    expect(cost(false)).toBe(want);
    expect(cost(true)).toBe(want);
  });

  it("a zero count costs the row's cost only", () => {
    const c = machine([0xf3, 0xa5], { setup: (c) => (c.regs[Reg.ECX] = 0) });
    c.run(1);
    expect(c.cycles).toBe(costOf("string"));
  });
});
