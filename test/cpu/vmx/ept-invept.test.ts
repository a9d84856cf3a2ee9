/**
 * What INVEPT invalidates. References: SDM Vol. 3C 30.3 INVEPT (type 1 single-context: mappings associated
 * with EPTP bits 51:12, after a VMfail(invalid operand) if VM entry would reject the EPTP; type 2 global:
 * mappings of all EPTPs; an unsupported type: VMfail(invalid operand)), 30.4 Table 30-1 (error 28 = invalid
 * operand to INVEPT/INVVPID), Appendix A.10 (bits 25 and 26 of IA32_VMX_EPT_VPID_CAP: single-context and
 * all-context INVEPT supported), 28.3.1 (guest-physical mappings are tagged with the EP4TA).
 */
import { describe, expect, it } from "vitest";
import type { EptTranslation } from "../../../src/cpu/vmx/ept.ts";
import { EptMappingCache, invept } from "../../../src/cpu/vmx/ept-invept.ts";

// A.10: walk length 4 (bit 6), WB (bit 14), UC (bit 8), single-context (25), all-context (26) INVEPT.
const CAP = (1 << 6) | (1 << 14) | (1 << 8) | (1 << 25) | (1 << 26);
const A: [number, number] = [0x0010_001e, 0]; // PML4 at 0x10_0000, WB, walk length 4
const B: [number, number] = [0x0020_001e, 0]; // PML4 at 0x20_0000

function page(hpa: number, pageSize = 4096): EptTranslation {
  return { hpa, memType: 6, ignorePat: false, perms: 7, pageSize, levels: 4 };
}

function twoContexts(): EptMappingCache {
  const c = new EptMappingCache();
  c.insert(A, 0x1000, page(0x5000));
  c.insert(A, 0x2000, page(0x6000));
  c.insert(A, 0x3000, page(0x7000));
  c.insert(B, 0x1000, page(0x9000));
  c.insert(B, 0x2000, page(0xa000));
  return c;
}

describe("the mapping cache", () => {
  it("keeps one 4-KByte guest-physical page per entry, per EP4TA", () => {
    const c = twoContexts();
    expect(c.size).toBe(5);
    expect(c.lookup(A, 0x1fff)?.hpaPage).toBe(0x5000);
    expect(c.lookup(B, 0x1000)?.hpaPage).toBe(0x9000);
    expect(c.lookup(A, 0x4000)).toBeUndefined();
  });

  it("stores a 2-MByte translation as the 4-KByte fragment looked up", () => {
    const c = new EptMappingCache();
    c.insert(A, 0x20_1234, page(0xa_bce0_1234, 0x200000));
    expect(c.lookup(A, 0x20_1fff)).toEqual({ hpaPage: 0xa_bce0_1000, perms: 7, memType: 6, ignorePat: false, pageSize: 0x200000 });
    expect(c.lookup(A, 0x20_2000)).toBeUndefined();
  });

  it("tags by EPTP bits 51:12: the same tables with A/D enabled hit the same mappings", () => {
    const c = twoContexts();
    expect(c.lookup([0x0010_005e, 0], 0x2000)?.hpaPage).toBe(0x6000);
  });
});

describe("INVEPT (30.3)", () => {
  it("single-context drops the mappings of that EP4TA only", () => {
    const c = twoContexts();
    expect(invept(c, 1, A, CAP)).toEqual({ ok: true, invalidated: 3 });
    expect(c.lookup(A, 0x1000)).toBeUndefined();
    expect(c.lookup(B, 0x1000)?.hpaPage).toBe(0x9000);
    expect(c.size).toBe(2);
  });

  it("single-context matches bits 51:12 whatever bits 11:0 say (UC memory type, A/D bit)", () => {
    const c = twoContexts();
    expect(invept(c, 1, [0x0010_0018 | 0x40, 0], CAP | (1 << 21))).toEqual({ ok: true, invalidated: 3 });
    expect(c.size).toBe(2);
  });

  it("global drops every mapping", () => {
    const c = twoContexts();
    expect(invept(c, 2, A, CAP)).toEqual({ ok: true, invalidated: 5 });
    expect(c.size).toBe(0);
  });

  it("global does not check the EPTP", () => {
    const c = twoContexts();
    expect(invept(c, 2, [0xfff, 0xffffffff], CAP)).toEqual({ ok: true, invalidated: 5 });
  });

  it("an unsupported type fails with error 28 and invalidates nothing", () => {
    for (const [type, cap] of [
      [0, CAP],
      [3, CAP],
      [1, CAP & ~(1 << 25)],
      [2, CAP & ~(1 << 26)],
    ]) {
      const c = twoContexts();
      const r = invept(c, type, A, cap);
      expect(r.ok, `type ${type}`).toBe(false);
      expect(r.ok ? 0 : r.vmInstructionError).toBe(28);
      expect(c.size).toBe(5);
    }
  });

  it("single-context with an EPTP that VM entry would reject fails with error 28 and invalidates nothing", () => {
    const c = twoContexts();
    const r = invept(c, 1, [0x0010_0026, 0], CAP); // walk length 5
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.vmInstructionError).toBe(28);
      expect(r.reason).toContain("page-walk length 5");
    }
    expect(c.size).toBe(5);
  });
});
