/**
 * The bundled demo guest: its self-reported results are checked against references computed here
 * independently (primes by trial division, fib by the closed recursion count 2*fib(n+1)-1, the
 * published CRC-32 check value of "The quick brown fox..." 0x414FA339), and it exits through
 * isa-debug-exit with the success value.
 */
import { describe, expect, it } from "vitest";
import { buildDemoKernel, DEMO_EXIT_VALUE } from "../../src/guests/programs/demo.ts";
import { execImage } from "../../src/scenario/exec-runner.ts";

const isPrime = (n: number) => n > 1 && [...Array(n).keys()].slice(2).every((d) => d * d > n || n % d !== 0);
const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));

describe("demo guest", () => {
  const r = execImage(buildDemoKernel());
  const out = Buffer.from(r.stdout).toString("latin1");

  it("ends through isa-debug-exit with the success value", () => {
    expect(r.stop).toBe("debug-exit");
    expect(r.debugExitValue).toBe(DEMO_EXIT_VALUE);
    expect(r.status).toBe(33);
    expect(out).not.toMatch(/FAILED/);
  });

  it("introduces itself to a newcomer", () => {
    expect(out.startsWith("vmxsim bare-metal demo:")).toBe(true);
  });

  it("prints what it computed, and the values are right", () => {
    const primes = [...Array(100).keys()].filter(isPrime);
    expect(out).toContain(`${primes.join(" ")} (${primes.length} primes) (ok)`);
    expect(out).toContain(`fib(20) by ${2 * fib(21) - 1} recursive calls = ${fib(20)} (ok)`);
    expect(out).toContain(`= 0x414FA339 (ok)`);
    expect(out).toContain("memory reported in the Multiboot information structure (1 MiB + mem_upper): 128 MiB");
    expect(out).toContain("EAX = 0x2BADB002 (ok)");
  });

  it("is deterministic: the same instruction and cycle counts every run", () => {
    const again = execImage(buildDemoKernel());
    expect([again.instructions, again.cycles]).toEqual([r.instructions, r.cycles]);
  });
});
