/**
 * Multiboot-1 images built by the assembler. References: the Multiboot Specification 0.6.96 section 3.1
 * (header layout: magic 0x1BADB002, flags, checksum with magic + flags + checksum = 0 mod 2^32, the
 * address fields of flag bit 16, header 4-byte aligned within the first 8192 bytes) and, when installed,
 * QEMU's own Multiboot loader (`qemu-system-i386 -kernel`), which must boot the image.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Asm, AsmError, al, buildMultiboot, dx, eax, multibootHeader, MULTIBOOT_BOOTLOADER_MAGIC,
} from "../../src/guests/asm/index.ts";
import { findMultibootHeader } from "../../src/guests/image/multiboot-header.ts";
import { haveTool } from "./asm-harness.ts";

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

describe("Multiboot header", () => {
  const img = buildMultiboot((a) => a.label("start").hlt().jmp("start"), { bssBytes: 0x1000 });

  it("starts the image with the magic, flags (bit 16 address fields, bit 1 memory info) and checksum", () => {
    expect(u32(img.bytes, 0)).toBe(0x1badb002);
    expect(u32(img.bytes, 4)).toBe((1 << 16) | (1 << 1));
    expect((u32(img.bytes, 0) + u32(img.bytes, 4) + u32(img.bytes, 8)) % 2 ** 32).toBe(0);
  });

  it("fills the address fields: header, load, load end, bss end, entry", () => {
    const load = 0x100000;
    expect(img.origin).toBe(load);
    expect([12, 16, 20, 24, 28].map((o) => u32(img.bytes, o)))
      .toEqual([load, load, load + img.bytes.length, load + img.bytes.length + 0x1000, load + 32]);
    expect(img.entry).toBe(load + 32);
    expect(img.symbols.start).toBe(load + 32);
  });

  it("is found by the loader's parser, and a bad checksum is not", () => {
    expect(findMultibootHeader(img.bytes)).toMatchObject({ offset: 0, addresses: { loadAddr: 0x100000, entryAddr: 0x100020 } });
    const bad = img.bytes.slice();
    bad[8] ^= 1;
    expect(() => findMultibootHeader(bad)).toThrow(/checksum/);
  });

  it("aligns the header to 4 bytes and honours an explicit entry label and load address", () => {
    const a = new Asm({ origin: 0x200000 });
    a.db(1, 2, 3);
    multibootHeader(a, { entry: "main", memInfo: false });
    a.nop().label("main").hlt();
    const b = a.build();
    const h = findMultibootHeader(b.bytes);
    expect(h.offset).toBe(4);
    expect(h.flags).toBe(1 << 16);
    expect(h.addresses?.headerAddr).toBe(0x200004);
    expect(h.addresses?.entryAddr).toBe(b.symbols.main);
    expect(b.entry).toBe(b.symbols.main);
  });

  it("refuses a header beyond the first 8 KiB", () => {
    const a = new Asm({ origin: 0x100000 });
    a.times(8192);
    multibootHeader(a);
    expect(() => a.build()).toThrow(AsmError);
  });
});

const HAVE_QEMU = haveTool("qemu-system-i386");

describe.skipIf(!HAVE_QEMU)(HAVE_QEMU ? "Multiboot image under QEMU" : "Multiboot image under QEMU (SKIPPED: qemu-system-i386 not installed)", () => {
  it("is loaded and entered by QEMU's -kernel with EAX = 0x2BADB002", () => {
    // Prints "ok" on debugcon (port 0xE9) if EAX held the boot magic, then exits via isa-debug-exit.
    const img = buildMultiboot((a) => {
      a.cmp(eax, MULTIBOOT_BOOTLOADER_MAGIC).jne("bad").mov(dx, 0xe9);
      for (const c of "ok\n") a.mov(al, c.charCodeAt(0)).out(dx, al);
      a.label("bad").mov(dx, 0xf4).mov(al, 0x21).out(dx, al).hlt();
    });
    const dir = mkdtempSync(join(tmpdir(), "asm-mb-"));
    try {
      writeFileSync(join(dir, "kernel.bin"), img.bytes);
      let out = "";
      let status = 0;
      try {
        out = execFileSync("qemu-system-i386", ["-kernel", join(dir, "kernel.bin"), "-debugcon", "stdio",
          "-device", "isa-debug-exit,iobase=0xf4,iosize=1", "-display", "none", "-no-reboot", "-serial", "none",
          "-monitor", "none"], { timeout: 60_000 }).toString();
      } catch (e) {
        const r = e as { status: number; stdout: Buffer };
        status = r.status;
        out = r.stdout?.toString() ?? "";
      }
      expect(out).toBe("ok\n");
      expect(status).toBe((0x21 << 1) | 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
