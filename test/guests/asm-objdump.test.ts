/**
 * The assembler checked against GNU objdump, an independent disassembler (reference: binutils
 * `objdump -D -b binary -m i386|i8086 -M intel`): every assembler-selectable row of the opcode table,
 * in 32- and 16-bit code, at both operand sizes, with register and memory r/m operands, REP and LOCK
 * variants, must disassemble to the instruction we meant; and every ModRM/SIB addressing form must
 * address the same memory. Decoding our bytes with src/cpu/decoder.ts must select the same row
 * (the round trip); objdump cannot tell near from far indirect jumps apart, the row identity can.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ISA, type IsaRow } from "../../src/cpu/isa/index.ts";
import { Asm, dword, ecx, cx, word, type MemOperand } from "../../src/guests/asm/index.ts";
import { addressingSamples, samplesFor, type AddrSample, type Sample } from "./asm-samples.ts";
import { assembleSample, decodeAt, haveTool, hexOf, objdump, SLOT, slotImage, type Disasm } from "./asm-harness.ts";
import { normalizeObjdump, objdumpText } from "./asm-objdump-text.ts";

const HAVE = haveTool("objdump");
const title = HAVE ? "assembler vs objdump" : "assembler vs objdump (SKIPPED: objdump not installed; apt-get install binutils)";

interface ModeRun {
  samples: Sample[];
  bytes: (Uint8Array | string)[];
  image: Uint8Array;
  dis: Map<number, Disasm>;
}

function runMode(bits: 16 | 32): ModeRun {
  const samples = samplesFor(bits, (k) => k * SLOT);
  const bytes = samples.map((s, k) => assembleSample(s, k * SLOT));
  const image = slotImage(bytes);
  return { samples, bytes, image, dis: objdump(image, bits) };
}

const label = (s: Sample) =>
  `${s.bits}-bit ${s.prefix ? s.prefix + " " : ""}${s.row.mnemonic} ${s.row.operands.join(",")} (os ${s.os})`;

describe.skipIf(!HAVE).each([32, 16] as const)(`${title}: %i-bit code`, (bits) => {
  let run: ModeRun;
  beforeAll(() => {
    run = runMode(bits);
  });

  it("assembles a sample of every selectable row without error", () => {
    const errors = run.samples.flatMap((s, k) => (typeof run.bytes[k] === "string" ? [`${label(s)}: ${run.bytes[k]}`] : []));
    expect(errors).toEqual([]);
    expect(run.samples.length).toBeGreaterThan(900);
  });

  it("disassembles each sample to the instruction that was written, with objdump's length", () => {
    const bad: string[] = [];
    run.samples.forEach((s, k) => {
      const ours = run.bytes[k];
      if (typeof ours === "string") return;
      const d = run.dis.get(k * SLOT);
      const want = objdumpText(s);
      const got = d ? normalizeObjdump(d.text) : "<no instruction at slot start>";
      if (got !== want || d?.hex !== hexOf(ours)) bad.push(`${label(s)}: ${hexOf(ours)} -> objdump ${d?.hex} "${got}", want "${want}"`);
    });
    expect(bad).toEqual([]);
  });

  it("decodes each sample with our decoder to the same row, length and operand size", () => {
    const bad: string[] = [];
    run.samples.forEach((s, k) => {
      const ours = run.bytes[k];
      if (typeof ours === "string") return;
      const i = decodeAt(run.image, k * SLOT, bits);
      // A register r/m may legitimately pick NASM's preferred row of the same mnemonic (01 /r over 03 /r,
      // 50+r over FF /6, B8+r over C7 /0); a memory operand must give exactly the row under test.
      const memForm = s.ops.some((o) => typeof o === "object" && "kind" in o && o.kind === "mem");
      const rowOk = i.row === s.row || (!memForm && i.row?.mnemonic === s.row.mnemonic);
      if (!rowOk || i.len !== ours.length || i.opsize * 8 !== s.os) {
        bad.push(`${label(s)}: ${hexOf(ours)} decodes to ${i.row?.mnemonic} ${i.row?.operands.join(",")} len ${i.len} os ${i.opsize * 8}`);
      }
    });
    expect(bad).toEqual([]);
  });

  it("reaches every row the assembler may select", () => {
    const hit = new Set<IsaRow>();
    run.samples.forEach((_, k) => {
      if (typeof run.bytes[k] !== "string") {
        const r = decodeAt(run.image, k * SLOT, bits).row;
        if (r) hit.add(r);
      }
    });
    const missing = ISA.filter((r) => !r.noAsm && !hit.has(r)).map((r) => `${r.mnemonic} ${r.operands.join(",")}`);
    expect(missing).toEqual([]);
  });
});

// ---- addressing forms: compare the effective-address expression, not the spelling ----

interface Ea {
  seg: string;
  terms: string;
  disp: number;
}

const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const SEGS = ["es", "cs", "ss", "ds", "fs", "gs"];

function canon(coef: Map<string, number>, disp: number, as: number, seg: string): Ea {
  const terms = [...coef].filter(([, c]) => c !== 0).sort().map(([r, c]) => `${r}*${c}`).join("+");
  return { seg, terms, disp: as === 16 ? disp & 0xffff : disp >>> 0 };
}

function eaOfOperand(m: MemOperand, bits: 16 | 32): Ea {
  const coef = new Map<string, number>();
  if (m.base) coef.set(m.base.name, 1);
  if (m.index) coef.set(m.index.name, (coef.get(m.index.name) ?? 0) + m.scale);
  const as = m.base?.type === "r16" || m.index?.type === "r16" ? 16 : m.base || m.index ? 32 : bits;
  return canon(coef, m.disp as number, as, m.seg?.name ?? "");
}

/** Parse objdump's `WORD PTR fs:[bx+si+0x4]` / `ds:0x1234` memory operand. */
function eaOfObjdump(text: string, bits: 16 | 32): Ea | undefined {
  const m = /(?:(es|cs|ss|ds|fs|gs):)?(?:\[([^\]]*)\]|(0x[0-9a-f]+))\s*$/.exec(text);
  if (!m) return undefined;
  const coef = new Map<string, number>();
  let disp = 0;
  let as: number = bits;
  if (m[3]) disp = parseInt(m[3], 16);
  else {
    for (const t of m[2].match(/[+-]?[^+-]+/g) ?? []) {
      const sign = t.startsWith("-") ? -1 : 1;
      const body = t.replace(/^[+-]/, "");
      if (body.startsWith("0x")) disp += sign * parseInt(body, 16);
      else {
        const [r, sc] = body.split("*");
        if (r === "eiz") continue;
        as = R16.includes(r) ? 16 : 32;
        coef.set(r, (coef.get(r) ?? 0) + Number(sc ?? 1));
      }
    }
  }
  // objdump spells every absolute address with "ds:"; only a bracketed form shows an override as such.
  return canon(coef, disp, as, m[3] && m[1] === "ds" ? "" : m[1] ?? "");
}

function eaOfDecoded(bytes: Uint8Array, addr: number, bits: 16 | 32): Ea {
  const i = decodeAt(bytes, addr, bits);
  const names = i.a16 ? R16 : R32;
  const coef = new Map<string, number>();
  if (i.base < 8) coef.set(names[i.base], 1);
  if (i.index < 8) coef.set(names[i.index], (coef.get(names[i.index]) ?? 0) + (1 << i.scale));
  return canon(coef, i.disp, i.a16 ? 16 : 32, i.segOverride ? SEGS[i.seg] : "");
}

describe.skipIf(!HAVE).each([32, 16] as const)(`${title}: %i-bit addressing forms`, (bits) => {
  let samples: AddrSample[];
  let bytes: Uint8Array[];
  let image: Uint8Array;
  let dis: Map<number, Disasm>;
  beforeAll(() => {
    samples = addressingSamples(bits);
    bytes = samples.map((s, k) => {
      const a = new Asm({ bits, origin: k * SLOT });
      a.mov(bits === 32 ? ecx : cx, s.mem.size === 4 ? dword(s.mem) : word(s.mem));
      return a.build().bytes;
    });
    image = slotImage(bytes);
    dis = objdump(image, bits);
  });

  it("addresses the memory that was written, per objdump and per our decoder", () => {
    const bad: string[] = [];
    samples.forEach((s, k) => {
      const want = eaOfOperand(s.mem, bits);
      const d = dis.get(k * SLOT);
      const got = d ? eaOfObjdump(d.text, bits) : undefined;
      const dec = eaOfDecoded(image, k * SLOT, bits);
      if (JSON.stringify(got) !== JSON.stringify(want) || d?.hex !== hexOf(bytes[k])) {
        bad.push(`objdump: ${hexOf(bytes[k])} "${d?.text}" ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      }
      if (JSON.stringify(dec) !== JSON.stringify(want)) bad.push(`decoder: ${hexOf(bytes[k])} ${JSON.stringify(dec)} want ${JSON.stringify(want)}`);
    });
    expect(bad).toEqual([]);
    expect(samples.length).toBeGreaterThan(bits === 32 ? 1500 : 60);
  });
});
