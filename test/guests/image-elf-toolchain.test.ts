/**
 * ELF kernels built by the GNU toolchain (as --32, ld -m elf_i386), loaded by our Multiboot loader:
 * the ranges placed must be exactly the PT_LOAD rows that readelf reports (an independent reference).
 * Skipped, with a message, when binutils is not installed (CI installs it).
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMultiboot } from "../../src/guests/image/multiboot-loader.ts";

function have(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const HAVE_BINUTILS = have("as", ["--version"]) && have("ld", ["-V"]) && have("readelf", ["--version"]);
if (!HAVE_BINUTILS) console.warn("skipping image-elf-toolchain tests: install binutils (as, ld, readelf)");

const SOURCE = `
.text
.align 4
mbh: .long 0x1BADB002, 0x3, -(0x1BADB002+0x3)
.globl _start
_start:
  mov $0x48, %al
  out %al, $0xe9
  mov $0x10, %al
  out %al, $0xf4
  hlt
.data
msg: .ascii "hi"
.bss
buf: .space 4096
`;

describe.skipIf(!HAVE_BINUTILS)("ELF kernels from binutils", () => {
  it("places exactly the PT_LOAD segments readelf lists, zero-filling p_memsz beyond p_filesz", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmxsim-elf-"));
    try {
      writeFileSync(join(dir, "k.S"), SOURCE);
      execFileSync("as", ["--32", "-o", join(dir, "k.o"), join(dir, "k.S")]);
      execFileSync("ld", ["-m", "elf_i386", "-Ttext", "0x100000", "-e", "_start", "-z", "noexecstack", "-o", join(dir, "k.elf"), join(dir, "k.o")]);
      const image = new Uint8Array(readFileSync(join(dir, "k.elf")));
      const listing = execFileSync("readelf", ["-lW", join(dir, "k.elf")], { encoding: "utf8" });
      const loads = [...listing.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)]
        .map((m) => ({ offset: parseInt(m[1], 16), paddr: parseInt(m[3], 16), filesz: parseInt(m[4], 16), memsz: parseInt(m[5], 16) }));
      const entry = parseInt(/Entry point 0x([0-9a-f]+)/.exec(listing)![1], 16);
      expect(loads.length).toBeGreaterThan(1);

      const ram = new Uint8Array(4 << 20).fill(0xaa);
      const boot = loadMultiboot(image, ram);
      expect(boot.format).toBe("elf");
      expect(boot.entry).toBe(entry);
      expect(boot.ranges).toEqual(loads.map((l) => ({ addr: l.paddr, fileBytes: l.filesz, memBytes: l.memsz })));
      for (const l of loads) {
        expect(Buffer.from(ram.subarray(l.paddr, l.paddr + l.filesz)).equals(Buffer.from(image.subarray(l.offset, l.offset + l.filesz)))).toBe(true);
        expect(ram.subarray(l.paddr + l.filesz, l.paddr + l.memsz).every((b) => b === 0)).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
