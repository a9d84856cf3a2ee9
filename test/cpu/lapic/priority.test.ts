/**
 * Interrupt acceptance, priority classes, TPR/PPR masking, acknowledge, EOI and the spurious vector.
 * Reference: SDM Vol. 3A 10.8.3 (priority class = vector >> 4), 10.8.3.1 (PPR from TPR and ISRV),
 * 10.8.4 (IRR/ISR/TMR, Figure 10-20 register layout), 10.8.5 (EOI clears the highest ISR bit), 10.9
 * (spurious interrupt when the priority rises before the acknowledge), 10.4.7.1 (reset values),
 * 10.4.7.2 (software-disabled APIC), 10.6.2.4 Figure 10-15 (APR).
 */
import { describe, expect, it } from "vitest";
import { enable, inject, makeRig, r, readEsr, w } from "./harness.ts";

describe("local APIC reset state (SDM 10.4.7.1, 10.4.1 Table 10-1)", () => {
  it.each([
    ["ID (initial APIC ID 3 in bits 31:24)", 0x020, 0x03000000],
    ["version 14H, max LVT entry 5 (Core 2)", 0x030, 0x00050014],
    ["TPR", 0x080, 0],
    ["LDR", 0x0d0, 0],
    ["DFR all ones", 0x0e0, 0xffffffff],
    ["SVR = FFH (software-disabled)", 0x0f0, 0xff],
    ["LVT timer masked", 0x320, 0x10000],
    ["LVT LINT0 masked", 0x350, 0x10000],
    ["LVT error masked", 0x370, 0x10000],
    ["initial count", 0x380, 0],
    ["divide configuration", 0x3e0, 0],
  ])("%s", (_name, reg, value) => {
    const rig = makeRig({ cores: 4 });
    expect(r(rig.apics[3], reg)).toBe(value >>> 0);
  });
});

describe("PPR (SDM 10.8.3.1)", () => {
  // PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0.
  it.each([
    { tpr: 0x00, isr: -1, ppr: 0x00 },
    { tpr: 0x35, isr: -1, ppr: 0x35 },
    { tpr: 0x35, isr: 0x31, ppr: 0x35 },
    { tpr: 0x35, isr: 0x3f, ppr: 0x35 },
    { tpr: 0x35, isr: 0x41, ppr: 0x40 },
    { tpr: 0x00, isr: 0xec, ppr: 0xe0 },
    { tpr: 0xf0, isr: 0xec, ppr: 0xf0 },
  ])("TPR $tpr, ISR vector $isr -> PPR $ppr", ({ tpr, isr, ppr }) => {
    const { apics: [a] } = makeRig();
    enable(a);
    if (isr >= 0) {
      inject(a, isr);
      expect(a.acknowledge()).toBe(isr);
    }
    w(a, 0x080, tpr);
    expect(r(a, 0x0a0)).toBe(ppr);
  });
});

describe("INTR: the highest IRR class must be above the PPR class (SDM 10.8.3.1)", () => {
  it.each([
    { tpr: 0x00, vector: 0x10, intr: true },
    { tpr: 0x00, vector: 0x20, intr: true },
    { tpr: 0x20, vector: 0x2f, intr: false },
    { tpr: 0x2f, vector: 0x30, intr: true },
    { tpr: 0x30, vector: 0x30, intr: false },
    { tpr: 0xef, vector: 0xfe, intr: true },
    { tpr: 0xf0, vector: 0xff, intr: false },
  ])("TPR $tpr, IRR vector $vector -> INTR $intr", ({ tpr, vector, intr }) => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x080, tpr);
    inject(a, vector);
    expect(c.intr).toBe(intr);
    // Lowering the TPR to 0 always releases it.
    w(a, 0x080, 0);
    expect(c.intr).toBe(true);
  });
});

describe("IRR -> ISR -> EOI (SDM 10.8.4, 10.8.5)", () => {
  it("serves the highest vector first and holds back its own class while it is in service", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    inject(a, 0x31);
    inject(a, 0x51);
    inject(a, 0x52);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x52);
    // 0x51 is the same class as 0x52 in service: not deliverable (PPR = 50H).
    expect(r(a, 0x0a0)).toBe(0x50);
    expect(c.intr).toBe(false);
    w(a, 0x0b0, 0);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x51);
    expect(c.intr).toBe(false);
    w(a, 0x0b0, 0);
    expect(a.acknowledge()).toBe(0x31);
    w(a, 0x0b0, 0);
    expect(c.intr).toBe(false);
    expect(r(a, 0x100 + 0x10 * 1)).toBe(0);
  });

  it("nests a higher class over one in service; EOI clears the highest ISR bit first", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    inject(a, 0x31);
    expect(a.acknowledge()).toBe(0x31);
    inject(a, 0x61);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x61);
    // ISR holds both: words 1 (vector 0x31 -> bit 17) and 3 (0x61 -> bit 1).
    expect(r(a, 0x110)).toBe(1 << 17);
    expect(r(a, 0x130)).toBe(1 << 1);
    w(a, 0x0b0, 0);
    expect(r(a, 0x130)).toBe(0);
    expect(r(a, 0x110)).toBe(1 << 17);
    w(a, 0x0b0, 0);
    expect(r(a, 0x110)).toBe(0);
  });

  it("lays IRR, ISR and TMR out as eight 32-bit words, vector v in word v/32 bit v%32 (Figure 10-20)", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    inject(a, 0x45, "level");
    inject(a, 0xff);
    expect(r(a, 0x220)).toBe(1 << 5);
    expect(r(a, 0x270)).toBe(0x80000000);
    expect(r(a, 0x1a0)).toBe(1 << 5); // TMR set for the level-triggered one
    expect(r(a, 0x1f0)).toBe(0);
  });

  it("collapses a second request for a vector already in IRR into one", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    inject(a, 0x40);
    inject(a, 0x40);
    expect(a.acknowledge()).toBe(0x40);
    w(a, 0x0b0, 0);
    expect(a.acknowledge()).toBe(0xff); // nothing left: spurious
  });

  it("holds one in IRR and one in ISR for the same vector", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    inject(a, 0x40);
    expect(a.acknowledge()).toBe(0x40);
    inject(a, 0x40);
    expect(c.intr).toBe(false);
    w(a, 0x0b0, 0);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x40);
  });

  it("ignores an EOI with nothing in service", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x0b0, 0);
    inject(a, 0x40);
    expect(c.intr).toBe(true);
  });
});

describe("spurious interrupt (SDM 10.9)", () => {
  it("returns the SVR vector without setting an ISR bit when the TPR rises before the acknowledge", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a, 0x3f);
    inject(a, 0x41);
    expect(c.intr).toBe(true);
    w(a, 0x080, 0x50);
    expect(a.acknowledge()).toBe(0x3f);
    expect(r(a, 0x100 + 0x10 * 2)).toBe(0);
    expect(r(a, 0x200 + 0x10 * 2)).toBe(1 << 1); // still requested
  });
});

describe("software-disabled APIC (SDM 10.4.7.2)", () => {
  it("accepts no fixed interrupts after reset (SVR bit 8 = 0)", () => {
    const { apics: [a], cores: [c] } = makeRig();
    inject(a, 0x40);
    expect(c.intr).toBe(false);
    expect(r(a, 0x220)).toBe(0);
  });

  it("masks every LVT entry when disabled and keeps them masked until software unmasks them", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    w(a, 0x350, 0x41);
    w(a, 0x370, 0x42);
    expect(r(a, 0x350)).toBe(0x41);
    w(a, 0x0f0, 0xff);
    expect(r(a, 0x350)).toBe(0x10041);
    expect(r(a, 0x370)).toBe(0x10042);
    w(a, 0x350, 0x41); // unmask attempt while disabled: ignored
    expect(r(a, 0x350)).toBe(0x10041);
    enable(a);
    expect(r(a, 0x350)).toBe(0x10041);
    w(a, 0x350, 0x41);
    expect(r(a, 0x350)).toBe(0x41);
  });

  it("holds IRR contents while disabled and delivers them once re-enabled", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    inject(a, 0x40);
    w(a, 0x0f0, 0xff);
    expect(c.intr).toBe(false);
    enable(a);
    expect(c.intr).toBe(true);
  });
});

describe("APR (SDM 10.6.2.4 Figure 10-15)", () => {
  it.each([
    { tpr: 0x20, irr: -1, isr: -1, apr: 0x20 },
    { tpr: 0x20, irr: 0x35, isr: -1, apr: 0x30 },
    { tpr: 0x40, irr: 0x35, isr: -1, apr: 0x40 },
    { tpr: 0x40, irr: -1, isr: 0x41, apr: 0x40 },
    { tpr: 0x40, irr: -1, isr: 0x51, apr: 0x50 },
  ])("TPR $tpr IRRV $irr ISRV $isr -> APR $apr", ({ tpr, irr, isr, apr }) => {
    const { apics: [a] } = makeRig();
    enable(a);
    if (isr >= 0) {
      inject(a, isr);
      a.acknowledge();
    }
    w(a, 0x080, tpr);
    if (irr >= 0) inject(a, irr);
    expect(r(a, 0x090)).toBe(apr);
  });
});

describe("register access rules (SDM 10.4.1, 10.5.3)", () => {
  it("sets ESR bit 7 (illegal register address) for reserved offsets, read and write", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    expect(r(a, 0x040)).toBe(0);
    expect(readEsr(a)).toBe(0x80);
    expect(readEsr(a)).toBe(0);
    w(a, 0x3f0, 0x40); // SELF IPI exists in x2APIC mode only
    expect(readEsr(a)).toBe(0x80);
  });

  it("reads bytes of a register's first dword, ignores narrow writes", () => {
    const b = makeRig().apics[0];
    enable(b);
    expect(b.mmioRead(0x033, 1)).toBe(0x00);
    expect(b.mmioRead(0x030, 1)).toBe(0x14);
    expect(b.mmioRead(0x032, 2)).toBe(0x0005);
    b.mmioWrite(0x080, 1, 0x55);
    expect(r(b, 0x080)).toBe(0);
    expect(b.mmioRead(0x084, 4)).toBe(0);
  });

  it("implements write-before-read ESR: a write latches the errors since the previous write", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    inject(a, 0x05); // illegal vector received
    expect(r(a, 0x280)).toBe(0); // not visible before a write
    w(a, 0x280, 0);
    expect(r(a, 0x280)).toBe(0x40);
    expect(r(a, 0x280)).toBe(0x40); // reading does not clear
    w(a, 0x280, 0);
    expect(r(a, 0x280)).toBe(0);
  });

  it("raises the error LVT interrupt on an error when unmasked, not when masked", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    inject(a, 0x03);
    expect(c.intr).toBe(false);
    w(a, 0x370, 0xfe);
    inject(a, 0x03);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0xfe);
    expect(readEsr(a)).toBe(0x40);
  });

  it("keeps the TPR to 8 bits and the ID to bits 31:24", () => {
    const { apics: [a] } = makeRig();
    w(a, 0x080, 0x1234);
    expect(r(a, 0x080)).toBe(0x34);
    w(a, 0x020, 0x07ffffff);
    expect(r(a, 0x020)).toBe(0x07000000);
    expect(a.apicId).toBe(7);
  });
});
