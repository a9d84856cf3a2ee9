/**
 * Shared plumbing of the assembler cross-checks: assemble samples into fixed 16-byte slots of one
 * image (so one objdump or NASM run covers a whole mode), run the external tools, and decode our
 * bytes with the project's decoder for the round trip.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decoder } from "../../src/cpu/decoder.ts";
import type { CoreState } from "../../src/cpu/core-state.ts";
import type { Insn } from "../../src/cpu/insn.ts";
import { Asm } from "../../src/guests/asm/index.ts";
import type { Sample } from "./asm-samples.ts";

export const SLOT = 16;

export function haveTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Assemble one sample at `origin`; the error message instead when the assembler rejects it. */
export function assembleSample(s: Sample, origin: number): Uint8Array | string {
  try {
    const a = new Asm({ bits: s.bits, origin });
    if (s.os !== s.bits || s.force) (s.os === 16 ? a.o16() : a.o32());
    if (s.prefix) a[s.prefix]();
    a.insn(s.mnemonic, ...s.ops);
    return a.build().bytes;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Place each encoding at k * SLOT, padding with NOPs. */
export function slotImage(parts: readonly (Uint8Array | string)[]): Uint8Array {
  const img = new Uint8Array(parts.length * SLOT).fill(0x90);
  parts.forEach((p, k) => {
    if (typeof p !== "string") img.set(p.subarray(0, SLOT), k * SLOT);
  });
  return img;
}

export interface Disasm {
  hex: string;
  text: string;
}

/** objdump -D -b binary -M intel of `bytes` (loaded at 0): address -> instruction. */
export function objdump(bytes: Uint8Array, bits: 16 | 32): Map<number, Disasm> {
  const dir = mkdtempSync(join(tmpdir(), "asm-objdump-"));
  try {
    const file = join(dir, "code.bin");
    writeFileSync(file, bytes);
    const out = execFileSync("objdump", ["-D", "-b", "binary", "-m", bits === 32 ? "i386" : "i8086",
      "-M", "intel", "--insn-width=16", file], { maxBuffer: 64 << 20 }).toString();
    const lines = new Map<number, Disasm>();
    for (const l of out.split("\n")) {
      const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$/.exec(l);
      if (m) lines.set(parseInt(m[1], 16), { hex: m[2].replace(/\s+/g, ""), text: m[3].trim() });
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nasm -f bin of `source`; the bytes, or the error output. */
export function nasm(source: string): Uint8Array | string {
  const dir = mkdtempSync(join(tmpdir(), "asm-nasm-"));
  try {
    writeFileSync(join(dir, "in.asm"), source);
    try {
      execFileSync("nasm", ["-f", "bin", "-o", join(dir, "out.bin"), join(dir, "in.asm")], { stdio: "pipe" });
    } catch (e) {
      return String((e as { stderr?: Buffer }).stderr ?? e);
    }
    return new Uint8Array(readFileSync(join(dir, "out.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const decoder = new Decoder(() => () => {});

/** Decode the instruction at `addr` of an image loaded at 0, with the CS D bit given by `bits`. */
export function decodeAt(bytes: Uint8Array, addr: number, bits: 16 | 32): Insn {
  const core = { fetchCodeByte: (lin: number) => bytes[lin] ?? 0 } as unknown as CoreState;
  return decoder.decode(core, 0, addr, bits === 32);
}

export const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
