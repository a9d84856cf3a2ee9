/**
 * IA32_PAT and IA32_EFER as RDMSR/WRMSR see them. References: SDM Vol. 3A 11.12.2 (PAT reset value
 * 0007040600070406H; memory types 2, 3 and 8-FFH are reserved and writing them raises #GP(0)), and Vol. 4
 * Table 2-2 (IA32_EFER: SCE, LME, LMA, NXE are the only defined bits, all Intel 64 / XD features the IA-32
 * model does not have, so any set bit is reserved here).
 */
import { describe, expect, it } from "vitest";
import { CoreState } from "../../src/cpu/core-state.ts";
import { CpuFault } from "../../src/cpu/exceptions.ts";
import { readMsr, writeMsr, patValid } from "../../src/cpu/msr.ts";
import "../../src/cpu/core.ts";

const core = () => new CoreState({ ram: new Uint8Array(4096) });

function gp(f: () => void): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return e instanceof CpuFault && e.vector === 13;
  }
}

describe("IA32_PAT (SDM 11.12.2)", () => {
  it("resets to 0007040600070406H", () => {
    expect([...readMsr(core(), 0x277)]).toEqual([0x00070406, 0x00070406]);
  });
  it.each([
    ["all write-back", 0x06060606, 0x06060606, true],
    ["UC, WC, WT, WP, WB, UC-", 0x07060504, 0x00000100, true],
    ["type 2 in entry 0", 0x00000002, 0, false],
    ["type 3 in entry 7", 0, 0x03000000, false],
    ["type 8 in entry 4", 0, 0x00000008, false],
  ])("%s: accepted %s", (_n, lo, hi, ok) => {
    expect(patValid(lo as number, hi as number)).toBe(ok);
    const c = core();
    expect(gp(() => writeMsr(c, 0x277, [lo as number, hi as number]))).toBe(!ok);
    if (ok) expect([...readMsr(c, 0x277)]).toEqual([(lo as number) >>> 0, (hi as number) >>> 0]);
  });
});

describe("IA32_EFER on the IA-32 model (SDM Vol. 4 Table 2-2)", () => {
  it("reads 0 and refuses any set bit (SCE, LME, NXE ...) with #GP(0)", () => {
    const c = core();
    expect([...readMsr(c, 0xc0000080)]).toEqual([0, 0]);
    expect(gp(() => writeMsr(c, 0xc0000080, [0, 0]))).toBe(false);
    for (const bit of [0, 8, 11]) expect(gp(() => writeMsr(c, 0xc0000080, [1 << bit, 0]))).toBe(true);
  });
});
