/**
 * XCHG, BSWAP, CMOVcc, SETcc, XLAT, LAHF/SAHF, CBW/CWDE/CWD/CDQ, XADD, CMPXCHG, CMPXCHG8B.
 * Expected values are the SDM's Operation sections worked by hand (SDM Vol. 2, each instruction's page;
 * conditions from SDM Vol. 1 Table B-1). Where the SDM leaves a result undefined, the value measured
 * on the AMD EPYC host (gcc -m32 probe) is the reference: BSWAP r16, XADD r,r with one register.
 */
import { describe, expect, it } from "vitest";
import { type Case, DATA, RecordingBus, expected, observe, runCase } from "./data-harness.ts";

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const UD = 6;

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
      expect(observe(runCase(t), t)).toEqual(expected(t));
    });
  });
}

table("XCHG exchanges its two operands, memory first", [
  { name: "xchg eax,ebx (87 D8)", code: [0x87, 0xd8], regs: { eax: 1, ebx: 2 }, expect: { regs: { eax: 2, ebx: 1 } } },
  { name: "xchg eax,ebx short form (93)", code: [0x93], regs: { eax: 1, ebx: 2 }, expect: { regs: { eax: 2, ebx: 1 } } },
  { name: "xchg eax,edi (97)", code: [0x97], regs: { eax: -1, edi: 7 }, expect: { regs: { eax: 7, edi: -1 } } },
  {
    name: "xchg ax,bx (66 93) keeps the upper halves", code: [0x66, 0x93],
    regs: { eax: 0x11112222, ebx: 0x33334444 }, expect: { regs: { eax: 0x11114444, ebx: 0x33332222 } },
  },
  { name: "xchg al,ah (86 E0)", code: [0x86, 0xe0], regs: { eax: 0xabcd1234 }, expect: { regs: { eax: 0xabcd3412 } } },
  { name: "xchg ecx,ecx (87 C9) is a no-op", code: [0x87, 0xc9], regs: { ecx: 5 }, expect: { regs: { ecx: 5 } } },
  {
    name: "xchg [ebx],eax (87 03)", code: [0x87, 0x03],
    regs: { eax: 0x11223344, ebx: DATA }, mem: { [DATA]: 0xaabbccdd },
    expect: { regs: { eax: 0xaabbccdd }, mem: { [DATA]: 0x11223344 } },
  },
  {
    name: "xchg [edi],dh (86 37) touches one byte", code: [0x86, 0x37],
    regs: { edx: 0x0000ee00, edi: DATA }, mem: { [DATA]: 0x99887766 },
    expect: { regs: { edx: 0x00006600 }, mem: { [DATA]: 0x998877ee } },
  },
  {
    name: "lock xchg [ebx],eax (F0 87 03) is allowed", code: [0xf0, 0x87, 0x03],
    regs: { eax: 1, ebx: DATA }, mem: { [DATA]: 2 }, expect: { regs: { eax: 2 }, mem: { [DATA]: 1 } },
  },
  { name: "lock xchg eax,ebx (F0 87 D8) is #UD", code: [0xf0, 0x87, 0xd8], expect: { fault: [UD, -1] } },
  { name: "nop (90) is not xchg eax,eax and changes nothing", code: [0x90], regs: { eax: 9 }, expect: { regs: { eax: 9 } } },
]);

table("BSWAP reverses the byte order", [
  { name: "bswap eax (0F C8)", code: [0x0f, 0xc8], regs: { eax: 0x12345678 }, expect: { regs: { eax: 0x78563412 } } },
  { name: "bswap ebx (0F CB)", code: [0x0f, 0xcb], regs: { ebx: 0x80000001 }, expect: { regs: { ebx: 0x01000080 } } },
  { name: "bswap edi (0F CF)", code: [0x0f, 0xcf], regs: { edi: 0xff00ff00 }, expect: { regs: { edi: 0x00ff00ff } } },
  // Undefined in the SDM; hardware clears the low word (host probe: 0x12345678 -> 0x12340000).
  { name: "bswap ax (66 0F C8) clears the low word", code: [0x66, 0x0f, 0xc8], regs: { eax: 0x12345678 }, expect: { regs: { eax: 0x12340000 } } },
]);

// Which of the 16 conditions (SDM Vol. 1 Table B-1: O NO B AE E NE BE A S NS P NP L GE LE G) hold for
// a flag state, written out by hand.
const CONDITION_TRUTH: readonly { flags: number; name: string; holds: readonly number[] }[] = [
  { flags: 0, name: "no flags", holds: [1, 3, 5, 7, 9, 11, 13, 15] },
  { flags: CF, name: "CF", holds: [1, 2, 5, 6, 9, 11, 13, 15] },
  { flags: ZF, name: "ZF", holds: [1, 3, 4, 6, 9, 11, 13, 14] },
  { flags: SF, name: "SF", holds: [1, 3, 5, 7, 8, 11, 12, 14] },
  { flags: OF, name: "OF", holds: [0, 3, 5, 7, 9, 11, 12, 14] },
  { flags: PF, name: "PF", holds: [1, 3, 5, 7, 9, 10, 13, 15] },
  { flags: SF | OF, name: "SF OF", holds: [0, 3, 5, 7, 8, 11, 13, 15] },
  { flags: CF | ZF, name: "CF ZF", holds: [1, 2, 4, 6, 9, 11, 13, 14] },
  { flags: ZF | SF | OF, name: "ZF SF OF", holds: [0, 3, 4, 6, 8, 11, 13, 14] },
];
const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

const setccCases: Case[] = CONDITION_TRUTH.flatMap(({ flags, name, holds }) =>
  CC.map((cc, n) => ({
    name: `set${cc} al (0F ${(0x90 + n).toString(16)} C0) with ${name}`,
    code: [0x0f, 0x90 + n, 0xc0],
    eflags: flags,
    regs: { eax: 0xffffff55 },
    expect: { regs: { eax: 0xffffff00 | (holds.includes(n) ? 1 : 0) }, eflags: flags | 2 },
  })),
);
table("SETcc stores 1 when the condition holds, else 0", [
  ...setccCases,
  { name: "setg ah (0F 9F C4)", code: [0x0f, 0x9f, 0xc4], eflags: 0, regs: { eax: 0x12345678 }, expect: { regs: { eax: 0x12340178 } } },
  {
    name: "sete [ebx] (0F 94 03) writes one byte", code: [0x0f, 0x94, 0x03], eflags: ZF,
    regs: { ebx: DATA }, mem: { [DATA]: 0xaaaaaaaa }, expect: { mem: { [DATA]: 0xaaaaaa01 } },
  },
  {
    // cmp eax,ebx with eax = -1, ebx = 1: signed less, unsigned above
    name: "cmp -1,1 then setl cl, setb dl (39 D8, 0F 9C C1, 0F 92 C2)",
    code: [0x39, 0xd8, 0x0f, 0x9c, 0xc1, 0x0f, 0x92, 0xc2],
    regs: { eax: -1, ebx: 1, ecx: 0xff, edx: 0xff }, expect: { regs: { ecx: 1, edx: 0 } },
  },
]);

const cmovCases: Case[] = CONDITION_TRUTH.flatMap(({ flags, name, holds }) =>
  CC.map((cc, n) => ({
    name: `cmov${cc} eax,ebx (0F ${(0x40 + n).toString(16)} C3) with ${name}`,
    code: [0x0f, 0x40 + n, 0xc3],
    eflags: flags,
    regs: { eax: 0x11111111, ebx: 0x22222222 },
    expect: { regs: { eax: holds.includes(n) ? 0x22222222 : 0x11111111, ebx: 0x22222222 }, eflags: flags | 2 },
  })),
);
table("CMOVcc moves only when the condition holds", [
  ...cmovCases,
  { name: "cmove ax,bx (66 0F 44 C3), ZF=1", code: [0x66, 0x0f, 0x44, 0xc3], eflags: ZF, regs: { eax: 0x11111111, ebx: 0x22222222 }, expect: { regs: { eax: 0x11112222 } } },
  { name: "cmove ax,bx (66 0F 44 C3), ZF=0", code: [0x66, 0x0f, 0x44, 0xc3], eflags: 0, regs: { eax: 0x11111111, ebx: 0x22222222 }, expect: { regs: { eax: 0x11111111 } } },
  { name: "cmove eax,[ebx] (0F 44 03), ZF=1", code: [0x0f, 0x44, 0x03], eflags: ZF, regs: { eax: 1, ebx: DATA }, mem: { [DATA]: 0xcafebabe }, expect: { regs: { eax: 0xcafebabe } } },
  { name: "cmove eax,[ebx] (0F 44 03), ZF=0", code: [0x0f, 0x44, 0x03], eflags: 0, regs: { eax: 1, ebx: DATA }, mem: { [DATA]: 0xcafebabe }, expect: { regs: { eax: 1 } } },
  {
    name: "cmp 1,-1 then cmova ecx,edx (39 D8, 0F 47 CA): unsigned 1 < FFFFFFFFH, no move",
    code: [0x39, 0xd8, 0x0f, 0x47, 0xca], regs: { eax: 1, ebx: -1, ecx: 3, edx: 4 }, expect: { regs: { ecx: 3 } },
  },
  {
    name: "cmp 1,-1 then cmovg ecx,edx (39 D8, 0F 4F CA): signed 1 > -1, move",
    code: [0x39, 0xd8, 0x0f, 0x4f, 0xca], regs: { eax: 1, ebx: -1, ecx: 3, edx: 4 }, expect: { regs: { ecx: 4 } },
  },
]);

describe("CMOVcc reads a memory source whatever the condition (SDM CMOVcc Operation: temp <- SRC)", () => {
  it("cmove eax,[ebx] with ZF=0 still reads the source", () => {
    const bus = new RecordingBus();
    const t: Case = {
      name: "", code: [0x0f, 0x44, 0x03], eflags: 0, regs: { eax: 1, ebx: 0x200000 }, bus, expect: { regs: { eax: 1 } },
    };
    expect(observe(runCase(t), t)).toEqual(expected(t));
    expect(bus.reads.some(([pa]) => pa === 0x200000)).toBe(true);
  });
});

table("XLAT loads AL from [(E)BX + zero-extended AL]", [
  { name: "xlat (D7)", code: [0xd7], regs: { eax: 0xaabbcc10, ebx: DATA }, mem: { [DATA + 0x10]: 0x5a }, expect: { regs: { eax: 0xaabbcc5a } } },
  { name: "xlat with AL = FFH adds 255, not -1", code: [0xd7], regs: { eax: 0xff, ebx: DATA }, mem: { [DATA + 0xff]: 0x77, [DATA - 1]: 0x11000000 }, expect: { regs: { eax: 0x77 } } },
  {
    name: "es: xlat (26 D7) uses ES", code: [0x26, 0xd7], regs: { eax: 0x10, ebx: DATA },
    setup: (c) => { c.segBase[0] = 0x10000; }, mem: { [0x10000 + DATA + 0x10]: 0x42, [DATA + 0x10]: 0x24 }, expect: { regs: { eax: 0x42 } },
  },
  {
    name: "a16 xlat (67 D7): BX + AL wraps at 64 KiB", code: [0x67, 0xd7], regs: { eax: 0x20, ebx: 0x1fff0 },
    mem: { [0x10]: 0x33, [0x20010]: 0x44 }, expect: { regs: { eax: 0x33 } },
  },
  {
    name: "a16 xlat (67 D7) with AL = 90H adds 144", code: [0x67, 0xd7], regs: { eax: 0x90, ebx: 0x1ff00 },
    mem: { [0xff90]: 0x61, [0xfe90]: 0x62 }, expect: { regs: { eax: 0x61 } },
  },
]);

table("LAHF and SAHF move SF ZF AF PF CF through AH", [
  { name: "lahf with all arithmetic flags (host: AH = D7H)", code: [0x9f], eflags: CF | PF | AF | ZF | SF | OF, regs: { eax: 0xffffffff }, expect: { regs: { eax: 0xffffd7ff } } },
  { name: "lahf with no flags: AH = 02H (bit 1)", code: [0x9f], eflags: 0, regs: { eax: 0 }, expect: { regs: { eax: 0x0200 } } },
  { name: "lahf does not copy OF, IF, DF (TF set would single-step the next instruction)", code: [0x9f], eflags: OF | 0x600, regs: { eax: 0 }, expect: { regs: { eax: 0x0200 } } },
  { name: "sahf with AH = FFH sets the five flags, keeps OF", code: [0x9e], eflags: OF, regs: { eax: 0xff00 }, expect: { eflags: OF | 0xd7 } },
  { name: "sahf with AH = 00H clears them, bit 1 stays 1", code: [0x9e], eflags: 0xd7 | OF, regs: { eax: 0 }, expect: { eflags: OF | 0x2 } },
  { name: "sahf ignores AH bits 1, 3, 5", code: [0x9e], eflags: 0, regs: { eax: 0x2a00 }, expect: { eflags: 0x2 } },
  { name: "sahf then setc/setz (9E, 0F 92 C1, 0F 94 C2)", code: [0x9e, 0x0f, 0x92, 0xc1, 0x0f, 0x94, 0xc2], eflags: 0, regs: { eax: 0x4100, ecx: 0, edx: 0 }, expect: { regs: { ecx: 1, edx: 1 } } },
]);

table("CBW/CWDE and CWD/CDQ sign-extend the accumulator", [
  { name: "cbw (66 98) AL = 80H", code: [0x66, 0x98], regs: { eax: 0x12345680 }, expect: { regs: { eax: 0x1234ff80 } } },
  { name: "cbw (66 98) AL = 7FH", code: [0x66, 0x98], regs: { eax: 0x1234567f }, expect: { regs: { eax: 0x1234007f } } },
  { name: "cwde (98) AX = 8000H", code: [0x98], regs: { eax: 0x12348000 }, expect: { regs: { eax: 0xffff8000 } } },
  { name: "cwde (98) AX = 7FFFH", code: [0x98], regs: { eax: 0x12347fff }, expect: { regs: { eax: 0x00007fff } } },
  { name: "cwd (66 99) AX = 8000H", code: [0x66, 0x99], regs: { eax: 0x8000, edx: 0x12345678 }, expect: { regs: { edx: 0x1234ffff, eax: 0x8000 } } },
  { name: "cwd (66 99) AX = 7FFFH", code: [0x66, 0x99], regs: { eax: 0xffff7fff, edx: 0x12345678 }, expect: { regs: { edx: 0x12340000 } } },
  { name: "cdq (99) EAX = 80000000H", code: [0x99], regs: { eax: 0x80000000, edx: 0 }, expect: { regs: { edx: 0xffffffff } } },
  { name: "cdq (99) EAX = 7FFFFFFFH", code: [0x99], regs: { eax: 0x7fffffff, edx: 0x5555 }, expect: { regs: { edx: 0 } } },
]);

table("XADD: DEST = DEST + SRC, SRC = old DEST, flags as ADD", [
  { name: "xadd eax,ebx (0F C1 D8) 1 + 2", code: [0x0f, 0xc1, 0xd8], regs: { eax: 1, ebx: 2 }, expect: { regs: { eax: 3, ebx: 1 }, eflags: 0x2 | PF } },
  { name: "xadd eax,eax (0F C1 C0): DEST is written last (host: 5 -> 10)", code: [0x0f, 0xc1, 0xc0], regs: { eax: 5 }, expect: { regs: { eax: 10 } } },
  { name: "xadd al,ah (0F C0 E0) FFH + 01H", code: [0x0f, 0xc0, 0xe0], regs: { eax: 0x01ff }, expect: { regs: { eax: 0xff00 }, eflags: 0x2 | CF | PF | AF | ZF } },
  { name: "xadd ax,bx (66 0F C1 D8) 7FFFH + 1", code: [0x66, 0x0f, 0xc1, 0xd8], regs: { eax: 0xaaaa7fff, ebx: 0xbbbb0001 }, expect: { regs: { eax: 0xaaaa8000, ebx: 0xbbbb7fff }, eflags: 0x2 | OF | SF | AF | PF } },
  {
    name: "xadd [ebx],eax (0F C1 03) FFFFFFFFH + 1", code: [0x0f, 0xc1, 0x03], regs: { eax: 1, ebx: DATA }, mem: { [DATA]: 0xffffffff },
    expect: { regs: { eax: 0xffffffff }, mem: { [DATA]: 0 }, eflags: 0x2 | CF | PF | AF | ZF },
  },
  { name: "lock xadd [ebx],ecx (F0 0F C1 0B)", code: [0xf0, 0x0f, 0xc1, 0x0b], regs: { ecx: 5, ebx: DATA }, mem: { [DATA]: 7 }, expect: { regs: { ecx: 7 }, mem: { [DATA]: 12 } } },
  { name: "lock xadd eax,ebx (F0 0F C1 D8) is #UD", code: [0xf0, 0x0f, 0xc1, 0xd8], expect: { fault: [UD, -1] } },
]);

table("CMPXCHG: flags of CMP acc,DEST; equal: DEST = SRC; else acc = DEST", [
  { name: "cmpxchg ecx,ebx (0F B1 D9) equal", code: [0x0f, 0xb1, 0xd9], regs: { eax: 5, ecx: 5, ebx: 7 }, expect: { regs: { eax: 5, ecx: 7 }, eflags: 0x2 | ZF | PF } },
  // 5 - 9 = FFFFFFFCH: borrow (CF), nibble borrow (AF), negative (SF), six ones (PF); host: 0x95 + bit 1
  { name: "cmpxchg ecx,ebx (0F B1 D9) not equal", code: [0x0f, 0xb1, 0xd9], regs: { eax: 5, ecx: 9, ebx: 7 }, expect: { regs: { eax: 9, ecx: 9 }, eflags: 0x2 | CF | PF | AF | SF } },
  { name: "cmpxchg cl,bl (0F B0 D9) equal", code: [0x0f, 0xb0, 0xd9], regs: { eax: 0x80, ecx: 0x1280, ebx: 1 }, expect: { regs: { ecx: 0x1201 } } },
  { name: "cmpxchg cx,bx (66 0F B1 D9) not equal: only AX changes", code: [0x66, 0x0f, 0xb1, 0xd9], regs: { eax: 0xaaaa0005, ecx: 0xbbbb0006, ebx: 0 }, expect: { regs: { eax: 0xaaaa0006, ecx: 0xbbbb0006 }, eflags: 0x2 | CF | PF | AF | SF } },
  { name: "cmpxchg eax,ebx (0F B1 D8) always equal", code: [0x0f, 0xb1, 0xd8], regs: { eax: 0x1234, ebx: 0x5678 }, expect: { regs: { eax: 0x5678 }, eflags: 0x2 | ZF | PF } },
  { name: "cmpxchg [ebx],ecx (0F B1 0B) equal", code: [0x0f, 0xb1, 0x0b], regs: { eax: 100, ecx: 200, ebx: DATA }, mem: { [DATA]: 100 }, expect: { regs: { eax: 100 }, mem: { [DATA]: 200 } } },
  { name: "cmpxchg [ebx],ecx (0F B1 0B) not equal", code: [0x0f, 0xb1, 0x0b], regs: { eax: 99, ecx: 200, ebx: DATA }, mem: { [DATA]: 100 }, expect: { regs: { eax: 100 }, mem: { [DATA]: 100 } } },
]);

describe("CMPXCHG and CMPXCHG8B write a memory destination back when the comparison fails (SDM Operation)", () => {
  const cases: [string, number[], Record<string, number>, [number, number, number][]][] = [
    ["cmpxchg [ebx],ecx (0F B1 0B)", [0x0f, 0xb1, 0x0b], { eax: 1, ecx: 2, ebx: 0x200000 }, [[0x200000, 4, 0x01020304]]],
    ["cmpxchg [ebx],cl (0F B0 0B)", [0x0f, 0xb0, 0x0b], { eax: 1, ecx: 2, ebx: 0x200000 }, [[0x200000, 1, 0x04]]],
    ["cmpxchg8b [esi] (0F C7 0E)", [0x0f, 0xc7, 0x0e], { eax: 1, edx: 0, esi: 0x200000 }, [[0x200000, 4, 0x01020304], [0x200004, 4, 0x05060708]]],
  ];
  it.each(cases)("%s", (_n, code, regs, writes) => {
    const bus = new RecordingBus();
    bus.setDword(0x200000, 0x01020304);
    bus.setDword(0x200004, 0x05060708);
    runCase({ name: "", code, regs, bus, expect: {} });
    expect(bus.writes).toEqual(writes);
  });
});

table("CMPXCHG8B: compare EDX:EAX with m64; equal: m64 = ECX:EBX; else EDX:EAX = m64; only ZF changes", [
  {
    name: "cmpxchg8b [esi] (0F C7 0E) equal", code: [0x0f, 0xc7, 0x0e], eflags: CF | SF,
    regs: { eax: 0x11111111, edx: 0x22222222, ebx: 0x33333333, ecx: 0x44444444, esi: DATA },
    mem: { [DATA]: 0x11111111, [DATA + 4]: 0x22222222 },
    expect: { mem: { [DATA]: 0x33333333, [DATA + 4]: 0x44444444 }, regs: { eax: 0x11111111, edx: 0x22222222 }, eflags: 0x2 | CF | SF | ZF },
  },
  {
    name: "cmpxchg8b [esi] (0F C7 0E) high halves differ", code: [0x0f, 0xc7, 0x0e], eflags: ZF | PF,
    regs: { eax: 0x11111111, edx: 0x22222223, ebx: 0x33333333, ecx: 0x44444444, esi: DATA },
    mem: { [DATA]: 0x11111111, [DATA + 4]: 0x22222222 },
    expect: { mem: { [DATA]: 0x11111111, [DATA + 4]: 0x22222222 }, regs: { eax: 0x11111111, edx: 0x22222222 }, eflags: 0x2 | PF },
  },
  {
    name: "cmpxchg8b [esi] (0F C7 0E) low halves differ", code: [0x0f, 0xc7, 0x0e], eflags: 0,
    regs: { eax: 0, edx: 0x22222222, esi: DATA }, mem: { [DATA]: 0x11111111, [DATA + 4]: 0x22222222 },
    expect: { regs: { eax: 0x11111111, edx: 0x22222222 }, eflags: 0x2 },
  },
  {
    name: "lock cmpxchg8b [esi] (F0 0F C7 0E)", code: [0xf0, 0x0f, 0xc7, 0x0e],
    regs: { eax: 1, edx: 2, ebx: 3, ecx: 4, esi: DATA }, mem: { [DATA]: 1, [DATA + 4]: 2 },
    expect: { mem: { [DATA]: 3, [DATA + 4]: 4 } },
  },
  { name: "cmpxchg8b with a register operand (0F C7 C8) is #UD", code: [0x0f, 0xc7, 0xc8], expect: { fault: [UD, -1] } },
]);

describe("compiled blocks (after 16 runs) give the same results as the interpreter", () => {
  // mov ecx,100 / xor eax,eax / L: mov edx,ecx / xadd eax,edx / bswap ebx x2 / xchg esi,edi x2 /
  // cmp ecx,50 / setb bl / movzx ebx,bl / add ebp,ebx / cmp ecx,10 / cmovb edi,ecx / dec ecx / jnz L
  // EAX = 1 + ... + 100 = 5050; EBP counts ECX = 1..49; EDI = the last ECX below 10, i.e. 1.
  const code = [
    0xb9, 100, 0, 0, 0, 0x31, 0xc0,
    0x89, 0xca, 0x0f, 0xc1, 0xd0, 0x0f, 0xcb, 0x0f, 0xcb, 0x87, 0xfe, 0x87, 0xfe,
    0x83, 0xf9, 0x32, 0x0f, 0x92, 0xc3, 0x0f, 0xb6, 0xdb, 0x01, 0xdd,
    0x83, 0xf9, 0x0a, 0x0f, 0x42, 0xf9, 0x49, 0x75, 0x100 - 33,
  ];
  it.each([true, false])("jit %s", (jit) => {
    const t: Case = {
      name: "", code, regs: { ebp: 0, edi: 0x77, esi: 0x66 },
      setup: (c) => { c.jit = jit; },
      expect: { regs: { eax: 5050, ebp: 49, edi: 1, esi: 0x66, ebx: 1, ecx: 0 } },
    };
    const c = runCase(t);
    c.run(5000);
    expect(observe(c, t)).toEqual(expected(t));
  });
});
