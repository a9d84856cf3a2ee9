/**
 * Labels, branch relaxation and data directives of the assembler. References: encodings assembled by
 * hand from the SDM Vol. 2 opcode pages (EB cb / E9 cd / 0F 8x cd, rel = target - next instruction) and
 * the layout arithmetic of the directives; the same programs are also compared with NASM in
 * asm-nasm.test.ts when nasm is installed.
 */
import { describe, expect, it } from "vitest";
import { Asm, ax, bx, dword, eax, ebx, es, far, fs, lbl, ptr } from "../../src/guests/asm/index.ts";

const hex = (a: Asm) => Buffer.from(a.build().bytes).toString("hex");
const nops = (n: number) => "90".repeat(n);
const le32 = (v: number) => Buffer.from(new Uint32Array([v >>> 0]).buffer).toString("hex");

describe("labels", () => {
  it("resolves a backward reference", () => {
    expect(hex(new Asm().label("top").nop().jmp("top"))).toBe("90ebfd");
  });

  it("resolves a forward reference", () => {
    expect(hex(new Asm().jmp("end").nop().label("end"))).toBe("eb0190");
  });

  it("exports every user label at its absolute address, but not here() labels", () => {
    const a = new Asm({ origin: 0x100000 }).label("a").nop().label("b");
    a.jmp(a.here());
    expect(a.build().symbols).toEqual({ a: 0x100000, b: 0x100001 });
  });

  it("makes here() a label at the current position (jmp $ = EB FE)", () => {
    const a = new Asm().nop();
    a.jmp(a.here());
    expect(hex(a)).toBe("90ebfe");
  });

  it("adds the addend of lbl(name, add)", () => {
    expect(hex(new Asm({ origin: 0x1000 }).label("x").dd(lbl("x", 4), lbl("x", -1)))).toBe(le32(0x1004) + le32(0xfff));
  });

  it("takes the entry point from entry(), else the origin", () => {
    expect(new Asm({ origin: 0x7c00 }).nop().build().entry).toBe(0x7c00);
    expect(new Asm({ origin: 0x7c00 }).nop().label("go").entry("go").nop().build().entry).toBe(0x7c01);
  });
});

describe("branch relaxation", () => {
  // rel8 reaches -128..+127 from the end of the 2-byte jump; beyond that JMP takes E9 rel32 (5 bytes).
  it.each([
    ["jmp forward over 127 bytes: rel8", 127, "eb7f" + nops(127)],
    ["jmp forward over 128 bytes: rel32", 128, "e9" + le32(128) + nops(128)],
  ])("%s", (_, n, want) => {
    expect(hex(new Asm().jmp("L").times(n as number, 0x90).label("L"))).toBe(want);
  });

  it.each([
    ["jne backward over 126 bytes: rel8 -128", 126, nops(126) + "7580"],
    ["jne backward over 127 bytes: rel32", 127, nops(127) + "0f85" + le32(-133)],
  ])("%s", (_, n, want) => {
    expect(hex(new Asm().label("L").times(n as number, 0x90).jne("L"))).toBe(want);
  });

  it("uses rel16 for a long jump in 16-bit code", () => {
    expect(hex(new Asm({ bits: 16 }).jmp("L").times(200, 0x90).label("L"))).toBe("e9c800" + nops(200));
  });

  it("grows a jump when a jump it spans grows (second pass)", () => {
    // je B is first short, becomes 6 bytes, which pushes jmp A's distance from 125 to 129.
    const a = new Asm().jmp("A").times(123, 0x90).je("B").label("A").times(200, 0x90).label("B");
    const bytes = a.build().bytes;
    expect(bytes[0]).toBe(0xe9);
    expect(bytes.length).toBe(5 + 123 + 6 + 200);
    expect(a.build().symbols.A).toBe(5 + 123 + 6);
  });

  it("keeps LOOP/JCXZ (rel8 only) short and exact", () => {
    expect(hex(new Asm().label("L").times(126, 0x90).loop("L"))).toBe(nops(126) + "e280");
  });
});

describe("prefixes for the next instruction", () => {
  // SDM Vol. 2 2.1.1: F0 LOCK, F2 REPNE, F3 REP/REPE, 26/2E/36/3E/64/65 segment, 66 operand size.
  it.each([
    ["rep movsb", (a: Asm) => a.rep().movsb(), "f3a4"],
    ["repe cmpsd", (a: Asm) => a.repe().cmpsd(), "f3a7"],
    ["repz scasw", (a: Asm) => a.repz().scasw(), "f366af"],
    ["repnz scasb", (a: Asm) => a.repnz().scasb(), "f2ae"],
    ["lock inc dword [ebx]", (a: Asm) => a.lock().inc(dword(ebx)), "f0ff03"],
    ["fs lodsb", (a: Asm) => a.seg(fs).lodsb(), "64ac"],
    ["rep es movsd", (a: Asm) => a.rep().seg(es).movsd(), "f326a5"],
    ["o16 push 5", (a: Asm) => a.o16().push(5), "666a05"],
    ["o16 retf", (a: Asm) => a.o16().retf(), "66cb"],
    ["o32 in 16-bit code: push 5", (a: Asm) => a.bits(16).o32().push(5), "666a05"],
    ["o32 jmp far in 16-bit code", (a: Asm) => a.bits(16).o32().jmp(far(8, 0x12345)), "66ea452301000800"],
    ["a prefix applies to one instruction only", (a: Asm) => a.o16().push(5).push(5), "666a056a05"],
  ])("%s", (_, f, want) => {
    const a = new Asm();
    f(a);
    expect(hex(a)).toBe(want);
  });
});

describe("data and layout directives", () => {
  it("db takes bytes, negative bytes and UTF-8 strings", () => {
    expect(hex(new Asm().db(1, 255, -1, "hi\n", "é"))).toBe("01ffff68690ac3a9");
  });

  it("dw and dd are little-endian; dd of a label is its absolute address", () => {
    expect(hex(new Asm({ origin: 0x100000 }).dw(0x1234, -2).label("x").dd(0x12345678, "x")))
      .toBe("3412feff" + "78563412" + le32(0x100004));
  });

  it("times repeats a byte", () => {
    expect(hex(new Asm().times(3, 0xcc).times(0))).toBe("cccccc");
  });

  it("org pads with zeros up to an absolute address", () => {
    const img = new Asm({ origin: 0x7c00 }).nop().org(0x7c04).db(0xaa).build();
    expect(Buffer.from(img.bytes).toString("hex")).toBe("90000000aa");
  });

  it("align pads to a multiple of the absolute address with the fill byte", () => {
    expect(hex(new Asm({ origin: 0x1001 }).align(4, 0x90).db(1).align(2).db(2).align(1).db(3))).toBe("90909001" + "0002" + "03");
  });

  it("switches the default operand size with bits()", () => {
    // mov ax, bx: 89 D8 in 16-bit code, 66 89 D8 in 32-bit code; mov eax, ebx the other way round.
    expect(hex(new Asm({ bits: 16 }).mov(ax, bx).mov(eax, 0).bits(32).mov(ax, bx).mov(eax, 0)))
      .toBe("89d8" + "66b800000000" + "6689d8" + "b800000000");
  });

  it("adds 67 for memory operands of the other address size", () => {
    expect(hex(new Asm({ bits: 16 }).lea(ax, ptr(eax)).bits(32).lea(eax, ptr(bx)))).toBe("678d00" + "678d07");
  });

  it("builds the same bytes every time", () => {
    const a = new Asm({ origin: 0x100000 }).jmp("L").times(300, 0x90).label("L").dd("L");
    expect(hex(a)).toBe(hex(a));
  });
});
