/**
 * RDMSR/WRMSR of x2APIC MSRs under "virtualize x2APIC mode".
 *
 * References (not our code):
 * - kvm-unit-tests x86/vmx_tests.c virt_x2apic_mode_test: for every register 000H-3F0H (MSR 800H + reg/16),
 *   an RDMSR and a WRMSR in each configuration of virt_x2apic_mode_tests[], with the expectations of
 *   virt_x2apic_mode_rd_expectation / _wr_expectation: with APIC-register virtualization every read comes
 *   from the virtual-APIC page (PPR compared by bits 7:4 when virtual-interrupt delivery made VM entry
 *   recompute VPPR, TPR likewise); without it only TPR does; writes of TPR (value & FFH), and with
 *   virtual-interrupt delivery EOI (0) and SELF IPI (0, giving an APIC-write exit with the value on the
 *   page), are virtualized; everything else passes through to the real APIC (or #GP), which here is
 *   "normal". The L1 state carries over from one register to the next as in the test (one VMCS, one page).
 * - SDM Vol. 3C 29.5: reads of 8 bytes at offset (ECX & FFH) << 4 with APIC-register virtualization, bytes
 *   87H:80H for TPR without it; WRMSR 808H stores to bytes 87H:80H then TPR virtualization.
 * - Bochs bochs/cpu/vapic.cc Virtualize_X2APIC_Write: #GP(0) for TPR/self-IPI values above FFH and a non-zero
 *   EOI value; a self-IPI vector below 16 is stored at 3F0H and makes an APIC-write exit.
 */
import { describe, expect, it } from "vitest";
import { x2apicMsrRead, x2apicMsrWrite } from "../../../src/cpu/vmx/apic-msr-virtualization.ts";
import { vmEntryVirtualInterrupts } from "../../../src/cpu/vmx/virtual-interrupt-delivery.ts";
import {
  PROC2_APIC_REGISTER_VIRTUALIZATION as REG_VIRT,
  PROC2_VIRTUAL_INTERRUPT_DELIVERY as VID,
  PROC2_VIRTUALIZE_X2APIC_MODE as VX2,
} from "../../../src/cpu/vmx/vmx-controls.ts";
import { makeFixture, type Setup } from "./apicv-harness.ts";

const MAGIC_VAL_1 = 0x12345678;
const APIC_WRITE = 56;
const TPR = 0x80, PPR = 0xa0, EOI = 0xb0, SELF_IPI = 0x3f0;

interface KvmConfig {
  name: string;
  setup: Setup;
  /** virt_x2apic_mode_on: the control is in force (and the MSR bitmaps let the access through). */
  on: boolean;
  regVirt: boolean;
  vid: boolean;
}

const CONFIGS: KvmConfig[] = [
  { name: "Baseline", setup: { proc2: VX2 | REG_VIRT | VID }, on: true, regVirt: true, vid: true },
  { name: "Baseline - virtual interrupt delivery", setup: { proc2: VX2 | REG_VIRT }, on: true, regVirt: true, vid: false },
  { name: "Virtualize x2APIC mode, no APIC reg virt", setup: { proc2: VX2 | VID }, on: true, regVirt: false, vid: true },
  { name: "Fail to enable activate secondary controls", setup: { proc2: VX2 | REG_VIRT | VID, noSecondary: true }, on: false, regVirt: true, vid: true },
  { name: "Fail to enable virtualize x2APIC mode", setup: { proc2: REG_VIRT | VID }, on: false, regVirt: true, vid: true },
];

describe("kvm-unit-tests virt_x2apic_mode_test", () => {
  for (const c of CONFIGS) {
    it(`${c.name}: every register 000H-3F0H, RDMSR then WRMSR`, () => {
      const f = makeFixture(c.setup);
      for (let reg = 0; reg < 0x400; reg += 0x10) {
        const msr = 0x800 + (reg >> 4);
        // --- read ---
        const rdVirtualized = c.on && (c.regVirt || reg === TPR);
        const nibble = reg === TPR || (reg === PPR && c.vid);
        if (rdVirtualized) f.setVapic(reg, MAGIC_VAL_1);
        vmEntryVirtualInterrupts(f.ctx);
        const rd = x2apicMsrRead(f.ctx, msr);
        if (rdVirtualized) {
          if (rd.kind !== "virtualized") throw new Error(`read ${reg.toString(16)}: ${rd.kind}`);
          const mask = nibble ? 0xf0 : 0xffffffff;
          expect([reg, (rd.lo & mask) >>> 0, rd.hi]).toEqual([reg, (MAGIC_VAL_1 & mask) >>> 0, 0]);
        } else {
          expect([reg, rd.kind]).toEqual([reg, "normal"]);
        }
        // --- write ---
        const special = reg === TPR || (c.vid && (reg === EOI || reg === SELF_IPI));
        const wrVirtualized = c.on && special;
        const val = reg === TPR ? MAGIC_VAL_1 & 0xff : special ? 0 : MAGIC_VAL_1;
        if (wrVirtualized) f.setVapic(reg, 0);
        vmEntryVirtualInterrupts(f.ctx);
        const wr = x2apicMsrWrite(f.ctx, msr, val, 0);
        if (wrVirtualized) {
          if (wr.kind !== "virtualized") throw new Error(`write ${reg.toString(16)}: ${wr.kind}`);
          const exit = wr.outcome.kind === "exit" ? wr.outcome.reason : 0;
          expect([reg, exit]).toEqual([reg, reg === SELF_IPI ? APIC_WRITE : 0]);
          if (wr.outcome.kind === "exit") expect(wr.outcome.qualification).toBe(SELF_IPI);
          expect(f.vapic(reg)).toBe(val);
        } else {
          expect([reg, wr.kind]).toEqual([reg, "normal"]);
        }
      }
    });
  }
});

describe("x2APIC MSR virtualization details (SDM 29.5, Bochs vapic.cc)", () => {
  it("RDMSR with register virtualization reads 8 bytes: ICR 830H gives VICR_LO and the dword above it", () => {
    const f = makeFixture({ proc2: VX2 | REG_VIRT });
    f.setVapic(0x300, 0x000400f1);
    f.setVapic(0x304, 0xcafe);
    f.setVapic(0x310, 0x01000000); // VICR_HI is not what EDX gets
    expect(x2apicMsrRead(f.ctx, 0x830)).toEqual({ kind: "virtualized", lo: 0x000400f1, hi: 0xcafe });
    expect(x2apicMsrRead(f.ctx, 0x8ff)).toEqual({ kind: "virtualized", lo: 0, hi: 0 });
    expect(x2apicMsrRead(f.ctx, 0x900)).toEqual({ kind: "normal" });
    expect(x2apicMsrRead(f.ctx, 0x7ff)).toEqual({ kind: "normal" });
  });

  it("RDMSR 808H without register virtualization reads bytes 87H:80H", () => {
    const f = makeFixture({ proc2: VX2 });
    f.setVapic(0x80, 0x40);
    f.setVapic(0x84, 0x7);
    expect(x2apicMsrRead(f.ctx, 0x808)).toEqual({ kind: "virtualized", lo: 0x40, hi: 0x7 });
    expect(x2apicMsrRead(f.ctx, 0x80a)).toEqual({ kind: "normal" });
  });

  it("WRMSR 808H stores bytes 87H:80H (the high dword cleared) and does TPR virtualization", () => {
    const f = makeFixture({ proc2: VX2, tprThreshold: 3 });
    f.setVapic(0x84, 0xffffffff);
    expect(x2apicMsrWrite(f.ctx, 0x808, 0x2f, 0)).toEqual({
      kind: "virtualized", outcome: { kind: "exit", reason: 43, qualification: 0 },
    });
    expect([f.vapic(0x80), f.vapic(0x84)]).toEqual([0x2f, 0]);
    expect(x2apicMsrWrite(f.ctx, 0x808, 0x30, 0)).toEqual({ kind: "virtualized", outcome: { kind: "continue", pending: null } });
  });

  it.each([
    [0x808, 0x100, 0],
    [0x808, 0, 1],
    [0x80b, 1, 0],
    [0x80b, 0, 0x80000000],
    [0x83f, 0x151, 0],
    [0x83f, 0x51, 2],
  ])("WRMSR %i with EDX:EAX %i:%i raises #GP(0)", (msr, lo, hi) => {
    const f = makeFixture({ proc2: VX2 | VID });
    expect(x2apicMsrWrite(f.ctx, msr, lo, hi)).toEqual({ kind: "gp" });
  });

  it("EOI (80BH) and self IPI (83FH) are not special without virtual-interrupt delivery", () => {
    const f = makeFixture({ proc2: VX2 | REG_VIRT });
    expect(x2apicMsrWrite(f.ctx, 0x80b, 0, 0)).toEqual({ kind: "normal" });
    expect(x2apicMsrWrite(f.ctx, 0x83f, 0x51, 0)).toEqual({ kind: "normal" });
  });

  it("WRMSR 83FH with a vector >= 16 is self-IPI virtualization: VIRR, RVI, evaluation, no page write at 3F0H", () => {
    const f = makeFixture({ proc2: VX2 | VID });
    expect(x2apicMsrWrite(f.ctx, 0x83f, 0x61, 0)).toEqual({ kind: "virtualized", outcome: { kind: "continue", pending: 0x61 } });
    expect(f.vectors(0x200)).toEqual([0x61]);
    expect(f.rvi()).toBe(0x61);
    expect(f.vapic(0x3f0)).toBe(0);
  });

  it("WRMSR 83FH with a vector below 16 is stored at 3F0H and exits (APIC write, 3F0H)", () => {
    const f = makeFixture({ proc2: VX2 | VID });
    expect(x2apicMsrWrite(f.ctx, 0x83f, 0x0e, 0)).toEqual({
      kind: "virtualized", outcome: { kind: "exit", reason: 56, qualification: 0x3f0 },
    });
    expect(f.vapic(0x3f0)).toBe(0x0e);
    expect(f.vectors(0x200)).toEqual([]);
    // The boundary: 0FH still exits, 10H is virtualized.
    expect(x2apicMsrWrite(f.ctx, 0x83f, 0x0f, 0)).toEqual({
      kind: "virtualized", outcome: { kind: "exit", reason: 56, qualification: 0x3f0 },
    });
    expect(x2apicMsrWrite(f.ctx, 0x83f, 0x10, 0)).toEqual({ kind: "virtualized", outcome: { kind: "continue", pending: 0x10 } });
    expect(f.vectors(0x200)).toEqual([0x10]);
  });
});
