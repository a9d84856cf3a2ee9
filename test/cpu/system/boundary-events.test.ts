/**
 * What happens between instructions: single-step traps, the MOV SS / POP SS and STI shadows, NMI and its
 * blocking, the INTR input with the interrupt-acknowledge callback, and HLT.
 *
 * References:
 * - SDM Vol. 3B 17.3.1.4 (single-step: a #DB trap after each instruction that began with TF = 1; POPF
 *   setting TF traps only after the following instruction; saved EIP = the next instruction), 17.2.3
 *   (DR6.BS, bit 14);
 * - SDM Vol. 3A 6.8.3 (MOV SS / POP SS inhibit interrupts, NMI and debug traps until after the next
 *   instruction), Vol. 2 STI (a maskable interrupt is recognised only after the instruction following an
 *   STI that set IF);
 * - SDM Vol. 3A 6.7.1 (after an NMI is delivered, further NMIs are blocked until the next IRET), 6.8.1
 *   (IF masks INTR, not NMI), 6.9 Table 6-2 (traps on the previous instruction before NMI before INTR);
 * - SDM Vol. 2 HLT (an enabled interrupt or NMI resumes execution; the saved EIP is that of the
 *   instruction after HLT).
 * Handlers are ours, assembled with our assembler: each logs (vector, saved EIP) to LOG and IRETs.
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../../src/cpu/core.ts";
import { debugRegisters } from "../../../src/cpu/debug-registers.ts";
import { type Asm, al, ax, dword, eax, ebx, ecx, esi, esp, ss } from "../../../src/guests/asm/index.ts";
import { RecordingBus } from "../system-harness.ts";
import {
  DB, NMI, buildTables, enablePaging, readPhys32, setGate, sys, writePhys32, type Sys,
} from "./paging-harness.ts";

const TF = 1 << 8, IF = 1 << 9;
const DR6_BS = 1 << 14;
const INTR_VECTOR = 0x20;
const LOG = 0x3000;
const LOG_PTR = 0x2ff0;
const COUNT = 0x2ff4;

/** A handler that appends (tag, saved EIP) to LOG and returns with IRETD. */
function logger(a: Asm, name: string, tag: number): void {
  a.label(name);
  a.push(eax);
  a.push(ebx);
  a.mov(ebx, dword(LOG_PTR));
  a.mov(eax, dword({ base: esp, disp: 8 }));
  a.mov(dword({ base: ebx, disp: 4 }), eax);
  a.mov(dword(ebx), tag);
  a.add(dword(LOG_PTR), 8);
  a.pop(ebx);
  a.pop(eax);
  a.iretd();
}

const setTf = (a: Asm) => {
  a.pushfd();
  a.or(dword(esp), TF);
  a.popfd();
};
const clearTf = (a: Asm) => {
  a.pushfd();
  a.and(dword(esp), ~TF);
  a.popfd();
};

interface Opts {
  flags?: number;
  intr?: boolean;
  nmi?: boolean;
  /** Called on OUT to port 80H. */
  onOut?: (c: Core) => void;
  extra?: (a: Asm) => void;
}

/** Program `body`, then `jmp $` at "end", then the logging handlers for #DB, NMI and INTR. */
function machine(body: (a: Asm) => void, o: Opts = {}): Sys & { acks: () => number } {
  let acks = 0;
  const s = sys((a) => {
    body(a);
    a.label("end");
    a.jmp("end");
    logger(a, "db", DB);
    logger(a, "nmi", NMI);
    logger(a, "intr", INTR_VECTOR);
    o.extra?.(a);
  }, {
    setup: (c, sym) => {
      setGate(c, DB, sym.db);
      setGate(c, NMI, sym.nmi);
      setGate(c, INTR_VECTOR, sym.intr);
      c.ram.fill(0, LOG, LOG + 0x100);
      new DataView(c.ram.buffer).setUint32(LOG_PTR, LOG, true);
      c.setEflags(o.flags ?? 0, TF | IF);
      c.interruptAcknowledge = () => {
        acks++;
        c.setIntr(false); // the (modelled) interrupt controller drops the line once acknowledged
        return INTR_VECTOR;
      };
      const bus = new RecordingBus();
      bus.onOut = (port) => {
        if (port === 0x80) o.onOut?.(c);
      };
      c.bus = bus;
      if (o.intr) c.setIntr(true);
      if (o.nmi) c.nmi();
    },
  });
  return { ...s, acks: () => acks };
}

/** The log as [tag, saved EIP] pairs. */
function log(c: Core): [number, number][] {
  const out: [number, number][] = [];
  const end = readPhys32(c, LOG_PTR);
  for (let p = LOG; p < end; p += 8) out.push([readPhys32(c, p), readPhys32(c, p + 4)]);
  return out;
}

describe("single-step traps (SDM Vol. 3B 17.3.1.4)", () => {
  it("POPF setting TF traps after the next instruction; every later instruction traps with the next EIP; " +
    "the POPF clearing TF still traps", () => {
    const s = machine((a) => {
      setTf(a);
      a.label("a1");
      a.nop();
      a.label("a2");
      a.inc(eax);
      a.label("a3");
      a.jmp("a5");
      a.label("a4");
      a.hlt();
      a.label("a5");
      a.mov(ebx, 2);
      a.label("a6");
      a.pushfd();
      a.label("a7");
      a.and(dword(esp), ~TF);
      a.label("a8");
      a.popfd();
      a.label("a9");
      a.nop();
      a.nop();
    });
    s.c.run(100);
    const y = s.sym;
    expect(log(s.c)).toEqual([y.a2, y.a3, y.a5, y.a6, y.a7, y.a8, y.a9].map((e) => [DB, e]));
    expect([s.c.eip, s.c.regs[0], s.c.regs[3]]).toEqual([y.end, 1, 2]);
  });

  it("an instruction that page-faults does not trap; after the handler fixes it, the retry completes and traps", () => {
    const PTE_WIN = 0x22000; // the paging harness's window table, entry 0
    const s = machine((a) => {
      setTf(a);
      a.label("insn");
      a.mov(eax, dword(0x400000));
      a.label("next");
      clearTf(a);
    }, {
      extra: (a) => {
        a.label("pf");
        a.push(eax);
        a.push(ebx);
        a.mov(ebx, dword(LOG_PTR));
        a.mov(eax, dword({ base: esp, disp: 12 })); // saved EIP (above the error code)
        a.mov(dword({ base: ebx, disp: 4 }), eax);
        a.mov(dword(ebx), 14);
        a.add(dword(LOG_PTR), 8);
        a.or(dword(PTE_WIN), 1); // make the page present
        a.pop(ebx);
        a.pop(eax);
        a.add(esp, 4);
        a.iretd();
      },
    });
    buildTables(s.c, { ptes: { [0x400000]: 0x40000 | 2 } }); // present bit clear
    writePhys32(s.c, 0x40000, 0x1234);
    enablePaging(s.c);
    setGate(s.c, 14, s.sym.pf);
    s.c.run(100);
    expect(log(s.c).slice(0, 2)).toEqual([[14, s.sym.insn], [DB, s.sym.next]]);
    expect(s.c.regs[0]).toBe(0x1234);
  });

  it("the trap sets DR6.BS (bit 14)", () => {
    const s = machine((a) => {
      setTf(a);
      a.nop();
      clearTf(a);
    });
    expect(debugRegisters(s.c)[6] & DR6_BS).toBe(0);
    s.c.run(50);
    expect(debugRegisters(s.c)[6] & DR6_BS).toBe(DR6_BS);
  });

  it("no trap at all while TF stays clear", () => {
    const s = machine((a) => {
      a.nop();
      a.inc(eax);
    });
    s.c.run(50);
    expect(log(s.c)).toEqual([]);
  });
});

describe("MOV SS / POP SS shadow (SDM Vol. 3A 6.8.3)", () => {
  it("MOV SS: no trap after it; one trap after the following instruction", () => {
    const s = machine((a) => {
      a.mov(eax, ss);
      setTf(a);
      a.label("b1");
      a.nop();
      a.label("b2");
      a.mov(ss, ax);
      a.label("b3");
      a.inc(ecx);
      a.label("b4");
      a.nop();
      a.label("b5");
      clearTf(a);
    });
    s.c.run(100);
    const y = s.sym;
    expect(log(s.c).slice(0, 3)).toEqual([[DB, y.b2], [DB, y.b4], [DB, y.b5]]);
    expect(s.c.regs[1]).toBe(1);
  });

  it("POP SS: the same", () => {
    const s = machine((a) => {
      a.push(ss);
      setTf(a);
      a.label("b2");
      a.pop(ss);
      a.label("b3");
      a.inc(ecx);
      a.label("b4");
      clearTf(a);
    });
    s.c.run(100);
    // no trap after POP SS; the next one after INC ECX (EIP b4), then after PUSHFD (1 byte) at b4
    expect(log(s.c).slice(0, 2)).toEqual([[DB, s.sym.b4], [DB, s.sym.b4 + 1]]);
  });

  it("MOV SS delays an INTR that arrives with it until after the next instruction", () => {
    const s = machine((a) => {
      a.mov(eax, ss);
      a.label("m");
      a.mov(ss, ax);
      a.label("n1");
      a.inc(ebx);
      a.label("n2");
      a.inc(ecx);
    }, { flags: IF });
    expect(s.c.run(2)).toBe("budget"); // up to and including MOV SS
    expect(s.c.eip).toBe(s.sym.n1);
    s.c.setIntr(true);
    s.c.run(50);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.n2]]);
    expect([s.c.regs[3], s.c.regs[1], s.acks()]).toEqual([1, 1, 1]);
  });

  it("... and an NMI likewise", () => {
    const s = machine((a) => {
      a.mov(eax, ss);
      a.mov(ss, ax);
      a.label("n1");
      a.inc(ebx);
      a.label("n2");
      a.inc(ecx);
    });
    s.c.run(2);
    s.c.nmi();
    s.c.run(50);
    expect(log(s.c)).toEqual([[NMI, s.sym.n2]]);
  });
});

describe("the INTR input and the STI shadow (SDM Vol. 3A 6.8.1; Vol. 2 STI)", () => {
  it("with IF = 0 INTR is ignored; STI sets IF, and the interrupt comes after the instruction after STI", () => {
    const s = machine((a) => {
      a.inc(eax);
      a.inc(eax);
      a.sti();
      a.label("c4");
      a.inc(ebx);
      a.label("c5");
      a.inc(ecx);
    }, { intr: true });
    s.c.run(100);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.c5]]);
    expect([s.c.regs[0], s.c.regs[3], s.c.regs[1], s.acks()]).toEqual([2, 1, 1, 1]);
  });

  it("STI with IF already 1 makes no shadow: an INTR arriving right after it is taken at once", () => {
    const s = machine((a) => {
      a.sti();
      a.label("s1");
      a.inc(ebx);
      a.label("s2");
      a.inc(ecx);
    }, { flags: IF });
    s.c.run(1);
    s.c.setIntr(true);
    s.c.run(50);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.s1]]);
  });

  it("STI; HLT: the pending INTR is recognised after HLT, waking it at once (saved EIP after HLT)", () => {
    const s = machine((a) => {
      a.sti();
      a.hlt();
      a.label("after");
      a.inc(eax);
    }, { intr: true });
    expect(s.c.run(50)).not.toBe("halt");
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.after]]);
    expect([s.c.halted, s.c.regs[0]]).toEqual([false, 1]);
  });

  it("while IF stays 0 the acknowledge is never asked for", () => {
    const s = machine((a) => {
      for (let k = 0; k < 5; k++) a.inc(eax);
    }, { intr: true });
    s.c.run(30);
    expect([log(s.c), s.acks(), s.c.regs[0]]).toEqual([[], 0, 5]);
  });

  it("with IF = 1 a pending INTR is taken at the first instruction boundary (saved EIP: the first instruction)", () => {
    const s = machine((a) => {
      a.label("first");
      a.inc(eax);
    }, { intr: true, flags: IF });
    s.c.run(30);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.first]]);
  });

  it("INTR raised by an instruction (OUT) is taken right after it", () => {
    const s = machine((a) => {
      a.out(0x80, al);
      a.label("next");
      a.inc(eax);
    }, { flags: IF, onOut: (c) => c.setIntr(true) });
    s.c.run(30);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.next]]);
  });

  for (const jit of [false, true]) {
    it(`INTR raised by an OUT inside a hot loop is taken right after that OUT (${jit ? "compiled" : "interpreted"} block)`, () => {
      let outs = 0;
      const s = machine((a) => {
        a.mov(ecx, 40);
        a.label("loop");
        a.out(0x80, al);
        a.label("next");
        a.inc(ebx);
        a.dec(ecx);
        a.jnz("loop");
      }, { flags: IF, onOut: (c) => { if (++outs === 25) c.setIntr(true); } });
      s.c.jit = jit;
      s.c.run(1000);
      expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.next]]);
      expect(readPhys32(s.c, LOG + 8)).toBe(0);
      expect(s.c.regs[3]).toBe(40); // the loop then ran to its end
    });
  }

  it("the interrupt gate clears IF: the handler is not interrupted again while the line stays high", () => {
    let acks = 0;
    const s = machine((a) => {
      a.label("first");
      a.nop();
    }, { flags: IF });
    s.c.interruptAcknowledge = () => {
      acks++;
      return INTR_VECTOR; // line stays asserted
    };
    s.c.setIntr(true);
    s.c.run(7); // delivery + the 6 handler instructions before IRETD: no second delivery inside
    expect([acks, log(s.c).length]).toEqual([1, 1]);
  });
});

describe("NMI (SDM Vol. 3A 6.7.1, 6.8.1)", () => {
  const nmiTwice = (a: Asm) => {
    a.label("nmi2h");
    a.inc(dword(COUNT));
    a.cmp(dword(COUNT), 1);
    a.jne("second");
    a.out(0x80, al); // the board raises a second NMI while the first one's handler runs
    a.inc(esi);
    a.inc(esi);
    a.iretd();
    a.label("second");
    a.mov(ebx, dword(esp));
    a.label("parked");
    a.jmp("parked");
  };

  it("an NMI during the NMI handler waits for IRET, then is delivered before the interrupted code resumes", () => {
    const s = machine((a) => {
      a.label("m1");
      a.inc(eax);
    }, { nmi: true, onOut: (c) => c.nmi(), extra: nmiTwice });
    setGate(s.c, NMI, s.sym.nmi2h);
    s.c.run(100);
    // the second NMI is taken after IRETD returned to m1, before m1 executed
    expect([s.c.eip, s.c.regs[6], s.c.regs[3] >>> 0, s.c.regs[0], readPhys32(s.c, COUNT)])
      .toEqual([s.sym.parked, 2, s.sym.m1, 0, 2]);
  });

  it("IF = 0 does not mask NMI", () => {
    const s = machine((a) => {
      a.label("m1");
      a.inc(eax);
    }, { nmi: true, flags: 0 });
    s.c.run(20);
    expect(log(s.c)).toEqual([[NMI, s.sym.m1]]);
  });

  it("a single-step trap due at the same boundary as an NMI goes first (Table 6-2): the NMI's saved EIP is the #DB handler's entry", () => {
    const s = machine((a) => {
      setTf(a);
      a.out(0x80, al); // raises NMI; this instruction began with TF = 1
      a.label("after");
      clearTf(a);
    }, { onOut: (c) => c.nmi() });
    s.c.run(100);
    const l = log(s.c);
    expect(l.slice(0, 2)).toEqual([[NMI, s.sym.db], [DB, s.sym.after]]);
  });

  it("a single-step trap goes before INTR; INTR waits for the #DB handler's IRET (interrupt gate cleared IF)", () => {
    const s = machine((a) => {
      setTf(a);
      a.out(0x80, al);
      a.label("after");
      clearTf(a);
    }, { flags: IF, onOut: (c) => c.setIntr(true) });
    s.c.run(100);
    expect(log(s.c).slice(0, 2)).toEqual([[DB, s.sym.after], [INTR_VECTOR, s.sym.after]]);
  });
});

describe("HLT (SDM Vol. 2 HLT)", () => {
  it("HLT stops the run; INTR wakes it with the saved EIP after HLT, and execution goes on from there", () => {
    const s = machine((a) => {
      a.hlt();
      a.label("h2");
      a.inc(eax);
    }, { flags: IF });
    expect(s.c.run(100)).toBe("halt");
    expect([s.c.halted, s.c.eip]).toEqual([true, s.sym.h2]);
    expect(s.c.run(100)).toBe("halt"); // nothing pending: stays halted
    s.c.setIntr(true);
    s.c.run(100);
    expect(log(s.c)).toEqual([[INTR_VECTOR, s.sym.h2]]);
    expect([s.c.halted, s.c.regs[0], s.c.eip]).toEqual([false, 1, s.sym.end]);
  });

  it("with IF = 0 INTR does not wake HLT; an NMI does", () => {
    const s = machine((a) => {
      a.hlt();
      a.label("h2");
      a.inc(eax);
    });
    s.c.run(100);
    s.c.setIntr(true);
    expect(s.c.run(100)).toBe("halt");
    expect([log(s.c), s.acks()]).toEqual([[], 0]);
    s.c.nmi();
    s.c.run(100);
    expect(log(s.c)).toEqual([[NMI, s.sym.h2]]);
    expect(s.c.regs[0]).toBe(1);
  });
});
