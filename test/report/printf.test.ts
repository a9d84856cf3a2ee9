/**
 * The C printf conversions the perf- and cyclictest-style tables use, checked against the host's printf(1)
 * (GNU coreutils, which formats with the C library's printf: ISO C 7.21.6.1, glibc rounding of exact ties to
 * even). Values are passed in their exact decimal expansion so printf sees the same binary value we format.
 * Without /usr/bin/printf the comparison is skipped (the hand-checked C cases below still run).
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Rng } from "../../src/sim/rng.ts";
import { fixed, int, zeroInt } from "../../src/report/printf.ts";

const PRINTF = "/usr/bin/printf";
const hasPrintf = existsSync(PRINTF);

describe("printf-compatible number formatting", () => {
  it("rounds exact ties to even and everything else to nearest, as C does (ISO C 7.21.6.1 with glibc)", () => {
    expect(fixed(0.125, 2)).toBe("0.12");
    expect(fixed(0.375, 2)).toBe("0.38");
    expect(fixed(2.5, 0)).toBe("2");
    expect(fixed(3.5, 0)).toBe("4");
    expect(fixed(-0.125, 2)).toBe("-0.12");
    expect(fixed(1.005, 2)).toBe("1.00"); // 1.005 is 1.00499999999999989... in binary
    expect(fixed(41.94, 2, 7)).toBe("  41.94");
    expect(fixed(9554.94, 2, 9)).toBe("  9554.94");
    expect(fixed(1001118.99, 2, 9)).toBe("1001118.99"); // a field width is a minimum
  });

  it("pads integers like %10llu, %06d and %05lu", () => {
    expect(int(9167, 10)).toBe("      9167");
    expect(int(-0.5, 3)).toBe("  0");
    expect(int(12.9, 7)).toBe("     12");
    expect(zeroInt(17, 6)).toBe("000017");
    expect(zeroInt(435, 9)).toBe("000000435");
    expect(zeroInt(-5, 4)).toBe("-005");
  });

  it.skipIf(!hasPrintf)("matches the host printf(1) on ties, near-ties and random values", () => {
    const rng = new Rng(1).fork("printf");
    const values: number[] = [0.125, 0.375, 0.625, 2.5, 0.5, 1.5, 1.005, 2.675, 1e-3, 0.045, 123456.785, 68281638.61];
    for (let i = 0; i < 150; i++) values.push(rng.int(0, 2_000_000_000) / 1000);
    for (let i = 0; i < 50; i++) values.push(rng.int(0, 100_000) / 8); // many exact ties at 2 decimals
    const cases: [number, number, number][] = [];
    for (const v of values) cases.push([v, 2, 9], [v, 0, 5], [v, 3, 0]);
    const fmt = cases.map(([, d, w]) => `%${w}.${d}f`).join("|");
    const args = cases.map(([v]) => v.toFixed(60));
    const host = execFileSync(PRINTF, [fmt, ...args], { encoding: "utf8" }).split("|");
    const ours = cases.map(([v, d, w]) => fixed(v, d, w));
    expect(ours).toEqual(host);
  });
});
