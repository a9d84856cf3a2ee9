/**
 * The typed mnemonic methods of Asm: the generated list (src/guests/asm/mnemonics.ts) must be exactly
 * the mnemonics and aliases of the assembler-selectable rows of the opcode table (reference: ISA), and
 * each method must assemble like the generic insn().
 */
import { describe, expect, it } from "vitest";
import { ISA } from "../../src/cpu/isa/index.ts";
import { Asm, MNEMONICS, eax, ebx } from "../../src/guests/asm/index.ts";

function fromTable(): string[] {
  const names = new Set<string>();
  for (const r of ISA) {
    if (r.noAsm) continue;
    names.add(r.mnemonic);
    for (const a of r.aliases ?? []) names.add(a);
  }
  return [...names].sort();
}

describe("mnemonic methods", () => {
  it("lists exactly the selectable mnemonics and aliases of the opcode table", () => {
    const want = fromTable();
    const have: string[] = [...MNEMONICS];
    // On failure, regenerate the MNEMONICS list in src/guests/asm/mnemonics.ts from `want`.
    expect({ missing: want.filter((m) => !have.includes(m)), extra: have.filter((m) => !want.includes(m)) })
      .toEqual({ missing: [], extra: [] });
    expect(have).toEqual(want);
  });

  it("has a method per mnemonic that assembles like insn()", () => {
    const bad = MNEMONICS.filter((m) => typeof (Asm.prototype as unknown as Record<string, unknown>)[m] !== "function");
    expect(bad).toEqual([]);
    const viaMethod = new Asm().cmovge(eax, ebx).in(eax, 0x60).int(0x80).sal(eax, 2).jz("x").label("x").build().bytes;
    const viaInsn = new Asm().insn("cmovge", eax, ebx).insn("in", eax, 0x60).insn("int", 0x80).insn("sal", eax, 2)
      .insn("jz", "x").label("x").build().bytes;
    expect(Buffer.from(viaMethod).toString("hex")).toBe(Buffer.from(viaInsn).toString("hex"));
    expect(Buffer.from(viaMethod).toString("hex")).toBe("0f4dc3" + "e560" + "cd80" + "c1e002" + "7400");
  });

  it("accepts mnemonics in any case through insn()", () => {
    expect(Buffer.from(new Asm().insn("NOP").build().bytes).toString("hex")).toBe("90");
  });
});
