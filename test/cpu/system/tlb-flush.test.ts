/**
 * The TLB and its invalidation, observed the way software observes it: change a PTE in memory, do (or do
 * not do) an invalidating operation, and see which physical frame the next access reaches.
 *
 * References: SDM Vol. 3A 4.10.4.1 (operations that invalidate: INVLPG drops the page's entries, global
 * or not; MOV to CR3 drops every non-global entry; MOV to CR4 changing PGE and MOV to CR0 changing PG
 * drop everything), 4.10.2.4 (global pages: G = 1 and CR4.PGE = 1; they are what MOV CR3 may keep),
 * 4.10.2.3 and 4.10.4.3 (a not-present entry is never cached, so making it present needs no
 * invalidation), 4.10.4.1 "page-fault exceptions" (a #PF invalidates the entries for the faulting
 * address), 4.6 (rights use the current CR0.WP), Vol. 2 INVLPG (the operand is a linear address: segment
 * base + offset).
 *
 * Rows marked "model" check what the model does where the SDM permits either outcome (a stale
 * translation without invalidation, a global entry kept across MOV CR3, INVLPG dropping only its own
 * page): tlb.ts documents that it keeps every translation until an invalidating event. The other rows
 * are SDM requirements.
 */
import { describe, expect, it } from "vitest";
import { Tlb, TlbRight } from "../../../src/cpu/tlb.ts";
import { type Asm, ax, cr0, cr3, cr4, ds, dword, eax, ebx, edx, esp, fs, ptr } from "../../../src/guests/asm/index.ts";
import {
  CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, G, P, PD, PF, PF_P, PF_U, PF_W, PS, PT_TEST, RW, US, WIN, descriptor, frame,
  readPhys32, runPaged, sel, setGate, writePhys32, type PagingOptions,
} from "./paging-harness.ts";

const OLD = 0xaaaaaaaa, NEW = 0xbbbbbbbb;
const fill = (o: PagingOptions): PagingOptions => ({
  ...o,
  setup: (c, sym) => {
    writePhys32(c, frame(0), OLD);
    writePhys32(c, frame(1), NEW);
    writePhys32(c, frame(2), 0x22222222);
    o.setup?.(c, sym);
  },
});

/** Read WIN (cached) into EDX, point its PTE at frame(1), run `op`, read WIN again into EBX: [EDX, EBX]. */
function remap(op: (a: Asm) => void, o: PagingOptions & { g?: boolean } = {}): number[] {
  const flags = P | RW | (o.g ? G : 0);
  const { s, o: out } = runPaged((a) => {
    a.mov(edx, dword(WIN));
    a.mov(dword(WIN + 0x1000), edx); // another page, cached too
    a.mov(dword(PT_TEST), frame(1) | flags);
    op(a);
    a.mov(ebx, dword(WIN));
    a.label("end");
  }, fill({ ptes: { [WIN]: frame(0) | flags, [WIN + 0x1000]: frame(2) | P | RW }, ...o }), 40);
  expect([out.vector, out.eip]).toEqual([null, s.sym.end]);
  return [s.c.regs[2] >>> 0, s.c.regs[3] >>> 0];
}

const movCr3 = (a: Asm) => {
  a.mov(eax, cr3);
  a.mov(cr3, eax);
};
const cr4Write = (v: number) => (a: Asm) => {
  a.mov(eax, v);
  a.mov(cr4, eax);
};

describe("which operations drop a cached translation (SDM Vol. 3A 4.10.4.1)", () => {
  type Row = [name: string, op: (a: Asm) => void, o: PagingOptions & { g?: boolean }, after: number];
  const rows: Row[] = [
    ["model: no invalidation - the cached translation is still used (SDM 4.10.4.4 permits it)", () => {}, {}, OLD],
    ["MOV CR3 (same value) drops a non-global entry", movCr3, {}, NEW],
    ["INVLPG of the page drops its entry", (a) => a.invlpg(ptr(WIN + 0x234)), {}, NEW],
    ["model: INVLPG of another page keeps this one", (a) => a.invlpg(ptr(WIN + 0x1000)), {}, OLD],
    ["G = 1 without CR4.PGE is not global: MOV CR3 drops it (4.10.2.4)", movCr3, { g: true }, NEW],
    ["model: a global page (G = 1, PGE = 1) survives MOV CR3 (4.10.2.4)", movCr3, { g: true, cr4: CR4_PGE }, OLD],
    ["INVLPG drops a global page too", (a) => a.invlpg(ptr(WIN)), { g: true, cr4: CR4_PGE }, NEW],
    ["clearing CR4.PGE drops global entries", cr4Write(0), { g: true, cr4: CR4_PGE }, NEW],
    ["toggling CR4.PGE off and on drops global entries", (a) => {
      cr4Write(0)(a);
      cr4Write(CR4_PGE)(a);
    }, { g: true, cr4: CR4_PGE }, NEW],
    ["setting CR4.PGE drops every entry", cr4Write(CR4_PGE), {}, NEW],
    ["clearing and setting CR0.PG drops global entries", (a) => {
      a.mov(eax, cr0);
      a.and(eax, 0x7fffffff);
      a.mov(cr0, eax);
      a.or(eax, CR0_PG);
      a.mov(cr0, eax);
    }, { g: true, cr4: CR4_PGE }, NEW],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, op, o, after]) => {
    expect(remap(op, o)).toEqual([OLD, after]);
  });

  it("INVLPG's operand is a linear address: segment base + offset (SDM Vol. 2 INVLPG)", () => {
    // FS: base 1000H, so FS:[WIN - 1000H] is linear WIN
    const viaFs = (a: Asm) => {
      a.mov(eax, sel(0));
      a.mov(fs, ax);
      a.invlpg(ptr({ seg: fs, disp: WIN - 0x1000 }));
    };
    expect(remap(viaFs, { gdt: [descriptor(0x1000, 0xfffff, 0x92, 0xc)] })).toEqual([OLD, NEW]);
    // the same offset through DS (base 0) names the page before WIN: WIN's entry stays (model)
    expect(remap((a) => a.invlpg(ptr(WIN - 0x1000)))).toEqual([OLD, OLD]);
  });

  it("MOV CR3 with another page directory switches every non-global mapping", () => {
    const PD2 = 0x23000;
    const { s } = runPaged((a) => {
      a.mov(edx, dword(WIN));
      a.mov(eax, PD2);
      a.mov(cr3, eax);
      a.mov(ebx, dword(WIN));
    }, fill({
      ptes: { [WIN]: frame(0) | P | RW },
      setup: (c) => {
        c.ram.copyWithin(PD2, PD, PD + 0x1000);
        writePhys32(c, PD2 + 4, 0x24000 | P | RW | US); // window through another page table
        writePhys32(c, 0x24000, frame(1) | P | RW);
      },
    }), 5);
    expect([s.c.regs[2] >>> 0, s.c.regs[3] >>> 0]).toEqual([OLD, NEW]);
  });

  it("global 4 MiB page: kept across MOV CR3 (model), dropped by INVLPG", () => {
    const BIG = 0x800000;
    const o = { cr4: CR4_PSE | CR4_PGE, pdes: { 2: PS | G | P | RW } };
    const body = (inv: boolean) => (a: Asm) => {
      a.mov(edx, dword(BIG + frame(0)));
      a.mov(dword(PD + 8), 0x00400000 | PS | G | P | RW); // now physical 400000H: outside RAM, reads all ones
      movCr3(a);
      if (inv) a.invlpg(ptr(BIG + frame(0)));
      a.mov(ebx, dword(BIG + frame(0)));
    };
    const kept = runPaged(body(false), fill(o), 10).s.c;
    expect([kept.regs[2] >>> 0, kept.regs[3] >>> 0]).toEqual([OLD, OLD]);
    const dropped = runPaged(body(true), fill(o), 10).s.c;
    expect([dropped.regs[2] >>> 0, dropped.regs[3] >>> 0]).toEqual([OLD, 0xffffffff]);
  });
});

describe("translations the processor must not keep", () => {
  /** A #PF handler (vector 14) that ORs `bits` into the PTE of WIN, drops the error code and returns. */
  const fixer = (bits: number) => (a: Asm) => {
    a.label("pf");
    a.or(dword(PT_TEST), bits);
    a.add(esp, 4);
    a.iretd();
  };

  it("a not-present entry is not cached: set P in the handler, return, and the access succeeds (4.10.4.3)", () => {
    const { s, o } = runPaged((a) => {
      a.mov(ebx, dword(WIN));
      a.label("end");
      a.jmp("end");
      fixer(P)(a);
    }, fill({ ptes: { [WIN]: frame(0) | RW }, setup: (c, sym) => setGate(c, PF, sym.pf) }), 20);
    expect([o.vector, o.eip, s.c.regs[3] >>> 0, s.c.cr2 >>> 0]).toEqual([null, s.sym.end, OLD, WIN]);
  });

  it("a #PF drops the faulting page's entry: a user write to a cached read-only page succeeds once R/W is set", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, dword(WIN)); // caches a read-only user translation
      a.mov(eax, 0x12345678);
      a.mov(dword(WIN + 8), eax); // #PF(P|W|U); the handler sets R/W
      a.label("end");
      a.jmp("end");
      fixer(RW)(a);
    }, fill({ cpl3: true, ptes: { [WIN]: frame(0) | P | US }, setup: (c, sym) => setGate(c, PF, sym.pf, 0xe, 0) }), 30);
    expect([o.vector, o.eip, readPhys32(s.c, frame(0) + 8)]).toEqual([null, s.sym.end, 0x12345678]);
  });

  it("rights use the current CR0.WP: a supervisor write allowed with WP = 0 faults after MOV CR0 sets WP", () => {
    const { s, o } = runPaged((a) => {
      a.mov(dword(WIN), 1); // WP = 0: allowed, translation cached with D set
      a.mov(eax, cr0);
      a.or(eax, CR0_WP);
      a.mov(cr0, eax);
      a.label("insn");
      a.mov(dword(WIN), 2);
    }, fill({ ptes: { [WIN]: frame(0) | P | US } }), 10);
    expect([o.vector, o.errorCode, o.eip, readPhys32(s.c, frame(0))]).toEqual([PF, PF_P | PF_W, s.sym.insn, 1]);
  });

  it("... and clearing WP again allows it", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, dword(WIN));
      a.mov(eax, cr0);
      a.and(eax, ~CR0_WP);
      a.mov(cr0, eax);
      a.mov(dword(WIN), 3);
      a.label("end");
    }, fill({ wp: true, ptes: { [WIN]: frame(0) | P } }), 10);
    expect([o.vector, o.eip, readPhys32(s.c, frame(0))]).toEqual([null, s.sym.end, 3]);
  });

  it("a supervisor write allowed by WP = 0 to a user read-only page does not let a later user write through", () => {
    const { s, o } = runPaged((a) => {
      a.mov(dword(WIN), 1); // CPL 0, WP = 0: allowed, the translation is cached dirty
      a.mov(eax, 0x23);
      a.mov(ds, ax);
      a.push(0x23);
      a.push(0x8000);
      a.pushfd();
      a.push(0x1b);
      a.push("user");
      a.iretd();
      a.label("user");
      a.mov(dword(WIN), 2);
    }, fill({ ptes: { [WIN]: frame(0) | P | US } }), 20);
    expect([o.vector, o.errorCode, o.eip, readPhys32(s.c, frame(0))]).toEqual([PF, PF_P | PF_W | PF_U, s.sym.user, 1]);
  });

  it("the user and supervisor views are separate: a page read at CPL 0 still faults for CPL 3 (#PF P|U)", () => {
    const { s, o } = runPaged((a) => {
      a.mov(eax, dword(WIN)); // CPL 0
      a.mov(eax, 0x23);
      a.mov(ds, ax); // a DPL-3 DS, so that the IRET to ring 3 keeps it (SDM IRET nulls DPL < CPL)
      // to CPL 3 through IRET
      a.push(0x23);
      a.push(0x8000);
      a.pushfd();
      a.push(0x1b);
      a.push("user");
      a.iretd();
      a.label("user");
      a.mov(ebx, dword(WIN));
    }, fill({ ptes: { [WIN]: frame(0) | P | RW } }), 20);
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_U, s.sym.user, WIN]);
  });
});

describe("Tlb (tlb.ts) bookkeeping, against SDM 4.10.4.1", () => {
  const ALL = TlbRight.SUP_READ | TlbRight.SUP_WRITE | TlbRight.USER_READ | TlbRight.USER_WRITE;
  const has = (t: Tlb, page: number) => [t.supRead[page], t.supWrite[page], t.userRead[page], t.userWrite[page]].map((e) => e !== 0);

  it("an entry gives the physical address as entry ^ linear ^ 1, one array per right", () => {
    const t = new Tlb();
    t.fill(0x400, 0x00055000, TlbRight.SUP_READ | TlbRight.USER_READ, false);
    const lin = 0x400abc;
    expect(((t.supRead[0x400] ^ lin ^ 1) >>> 0)).toBe(0x55abc);
    expect(has(t, 0x400)).toEqual([true, false, true, false]);
  });

  it("flushNonGlobal keeps global entries, flushAll drops them, invalidatePage drops one page of either kind", () => {
    const t = new Tlb();
    t.fill(1, 0x1000, ALL, false);
    t.fill(2, 0x2000, ALL, true);
    t.fill(3, 0x3000, ALL, true);
    t.flushNonGlobal();
    expect([has(t, 1)[0], has(t, 2)[0], has(t, 3)[0]]).toEqual([false, true, true]);
    t.invalidatePage(2);
    expect(has(t, 2)).toEqual([false, false, false, false]);
    expect(has(t, 3)[0]).toBe(true);
    t.flushAll();
    expect(has(t, 3)).toEqual([false, false, false, false]);
  });

  it("after more fills than it tracks, a flush still drops every non-global entry", () => {
    const t = new Tlb();
    for (let p = 0; p < 10000; p++) t.fill(p, p << 12, ALL, false);
    t.fill(20000, 0x5000, ALL, true);
    t.flushNonGlobal();
    let left = 0;
    for (let p = 0; p < 10000; p++) if (t.supRead[p] !== 0 || t.userWrite[p] !== 0) left++;
    expect(left).toBe(0);
    // later fills are tracked again
    t.fill(7, 0x7000, ALL, false);
    t.flushNonGlobal();
    expect(t.supRead[7]).toBe(0);
  });

  it("after more global fills than it tracks, flushAll still drops every entry", () => {
    const t = new Tlb();
    for (let p = 0; p < 9000; p++) t.fill(p, p << 12, ALL, true);
    t.flushAll();
    let left = 0;
    for (let p = 0; p < 9000; p++) if (t.supRead[p] !== 0) left++;
    expect(left).toBe(0);
  });
});

