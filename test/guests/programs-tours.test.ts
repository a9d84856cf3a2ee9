/**
 * The conformance guests (string-instruction tour, integer instruction table) run to completion on
 * vmxsim, and the table's results agree with plain arithmetic computed here (results only; flags are
 * compared with QEMU in test/qemu-multiboot.test.ts).
 */
import { describe, expect, it } from "vitest";
import { buildArithTable, ARITH_TABLE_EXIT_VALUE } from "../../src/guests/programs/arith-table.ts";
import { buildStringOpsTour, STRING_TOUR_EXIT_VALUE } from "../../src/guests/programs/string-ops-tour.ts";
import { execImage } from "../../src/scenario/exec-runner.ts";

describe("string instruction tour", () => {
  it("runs to its exit and prints the copied and computed data", () => {
    const r = execImage(buildStringOpsTour());
    expect(r.debugExitValue).toBe(STRING_TOUR_EXIT_VALUE);
    const out = Buffer.from(r.stdout).toString("latin1");
    expect(out).toContain("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    expect(out).toContain("<*+-<*+-<*+-<*+-<*+-<*+-");
    expect(out).toContain("-.-.-.-.-.-.-.>>>>");
    const sum = [1, 0x7fffffff, 0x10, 0xffffffff, 0x12345678, 0x80000000].reduce((a, b) => (a + b) >>> 0, 0);
    expect(out).toContain(`lodsd sum of 6 dwords: 0x${sum.toString(16).toUpperCase().padStart(8, "0")}`);
    expect(out).toContain("reversed!");
    expect(out).toContain("0xE9E9E9E9");
  });
});

describe("integer instruction table", () => {
  const r = execImage(buildArithTable());
  const lines = Buffer.from(r.stdout).toString("latin1").split("\n");

  it("is loaded as ELF and runs to its exit", () => {
    expect(r.boot?.format).toBe("elf");
    expect(r.debugExitValue).toBe(ARITH_TABLE_EXIT_VALUE);
    expect(lines.length).toBeGreaterThan(2000);
  });

  it("computes ADD/SUB/ADC/SBB/AND/OR/XOR results of every size as plain arithmetic does", () => {
    const re = /^(add|adc|sub|sbb|and|or|xor)(32|16|8) 0x([0-9A-F]{8}),0x([0-9A-F]{8}) cf=([01]): eax=0x([0-9A-F]{8})/;
    let checked = 0;
    for (const l of lines) {
      const m = re.exec(l);
      if (!m) continue;
      const [, op, bits, xs, ys, cfs, got] = m;
      const x = parseInt(xs, 16), y = parseInt(ys, 16), cf = Number(cfs);
      const mask = bits === "32" ? 0xffffffff : bits === "16" ? 0xffff : 0xff;
      const ops: Record<string, number> = {
        add: x + y, adc: x + y + cf, sub: x - y, sbb: x - y - cf, and: x & y, or: x | y, xor: x ^ y,
      };
      const low = Number(BigInt.asUintN(Number(bits), BigInt(ops[op])));
      const want = ((x & ~mask) | (low & mask)) >>> 0;
      expect(parseInt(got, 16), l).toBe(want);
      checked++;
    }
    expect(checked).toBe(882); // 42 pairs x 7 operations x 3 sizes
  });

  it("computes MUL and DIV as 64-bit arithmetic does", () => {
    let checked = 0;
    for (const l of lines) {
      const m = /^(mul32|div32) (?:0:)?0x([0-9A-F]{8})[,/]0x([0-9A-F]{8}): eax=0x([0-9A-F]{8}) edx=0x([0-9A-F]{8})/.exec(l);
      if (!m) continue;
      const x = BigInt(parseInt(m[2], 16)), y = BigInt(parseInt(m[3], 16));
      const [lo, hi] = m[1] === "mul32" ? [(x * y) & 0xffffffffn, (x * y) >> 32n] : [x / y, x % y];
      expect([BigInt(parseInt(m[4], 16)), BigInt(parseInt(m[5], 16))], l).toEqual([lo, hi]);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});
