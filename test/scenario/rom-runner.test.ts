/**
 * The ROM runner (`vmxsim exec --rom`), with ROMs built by our assembler. References, none of them our
 * code: SDM Vol. 3A 9.1.1 Table 9-1 (power-up state: CS F000H base FFFF0000H, EIP FFF0H, CR0 60000010H,
 * EFLAGS 00000002H, EDX 000n06xxH) and 9.1.4 (the first instruction is fetched at FFFFFFF0H); the PC
 * memory map (system BIOS at 0xF0000-0xFFFFF, aliased below 4 GiB, read-only while the i440FX PAM
 * registers are at reset; a BIOS smaller than its window sits at the window's end, 0xFF below it --
 * what Bochs 2.7 shows for a 32 KiB romimage); QEMU's isa-debug-exit status rule ((v << 1) | 1).
 */
import { describe, expect, it } from "vitest";
import {
  al, Asm, ax, byte, cr0, cs, ds, dword, dx, eax, edx, far, fword, word, type RegOperand,
} from "../../src/guests/asm/index.ts";
import { runRom } from "../../src/scenario/rom-runner.ts";
import { ROM_BYTES, romWindow } from "../../src/scenario/rom-board.ts";

/** A ROM of `size` bytes (the end of the 64 KiB window) whose reset vector far-jumps to the body. */
function rom(body: (a: Asm) => void, size = 0x200): Uint8Array {
  const origin = 0x100000 - size;
  const a = new Asm({ bits: 16, origin });
  body(a);
  a.org(0xffff0);
  a.jmp(far(0xf000, origin - 0xf0000));
  a.org(0x100000);
  const bytes = a.build().bytes;
  expect(bytes.length).toBe(size);
  return bytes;
}

/** Put a 32-bit register on debugcon as 4 little-endian bytes (clobbers EAX). */
function out32(a: Asm, r: RegOperand): void {
  if (r !== eax) a.mov(eax, r);
  for (let k = 0; k < 4; k++) a.out(0xe9, al).shr(eax, 8);
}

function exit(a: Asm, v: number): void {
  a.mov(al, v).out(0xf4, al);
}

const u32 = (b: Uint8Array, at: number) => Buffer.from(b).readUInt32LE(at);

describe("runRom", () => {
  it("starts at FFFFFFF0 in the power-up state of SDM Table 9-1", () => {
    const r = runRom(
      rom((a) => {
        a.pushfd(); // EFLAGS and EDX before anything changes them
        out32(a, edx);
        a.mov(eax, cr0);
        out32(a, eax);
        a.pop(eax);
        out32(a, eax);
        a.mov(ax, cs);
        out32(a, eax);
        exit(a, 0x10);
      }),
      { maxInsns: 1000 },
    );
    expect(r.notes.join("\n")).not.toMatch(/triple|internal/);
    expect(r.stop).toBe("debug-exit");
    expect(r.status).toBe(0x21);
    const o = r.stdout;
    expect(o.length).toBe(16);
    expect(u32(o, 0) & 0xfff0_0f00).toBe(0x0000_0600); // EDX = 000n06xxH: family 6 (Table 9-1 footnote)
    expect(u32(o, 4)).toBe(0x60000010); // CR0
    expect(u32(o, 8)).toBe(0x00000002); // EFLAGS
    expect(u32(o, 12) & 0xffff).toBe(0xf000); // CS after the far jump to F000:xxxx
  });

  it("places a short ROM at the end of the 64 KiB window, 0xFF below it, ", () => {
    const image = rom((a) => {
      // Byte 0 of the image at 0xFFE00 and the byte below it (the high alias is where the reset
      // vector was fetched from, so reaching this code already shows it).
      a.mov(ax, 0xf000).mov(ds, ax);
      a.mov(al, byte(0xfe00)).out(0xe9, al);
      a.mov(al, byte(0xfdff)).out(0xe9, al);
      exit(a, 0);
    });
    expect(image[0]).not.toBe(0xff);
    const r = runRom(image, { maxInsns: 1000 });
    expect(r.notes.join("\n")).toMatch(/is 512 bytes: mapped at the end of the 64 KiB window/);
    expect([...r.stdout]).toEqual([image[0], 0xff]);
    expect(r.status).toBe(1);
    const w = romWindow(image);
    expect(w.length).toBe(ROM_BYTES);
    expect(w[ROM_BYTES - image.length - 1]).toBe(0xff);
    expect(w.subarray(ROM_BYTES - image.length)).toEqual(image);
  });

  it("keeps the ROM read-only: stores to 0xF0000-0xFFFFF are discarded", () => {
    const image = rom((a) => {
      a.mov(ax, 0xf000).mov(ds, ax);
      a.mov(al, byte(0xfe00)).out(0xe9, al); // first byte of the image
      a.mov(byte(0xfe00), 0x5a);
      a.mov(al, byte(0xfe00)).out(0xe9, al);
      a.mov(dword(0x0000), 0x12345678); // 0xF0000: below the image, still ROM
      a.mov(al, byte(0x0000)).out(0xe9, al);
      exit(a, 0);
    });
    const r = runRom(image, { maxInsns: 1000 });
    expect([...r.stdout]).toEqual([image[0], image[0], 0xff]);
  });

  it("streams POST codes of ports 0x80 and 0x190 in order", () => {
    const seen: string[] = [];
    const r = runRom(
      rom((a) => {
        a.mov(al, 0x0a).out(0x80, al);
        a.mov(dx, 0x190).mov(al, 0xff).out(dx, al);
        a.mov(al, 0x42).out(0x80, al);
        exit(a, 0);
      }),
      { onPostCode: (port, code) => seen.push(`${port.toString(16)}:${code.toString(16)}`) },
    );
    expect(seen).toEqual(["80:a", "190:ff", "80:42"]);
    expect(r.postCodes).toEqual([{ port: 0x80, code: 0x0a }, { port: 0x190, code: 0xff }, { port: 0x80, code: 0x42 }]);
  });

  it("rejects an empty or over-64-KiB image with status 2, naming it and its size, without running", () => {
    const big = runRom(new Uint8Array(ROM_BYTES + 1), { name: "big.rom" });
    expect(big.status).toBe(2);
    expect(big.stop).toBe("bad-image");
    expect(big.notes).toEqual(["bad ROM: 'big.rom' is 65537 bytes, more than the 64 KiB (65536-byte) ROM window"]);
    expect(big.instructions).toBe(0);
    const empty = runRom(new Uint8Array(0), { name: "empty.rom" });
    expect(empty.status).toBe(2);
    expect(empty.notes[0]).toMatch(/'empty.rom' is empty/);
  });

  it("ends like the Multiboot runner: HLT with IF = 0 gives 0, a triple fault 3, the limit 124", () => {
    const halt = runRom(rom((a) => a.cli().hlt()));
    expect([halt.stop, halt.status]).toEqual(["halt", 0]);
    // IDTR.limit 0: #UD finds no IVT entry -> #GP -> #DF -> shutdown (SDM 20.1.4, 6.15 Table 6-5).
    const tf = runRom(
      rom((a) => {
        a.xor(ax, ax).mov(ds, ax);
        a.mov(word(0x500), 0).mov(dword(0x502), 0);
        a.lidt(fword(0x500));
        a.ud2();
      }),
      { maxInsns: 1000 },
    );
    expect([tf.stop, tf.status]).toEqual(["shutdown", 3]);
    expect(tf.notes.join("\n")).toMatch(/triple fault/);
    const spin = runRom(rom((a) => a.jmp(a.here())), { maxInsns: 5000 });
    expect(spin.status).toBe(124);
    expect(spin.instructions).toBe(5000);
  });
});
