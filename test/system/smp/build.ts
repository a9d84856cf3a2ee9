/**
 * Builds the SMP test kernel (smp.asm) with the GNU-style toolchain the other ELF tests use:
 *   nasm -f elf32 smp.asm  ->  ld -m elf_i386 -T smp.ld  ->  a Multiboot-1 ELF32 (for QEMU -kernel and
 *   vmxsim exec), and for Bochs, which boots no Multiboot image, objcopy -O binary of that ELF wrapped by
 *   rom-loader.asm into a 64 KiB ROM that loads it from the reset vector.
 * The ELF facts the ROM needs (entry point, the span of the PT_LOAD segments) are read from the ELF's
 * own headers (System V gABI "ELF Header" and "Program Header", 32-bit layout).
 * Leaves out: caching of builds (each call assembles afresh, in a temporary directory).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SMP_DIR = dirname(fileURLToPath(import.meta.url));
export const SMP_SOURCE = join(SMP_DIR, "smp.asm");
export const SMP_LINK_SCRIPT = join(SMP_DIR, "smp.ld");
export const ROM_LOADER_SOURCE = join(SMP_DIR, "rom-loader.asm");
/** Where smp.ld puts the kernel. */
export const LOAD_ADDR = 0x100000;
export const ROM_BYTES = 0x10000;
export const BUILD_HINT = "install NASM and binutils: apt-get install nasm binutils (.ci/run does this)";

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Null when nasm, ld and objcopy are all there; else what is missing and how to get it. */
export function missingBuildTools(): string | null {
  const missing = [
    ["nasm", ["-v"]],
    ["ld", ["-v"]],
    ["objcopy", ["--version"]],
  ].filter(([cmd, args]) => !runs(cmd as string, args as string[])).map(([cmd]) => cmd);
  return missing.length === 0 ? null : `missing ${missing.join(", ")}: ${BUILD_HINT}`;
}

function tool(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${err.stderr?.toString() ?? err.message}`);
  }
}

function inTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-smp-"));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function linkElf(dir: string): string {
  const obj = join(dir, "smp.o");
  const elf = join(dir, "smp.elf");
  tool("nasm", ["-f", "elf32", "-w+all", "-o", obj, SMP_SOURCE]);
  tool("ld", ["-m", "elf_i386", "-T", SMP_LINK_SCRIPT, "-z", "noexecstack", "--build-id=none", "-o", elf, obj]);
  return elf;
}

/** The kernel as a Multiboot-1 ELF32 image (what `qemu-system-i386 -kernel` and `vmxsim exec` take). */
export function buildSmpElf(): Uint8Array {
  return inTempDir((dir) => new Uint8Array(readFileSync(linkElf(dir))));
}

export interface ElfFacts {
  entry: number;
  /** Lowest p_paddr and highest p_paddr + p_memsz over the PT_LOAD segments. */
  loadStart: number;
  loadEnd: number;
}

/** Entry point and load span of an ELF32 little-endian executable, from its headers. */
export function elfFacts(elf: Uint8Array): ElfFacts {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (v.getUint32(0, false) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 1) throw new Error("not an ELF32 little-endian file");
  const entry = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  let loadStart = Infinity;
  let loadEnd = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (v.getUint32(ph, true) !== 1) continue; // PT_LOAD
    const paddr = v.getUint32(ph + 12, true);
    const memsz = v.getUint32(ph + 20, true);
    loadStart = Math.min(loadStart, paddr);
    loadEnd = Math.max(loadEnd, paddr + memsz);
  }
  if (loadEnd === 0) throw new Error("the ELF has no PT_LOAD segment");
  return { entry, loadStart, loadEnd };
}

/** The kernel inside a 64 KiB ROM (rom-loader.asm) that loads it from the reset vector: for Bochs. */
export function buildSmpRom(): Uint8Array {
  return inTempDir((dir) => {
    const elfPath = linkElf(dir);
    const facts = elfFacts(new Uint8Array(readFileSync(elfPath)));
    if (facts.loadStart !== LOAD_ADDR) throw new Error(`smp.elf loads at 0x${facts.loadStart.toString(16)}, not 0x${LOAD_ADDR.toString(16)}`);
    const bin = join(dir, "smp.bin");
    tool("objcopy", ["-O", "binary", elfPath, bin]);
    const zeroBytes = (facts.loadEnd - LOAD_ADDR + 3) & ~3;
    const rom = join(dir, "smp.rom");
    tool("nasm", [
      "-f", "bin", "-w+all",
      `-DKERNEL_BIN="${bin}"`, `-DLOAD_ADDR=0x${LOAD_ADDR.toString(16)}`,
      `-DENTRY=0x${facts.entry.toString(16)}`, `-DZERO_BYTES=0x${zeroBytes.toString(16)}`,
      "-o", rom, ROM_LOADER_SOURCE,
    ]);
    const bytes = new Uint8Array(readFileSync(rom));
    if (bytes.length !== ROM_BYTES) throw new Error(`rom-loader.asm assembled to ${bytes.length} bytes, not ${ROM_BYTES}`);
    return bytes;
  });
}
