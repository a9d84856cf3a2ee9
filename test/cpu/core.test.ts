/**
 * The execution engine: budgets, self-modifying code, compiled vs interpreted blocks, determinism.
 * References: SDM Vol. 3A 8.1.3 (a store to an instruction about to execute is seen by it: the
 * processor detects self-modifying code), and arithmetic written out by hand for the expected sums.
 */
import { describe, expect, it } from "vitest";
import { Core } from "../../src/cpu/core.ts";

function machine(code: number[], jit: boolean): Core {
  const ram = new Uint8Array(1 << 20);
  ram.set(code, 0x1000);
  const c = new Core({ ram });
  c.jit = jit;
  c.resetToFlat32(0x1000);
  c.regs[4] = 0x8000;
  return c;
}

// mov ecx,20 / L: mov [T+1],ecx / T: mov eax,0 / add ebx,eax / dec ecx / jnz L
const SMC_LOOP = [
  0xb9, 0x14, 0, 0, 0,
  0x89, 0x0d, 0x0c, 0x10, 0, 0,
  0xb8, 0, 0, 0, 0,
  0x01, 0xc3,
  0x49,
  0x75, 0xf0,
];

// A 5-instruction loop with loads and stores: sum of 1..n in eax, mirrored through memory into ebx.
// mov ecx,n / xor eax,eax / L: add eax,ecx / mov [0x2000],eax / mov ebx,[0x2000] / dec ecx / jnz L / hlt
const sumLoop = (n: number) => [
  0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24,
  0x31, 0xc0,
  0x01, 0xc8,
  0xa3, 0x00, 0x20, 0x00, 0x00,
  0x8b, 0x1d, 0x00, 0x20, 0x00, 0x00,
  0x49,
  0x75, 0xf0,
  0xf4,
];

describe("core execution engine", () => {
  for (const jit of [false, true]) {
    const mode = jit ? "compiled" : "interpreted";

    it(`sees a store into the next instruction of the same block (${mode}, SDM 8.1.3)`, () => {
      const c = machine(SMC_LOOP, jit);
      expect(c.run(1 + 20 * 5)).toBe("budget");
      expect(c.regs[3]).toBe(210); // 20 + 19 + ... + 1, each value patched into the immediate
      expect(c.regs[1]).toBe(0);
    });

    it(`stops exactly at the instruction budget (${mode})`, () => {
      const c = machine(sumLoop(1000), jit);
      expect(c.run(2 + 5 * 300 + 3)).toBe("budget");
      expect(c.icount).toBe(2 + 5 * 300 + 3);
      // 300 full iterations then add, store, load of the 301st: eax = sum(1000..700)
      let s = 0;
      for (let v = 1000; v >= 700; v--) s += v;
      expect(c.regs[0]).toBe(s);
      expect(c.regs[3]).toBe(s);
      expect(c.eip).toBe(0x1000 + 20);
    });
  }

  it("gives identical state and cycle counts compiled and interpreted", () => {
    const a = machine(sumLoop(5000), false);
    const b = machine(sumLoop(5000), true);
    for (const c of [a, b]) c.run(2 + 5 * 5000);
    expect(Array.from(b.regs)).toEqual(Array.from(a.regs));
    expect(b.cycles).toBe(a.cycles);
    expect(b.eip).toBe(a.eip);
    expect(b.getEflags()).toBe(a.getEflags());
    expect(a.regs[0]).toBe((5000 * 5001) / 2);
  });

  it("is deterministic across runs split into different budgets", () => {
    const a = machine(sumLoop(3000), true);
    expect(a.run(1e6)).toBe("halt");
    expect(a.icount).toBe(2 + 5 * 3000 + 1);
    const b = machine(sumLoop(3000), true);
    for (let k = 0; k < 1000 && b.icount < a.icount; k++) b.run(37);
    expect(b.icount).toBe(a.icount);
    expect(Array.from(b.regs)).toEqual(Array.from(a.regs));
    expect(b.cycles).toBe(a.cycles);
  });

  it("keeps decoded code when a store hits the same page but not the code's bytes", () => {
    // The sum loop stores to 0x2000; move its data next to the code instead: [0x1100], same page.
    const code = sumLoop(2000);
    code[10] = 0x00; code[11] = 0x11; // mov [0x1100], eax
    code[16] = 0x00; code[17] = 0x11; // mov ebx, [0x1100]
    const c = machine(code, true);
    expect(c.run(1e6)).toBe("halt");
    expect(c.regs[3]).toBe((2000 * 2001) / 2);
    expect(c.blocks.invalidations).toBe(0);
    expect(c.blocks.blocksDecoded).toBeLessThan(10);
  });

  it("drops only the blocks a store overlaps, and sees the new bytes", () => {
    const c = machine(SMC_LOOP, true);
    c.run(1 + 20 * 5);
    // 20 stores into the loop's own MOV immediate: each one invalidates the loop block.
    expect(c.blocks.invalidations).toBe(20);
  });
});

