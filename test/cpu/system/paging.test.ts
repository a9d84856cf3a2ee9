/**
 * 32-bit paging as the CPU runs it: translation with 4 KiB and 4 MiB pages, access rights combined over
 * both levels, #PF error codes and CR2, accessed and dirty bits, page-crossing accesses, ROM pages and
 * implicit supervisor-mode accesses (CoreState readSys/writeSys).
 *
 * References (never the model itself):
 * - SDM Vol. 3A 4.3 (32-bit paging walk, Figure 4-2/4-3; CR4.PSE and the PS bit), Table 4-4 (4 MiB PDE:
 *   bits 21:13 reserved when MAXPHYADDR is 32 and there is no PSE-36 - our CPUID reports none),
 *   Table 4-5/4-6 (PDE bit 6 ignored when PS = 0);
 * - SDM Vol. 3A 4.6 / 4.6.1 access rights: supervisor reads always allowed; supervisor writes need R/W = 1
 *   at both levels only when CR0.WP = 1; user accesses need U/S = 1 at both levels and, for writes,
 *   R/W = 1 at both levels (WP does not matter); GDT/LDT/IDT/TSS accesses are supervisor-mode accesses
 *   whatever the CPL;
 * - SDM Vol. 3A 4.7 and Figure 4-12: error code P (0 = not present, 1 = protection or reserved bit),
 *   W/R, U/S (the access, not the page), RSVD (only together with P = 1); CR2 = the faulting linear
 *   address; no I/D bit without NX/SMEP;
 * - SDM Vol. 3A 4.8: A set in every entry used, D only in the final entry and only on a write;
 * - Bochs 2.7 cpu/paging.cc translate_linear_legacy: A/D are written only after every check passed, so
 *   a faulting access changes no accessed or dirty bit; cpu/access.cc: a page-crossing access translates
 *   both pages before writing, the second at the first byte of the next page (its CR2);
 * - Bochs memory.cc / the PC platform: a store to ROM has no effect.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { CpuFault } from "../../../src/cpu/exceptions.ts";
import { PageFault } from "../../../src/cpu/paging.ts";
import { type Asm, al, ax, byte, cr0, cr2, cx, ds, dword, eax, ebx, ecx, edi, esi, word } from "../../../src/guests/asm/index.ts";
import { writeCr3 } from "../../../src/cpu/control-registers.ts";
import {
  A, CR0_PG, CR4_PSE, D, DATA, GDT, P, PD, PF, PS, PT_LOW, PT_TEST, RW, Sel, US, WIN, frame, pde, physBytes,
  pte, readPhys32, runPaged, setPte, writePhys32, type PagingOptions, paged, PF_P, PF_RSVD, PF_U, PF_W,
  pdeAddr, TSS, STACK_TOP,
} from "./paging-harness.ts";

const LOAD = (addr: number) => (a: Asm) => {
  a.mov(ebx, 0x11111111);
  a.label("insn");
  a.mov(ebx, dword(addr));
  a.label("after");
};
const STORE = (addr: number) => (a: Asm) => {
  a.mov(eax, 0xa5a5a5a5);
  a.label("insn");
  a.mov(dword(addr), eax);
  a.label("after");
};

/** Run one access; return [vector, error code, CR2] for a fault or ["ok"] when it completed. */
function access(kind: "r" | "w", addr: number, o: PagingOptions): { s: ReturnType<typeof paged>; got: (string | number | null)[] } {
  const { s, o: out } = runPaged(kind === "r" ? LOAD(addr) : STORE(addr), o, 3);
  if (out.vector === null) {
    expect(out.eip).toBe(s.sym.after); // ran to its end
    return { s, got: ["ok"] };
  }
  expect(out.eip).toBe(s.sym.insn); // #PF is a fault: saved EIP = the faulting instruction (SDM Table 6-1)
  return { s, got: [out.vector, out.errorCode, s.c.cr2 >>> 0] };
}

const ADDR = WIN + 0x123;

describe("#PF error codes: every combination of present, access, mode and CR0.WP (SDM Vol. 3A 4.6, 4.7)", () => {
  type Row = [name: string, pdeFlags: number, pteFlags: number, mode: "user" | "sup", kind: "r" | "w", wp: boolean, want: number | "ok"];
  const NP_ = 0; // not-present PTE (other bits set to show they do not matter)
  const rows: Row[] = [
    // not present (PTE P = 0): P = 0 in the error code, W/R and U/S describe the access; WP irrelevant
    ["PTE not present, supervisor read", P | RW | US, NP_ | RW | US, "sup", "r", false, 0],
    ["PTE not present, supervisor write", P | RW | US, NP_ | RW | US, "sup", "w", false, PF_W],
    ["PTE not present, user read", P | RW | US, NP_ | RW | US, "user", "r", false, PF_U],
    ["PTE not present, user write", P | RW | US, NP_ | RW | US, "user", "w", false, PF_U | PF_W],
    ["PTE not present, supervisor read, WP=1", P | RW | US, NP_ | RW | US, "sup", "r", true, 0],
    ["PTE not present, supervisor write, WP=1", P | RW | US, NP_ | RW | US, "sup", "w", true, PF_W],
    ["PTE not present, user read, WP=1", P | RW | US, NP_ | RW | US, "user", "r", true, PF_U],
    ["PTE not present, user write, WP=1", P | RW | US, NP_ | RW | US, "user", "w", true, PF_U | PF_W],
    // not present at the PDE level
    ["PDE not present, supervisor read", RW | US, P | RW | US, "sup", "r", false, 0],
    ["PDE not present, supervisor write", RW | US, P | RW | US, "sup", "w", true, PF_W],
    ["PDE not present, user read", RW | US, P | RW | US, "user", "r", false, PF_U],
    ["PDE not present, user write", RW | US, P | RW | US, "user", "w", true, PF_U | PF_W],
    // present, PTE U/S and R/W varied (PDE allows everything)
    // supervisor reads: always allowed (4.6.1)
    ["supervisor read of a supervisor read-only page", P | RW | US, P, "sup", "r", true, "ok"],
    ["supervisor read of a user read-only page", P | RW | US, P | US, "sup", "r", true, "ok"],
    ["supervisor read of a supervisor page, WP=0", P | RW | US, P | RW, "sup", "r", false, "ok"],
    ["supervisor read of a user page, WP=0", P | RW | US, P | RW | US, "sup", "r", false, "ok"],
    // supervisor writes: WP=0 any page; WP=1 only R/W = 1
    ["supervisor write, supervisor read-only page, WP=0", P | RW | US, P, "sup", "w", false, "ok"],
    ["supervisor write, user read-only page, WP=0", P | RW | US, P | US, "sup", "w", false, "ok"],
    ["supervisor write, supervisor read/write page, WP=0", P | RW | US, P | RW, "sup", "w", false, "ok"],
    ["supervisor write, user read/write page, WP=0", P | RW | US, P | RW | US, "sup", "w", false, "ok"],
    ["supervisor write, supervisor read-only page, WP=1", P | RW | US, P, "sup", "w", true, PF_P | PF_W],
    ["supervisor write, user read-only page, WP=1", P | RW | US, P | US, "sup", "w", true, PF_P | PF_W],
    ["supervisor write, supervisor read/write page, WP=1", P | RW | US, P | RW, "sup", "w", true, "ok"],
    ["supervisor write, user read/write page, WP=1", P | RW | US, P | RW | US, "sup", "w", true, "ok"],
    // user reads: need U/S = 1
    ["user read of a supervisor read-only page", P | RW | US, P, "user", "r", false, PF_P | PF_U],
    ["user read of a supervisor read/write page", P | RW | US, P | RW, "user", "r", true, PF_P | PF_U],
    ["user read of a user read-only page", P | RW | US, P | US, "user", "r", true, "ok"],
    ["user read of a user read/write page", P | RW | US, P | RW | US, "user", "r", false, "ok"],
    // user writes: need U/S = 1 and R/W = 1, whatever WP
    ["user write to a supervisor read-only page", P | RW | US, P, "user", "w", false, PF_P | PF_W | PF_U],
    ["user write to a supervisor read/write page", P | RW | US, P | RW, "user", "w", false, PF_P | PF_W | PF_U],
    ["user write to a user read-only page, WP=0", P | RW | US, P | US, "user", "w", false, PF_P | PF_W | PF_U],
    ["user write to a user read-only page, WP=1", P | RW | US, P | US, "user", "w", true, PF_P | PF_W | PF_U],
    ["user write to a user read/write page, WP=0", P | RW | US, P | RW | US, "user", "w", false, "ok"],
    ["user write to a user read/write page, WP=1", P | RW | US, P | RW | US, "user", "w", true, "ok"],
    // U/S and R/W combined over both levels (4.6.1: the access must be allowed by the PDE and the PTE)
    ["user read: PDE supervisor, PTE user", P | RW, P | RW | US, "user", "r", false, PF_P | PF_U],
    ["user write: PDE read-only, PTE read/write", P | US, P | RW | US, "user", "w", false, PF_P | PF_W | PF_U],
    ["user read: PDE read-only user, PTE read-only user", P | US, P | US, "user", "r", true, "ok"],
    ["supervisor write, PDE read-only, WP=1", P | US, P | RW | US, "sup", "w", true, PF_P | PF_W],
    ["supervisor write, PDE read-only, WP=0", P | US, P | RW | US, "sup", "w", false, "ok"],
    ["supervisor write, PDE supervisor, PTE user read-only, WP=1", P | RW, P | US, "sup", "w", true, PF_P | PF_W],
    ["user write: PDE supervisor read/write, PTE user read/write", P | RW, P | RW | US, "user", "w", true, PF_P | PF_W | PF_U],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, pdeFlags, pteFlags, mode, kind, wp, want]) => {
    const { s, got } = access(kind, ADDR, {
      winPde: pdeFlags, ptes: { [WIN]: frame(0) | pteFlags }, wp, cpl3: mode === "user",
    });
    expect(got).toEqual(want === "ok" ? ["ok"] : [PF, want, ADDR]);
    if (want === "ok") expect(s.c.eip >>> 0).toBe(s.sym.after);
  });
});

describe("4 MiB pages (SDM Vol. 3A 4.3, Table 4-4)", () => {
  const BIG = 0x800000; // PDE 2
  const big = (flags: number) => ({ cr4: CR4_PSE, pdes: { 2: 0x00000000 | PS | flags } });

  it("a 4 MiB PDE maps linear 800000H + x to physical x (bits 31:22 of the PDE)", () => {
    const { s } = runPaged((a) => {
      a.mov(eax, dword(BIG + frame(3) + 0x10));
      a.mov(dword(BIG + frame(4) + 0x20), 0x600dcafe);
    }, { ...big(P | RW), setup: (c) => writePhys32(c, frame(3) + 0x10, 0x12345678) }, 2);
    expect([s.c.regs[0] >>> 0, readPhys32(s.c, frame(4) + 0x20)]).toEqual([0x12345678, 0x600dcafe]);
  });

  it("with CR4.PSE = 0 the PS bit is ignored: the PDE points to a page table", () => {
    // page table at 42000H maps the first page of the 4 MiB region to frame(7)
    const { s } = runPaged((a) => a.mov(eax, dword(BIG + 0x44)), {
      pdes: { 2: 0x42000 | PS | P | RW },
      setup: (c) => {
        writePhys32(c, 0x42000, frame(7) | P | RW);
        writePhys32(c, frame(7) + 0x44, 0xfeedf00d);
      },
    }, 1);
    expect(s.c.regs[0] >>> 0).toBe(0xfeedf00d);
  });

  type Rsvd = [name: string, pdeBits: number, mode: "user" | "sup", kind: "r" | "w", want: number];
  const rsvd: Rsvd[] = [
    ["bit 13 set, supervisor read: P | RSVD", 1 << 13, "sup", "r", PF_P | PF_RSVD],
    ["bit 21 set, supervisor write: P | W | RSVD", 1 << 21, "sup", "w", PF_P | PF_W | PF_RSVD],
    ["bit 17 set, user read: P | U | RSVD", 1 << 17, "user", "r", PF_P | PF_U | PF_RSVD],
    ["bits 21:13 all set, user write: P | W | U | RSVD", 0x003fe000, "user", "w", PF_P | PF_W | PF_U | PF_RSVD],
  ];
  it.each(rsvd.map((r) => [r[0], r] as const))("reserved bit in a 4 MiB PDE: %s (SDM 4.7: RSVD implies P)", (_n, [, bits, mode, kind, want]) => {
    const { got } = access(kind, BIG + 0x5008, { ...big(P | RW | US | bits), cpl3: mode === "user" });
    expect(got).toEqual([PF, want, BIG + 0x5008]);
  });

  it("reserved bits are not checked in a not-present PDE: P = 0, no RSVD", () => {
    const { got } = access("r", BIG + 8, { cr4: CR4_PSE, pdes: { 2: PS | RW | US | (1 << 13) } });
    expect(got).toEqual([PF, 0, BIG + 8]);
  });

  it("bit 22 of a 4 MiB PDE is an address bit, not reserved: physical 400000H (outside RAM) is read", () => {
    const { s, o } = runPaged((a) => a.mov(eax, dword(BIG + 0x10)), { ...big(P | RW | (1 << 22)) }, 1);
    expect(o.vector).toBeNull();
    expect(s.c.regs[0]).toBe(-1); // the harness bus answers all ones outside RAM
  });

  it("user access to a supervisor 4 MiB page: #PF(P|U); supervisor write to a read-only one with WP: #PF(P|W)", () => {
    expect(access("r", BIG + 4, { ...big(P | RW), cpl3: true }).got).toEqual([PF, PF_P | PF_U, BIG + 4]);
    expect(access("w", BIG + 4, { ...big(P | US), wp: true }).got).toEqual([PF, PF_P | PF_W, BIG + 4]);
  });
});

describe("CR2 and the saved EIP of a page fault (SDM Vol. 3A 4.7, 6.15 Interrupt 14)", () => {
  it("CR2 holds the exact faulting linear address, read by the handler with MOV EAX, CR2", () => {
    const s = paged((a) => {
      a.mov(ecx, 0x77);
      a.label("insn");
      a.mov(dword({ base: ecx, disp: WIN + 0xf00 }), eax);
      a.jmp(a.here());
      a.label("pf");
      a.mov(eax, cr2);
      a.jmp(a.here());
    }, { ptes: { [WIN]: frame(0) | P | US }, wp: true, idt: { 14: (sym) => [((Sel.CODE0 << 16) | (sym.pf & 0xffff)) >>> 0, (sym.pf & 0xffff0000) | 0x8e00] } });
    s.c.run(10);
    expect(s.c.regs[0] >>> 0).toBe(WIN + 0xf77);
    expect(s.c.cr2 >>> 0).toBe(WIN + 0xf77);
  });

  it("a later fault overwrites CR2; a successful access leaves it alone", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, dword(WIN + 0x1000)); // maps: fine
      a.mov(eax, dword(WIN + 0x2004)); // not present
    }, { ptes: { [WIN + 0x1000]: frame(1) | P }, setup: (c) => { c.cr2 = 0x1234; } }, 5);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0]).toEqual([PF, 0, WIN + 0x2004]);
  });
});

describe("accessed and dirty bits (SDM Vol. 3A 4.8; Bochs translate_linear_legacy for faulting accesses)", () => {
  const clean = { ptes: { [WIN]: frame(0) | P | RW | US } };

  it("a read sets A in the PDE and the PTE, not D", () => {
    const { s } = runPaged(LOAD(ADDR), clean, 2);
    expect([pde(s.c, WIN) & (A | D), pte(s.c, WIN) & (A | D)]).toEqual([A, A]);
  });

  it("a write sets A and D in the PTE, only A in the PDE (bit 6 of a PDE that maps a page table is ignored, Table 4-5)", () => {
    const { s } = runPaged(STORE(ADDR), clean, 2);
    expect([pde(s.c, WIN) & (A | D), pte(s.c, WIN) & (A | D)]).toEqual([A, A | D]);
  });

  it("a write after a read (translation already cached) still sets D", () => {
    const { s } = runPaged((a) => {
      a.mov(eax, dword(ADDR));
      a.mov(eax, dword(ADDR + 4));
      a.mov(dword(ADDR + 8), eax);
    }, clean, 3);
    expect(pte(s.c, WIN) & (A | D)).toBe(A | D);
  });

  it("a user-mode read and write set the same bits as supervisor ones", () => {
    const { s } = runPaged(STORE(ADDR), { ...clean, cpl3: true }, 2);
    expect(pte(s.c, WIN) & (A | D)).toBe(A | D);
  });

  it("4 MiB page: a read sets A in the PDE, a write sets D", () => {
    const BIG = 0xc00000;
    const { s: r } = runPaged(LOAD(BIG + 0x40000), { cr4: CR4_PSE, pdes: { 3: P | RW | PS } }, 2);
    expect(readPhys32(r.c, pdeAddr(BIG)) & (A | D)).toBe(A);
    const { s: w } = runPaged(STORE(BIG + 0x40000), { cr4: CR4_PSE, pdes: { 3: P | RW | PS } }, 2);
    expect(readPhys32(w.c, pdeAddr(BIG)) & (A | D)).toBe(A | D);
  });

  it("instruction fetch sets A in the code page's PTE", () => {
    const { s } = runPaged((a) => a.nop(), {}, 1);
    expect(readPhys32(s.c, PT_LOW + 4) & (A | D)).toBe(A); // code at 1000H: PTE 1 of the low table
  });

  type NoChange = [name: string, o: PagingOptions, kind: "r" | "w"];
  const faulting: NoChange[] = [
    ["user write to a read-only page", { ptes: { [WIN]: frame(0) | P | US }, cpl3: true }, "w"],
    ["user read of a supervisor page", { ptes: { [WIN]: frame(0) | P | RW }, cpl3: true }, "r"],
    ["supervisor write to a read-only page with WP", { ptes: { [WIN]: frame(0) | P }, wp: true }, "w"],
    ["user write through a read-only PDE", { winPde: P | US, ptes: { [WIN]: frame(0) | P | RW | US }, cpl3: true }, "w"],
    ["not-present PTE (the PDE was read)", { ptes: { [WIN]: frame(0) | RW | US } }, "r"],
  ];
  it.each(faulting.map((r) => [r[0], r] as const))("no A or D bit changes when the access faults: %s", (_n, [, o, kind]) => {
    const { s, got } = access(kind, ADDR, o);
    expect(got[0]).toBe(PF);
    expect([pde(s.c, WIN) & (A | D), pte(s.c, WIN) & (A | D)]).toEqual([0, 0]);
  });

  it("a faulting 4 MiB access leaves the PDE's A and D clear", () => {
    const BIG = 0xc00000;
    const { s, got } = access("w", BIG + 4, { cr4: CR4_PSE, pdes: { 3: P | PS }, wp: true });
    expect(got).toEqual([PF, PF_P | PF_W, BIG + 4]);
    expect(readPhys32(s.c, pdeAddr(BIG)) & (A | D)).toBe(0);
  });
});

describe("page-crossing accesses (Bochs access.cc: both pages are translated before any byte is written)", () => {
  it("a dword write that faults on the second (not-present) page writes nothing; CR2 = start of that page", () => {
    const { s, o } = runPaged(STORE(WIN + 0xffe), {
      ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => c.ram.fill(0x33, frame(0) + 0xffc, frame(0) + 0x1000),
    }, 3);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0, o.eip]).toEqual([PF, PF_W, WIN + 0x1000, s.sym.insn]);
    expect(physBytes(s.c, frame(0) + 0xffc, 4)).toEqual([0x33, 0x33, 0x33, 0x33]);
  });

  it("a user word write whose second page is read-only writes nothing: #PF(P|W|U) at the second page", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, 0xbeef);
      a.label("insn");
      a.mov(word(WIN + 0xfff), ax);
    }, { cpl3: true, ptes: { [WIN]: frame(0) | P | RW | US, [WIN + 0x1000]: frame(1) | P | US } }, 3);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0, o.eip]).toEqual([PF, PF_P | PF_W | PF_U, WIN + 0x1000, s.sym.insn]);
    expect([s.c.ram[frame(0) + 0xfff], s.c.ram[frame(1)]]).toEqual([0, 0]);
  });

  it("a crossing write that faults on the FIRST page reports the access's own address in CR2", () => {
    const { s, o } = runPaged(STORE(WIN + 0xffd), { ptes: { [WIN + 0x1000]: frame(1) | P | RW } }, 3);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0]).toEqual([PF, PF_W, WIN + 0xffd]);
    expect(s.c.ram[frame(1)]).toBe(0);
  });

  it("a crossing read whose second page is not present faults and leaves the destination register", () => {
    const { s, o } = runPaged(LOAD(WIN + 0xffe), { ptes: { [WIN]: frame(0) | P | RW } }, 3);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0, s.c.regs[3] >>> 0]).toEqual([PF, 0, WIN + 0x1000, 0x11111111]);
  });

  it("a crossing write to two non-adjacent frames puts each byte in its own frame", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, 0x44332211);
      a.mov(dword(WIN + 0xffd), eax);
      a.mov(ebx, dword(WIN + 0xffd));
    }, { ptes: { [WIN]: frame(9) | P | RW, [WIN + 0x1000]: frame(2) | P | RW } }, 3);
    expect(o.vector).toBeNull();
    expect([physBytes(s.c, frame(9) + 0xffd, 3), physBytes(s.c, frame(2), 2)]).toEqual([[0x11, 0x22, 0x33], [0x44, 0]]);
    expect(s.c.regs[3]).toBe(0x44332211);
    expect([pte(s.c, WIN) & D, pte(s.c, WIN + 0x1000) & D]).toEqual([D, D]);
  });

  it("a dword at linear FFFFFFFEH wraps: its last two bytes come from linear page 0 (flat 4 GiB DS)", () => {
    const { s, o } = runPaged((a) => a.mov(ebx, dword(0xfffffffe)), {
      pdes: { 1023: 0x23000 | P | RW },
      setup: (c) => {
        writePhys32(c, 0x23000 + 1023 * 4, frame(3) | P | RW);
        c.ram.set([0x11, 0x22], frame(3) + 0xffe);
        c.ram.set([0x33, 0x44], 0);
      },
    }, 1);
    expect([o.vector, s.c.regs[3] >>> 0]).toEqual([null, 0x44332211]);
  });

  it("REP STOSD running into a not-present page stops there: #PF at the boundary, ECX/EDI say what is left", () => {
    const { s, o } = runPaged((a) => {
      a.mov(edi, WIN + 0xff0);
      a.mov(ecx, 8);
      a.mov(eax, 0x5a5a5a5a);
      a.label("insn");
      a.rep().stosd();
    }, { ptes: { [WIN]: frame(0) | P | RW } }, 5);
    // SDM Vol. 2 REP: a fault leaves the registers describing the remaining iterations, EIP at the instruction
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0, o.eip]).toEqual([PF, PF_W, WIN + 0x1000, s.sym.insn]);
    expect([s.c.regs[1], s.c.regs[7] >>> 0]).toEqual([4, WIN + 0x1000]);
    expect(readPhys32(s.c, frame(0) + 0xffc)).toBe(0x5a5a5a5a);
  });
});

describe("REP string instructions and page rights (SDM Vol. 2 REP: a fault leaves a restartable state)", () => {
  it("REP MOVSD at CPL 3 into a user page followed by a read-only one: #PF(P|W|U) at the boundary", () => {
    const { s, o } = runPaged((a) => {
      a.mov(esi, WIN + 0x2000);
      a.mov(edi, WIN + 0xff8);
      a.mov(ecx, 6);
      a.label("insn");
      a.rep().movsd();
    }, {
      cpl3: true,
      ptes: { [WIN]: frame(0) | P | RW | US, [WIN + 0x1000]: frame(1) | P | US, [WIN + 0x2000]: frame(2) | P | US },
      setup: (c) => {
        for (let k = 0; k < 6; k++) writePhys32(c, frame(2) + 4 * k, 0x10101010 * (k + 1));
      },
    }, 10);
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_W | PF_U, s.sym.insn, WIN + 0x1000]);
    expect([s.c.regs[1], s.c.regs[7] >>> 0, s.c.regs[6] >>> 0]).toEqual([4, WIN + 0x1000, WIN + 0x2008]);
    expect([readPhys32(s.c, frame(0) + 0xff8), readPhys32(s.c, frame(0) + 0xffc), readPhys32(s.c, frame(1))]).toEqual([0x10101010, 0x20202020, 0]);
  });

  it("REP STOSD backwards (DF = 1) into a not-present page: CR2 = the faulting element", () => {
    const { s, o } = runPaged((a) => {
      a.mov(edi, WIN + 0x1004);
      a.mov(ecx, 4);
      a.std();
      a.label("insn");
      a.rep().stosd();
    }, { ptes: { [WIN + 0x1000]: frame(1) | P | RW } }, 10);
    expect([o.vector, o.errorCode, s.c.cr2 >>> 0, s.c.regs[1], s.c.regs[7] >>> 0]).toEqual([PF, PF_W, WIN + 0xffc, 2, WIN + 0xffc]);
  });
});

describe("ROM pages (CoreState.setRomRange): stores are discarded, as on the PC platform (Bochs memory.cc)", () => {
  const ROM = 0x50000;
  const rom = (c: Core) => {
    c.ram.fill(0xee, ROM, ROM + 0x2000);
    c.setRomRange(ROM, 0x2000);
  };

  it("byte, word and dword stores to ROM (paging off) change nothing and raise nothing", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, 0x01020304);
      a.mov(dword(ROM), eax);
      a.mov(word(ROM + 0x10), ax);
      a.mov(byte(ROM + 0x20), al);
      a.mov(ebx, dword(ROM));
    }, { noPaging: true, setup: rom }, 5);
    expect(o.vector).toBeNull();
    expect([physBytes(s.c, ROM, 4), s.c.ram[ROM + 0x10], s.c.ram[ROM + 0x20], s.c.regs[3] >>> 0]).toEqual([[0xee, 0xee, 0xee, 0xee], 0xee, 0xee, 0xeeeeeeee]);
  });

  it("through a writable PTE, ROM still discards stores (and the PTE gets D: the write happened)", () => {
    const { s, o } = runPaged(STORE(WIN + 0x100), { ptes: { [WIN]: ROM | P | RW }, setup: rom }, 3);
    expect(o.vector).toBeNull();
    expect(readPhys32(s.c, ROM + 0x100)).toBe(0xeeeeeeee);
    expect(pte(s.c, WIN) & D).toBe(D);
  });

  it("a dword store straddling RAM and ROM writes its RAM bytes only", () => {
    const { s } = runPaged((a) => {
      a.mov(eax, 0x44332211);
      a.mov(dword(ROM - 2), eax);
    }, { noPaging: true, setup: rom }, 3);
    expect(physBytes(s.c, ROM - 2, 4)).toEqual([0x11, 0x22, 0xee, 0xee]);
  });

  it("REP STOSB over ROM leaves it unchanged and completes", () => {
    const { s, o } = runPaged((a) => {
      a.mov(edi, ROM + 0xf00);
      a.mov(ecx, 0x200);
      a.mov(eax, 0);
      a.rep().stosb();
    }, { noPaging: true, setup: rom }, 5);
    expect([o.vector, s.c.regs[1]]).toEqual([null, 0]);
    expect(physBytes(s.c, ROM + 0xf00, 0x200).every((b) => b === 0xee)).toBe(true);
  });
});

describe("implicit supervisor-mode accesses at CPL 3 (SDM Vol. 3A 4.6: GDT, LDT, IDT, TSS accesses)", () => {
  /** GDT/IDT/stubs (page 0), the ring-0 stack page (6) and the TSS pages (A-C) supervisor-only. */
  const sysPages = { 0: P | RW, 6: P | RW, 0xa: P | RW, 0xb: P | RW, 0xc: P | RW };

  it("CoreState.readSys32/writeSys32 reach a supervisor page at CPL 3; read32 raises #PF(P|U)", () => {
    const s = paged(() => {}, { cpl3: true, lowPages: sysPages });
    const c = s.c;
    expect(c.cpl).toBe(3);
    expect(c.readSys32(GDT + 8)).toBe(readPhys32(c, GDT + 8) | 0);
    c.writeSys32(GDT + 0xf8, 0x12345678);
    expect(readPhys32(c, GDT + 0xf8)).toBe(0x12345678);
    c.writeSys8(GDT + 0xf0, 0x5a);
    expect(c.readSys8(GDT + 0xf0)).toBe(0x5a);
    expect(c.readSys16(GDT + 0xf8)).toBe(0x5678);
    let caught: unknown = null;
    try {
      c.read32(GDT + 8);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PageFault);
    expect([(caught as CpuFault).vector, (caught as CpuFault).errorCode, c.cr2]).toEqual([PF, PF_P | PF_U, GDT + 8]);
  });

  it("writeSys to a supervisor read-only page faults with CR0.WP = 1: #PF(P|W), U/S = 0 even at CPL 3", () => {
    const s = paged(() => {}, { cpl3: true, lowPages: { 0: P }, wp: true });
    let caught: CpuFault | null = null;
    try {
      s.c.writeSys8(GDT + 0x25, 0xf3);
    } catch (e) {
      caught = e as CpuFault;
    }
    expect([caught?.vector, caught?.errorCode, s.c.cr2]).toEqual([PF, PF_P | PF_W, GDT + 0x25]);
    const s0 = paged(() => {}, { cpl3: true, lowPages: { 0: P }, wp: false });
    s0.c.writeSys8(GDT + 0x25, 0xf3); // WP = 0: supervisor writes ignore R/W
    expect(s0.c.ram[GDT + 0x25]).toBe(0xf3);
  });

  it("readSys/writeSys crossing into another page translate both pages as supervisor accesses", () => {
    const o = { cpl3: true, wp: true, ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(1) | P } };
    const s = paged(() => {}, o);
    writePhys32(s.c, frame(0) + 0xffc, 0x22110000);
    writePhys32(s.c, frame(1), 0x00004433);
    expect(s.c.readSys32(WIN + 0xffe) >>> 0).toBe(0x44332211); // supervisor pages, CPL 3: fine
    let caught: CpuFault | null = null;
    try {
      s.c.writeSys32(WIN + 0xffe, -1); // second page read-only, WP = 1
    } catch (e) {
      caught = e as CpuFault;
    }
    expect([caught?.vector, caught?.errorCode, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_W, WIN + 0x1000]);
    expect(readPhys32(s.c, frame(0) + 0xffc) >>> 0).toBe(0x22110000); // nothing written on the first page
    caught = null;
    try {
      s.c.readSys32(WIN + 0x1ffe); // second page not present
    } catch (e) {
      caught = e as CpuFault;
    }
    expect([caught?.vector, caught?.errorCode, s.c.cr2 >>> 0]).toEqual([PF, 0, WIN + 0x2000]);
  });

  it("IN at CPL 3 (IOPL 0) reads the TSS I/O bitmap on a supervisor page without #PF (SDM 4.6, 19.5.2)", () => {
    const { s, o } = runPaged((a) => {
      a.label("insn");
      a.in(al, 0x60);
    }, { cpl3: true, lowPages: sysPages }, 2);
    expect([o.vector, o.eip, s.c.regs[0] & 0xff]).toEqual([null, s.sym.insn + 2, 0xff]);
  });

  it("MOV DS at CPL 3 reads the descriptor from a supervisor page and sets its accessed bit (no #PF)", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, Sel.DATA3);
      a.mov(ds, ax);
      a.mov(ebx, dword(DATA));
    }, { cpl3: true, lowPages: sysPages }, 3);
    expect(o.vector).toBeNull();
    expect(s.c.ram[GDT + (Sel.DATA3 & ~7) + 5] & 1).toBe(1);
  });

  it("... but the accessed-bit write to a read-only supervisor GDT page with WP = 1 is #PF(P|W) (supervisor access)", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, Sel.DATA3);
      a.label("insn");
      a.mov(ds, ax);
    }, { cpl3: true, lowPages: { ...sysPages, 0: P }, wp: true,
      setup: (c) => {
        c.ram[GDT + (Sel.DATA3 & ~7) + 5] &= ~1;
        // delivering the #PF loads CODE0 and DATA0: make them accessed already, or their A-bit writes
        // would fault too (and end in a triple fault)
        c.ram[GDT + Sel.CODE0 + 5] |= 1;
        c.ram[GDT + Sel.DATA0 + 5] |= 1;
      } }, 3);
    // the access byte is byte 5 of the descriptor (SDM Figure 3-8); Bochs writes just that byte
    expect([o.vector, o.errorCode, o.eip, s.c.cr2]).toEqual([PF, PF_P | PF_W, s.sym.insn, GDT + (Sel.DATA3 & ~7) + 5]);
  });

  it("a #PF at CPL 3 is delivered through a supervisor IDT, TSS and ring-0 stack", () => {
    const { s, o } = runPaged(LOAD(GDT), { cpl3: true, lowPages: sysPages }, 3);
    expect([o.vector, o.errorCode, o.eip, s.c.cr2, s.c.cpl]).toEqual([PF, PF_P | PF_U, s.sym.insn, GDT, 0]);
    // frame on the TSS ring-0 stack (SS0:ESP0 = 10H:7000H), user SS:ESP at its top
    expect([readPhys32(s.c, 0x7000 - 4), readPhys32(s.c, 0x7000 - 8)]).toEqual([Sel.DATA3, STACK_TOP]);
    expect(TSS).toBe(0xa000); // (the TSS pages made supervisor above)
  });

  it("LAR/LSL/VERR at CPL 3 read a supervisor GDT without #PF", () => {
    const { s, o } = runPaged((a) => {
      a.mov(ecx, Sel.DATA3);
      a.insn("lsl", eax, ecx);
      a.insn("lar", ebx, ecx);
      a.insn("verr", cx);
    }, { cpl3: true, lowPages: sysPages }, 4);
    expect(o.vector).toBeNull();
    expect(s.c.regs[0] >>> 0).toBe(0xffffffff);
    expect((s.c.regs[3] >>> 8) & 0xff).toBe(s.c.ram[GDT + (Sel.DATA3 & ~7) + 5]); // the access byte (LAR)
  });
});

describe("paging off and on", () => {
  it("with CR0.PG = 0 linear = physical even though CR3 points at tables that map elsewhere", () => {
    const setup = (c: Core) => writePhys32(c, frame(0) + 0x10, 0x0badf00d);
    const off = runPaged(LOAD(WIN + 0x10), { noPaging: true, ptes: { [WIN]: frame(0) | P | RW }, setup }, 2).s;
    expect([off.c.cr0 & CR0_PG, off.c.regs[3]]).toEqual([0, -1]); // 400010H is outside RAM: the bus answers ones
    const on = runPaged(LOAD(WIN + 0x10), { ptes: { [WIN]: frame(0) | P | RW }, setup }, 2).s;
    expect(on.c.regs[3]).toBe(0x0badf00d);
  });

  it("MOV CR0 setting PG takes effect for the next instruction; clearing it too", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, cr0);
      a.or(eax, CR0_PG);
      a.mov(cr0, eax);
      a.mov(ebx, dword(WIN + 0x10)); // paged: frame(0) + 10H
      a.and(eax, 0x7fffffff);
      a.mov(cr0, eax);
      a.mov(ecx, dword(WIN + 0x10)); // physical 400010H: outside RAM, all ones
      a.label("end");
    }, { noPaging: true, ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => {
      writeCr3(c, PD);
      writePhys32(c, frame(0) + 0x10, 0x600d);
    } }, 10);
    expect([o.vector, o.eip, s.c.regs[3], s.c.regs[1]]).toEqual([null, s.sym.end, 0x600d, -1]);
  });

  it("PD, PT_LOW and PT_TEST are where the harness says (sanity of the reference tables)", () => {
    const s = paged(() => {}, { ptes: { [WIN + 0x5000]: frame(5) | P } });
    expect([readPhys32(s.c, PD) & ~0xfff, readPhys32(s.c, PD + 4) & ~0xfff, readPhys32(s.c, PT_TEST + 5 * 4)]).toEqual([PT_LOW, PT_TEST, frame(5) | P]);
    setPte(s.c, WIN, 7);
    expect(pte(s.c, WIN)).toBe(7);
  });
});
