/**
 * The differential test must be able to fail: each case here breaks one executor of the core on
 * purpose (in this test process only, by wrapping its factory in EXEC_TABLE) and checks that a short
 * differential run against the host CPU reports mismatches. The mutants are classic emulator bugs:
 * INC/DEC touching CF, a zero shift count changing flags, MOVSX not sign-extending into the upper half
 * of a 16-bit destination's neighbour, DIV by zero not faulting. Reference: the host CPU (harness.c).
 */
import { afterEach, describe, expect, it } from "vitest";
import { EXEC_TABLE } from "../../../src/cpu/execute/index.ts";
import type { CoreState } from "../../../src/cpu/core-state.ts";
import { CpuFault } from "../../../src/cpu/exceptions.ts";
import type { ExecFactory } from "../../../src/cpu/execute/registry.ts";
import type { Insn } from "../../../src/cpu/insn.ts";
import { hostHarness } from "./host-runner.ts";
import { runDifferential } from "./differential.ts";

const host = hostHarness();
const saved = new Map<string, ExecFactory>();

/** Replace executor `key` by one that runs the original, then `after` (or `around` instead). */
function mutate(key: string, around: (orig: (c: CoreState, i: Insn) => void, c: CoreState, i: Insn) => void): void {
  const orig = EXEC_TABLE[key];
  saved.set(key, orig);
  EXEC_TABLE[key] = (i, row) => {
    const f = orig(i, row);
    return (c: CoreState, ii: Insn) => around(f, c, ii);
  };
}

afterEach(() => {
  for (const [k, f] of saved) EXEC_TABLE[k] = f;
  saved.clear();
});

function mismatches(only: string[]): number {
  if (!host.ok) return 0;
  return runDifferential(host.harness, { cases: 1500, seed: 7, only, jitEvery: 0, minimize: 0 }).mismatches.length;
}

describe.skipIf(!host.ok)("differential test sensitivity (deliberately broken executors)", () => {
  it("detects INC/DEC that change CF", () => {
    mutate("incdec", (f, c, i) => {
      f(c, i);
      c.setEflags(c.getEflags() ^ 1, 1);
    });
    expect(mismatches(["inc-dec-neg-not"])).toBeGreaterThan(0);
  });

  it("detects a shift by CL = 0 that changes ZF", () => {
    mutate("shift", (f, c, i) => {
      const zero = (c.regs[1] & 31) === 0;
      f(c, i);
      if (zero && i.row?.operands[1] === "CL") c.setEflags(c.getEflags() ^ 0x40, 0x40);
    });
    expect(mismatches(["shift-rotate"])).toBeGreaterThan(0);
  });

  it("detects a 16-bit MOVSX that clears the upper half of the 32-bit register", () => {
    mutate("movsx", (f, c, i) => {
      f(c, i);
      if (i.osize === 2) c.regs[i.reg] &= 0xffff;
    });
    expect(mismatches(["movzx-movsx"])).toBeGreaterThan(0);
  });

  it("detects a DIV by zero that does not raise #DE", () => {
    mutate("div", (f, c, i) => {
      try {
        f(c, i);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
      }
    });
    expect(mismatches(["div"])).toBeGreaterThan(0);
  });
});
