/**
 * Multiboot-1 loading (Multiboot Specification 0.6.96 §3.1-3.3, and QEMU's hw/i386/multiboot.c for
 * the a.out-kludge rules): placement, zero-fill, entry state, the information structure, and every
 * malformed-image error, each of which must name the field and offset and leave RAM untouched.
 */
import { describe, expect, it } from "vitest";
import { loadMultiboot } from "../../src/guests/image/multiboot-loader.ts";
import { ImageError } from "../../src/guests/image/image-error.ts";
import { writeElf32 } from "../../src/guests/image/elf32-writer.ts";
import { bareHeader, flatKernel, MB_MAGIC } from "../scenario/fixtures/multiboot-flat.ts";

const MiB = 1024 * 1024;
const CODE = [0xf4, 0xeb, 0xfd]; // hlt; jmp $-1

function freshRam(bytes = 4 * MiB): Uint8Array {
  return new Uint8Array(bytes).fill(0xaa);
}
const u32 = (ram: Uint8Array, at: number) => new DataView(ram.buffer).getUint32(at, true);

function expectImageError(image: Uint8Array, re: RegExp, ramBytes = 4 * MiB): void {
  const ram = freshRam(ramBytes);
  let err: unknown;
  try {
    loadMultiboot(image, ram);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ImageError);
  expect((err as Error).message).toMatch(re);
  expect(ram.every((b) => b === 0xaa)).toBe(true); // nothing half-written
}

describe("Multiboot header search (§3.1.1)", () => {
  it("finds the header at any 4-byte aligned offset in the first 8192 bytes", () => {
    const img = flatKernel({ code: CODE, headerOffset: 8192 - 32 });
    const boot = loadMultiboot(img, freshRam());
    expect(boot.header.offset).toBe(8192 - 32);
  });

  it("does not look past 8192 bytes", () => {
    expectImageError(flatKernel({ code: CODE, headerOffset: 8192 }), /no Multiboot header: magic 0x1badb002 not found .* first 8192 bytes/);
  });

  it("does not accept a header at an unaligned offset", () => {
    const img = new Uint8Array(64);
    img.set(bareHeader(0), 2);
    expectImageError(img, /no Multiboot header/);
  });

  it("reports a bad checksum with the offset and the expected value", () => {
    expectImageError(
      flatKernel({ code: CODE, headerOffset: 16, checksum: 0x12345678 }),
      /Multiboot header at offset 0x10: checksum 0x12345678 is wrong for flags 0x10000 .*expected 0xe4514ffe/,
    );
  });

  it("skips a stray magic with a bad checksum and uses the real header after it", () => {
    const img = flatKernel({ code: CODE, headerOffset: 32 });
    new DataView(img.buffer).setUint32(0, MB_MAGIC, true);
    expect(loadMultiboot(img, freshRam()).header.offset).toBe(32);
  });

  it("refuses a required feature bit it does not know (§3.1.2)", () => {
    expectImageError(flatKernel({ code: CODE, flags: 0x10008 }), /flags 0x10008 require feature bit 3/);
  });

  it("accepts the video-mode request with a note (no display), as QEMU does", () => {
    const boot = loadMultiboot(flatKernel({ code: CODE, flags: 0x10004 }), freshRam());
    expect(boot.notes.join("\n")).toMatch(/video mode/);
  });

  it("refuses a header with bit 16 clear on a file that is not ELF", () => {
    const img = new Uint8Array(64);
    img.set(bareHeader(0x3), 0);
    expectImageError(img, /offset 0x0 has flags 0x3 with bit 16 clear .*must be ELF/);
  });

  it("refuses bit 16 when the address fields do not fit in the first 8192 bytes", () => {
    const img = new Uint8Array(8192 + 64);
    img.set(bareHeader(0x10000), 8192 - 12);
    expectImageError(img, /bit 16 is set but the address fields .* are not within the first 8192 bytes/);
  });
});

describe("flat images: the a.out kludge (§3.1.3)", () => {
  it("copies load_addr..load_end_addr from the file, zero-fills to bss_end_addr, enters at entry_addr", () => {
    const img = flatKernel({ code: CODE, bssBytes: 100 });
    const ram = freshRam();
    const boot = loadMultiboot(img, ram);
    expect(boot.format).toBe("aout-kludge");
    expect(boot.entry).toBe(0x100020);
    expect([...ram.subarray(0x100000, 0x100000 + img.length)]).toEqual([...img]);
    expect(ram.subarray(0x100000 + img.length, 0x100000 + img.length + 100).every((b) => b === 0)).toBe(true);
    expect(ram[0x100000 + img.length + 100]).toBe(0xaa);
    expect(boot.ranges).toEqual([{ addr: 0x100000, fileBytes: img.length, memBytes: img.length + 100 }]);
  });

  it("starts the load header_addr - load_addr bytes before the header in the file", () => {
    // 16 bytes of junk, then the header: load_addr = header_addr - 8 takes the file from offset 8.
    const img = flatKernel({ code: CODE, headerOffset: 16, loadAddr: 0x200000, headerAddr: 0x200008 });
    const v = new DataView(img.buffer);
    v.setUint32(16 + 20, 0x200008 + 32 + CODE.length, true); // load_end_addr
    v.setUint32(16 + 24, 0, true); // no bss
    v.setUint32(16 + 28, 0x200008 + 32, true);
    img[8] = 0x5a;
    const ram = freshRam();
    loadMultiboot(img, ram);
    expect(ram[0x200000]).toBe(0x5a);
    expect(u32(ram, 0x200008)).toBe(MB_MAGIC);
  });

  it("loads to the end of the file when load_end_addr is 0, and no bss when bss_end_addr is 0", () => {
    const img = flatKernel({ code: CODE, loadEndAddr: 0, bssEndAddr: 0 });
    const boot = loadMultiboot(img, freshRam());
    expect(boot.ranges[0]).toEqual({ addr: 0x100000, fileBytes: img.length, memBytes: img.length });
  });

  it.each([
    [{ headerAddr: 0xfffff }, /header_addr \(offset 0xc\) = 0xfffff is below load_addr 0x100000/],
    [{ headerAddr: 0x100010 }, /header_addr \(offset 0xc\) = 0x100010 is 0x10 bytes above load_addr .* only 0x0 bytes into the file/],
    [{ loadEndAddr: 0xff000 }, /load_end_addr \(offset 0x14\) = 0xff000 is below load_addr 0x100000/],
    [{ loadEndAddr: 0x100400 }, /load_end_addr \(offset 0x14\) = 0x100400 asks for 0x400 bytes from file offset 0x0, but the file ends at 0x23/],
    [{ bssEndAddr: 0x100010 }, /bss_end_addr \(offset 0x18\) = 0x100010 is below the end of the loaded data 0x100023/],
    [{ bssEndAddr: 0x500000 }, /load_addr\.\.bss_end_addr: 0x100000-0x4fffff is outside RAM \(0x400000 bytes, 4 MiB\)/],
    [{ loadAddr: 0xfffffff0, loadEndAddr: 0, bssEndAddr: 0 }, /load_addr \(offset 0x10\) = 0xfffffff0 \+ 0x23 bytes wraps past 4 GiB/],
  ])("rejects %o", (fields, re) => {
    expectImageError(flatKernel({ code: CODE, ...fields }), re);
  });

  it("notes an entry point outside the loaded image", () => {
    const boot = loadMultiboot(flatKernel({ code: CODE, entryAddr: 0x300000 }), freshRam());
    expect(boot.notes.join("\n")).toMatch(/entry point 0x300000 is outside every loaded range/);
  });
});

describe("the information structure and entry state (§3.2, §3.3)", () => {
  it("passes EAX = 0x2BADB002 and EBX = the structure, at 0x9000 as QEMU does", () => {
    const boot = loadMultiboot(flatKernel({ code: CODE }), freshRam());
    expect(boot.eax).toBe(0x2badb002);
    expect(boot.ebx).toBe(0x9000);
  });

  it("reports mem_lower = 640 and mem_upper = (RAM - 1 MiB) / 1024, a memory map and the loader's name", () => {
    const ram = freshRam(128 * MiB);
    const boot = loadMultiboot(flatKernel({ code: CODE }), ram);
    const mbi = boot.infoAddr;
    const flags = u32(ram, mbi);
    expect(flags & 1).toBe(1);
    expect(flags & 4).toBe(0); // no command line given
    expect(u32(ram, mbi + 4)).toBe(640);
    expect(u32(ram, mbi + 8)).toBe(130048); // what QEMU reports for -m 128
    expect(flags & (1 << 6)).not.toBe(0);
    const mmapLen = u32(ram, mbi + 44), mmapAddr = u32(ram, mbi + 48);
    const entries: [number, number, number][] = [];
    for (let p = mmapAddr; p < mmapAddr + mmapLen; p += u32(ram, p) + 4) {
      entries.push([u32(ram, p + 4), u32(ram, p + 12), u32(ram, p + 20)]);
    }
    expect(entries).toEqual([[0, 0x9fc00, 1], [0x9fc00, 0x60400, 2], [0x100000, 127 * MiB, 1]]);
    expect(flags & (1 << 9)).not.toBe(0);
    const name = u32(ram, mbi + 64);
    expect(new TextDecoder().decode(ram.subarray(name, ram.indexOf(0, name)))).toBe("vmxsim");
  });

  it("passes a command line when given (flags bit 2)", () => {
    const ram = freshRam();
    const boot = loadMultiboot(flatKernel({ code: CODE }), ram, { cmdline: "console=e9 quiet" });
    expect(u32(ram, boot.infoAddr) & 4).toBe(4);
    const p = u32(ram, boot.infoAddr + 16);
    expect(new TextDecoder().decode(ram.subarray(p, ram.indexOf(0, p)))).toBe("console=e9 quiet");
  });

  it("refuses a command line too long for the information area", () => {
    expect(() => loadMultiboot(flatKernel({ code: CODE }), freshRam(), { cmdline: "x".repeat(5000) })).toThrow(
      /command line is 5000 characters; at most \d+ fit/,
    );
  });

  it("moves the structure above the kernel when the kernel occupies 0x9000", () => {
    const ram = freshRam();
    const boot = loadMultiboot(flatKernel({ code: CODE, loadAddr: 0x8000, bssBytes: 0x2000 }), ram);
    expect(boot.infoAddr).toBe(0xb000);
    expect(u32(ram, 0xb004)).toBe(640);
  });
});

describe("ELF kernels (flags bit 16 clear)", () => {
  function elfKernel(extra: { bss?: number; vaddr?: number; entry?: number } = {}): Uint8Array {
    const text = new Uint8Array(64);
    text.set(bareHeader(0x3), 0);
    text.set(CODE, 12);
    const data = Uint8Array.from([1, 2, 3, 4]);
    return writeElf32({
      entry: extra.entry ?? 0x10000c,
      segments: [
        { paddr: 0x100000, vaddr: extra.vaddr, bytes: text, flags: 5 },
        { paddr: 0x101000, bytes: data, memsz: 4 + (extra.bss ?? 0), flags: 6 },
      ],
    });
  }

  it("copies each PT_LOAD segment to p_paddr, zero-fills to p_memsz, enters at e_entry", () => {
    const ram = freshRam();
    const boot = loadMultiboot(elfKernel({ bss: 0x20 }), ram);
    expect(boot.format).toBe("elf");
    expect(boot.entry).toBe(0x10000c);
    expect(u32(ram, 0x100000)).toBe(MB_MAGIC);
    expect([...ram.subarray(0x101000, 0x101004)]).toEqual([1, 2, 3, 4]);
    expect(ram.subarray(0x101004, 0x101024).every((b) => b === 0)).toBe(true);
    expect(ram[0x101024]).toBe(0xaa);
    expect(boot.ranges.map((r) => r.addr)).toEqual([0x100000, 0x101000]);
  });

  it("translates a virtual (higher-half) e_entry to the physical copy, with a note", () => {
    const boot = loadMultiboot(elfKernel({ vaddr: 0xc0100000, entry: 0xc010000c }), freshRam());
    expect(boot.entry).toBe(0x10000c);
    expect(boot.notes.join("\n")).toMatch(/e_entry 0xc010000c is a virtual address; entering at its physical address 0x10000c/);
  });

  it("prefers the a.out kludge when bit 16 is set, even in an ELF file (as QEMU does)", () => {
    const flat = flatKernel({ code: CODE, loadAddr: 0x200000 });
    const elf = writeElf32({ entry: 0x100000, segments: [{ paddr: 0x100000, bytes: flat }] });
    // header_addr = load_addr + header offset in the file (0x1000)
    const v = new DataView(elf.buffer);
    v.setUint32(0x1000 + 12, 0x201000, true);
    v.setUint32(0x1000 + 20, 0, true);
    v.setUint32(0x1000 + 24, 0, true);
    const ram = freshRam();
    const boot = loadMultiboot(elf, ram);
    expect(boot.format).toBe("aout-kludge");
    expect(u32(ram, 0x201000)).toBe(MB_MAGIC);
    expect(boot.notes.join("\n")).toMatch(/not the ELF program headers/);
  });

  const patch = (img: Uint8Array, f: (v: DataView, b: Uint8Array) => void) => {
    const b = img.slice();
    f(new DataView(b.buffer), b);
    return b;
  };
  const phdr1 = 52 + 32; // second program header
  it.each<[string, (v: DataView, b: Uint8Array) => void, RegExp]>([
    ["ELFCLASS64", (_v, b) => (b[4] = 2), /e_ident\[EI_CLASS\] at offset 0x4 is 2 \(ELFCLASS64\)/],
    ["big-endian", (_v, b) => (b[5] = 2), /EI_DATA\] at offset 0x5 is 2: need ELFDATA2LSB/],
    ["bad version", (_v, b) => (b[6] = 0), /EI_VERSION\] at offset 0x6 is 0/],
    ["ET_DYN", (v) => v.setUint16(16, 3, true), /e_type at offset 0x10 is 3 \(ET_DYN\): need ET_EXEC/],
    ["x86-64", (v) => v.setUint16(18, 62, true), /e_machine at offset 0x12 is 62 \(EM_X86_64\): need EM_386/],
    ["no program headers", (v) => v.setUint16(44, 0, true), /e_phnum at offset 0x2c is 0/],
    ["short phentsize", (v) => v.setUint16(42, 16, true), /e_phentsize at offset 0x2a is 16/],
    ["program headers past EOF", (v) => v.setUint32(28, 0x10000, true), /truncated ELF: program header table \(e_phoff 0x10000/],
    ["segment past EOF", (v) => { v.setUint32(phdr1 + 16, 0x10000, true); v.setUint32(phdr1 + 20, 0x10000, true); }, /truncated ELF: ELF program header 1 at offset 0x54: p_offset 0x2000 \+ p_filesz 0x10000 = 0x12000 is past the end of the file \(0x2004 bytes\)/],
    ["filesz > memsz", (v) => v.setUint32(phdr1 + 20, 2, true), /program header 1 at offset 0x54: p_filesz 0x4 is larger than p_memsz 0x2/],
    ["segment outside RAM", (v) => v.setUint32(phdr1 + 12, 0x3ffffe, true), /program header 1 at offset 0x54 \(p_paddr \+ p_memsz\): 0x3ffffe-0x400001 is outside RAM/],
    ["segment wraps 4 GiB", (v) => v.setUint32(phdr1 + 12, 0xfffffffe, true), /p_paddr 0xfffffffe \+ p_memsz 0x4 wraps past 4 GiB/],
    ["no PT_LOAD", (v) => { v.setUint32(52, 4, true); v.setUint32(phdr1, 4, true); }, /none of the 2 program headers .* is a non-empty PT_LOAD/],
  ])("rejects %s, naming the field and offset", (_name, f, re) => {
    expectImageError(patch(elfKernel(), f), re);
  });

  it("rejects a truncated ELF header", () => {
    const img = new Uint8Array(40);
    img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    img.set(bareHeader(0), 20);
    expectImageError(img, /truncated ELF header: the file has 40 bytes, the ELF32 header needs 52/);
  });
});
