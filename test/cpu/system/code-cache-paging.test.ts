/**
 * Instruction fetch and the decoded-block cache under paging and segmentation: fetches are translated
 * like reads at the current CPL, blocks are valid only for the linear address, CS limit and mapping they
 * were decoded under, instructions may cross into another page, branch targets beyond the CS limit
 * fault at the branch, and stores reach code through any alias.
 *
 * References:
 * - SDM Vol. 3A 4.6 (instruction fetches are reads: user-mode fetches need U/S = 1), 4.7 (error code
 *   without the I/D bit when NX/SMEP are off; CR2 = the linear address of the fetch, for an instruction
 *   crossing a page the first byte on the missing page), 4.10.4.1 (INVLPG, MOV CR3);
 * - SDM Vol. 3A 5.3 (an instruction with a byte beyond the CS limit raises #GP(0)); Vol. 2 JMP, CALL,
 *   Jcc, LOOP, RET ("#GP(0) if the target / return instruction pointer is beyond the code segment
 *   limit"); 6.5 (a fault restores the state from before the faulting instruction: no return address
 *   pushed, ECX not decremented - Bochs 2.7 LOOP32_Jb writes ECX only after branch_near32's check);
 * - SDM Vol. 3A 11.6 "Self-Modifying Code": detection is by physical address, so a store through another
 *   linear alias of the code's page is seen by the next execution of that code.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { Asm, ax, cr3, ds, dword, eax, ebx, ecx, edx, esi, esp, far, lbl, ptr } from "../../../src/guests/asm/index.ts";
import {
  GP, P, PF, PF_P, PF_U, PT_TEST, RW, Sel, US, WIN, descriptor, frame, go, putGdt, sel, setGate,
  type PagingOptions, paged, stackDwords, STACK_TOP,
} from "./paging-harness.ts";

/** Assemble 32-bit code at linear `origin` and copy it into physical `pa`. */
function place(c: Core, pa: number, origin: number, build: (a: Asm) => void): Record<string, number> {
  const a = new Asm({ bits: 32, origin });
  build(a);
  const img = a.build();
  c.ram.set(img.bytes, pa);
  return img.symbols;
}

function run(build: (a: Asm) => void, o: PagingOptions, budget = 200) {
  const s = paged(build, o);
  return { s, o: go(s, budget) };
}

/** IRET frame to CPL 3 at `label` with the harness's DPL-3 flat segments (DS reloaded first so it stays usable). */
function toRing3(a: Asm, label: string): void {
  a.mov(eax, Sel.DATA3);
  a.mov(ds, ax);
  a.push(Sel.DATA3);
  a.push(STACK_TOP);
  a.pushfd();
  a.push(Sel.CODE3);
  a.push(label);
  a.iretd();
}

describe("instruction fetch goes through paging (SDM Vol. 3A 4.6, 4.7)", () => {
  it("CPL 3 jumping to code on a supervisor page: #PF(P|U), CR2 = the target, saved EIP = the target", () => {
    const { s, o } = run((a) => a.jmp(WIN + 0x10), {
      cpl3: true, ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => place(c, frame(0) + 0x10, WIN + 0x10, (w) => w.nop()),
    });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_U, WIN + 0x10, WIN + 0x10]);
  });

  it("the same page runs at CPL 0", () => {
    const { s, o } = run((a) => {
      a.call(WIN + 0x10);
      a.label("end");
    }, { ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => place(c, frame(0) + 0x10, WIN + 0x10, (w) => {
      w.mov(eax, 0x77);
      w.ret();
    }) });
    expect([o.vector, o.eip, s.c.regs[0]]).toEqual([null, s.sym.end, 0x77]);
  });

  it("a fetch from a not-present page: #PF(0) at CPL 0, #PF(U) at CPL 3", () => {
    const k0 = run((a) => a.jmp(WIN + 0x2345), {});
    expect([k0.o.vector, k0.o.errorCode, k0.o.eip, k0.s.c.cr2 >>> 0]).toEqual([PF, 0, WIN + 0x2345, WIN + 0x2345]);
    const k3 = run((a) => a.jmp(WIN + 0x2345), { cpl3: true });
    expect([k3.o.vector, k3.o.errorCode]).toEqual([PF, PF_U]);
  });

  it("code that ran before is refetched after its page is unmapped (INVLPG): #PF(0)", () => {
    const { s, o } = run((a) => {
      a.call(WIN);
      a.mov(dword(PT_TEST), 0);
      a.invlpg(ptr(WIN));
      a.label("again");
      a.call(WIN);
    }, { ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => place(c, frame(0), WIN, (w) => w.ret()) });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, 0, WIN, WIN]);
  });

  it("CPL 3 reaching a supervisor page through a user page's JMP: #PF(P|U) at the target", () => {
    const { s, o } = run((a) => a.call(WIN), {
      cpl3: true,
      ptes: { [WIN]: frame(0) | P | RW | US, [WIN + 0x1000]: frame(1) | P | RW },
      setup: (c) => {
        place(c, frame(0), WIN, (w) => w.jmp(WIN + 0x1000));
        place(c, frame(1), WIN + 0x1000, (w) => w.ret());
      },
    });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_U, WIN + 0x1000, WIN + 0x1000]);
  });

  /**
   * Core.nextBlock follows a block's successor link without translating the target again, so links must
   * not survive a change between user and supervisor CPL (the cpl setter bumps blocks.linkGen): a link made
   * at CPL 0 to code on a supervisor page must not let CPL 3 code run there.
   */
  it("a block first run at CPL 0 and linked to code on a supervisor page is not entered at CPL 3 through the link", () => {
    // WIN (user page): jmp WIN+1000H; WIN+1000H (supervisor page): ret. At CPL 0 the pair runs and the
    // WIN block is linked to its successor; the same call at CPL 3 must fetch-check WIN+1000H.
    const { s, o } = run((a) => {
      a.call(WIN);
      toRing3(a, "user");
      a.label("user");
      a.call(WIN);
    }, {
      ptes: { [WIN]: frame(0) | P | RW | US, [WIN + 0x1000]: frame(1) | P | RW },
      setup: (c) => {
        place(c, frame(0), WIN, (w) => w.jmp(WIN + 0x1000));
        place(c, frame(1), WIN + 0x1000, (w) => w.ret());
      },
    });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_U, WIN + 0x1000, WIN + 0x1000]);
  });
});

describe("instructions crossing a page boundary (SDM Vol. 3A 4.7)", () => {
  // mov eax, 44332211H at WIN + FFDH: B8 11 22 on the first page, 33 44 on the second
  const crossing = (c: Core, secondFrame = frame(1)) => {
    c.ram.set([0xb8, 0x11, 0x22], frame(0) + 0xffd);
    c.ram.set([0x33, 0x44, 0xc3], secondFrame); // ... then ret
  };

  it("runs when both pages are mapped (to non-adjacent frames)", () => {
    const { s, o } = run((a) => {
      a.call(WIN + 0xffd);
      a.label("end");
    }, { ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(5) | P | RW }, setup: (c) => crossing(c, frame(5)) });
    expect([o.vector, o.eip, s.c.regs[0] >>> 0]).toEqual([null, s.sym.end, 0x44332211]);
  });

  it("second page not present: #PF(0) with CR2 = the start of that page and the instruction's own EIP; EAX unchanged", () => {
    const { s, o } = run((a) => {
      a.mov(eax, 0x99);
      a.call(WIN + 0xffd);
    }, { ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(1) | RW }, setup: (c) => crossing(c) });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0, s.c.regs[0]]).toEqual([PF, 0, WIN + 0xffd, WIN + 0x1000, 0x99]);
  });

  it("... at CPL 3 with the second page supervisor-only: #PF(P|U)", () => {
    const { s, o } = run((a) => a.call(WIN + 0xffd), {
      cpl3: true, ptes: { [WIN]: frame(0) | P | RW | US, [WIN + 0x1000]: frame(1) | P | RW }, setup: (c) => crossing(c),
    });
    expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, PF_P | PF_U, WIN + 0xffd, WIN + 0x1000]);
  });

  it("a #PF handler that maps the second page and returns makes the instruction run", () => {
    const { s, o } = run((a) => {
      a.call(WIN + 0xffd);
      a.label("end");
      a.jmp("end");
      a.label("pf");
      a.or(dword(PT_TEST + 4), P);
      a.add(esp, 4);
      a.iretd();
    }, {
      ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(1) | RW },
      setup: (c, sym) => {
        crossing(c);
        setGate(c, PF, sym.pf);
      },
    });
    expect([o.vector, o.eip, s.c.regs[0] >>> 0]).toEqual([null, s.sym.end, 0x44332211]);
  });

  it("remapping the second page (INVLPG) changes what the cached crossing instruction reads", () => {
    const { s } = run((a) => {
      for (let k = 0; k < 20; k++) a.call(WIN + 0xffd); // decoded, cached, compiled
      a.mov(ebx, eax);
      a.mov(dword(PT_TEST + 4), frame(2) | P | RW);
      a.invlpg(ptr(WIN + 0x1000));
      a.call(WIN + 0xffd);
      a.label("end");
    }, {
      ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(1) | P | RW },
      setup: (c) => {
        crossing(c);
        c.ram.set([0x66, 0x55, 0xc3], frame(2));
      },
    }, 200);
    expect([s.c.eip, s.c.regs[3] >>> 0, s.c.regs[0] >>> 0]).toEqual([s.sym.end, 0x44332211, 0x55662211]);
  });

  it("remapping the second page by MOV CR3 alone does it too", () => {
    const { s } = run((a) => {
      a.call(WIN + 0xffd);
      a.mov(ebx, eax);
      a.mov(dword(PT_TEST + 4), frame(2) | P | RW);
      a.mov(eax, cr3);
      a.mov(cr3, eax);
      a.call(WIN + 0xffd);
      a.label("end");
    }, {
      ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(1) | P | RW },
      setup: (c) => {
        crossing(c);
        c.ram.set([0x66, 0x55, 0xc3], frame(2));
      },
    });
    expect([s.c.eip, s.c.regs[3] >>> 0, s.c.regs[0] >>> 0]).toEqual([s.sym.end, 0x44332211, 0x55662211]);
  });
});

describe("blocks belong to a linear address and a mapping", () => {
  it("one frame mapped at two linear addresses: position-dependent code sees each address", () => {
    // WIN and WIN+1000H -> frame(0): call next / next: pop eax / ret
    const { s } = run((a) => {
      for (let k = 0; k < 3; k++) {
        a.call(WIN);
        a.mov(ebx, eax);
        a.call(WIN + 0x1000);
      }
      a.label("end");
    }, {
      ptes: { [WIN]: frame(0) | P | RW, [WIN + 0x1000]: frame(0) | P | RW },
      setup: (c) => place(c, frame(0), WIN, (w) => {
        w.call("next");
        w.label("next");
        w.pop(eax);
        w.ret();
      }),
    });
    expect([s.c.eip, s.c.regs[3] >>> 0, s.c.regs[0] >>> 0]).toEqual([s.sym.end, WIN + 5, WIN + 0x1005]);
  });

  for (const op of ["INVLPG", "MOV CR3"] as const) {
    it(`a page remapped to other code (${op}) runs the new code, also from a compiled, linked call site`, () => {
      const { s } = run((a) => {
        a.mov(ecx, 30);
        a.label("loop");
        a.call(WIN);
        a.add(ebx, eax);
        a.cmp(ecx, 10);
        a.jne("same");
        a.mov(dword(PT_TEST), frame(1) | P | RW);
        if (op === "INVLPG") a.invlpg(ptr(WIN));
        else {
          a.mov(eax, cr3);
          a.mov(cr3, eax);
        }
        a.label("same");
        a.dec(ecx);
        a.jnz("loop");
        a.label("end");
      }, {
        ptes: { [WIN]: frame(0) | P | RW },
        setup: (c) => {
          place(c, frame(0), WIN, (w) => {
            w.mov(eax, 1);
            w.ret();
          });
          place(c, frame(1), WIN, (w) => {
            w.mov(eax, 100);
            w.ret();
          });
        },
      }, 1000);
      // 21 calls with ECX = 30..10 return 1, the 9 with ECX = 9..1 return 100
      expect([s.c.eip, s.c.regs[3]]).toEqual([s.sym.end, 21 + 900]);
    });
  }
});

describe("faults inside compiled blocks", () => {
  for (const jit of [false, true]) {
    it(`a #PF in the middle of a hot loop block retires exactly the instructions before it (${jit ? "compiled" : "interpreted"})`, () => {
      // 16 iterations read WIN .. WIN+F00H; the 17th reads WIN+1000H, which is not present
      const { s, o } = run((a) => {
        a.mov(esi, WIN);
        a.mov(ecx, 100);
        a.label("loop");
        a.inc(ebx);
        a.label("insn");
        a.mov(eax, dword(esi));
        a.inc(edx);
        a.add(esi, 0x100);
        a.dec(ecx);
        a.jnz("loop");
      }, { ptes: { [WIN]: frame(0) | P | RW }, setup: (c) => { c.jit = jit; } }, 500);
      expect([o.vector, o.errorCode, o.eip, s.c.cr2 >>> 0]).toEqual([PF, 0, s.sym.insn, WIN + 0x1000]);
      expect([s.c.regs[3], s.c.regs[2], s.c.regs[1]]).toEqual([17, 16, 100 - 16]);
    });
  }
});

describe("self-modifying code through another linear alias (SDM Vol. 3A 11.6: detection by physical address)", () => {
  for (const jit of [false, true]) {
    it(`a store through the alias is seen by the next call (${jit ? "compiled" : "interpreted"})`, () => {
      // frame(0) is code at WIN (mov eax, imm32 / ret) and data at WIN+1000H
      const { s } = run((a) => {
        a.mov(ecx, 20);
        a.label("loop");
        a.mov(dword(WIN + 0x1000 + 1), ecx); // patch the immediate through the alias
        a.call(WIN);
        a.add(ebx, eax);
        a.dec(ecx);
        a.jnz("loop");
        a.label("end");
      }, {
        ptes: { [WIN]: frame(0) | P, [WIN + 0x1000]: frame(0) | P | RW },
        setup: (c) => {
          c.jit = jit;
          place(c, frame(0), WIN, (w) => {
            w.mov(eax, 0);
            w.ret();
          });
        },
      }, 500);
      expect([s.c.eip, s.c.regs[3]]).toEqual([s.sym.end, 210]);
    });
  }

  it("a store to a frame while it is not mapped as code still invalidates its decoded code", () => {
    // WIN -> frame(0): mov eax, 1 / ret; remap WIN -> frame(1): mov eax, 2 / ret; patch frame(0) through
    // WIN+1000H to mov eax, 3; map WIN -> frame(0) again: the call must run the patched code.
    const { s } = run((a) => {
      a.call(WIN);
      a.mov(ebx, eax);
      a.mov(dword(PT_TEST), frame(1) | P);
      a.invlpg(ptr(WIN));
      a.call(WIN);
      a.mov(ecx, eax);
      a.mov(dword(WIN + 0x1000 + 1), 3);
      a.mov(dword(PT_TEST), frame(0) | P);
      a.invlpg(ptr(WIN));
      a.call(WIN);
      a.label("end");
    }, {
      ptes: { [WIN]: frame(0) | P, [WIN + 0x1000]: frame(0) | P | RW },
      setup: (c) => {
        place(c, frame(0), WIN, (w) => {
          w.mov(eax, 1);
          w.ret();
        });
        place(c, frame(1), WIN, (w) => {
          w.mov(eax, 2);
          w.ret();
        });
      },
    });
    expect([s.c.eip, s.c.regs[3], s.c.regs[1], s.c.regs[0]]).toEqual([s.sym.end, 1, 2, 3]);
  });

  it("a store through the alias into the rest of the running block is seen before it executes", () => {
    // WIN: mov dword [WIN+1000H + (x - WIN) + 1], 5 / x: mov eax, 0 / ret
    const { s } = run((a) => {
      a.call(WIN);
      a.label("end");
    }, {
      ptes: { [WIN]: frame(0) | P, [WIN + 0x1000]: frame(0) | P | RW },
      setup: (c) => place(c, frame(0), WIN, (w) => {
        w.mov(dword(lbl("x", 0x1000 + 1)), 5);
        w.label("x");
        w.mov(eax, 0);
        w.ret();
      }),
    });
    expect([s.c.eip, s.c.regs[0]]).toEqual([s.sym.end, 5]);
  });
});

describe("the CS limit and the block cache (SDM Vol. 3A 5.3; Vol. 2 JMP/CALL/Jcc/LOOP/RET)", () => {
  /** sel(0): code DPL 0, base 0, 32-bit, byte limit = the "limit" label - 1 (or `limit(sym)`), set once the
   * program is assembled; `gp`: a label to install as the #GP handler. */
  const limited = (build: (a: Asm) => void, o: { limit?: (sym: Record<string, number>) => number; gp?: boolean } = {}) => run(build, {
    gdt: [descriptor(0, 0, 0x9a, 0x4)],
    setup: (c, sym) => {
      putGdt(c, 0, descriptor(0, o.limit ? o.limit(sym) : sym.limit - 1, 0x9a, 0x4));
      if (o.gp) setGate(c, GP, sym.gp);
    },
  }, 100);

  it("the same code runs fully with a flat CS, then faults at the first instruction beyond a smaller limit", () => {
    const { s, o } = limited((a) => {
      a.call(far(Sel.CODE0, "blk"));
      a.call(far(sel(0), "blk"));
      a.label("end");
      a.jmp("end");
      a.label("blk");
      a.inc(eax);
      a.inc(eax);
      a.label("limit");
      a.inc(eax);
      a.retf();
    });
    expect([o.vector, o.errorCode, o.eip, s.c.regs[0]]).toEqual([GP, 0, s.sym.limit, 3 + 2]);
  });

  it("... and the other way round: the block decoded under the small limit is not reused under a flat CS", () => {
    const { s, o } = limited((a) => {
      a.call(far(sel(0), "blk"));
      a.label("end");
      a.jmp("end");
      a.label("gp");
      a.add(esp, 4); // error code
      a.mov(dword(esp), "back"); // resume at "back" with a flat CS
      a.mov(dword({ base: esp, disp: 4 }), Sel.CODE0);
      a.iretd();
      a.label("back");
      a.call(far(Sel.CODE0, "blk"));
      a.label("done");
      a.jmp("done");
      a.label("blk");
      a.inc(eax);
      a.label("limit");
      a.inc(eax);
      a.retf();
    }, { gp: true });
    // first call: #GP at the second inc (EAX = 1); then the flat call runs blk fully (EAX = 3)
    expect([o.vector, o.eip, s.c.regs[0]]).toEqual([null, s.sym.done, 3]);
  });

  it("an instruction whose last byte is beyond the limit faults (#GP(0)) without executing", () => {
    const { s, o } = limited((a) => {
      a.jmp(far(sel(0), "blk"));
      a.label("blk");
      a.mov(ebx, 7);
      a.label("insn");
      a.mov(eax, 0x11223344); // 5 bytes; the limit cuts it after 2
      a.nop();
    }, { limit: (sym) => sym.insn + 1 });
    expect([o.vector, o.errorCode, o.eip, s.c.regs[3], s.c.regs[0]]).toEqual([GP, 0, s.sym.insn, 7, 0]);
  });

  type Br = [name: string, build: (a: Asm) => void, fault: boolean, pushedBefore?: number];
  const branches: Br[] = [
    ["JMP rel8 to beyond the limit: #GP(0) at the JMP", (a) => a.jmp("far_away"), true],
    ["CALL rel32 to beyond the limit (no return address pushed)", (a) => a.call("far_away"), true],
    ["Jcc taken to beyond the limit", (a) => {
      a.cmp(eax, eax);
      a.label("insn");
      a.je("far_away");
    }, true],
    ["Jcc not taken: no fault", (a) => {
      a.cmp(eax, 1);
      a.je("far_away");
    }, false],
    ["JMP EAX to beyond the limit", (a) => {
      a.mov(eax, "far_away");
      a.label("insn");
      a.jmp(eax);
    }, true],
    ["RET to beyond the limit (ESP unchanged)", (a) => {
      a.push("far_away");
      a.label("insn");
      a.ret();
    }, true, 4],
  ];
  it.each(branches.map((r) => [r[0], r] as const))("%s", (_n, [, build, fault, pushedBefore = 0]) => {
    const { s, o } = limited((a) => {
      a.jmp(far(sel(0), "blk"));
      a.label("blk");
      a.mov(eax, 0);
      a.mov(ecx, 0);
      a.mov(esp, STACK_TOP);
      a.label("insn0");
      build(a);
      a.label("end");
      a.jmp("end");
      a.label("limit");
      a.label("far_away");
      a.jmp("far_away");
    });
    if (!fault) {
      expect([o.vector, o.eip]).toEqual([null, s.sym.end]);
      return;
    }
    const at = s.sym.insn ?? s.sym.insn0;
    expect([o.vector, o.errorCode, o.eip]).toEqual([GP, 0, at]);
    // the faulting branch changed nothing: the frame sits right below the ESP it started with
    expect(s.c.regs[4]).toBe(STACK_TOP - pushedBefore - 16);
    expect(stackDwords(s.c, 3)[2]).toBe(sel(0));
  });

  it("LOOP taken to beyond the limit: #GP(0) at LOOP with ECX not decremented (SDM 6.5; Bochs LOOP32_Jb)", () => {
    const { s, o } = limited((a) => {
      a.jmp(far(sel(0), "blk"));
      a.label("blk");
      a.mov(ecx, 5);
      a.label("insn");
      a.loop("far_away");
      a.label("end");
      a.jmp("end");
      a.label("limit");
      a.label("far_away");
      a.jmp("far_away");
    });
    expect([o.vector, o.errorCode, o.eip, s.c.regs[1]]).toEqual([GP, 0, s.sym.insn, 5]);
  });
});
