/**
 * Processor state after power-up / RESET and the first instructions after it.
 *
 * References: SDM Vol. 3A 9.1.1 Table 9-1 ("IA-32 Processor States Following Power-up, Reset, or INIT",
 * the Power-up/Reset column for P6 family and later: EFLAGS 00000002H, EIP 0000FFF0H, CR0 60000010H,
 * CR2/CR3/CR4 0, CS selector F000H base FFFF0000H limit FFFFH, other segments selector 0 base 0 limit
 * FFFFH, access rights "present, R/W, accessed", EDX = 000n06xxH (the processor signature, as
 * CPUID.01H:EAX reports it), EAX 0 (no BIST), other general registers 0, GDTR/IDTR base 0 limit FFFFH,
 * LDTR/TR selector 0 base 0 limit FFFFH, DR0-DR3 0, DR6 FFFF0FF0H, DR7 00000400H, time-stamp counter 0);
 * 9.1.4 (the first instruction is fetched at FFFFFFF0H; the CS base stays FFFF0000H until CS is loaded,
 * a far jump then gives the usual real-mode base selector * 16); 9.1.2 (real-address mode, paging off).
 */
import { describe, expect, it } from "vitest";
import { Core } from "../../../src/cpu/core.ts";
import { debugRegisters } from "../../../src/cpu/debug-registers.ts";
import type { SystemBus } from "../../../src/cpu/system-bus.ts";
import { Asm, ax, eax, edx, esi, far } from "../../../src/guests/asm/index.ts";
import { machine } from "../system-harness.ts";
import { buildTables, enablePaging, WIN, frame, P, RW } from "./paging-harness.ts";

/** A board with 1 MiB of RAM and a 64 KiB ROM at FFFF0000H; records the physical reads it serves. */
class RomBus implements SystemBus {
  readonly rom = new Uint8Array(0x10000).fill(0xf4); // HLT everywhere
  readonly reads: number[] = [];
  readPhys(pa: number, size: 1 | 2 | 4): number {
    this.reads.push(pa >>> 0);
    let v = 0;
    for (let k = 0; k < size; k++) {
      const a = (pa + k) >>> 0;
      v |= (a >= 0xffff0000 ? this.rom[a - 0xffff0000] : 0xff) << (8 * k);
    }
    return size === 4 ? v | 0 : v;
  }
  writePhys(): void {}
  portIn(_p: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  }
  portOut(): void {}
}

/** A core with 1 MiB RAM on a RomBus; `rom` is assembled (16-bit) at `at` (an address in the ROM). */
function board(rom?: (a: Asm) => void, at = 0xfffffff0): { c: Core; bus: RomBus; sym: Record<string, number> } {
  const bus = new RomBus();
  let sym: Record<string, number> = {};
  if (rom) {
    const a = new Asm({ bits: 16, origin: at });
    rom(a);
    const img = a.build();
    bus.rom.set(img.bytes, at - 0xffff0000);
    sym = img.symbols;
  }
  const c = new Core({ ram: new Uint8Array(1 << 20), bus });
  return { c, bus, sym };
}

const h = (v: number) => "0x" + (v >>> 0).toString(16).toUpperCase();

describe("SDM Vol. 3A Table 9-1: the state after power-up", () => {
  const { c } = board();
  const seg = (s: number) => [h(c.segSel[s]), h(c.segBase[s]), h(c.segLimit[s])];
  type Row = [what: string, got: () => unknown, want: unknown];
  const rows: Row[] = [
    ["EFLAGS = 00000002H", () => h(c.getEflags()), "0x2"],
    ["EIP = 0000FFF0H", () => h(c.eip), "0xFFF0"],
    ["CR0 = 60000010H (CD, NW, ET)", () => h(c.cr0), "0x60000010"],
    ["CR2 = CR3 = CR4 = 0", () => [c.cr2, c.cr3, c.cr4], [0, 0, 0]],
    ["CS: selector F000H, base FFFF0000H, limit FFFFH", () => seg(1), ["0xF000", "0xFFFF0000", "0xFFFF"]],
    ["SS: selector 0, base 0, limit FFFFH", () => seg(2), ["0x0", "0x0", "0xFFFF"]],
    ["DS: selector 0, base 0, limit FFFFH", () => seg(3), ["0x0", "0x0", "0xFFFF"]],
    ["ES: selector 0, base 0, limit FFFFH", () => seg(0), ["0x0", "0x0", "0xFFFF"]],
    ["FS: selector 0, base 0, limit FFFFH", () => seg(4), ["0x0", "0x0", "0xFFFF"]],
    ["GS: selector 0, base 0, limit FFFFH", () => seg(5), ["0x0", "0x0", "0xFFFF"]],
    // access rights: present (bit 7), DPL 0, S = 1, type: data read/write accessed (3), code execute/read accessed (B)
    ["CS access rights: present, execute/read, accessed", () => h(c.segAttr[1] & 0xff), "0x9B"],
    ["data segment access rights: present, read/write, accessed", () => [0, 2, 3, 4, 5].map((s) => h(c.segAttr[s] & 0xff)), Array(5).fill("0x93")],
    ["16-bit segments (D/B = 0, G = 0)", () => [0, 1, 2, 3, 4, 5].map((s) => c.segAttr[s] & 0xc000), Array(6).fill(0)],
    ["EAX = 0 (no BIST), EBX ECX ESI EDI EBP ESP = 0", () => [0, 1, 3, 4, 5, 6, 7].map((r) => c.regs[r]), Array(7).fill(0)],
    ["EDX = 000n06xxH: family 6", () => (c.regs[2] >>> 8) & 0xf, 6],
    ["EDX bits 31:20 are zero (no extended family)", () => c.regs[2] >>> 20, 0],
    ["GDTR: base 0, limit FFFFH", () => [c.gdtBase, h(c.gdtLimit)], [0, "0xFFFF"]],
    ["IDTR: base 0, limit FFFFH", () => [c.idtBase, h(c.idtLimit)], [0, "0xFFFF"]],
    ["LDTR: selector 0, base 0, limit FFFFH", () => [c.ldtrSel, c.ldtrBase, h(c.ldtrLimit)], [0, 0, "0xFFFF"]],
    ["TR: selector 0, base 0, limit FFFFH", () => [c.trSel, c.trBase, h(c.trLimit)], [0, 0, "0xFFFF"]],
    ["DR0-DR3 = 0", () => [0, 1, 2, 3].map((n) => debugRegisters(c)[n]), [0, 0, 0, 0]],
    ["DR6 = FFFF0FF0H", () => h(debugRegisters(c)[6]), "0xFFFF0FF0"],
    ["DR7 = 00000400H", () => h(debugRegisters(c)[7]), "0x400"],
    ["real-address mode at CPL 0 with paging off (9.1.2)", () => [c.protectedMode, c.cpl, c.tlb], [false, 0, null]],
    ["16-bit code and stack", () => [c.cs32, c.ss32], [false, false]],
    ["running: not halted, not shut down", () => [c.halted, c.shutdown], [false, false]],
  ];
  it.each(rows.map((r) => [r[0], r] as const))("%s", (_n, [, got, want]) => {
    expect(got()).toEqual(want);
  });
});

describe("the first instructions after reset (SDM Vol. 3A 9.1.4)", () => {
  it("the first fetch is at physical FFFFFFF0H", () => {
    const { c, bus } = board((a) => a.nop());
    c.run(1);
    expect(bus.reads[0]).toBe(0xfffffff0);
    expect(c.eip).toBe(0xfff1);
  });

  it("a near jump keeps the CS base FFFF0000H: JMP to FFE0H fetches from FFFFFFE0H", () => {
    const { c, bus } = board((a) => a.jmp(0xffe0), 0xfffffff0);
    bus.rom.set([0x40, 0xf4], 0xffe0); // inc ax; hlt at FFFFFFE0H
    expect(c.run(10)).toBe("halt");
    expect([h(c.eip), c.regs[0], h(c.segBase[1])]).toEqual(["0xFFE2", 1, "0xFFFF0000"]);
    expect(bus.reads).toContain(0xffffffe0);
  });

  it("a far jump to F000:E05B loads CS the real-mode way (base F0000H) and runs from RAM", () => {
    const { c } = board((a) => a.jmp(far(0xf000, 0xe05b)));
    c.ram.set([0x40, 0x40, 0xf4], 0xfe05b); // inc ax; inc ax; hlt
    expect(c.run(10)).toBe("halt");
    expect([h(c.segSel[1]), h(c.segBase[1]), h(c.eip), c.regs[0]]).toEqual(["0xF000", "0xF0000", "0xE05E", 2]);
  });

  it("EDX after reset equals what CPUID.01H returns in EAX (the processor signature)", () => {
    const { c } = board((a) => {
      a.mov(esi, edx);
      a.mov(eax, 1);
      a.cpuid();
    });
    const signature = c.regs[2];
    c.run(3);
    expect([h(c.regs[6]), h(c.regs[0])]).toEqual([h(signature), h(signature)]);
  });

  it("the time-stamp counter starts at 0: RDTSC as the first instruction reads a small value", () => {
    const { c } = board((a) => a.rdtsc());
    c.run(1);
    expect(c.regs[2]).toBe(0);
    expect(c.regs[0] >>> 0).toBeLessThan(1000);
  });
});

describe("Core.reset() returns a used core to the power-up state", () => {
  it("after protected mode, paging, CPL 3 and a triple fault, reset gives the Table 9-1 state again", () => {
    const fresh = board().c;
    const used = machine([0xcd, 0x80]); // flat protected mode; INT 80H: beyond the IDT -> #GP ...
    buildTables(used, { ptes: { [WIN]: frame(0) | P | RW } });
    enablePaging(used, { cr4: 0x90, wp: true });
    used.regs.fill(0x1234);
    used.cr2 = 0xdead;
    used.idtLimit = 0; // ... and with an empty IDT every delivery fails: triple fault
    expect(used.run(10)).toBe("shutdown");
    debugRegisters(used)[0] = 0x5555;
    used.reset();
    const snap = (c: Core) => ({
      regs: Array.from(c.regs.slice(0, 8)).map((r, i) => (i === 2 ? "signature" : r)),
      eip: c.eip, eflags: c.getEflags(), cr: [c.cr0, c.cr2, c.cr3, c.cr4],
      seg: [Array.from(c.segSel), Array.from(c.segBase), Array.from(c.segLimit), Array.from(c.segAttr)],
      tables: [c.gdtBase, c.gdtLimit, c.idtBase, c.idtLimit, c.ldtrSel, c.ldtrBase, c.ldtrLimit, c.trSel, c.trBase, c.trLimit],
      dr: Array.from(debugRegisters(c)), cpl: c.cpl, tlb: c.tlb, halted: c.halted, shutdown: c.shutdown,
      pm: c.protectedMode, cs32: c.cs32, ss32: c.ss32,
    });
    expect(snap(used)).toEqual(snap(fresh));
    expect(used.regs[2]).toBe(fresh.regs[2]);
  });

  it("after reset the core runs from the reset vector again, through its own decoded-block cache", () => {
    const { c, bus } = board((a) => {
      a.inc(ax);
      a.hlt();
    });
    expect(c.run(10)).toBe("halt");
    expect(c.regs[0]).toBe(1);
    bus.rom.set([0x43, 0xf4], 0xfff0); // the ROM now holds inc bx; hlt
    c.reset();
    expect(c.run(10)).toBe("halt");
    expect([c.regs[0], c.regs[3], h(c.eip)]).toEqual([0, 1, "0xFFF2"]);
  });

  it("reset restarts the time-stamp counter at 0", () => {
    const { c } = board((a) => {
      a.label("spin");
      a.jmp("spin");
    });
    c.run(5000);
    expect(c.tsc).toBeGreaterThan(1000);
    c.reset();
    expect(c.tsc).toBe(0);
  });
});
