/**
 * The EPTP and its VM-entry checks. References: SDM Vol. 3C 24.6.11 Table 24-8 (EPTP format: bits 2:0
 * memory type 0 = UC, 6 = WB; bits 5:3 page-walk length - 1; bit 6 A/D enable; bits 11:7 reserved; N-1:12
 * PML4 address; 63:N reserved), 26.2.1.1 (the four EPTP checks of VM entry), Appendix A.10 (the
 * IA32_VMX_EPT_VPID_CAP bit positions, written below as literals), 28.3.1 (EP4TA = EPTP bits 51:12).
 */
import { describe, expect, it } from "vitest";
import { checkEptp, decodeEptp, ep4ta, EPT_MAXPHYADDR, EptVpidCap } from "../../../src/cpu/vmx/ept-pointer.ts";

// A.10: bit 6 walk length 4, bit 8 UC, bit 14 WB, bit 21 A/D.
const PWL4 = 1 << 6;
const UC = 1 << 8;
const WB = 1 << 14;
const AD = 1 << 21;
const CAP = PWL4 | WB;

function rules(eptp: [number, number], cap = CAP): string[] {
  return checkEptp(eptp, cap).map((p) => p.rule);
}

describe("IA32_VMX_EPT_VPID_CAP bit positions (Appendix A.10)", () => {
  it("match the SDM's list", () => {
    expect(EptVpidCap).toEqual({
      EXECUTE_ONLY: 1,
      WALK_LENGTH_4: 0x40,
      MEMTYPE_UC: 0x100,
      MEMTYPE_WB: 0x4000,
      PAGE_2M: 0x10000,
      PAGE_1G: 0x20000,
      INVEPT: 0x100000,
      ACCESSED_DIRTY: 0x200000,
      INVEPT_SINGLE_CONTEXT: 0x2000000,
      INVEPT_ALL_CONTEXT: 0x4000000,
    });
    expect(EPT_MAXPHYADDR).toBe(36);
  });
});

describe("EPTP decoding (Table 24-8)", () => {
  it("splits memory type, walk length, A/D enable and the PML4 address", () => {
    expect(decodeEptp([0x1234505e, 0x5])).toEqual({
      memType: 6,
      walkLength: 4,
      adEnabled: true,
      pml4Address: 0x5_1234_5000,
    });
    expect(decodeEptp([0x00001018, 0])).toEqual({ memType: 0, walkLength: 4, adEnabled: false, pml4Address: 0x1000 });
  });

  it("EP4TA is bits 51:12: EPTPs that differ only in bits 11:0 share it", () => {
    expect(ep4ta([0x1234501e, 0x5])).toBe(0x5_1234_5000);
    expect(ep4ta([0x1234505e, 0x5])).toBe(ep4ta([0x12345018, 0x5]));
    expect(ep4ta([0x1234501e, 0x6])).not.toBe(ep4ta([0x1234501e, 0x5]));
  });
});

describe("VM-entry checks on the EPTP (26.2.1.1)", () => {
  it("accepts WB, walk length 4, no A/D, PML4 below 2^36", () => {
    expect(checkEptp([0x0000101e, 0], CAP)).toEqual([]);
    expect(checkEptp([0xfffff01e, 0xf], CAP)).toEqual([]);
  });

  it("memory type: only values the capability MSR reports (0 with bit 8, 6 with bit 14)", () => {
    const withWbOnly = [0, 1, 2, 3, 4, 5, 6, 7].map((t) => rules([0x1018 | t, 0]).includes("memory-type"));
    expect(withWbOnly).toEqual([true, true, true, true, true, true, false, true]);
    const withUcOnly = [0, 6].map((t) => rules([0x1018 | t, 0], PWL4 | UC).includes("memory-type"));
    expect(withUcOnly).toEqual([false, true]);
  });

  it("walk length: bits 5:3 must be 3; the problem says which length the EPTP declared", () => {
    const bad = [0, 1, 2, 3, 4, 5, 6, 7].map((v) => rules([0x1006 | (v << 3), 0]).includes("walk-length"));
    expect(bad).toEqual([true, true, true, false, true, true, true, true]);
    const p = checkEptp([0x1006 | (4 << 3), 0], CAP).find((x) => x.rule === "walk-length");
    expect(p?.detail).toContain("page-walk length 5");
    // Without bit 6 of the capability MSR no walk length is supported.
    expect(rules([0x101e, 0], WB)).toEqual(["walk-length"]);
  });

  it("bit 6 (A/D) needs capability bit 21", () => {
    expect(rules([0x105e, 0], CAP)).toEqual(["accessed-dirty"]);
    expect(rules([0x105e, 0], CAP | AD)).toEqual([]);
  });

  it("bits 11:7 are reserved", () => {
    for (let bit = 7; bit <= 11; bit++) expect(rules([0x101e | (1 << bit), 0]), `bit ${bit}`).toEqual(["reserved-11-7"]);
  });

  it("bits 63:36 are reserved (MAXPHYADDR 36); bit 35 is an address bit", () => {
    for (let bit = 36; bit <= 63; bit++) {
      expect(rules([0x101e, (1 << (bit - 32)) >>> 0]), `bit ${bit}`).toEqual(["reserved-above-maxphyaddr"]);
    }
    expect(rules([0x101e, 0x8])).toEqual([]);
  });

  it("reports every broken rule, in the SDM's order", () => {
    expect(rules([0x1000 | 0x80 | 0x40 | (1 << 3) | 3, 0x10])).toEqual([
      "memory-type",
      "walk-length",
      "accessed-dirty",
      "reserved-11-7",
      "reserved-above-maxphyaddr",
    ]);
  });
});
