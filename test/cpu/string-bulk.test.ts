/**
 * The bulk paths of REPE/REPNE SCASB and CMPSB must be unobservable: same registers, flags, cycles and
 * EIP as the element-by-element semantics of the SDM (Vol. 2 SCAS, CMPS, REP/REPE/REPNE pseudo-code).
 * Expected values are worked out by hand for each case; the same program is also run with 16-bit
 * addressing (67 prefix), which always takes the element loop, and must agree.
 */
import { describe, expect, it } from "vitest";
import { Core } from "../../src/cpu/core.ts";

function run(code: number[], setup: (c: Core) => void): Core {
  const ram = new Uint8Array(1 << 20);
  ram.set(code, 0x1000);
  const c = new Core({ ram });
  c.resetToFlat32(0x1000);
  setup(c);
  c.run(1);
  return c;
}

const text = new TextEncoder().encode("hello, world; the quick brown fox");
const at = (c: Core, off: number, bytes: Uint8Array) => c.ram.set(bytes, off);

describe("REP SCASB / CMPSB bulk paths (SDM Vol. 2 SCAS, CMPS, REP)", () => {
  const cases: { name: string; code: number[]; setup: (c: Core) => void; want: { ecx: number; edi: number; esi?: number; zf: number; cf?: number } }[] = [
    {
      name: "REPNE SCASB finds ';' at index 12: 13 bytes examined, ZF=1",
      code: [0xf2, 0xae],
      setup: (c) => { at(c, 0x3000, text); c.regs[7] = 0x3000; c.regs[1] = 100; c.regs[0] = 0x3b; },
      want: { ecx: 87, edi: 0x300d, zf: 1 },
    },
    {
      name: "REPNE SCASB without a match stops at ECX=0 with ZF=0",
      code: [0xf2, 0xae],
      setup: (c) => { at(c, 0x3000, text); c.regs[7] = 0x3000; c.regs[1] = 10; c.regs[0] = 0x3b; },
      want: { ecx: 0, edi: 0x300a, zf: 0 },
    },
    {
      name: "REPE SCASB skips leading spaces: stops after the first non-space, ZF=0, CF=1",
      code: [0xf3, 0xae],
      setup: (c) => { at(c, 0x3000, new TextEncoder().encode("    x")); c.regs[7] = 0x3000; c.regs[1] = 50; c.regs[0] = 0x20; },
      want: { ecx: 45, edi: 0x3005, zf: 0, cf: 1 }, // 0x20 - 0x78 borrows
    },
    {
      name: "REPE CMPSB over equal strings runs to ECX=0 with ZF=1",
      code: [0xf3, 0xa6],
      setup: (c) => { at(c, 0x3000, text); at(c, 0x5000, text); c.regs[6] = 0x3000; c.regs[7] = 0x5000; c.regs[1] = text.length; },
      want: { ecx: 0, esi: 0x3000 + text.length, edi: 0x5000 + text.length, zf: 1 },
    },
    {
      name: "REPE CMPSB stops after the first difference ('w' vs 'W'), CF from 'w' - 'W' = no borrow",
      code: [0xf3, 0xa6],
      setup: (c) => { at(c, 0x3000, text); const t = text.slice(); t[7] = 0x57; at(c, 0x5000, t); c.regs[6] = 0x3000; c.regs[7] = 0x5000; c.regs[1] = 30; },
      want: { ecx: 22, esi: 0x3008, edi: 0x5008, zf: 0, cf: 0 },
    },
    {
      name: "REPNE CMPSB stops at the first equal pair",
      code: [0xf2, 0xa6],
      setup: (c) => { at(c, 0x3000, new Uint8Array([1, 2, 3, 9])); at(c, 0x5000, new Uint8Array([5, 6, 7, 9])); c.regs[6] = 0x3000; c.regs[7] = 0x5000; c.regs[1] = 10; },
      want: { ecx: 6, esi: 0x3004, edi: 0x5004, zf: 1 },
    },
    {
      name: "REPNE SCASB crossing a page boundary keeps scanning",
      code: [0xf2, 0xae],
      setup: (c) => { c.ram[0x4005] = 0x7f; c.regs[7] = 0x3ff0; c.regs[1] = 0x100; c.regs[0] = 0x7f; },
      want: { ecx: 0x100 - 0x16, edi: 0x4006, zf: 1 },
    },
  ];
  for (const k of cases) {
    it(k.name, () => {
      for (const a16 of [false, true]) {
        const c = run(a16 ? [0x67, ...k.code] : k.code, k.setup);
        const f = c.getEflags();
        expect({ ecx: c.regs[1] & (a16 ? 0xffff : -1), edi: c.regs[7], esi: k.want.esi === undefined ? undefined : c.regs[6], zf: (f >> 6) & 1, cf: k.want.cf === undefined ? undefined : f & 1 })
          .toEqual({ ...k.want, esi: k.want.esi, cf: k.want.cf });
        expect(c.eip).toBe(0x1000 + k.code.length + (a16 ? 1 : 0));
      }
    });
  }

  it("charges the same cycles on the bulk path and the element loop", () => {
    const setup = (c: Core) => { at(c, 0x3000, text); c.regs[7] = 0x3000; c.regs[1] = 100; c.regs[0] = 0x3b; };
    const bulk = run([0xf2, 0xae], setup);
    const elem = run([0x67, 0xf2, 0xae], setup);
    expect(bulk.cycles).toBe(elem.cycles);
  });
});
