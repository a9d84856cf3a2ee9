/**
 * The second filter level on a real core (timed-core.ts with cache/filter-check.ts): the interpreter
 * bench's loop pattern, a read of A[i] and a write of A[i + 1024] (4 KiB apart, so both lines fall in
 * one L1D set), run by TimedCore on the Core 2 Quad profile. References: a hand count of the loop's
 * accesses and lines against the profile's L1D geometry (profiles/core2-q6600.ts: 32 KiB, 8 ways,
 * 64-byte lines, i.e. 64 sets, as SDM Vol. 3A 11.1 Table 11-1 lists for the Core 2 L1D), its published
 * latencies, and write-allocate (SDM Vol. 3A 11.3: a write miss fills the line), as in
 * test/cpu/timed-core.test.ts; caches off as the functional reference for the architectural result.
 */
import { describe, expect, it } from "vitest";
import { Asm, dword, eax, ebx, ecx, edx, esi } from "../../../src/guests/asm/index.ts";
import { Machine } from "../../../src/cpu/machine.ts";
import { CORE2_Q6600 } from "../../../src/cpu/profiles/index.ts";
import { Reg } from "../../../src/cpu/registers.ts";

const CODE = 0x2000;
const ARRAY = 0x100000;
const P = CORE2_Q6600;

/** `passes` times: for i = 1023 .. 0, A[i + 1024] = A[i] + i (A of dwords at ARRAY); then HLT. */
function pairs(passes: number): (a: Asm) => void {
  return (a) => {
    a.mov(esi, passes).label("pass").mov(ebx, ARRAY).mov(ecx, 1024).label("l");
    a.mov(eax, dword({ base: ebx, index: ecx, scale: 4, disp: -4 }));
    a.add(eax, ecx);
    a.mov(dword({ base: ebx, index: ecx, scale: 4, disp: 4096 - 4 }), eax);
    a.dec(ecx).jnz("l");
    a.mov(edx, dword({ base: ebx, disp: 4096 + 4092 }));
    a.dec(esi).jnz("pass").hlt();
  };
}

function machine(caches: boolean, program: (a: Asm) => void): Machine {
  const m = new Machine({ ramBytes: 4 << 20, profile: P, caches });
  const a = new Asm({ bits: 32, origin: CODE });
  program(a);
  m.ram.set(a.build().bytes, CODE);
  for (let k = 0; k < 8192; k++) m.ram[ARRAY + k] = (k * 7) & 0xff;
  m.core.resetToFlat32(CODE);
  m.core.regs[Reg.ESP] = 0x9000;
  return m;
}

describe("timed core: two lines of one L1D set used in turn", () => {
  it("cost only their first misses, and every other access is answered by the filters without the model", () => {
    const timed = machine(true, pairs(3));
    const functional = machine(false, pairs(3));
    timed.run(10_000_000);
    functional.run(10_000_000);
    expect(timed.core.regs[Reg.EDX]).toBe(functional.core.regs[Reg.EDX]);
    expect(timed.core.icount).toBe(functional.core.icount);
    const s = timed.caches!.stats().cores[0];
    // 64 lines read and 64 written (8 KiB: fits the L1D), each missed once, on the first pass; 2 x 1024
    // element accesses plus one read per pass (of a line the pass just wrote).
    const accesses = 3 * (2 * 1024 + 1);
    expect(s.l1d.misses).toBe(128);
    expect(s.l1d.hits).toBe(accesses - 128);
    // Every hit is a filter hit: within a pass the set's two lines alternate (level 2 on every access
    // after the first of each pair), and each of the 64 sets holds only its own pair, so later passes find
    // both still in the filters. Without the second level every one of them would call the model.
    expect(timed.caches!.views[0].dFilterHits).toBe(accesses - 128);
    const perMiss = P.memoryLatencyCycles - P.caches.l1d.latencyCycles;
    const fetchMiss = P.memoryLatencyCycles - P.caches.l1i.latencyCycles;
    const extra = timed.core.cycles - functional.core.cycles;
    expect(extra - (timed.idleCycles[0] - functional.idleCycles[0])).toBe(128 * perMiss + s.l1i.misses * fetchMiss);
  });
});
