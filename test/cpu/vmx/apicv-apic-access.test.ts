/**
 * Accesses to the APIC-access page: APIC-access VM exits, virtualized reads and writes, APIC-write
 * emulation and APIC-write VM exits.
 *
 * References (not our code):
 * - kvm-unit-tests x86/vmx_tests.c apic_reg_virt_test: for every register offset 000H-3F0H, a 32-bit read
 *   and a 32-bit write of MAGIC_VAL_1 (0x12345678) under "virtualize APIC accesses" alone, with "use TPR
 *   shadow", and with APIC-register virtualization (virtual-interrupt delivery off); the expected exit
 *   (APIC access with the offset in qualification bits 11:0, APIC write with the value on the virtual-APIC
 *   page, or none: the value lands there, compared through virt_fn) is apic_reg_virt_exit_expectation's;
 *   with "activate secondary controls" 0, or "virtualize APIC accesses" 0, the page is ordinary memory;
 * - SDM Vol. 3C 29.4.2 and 29.4.3.1 (the rules and offset lists), 29.4.3.2 (APIC-write emulation per page
 *   offset: VTPR bytes 3:1 cleared, VEOI cleared, the VICR_LO self-IPI conditions), 29.4.3.3 (APIC-write
 *   exit: reason 56, qualification = page offset), Table 27-6 (qualification: offset bits 11:0, access
 *   type bits 15:12: 0 read, 1 write, 2 fetch, 3 during event delivery);
 * - Bochs bochs/cpu/vapic.cc (self_IPI_VICR mask FFF3B700H and shorthand 01B; VICR_HI bytes 2:0 cleared
 *   for writes at 310H-313H; a write to 081H with register virtualization ends in an APIC-write exit).
 */
import { describe, expect, it } from "vitest";
import {
  ApicAccessType,
  apicAccessQualification,
  apicAccessRead,
  apicAccessWrite,
  apicWriteEmulation,
  isApicAccessPage,
  isVirtualizableSelfIpi,
} from "../../../src/cpu/vmx/apic-access.ts";
import { pendingVirtualInterrupt } from "../../../src/cpu/vmx/virtual-interrupt-delivery.ts";
import {
  PROC2_APIC_REGISTER_VIRTUALIZATION as REG_VIRT,
  PROC2_VIRTUAL_INTERRUPT_DELIVERY as VID,
  PROC2_VIRTUALIZE_APIC_ACCESSES as VAA,
} from "../../../src/cpu/vmx/vmx-controls.ts";
import { APIC_ACCESS_PA, makeFixture, type Fixture, type Setup } from "./apicv-harness.ts";

const MAGIC_VAL_1 = 0x12345678;
const APIC_ACCESS = 44;
const APIC_WRITE = 56;
const NONE = 0; // kvm-unit-tests' VMX_VMCALL: the guest reached its VMCALL without another exit

const identity = (v: number): number => v >>> 0;
const nibble1 = (v: number): number => v & 0xf0;
const byte3 = (v: number): number => (v & 0xff000000) >>> 0;

interface Expectation {
  rd: number;
  wr: number;
  virt: (v: number) => number;
}

/** apic_reg_virt_exit_expectation for the three good configurations. */
function kvmExpectation(config: "vaa" | "vaa+tpr" | "reg-virt", reg: number): Expectation {
  if (config === "vaa") return { rd: APIC_ACCESS, wr: APIC_ACCESS, virt: identity };
  if (config === "vaa+tpr") {
    return reg === 0x80
      ? { rd: NONE, wr: NONE, virt: nibble1 }
      : { rd: APIC_ACCESS, wr: APIC_ACCESS, virt: identity };
  }
  const apicWriteRegs = [0x20, 0xb0, 0xd0, 0xe0, 0xf0, 0x280, 0x300, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3e0];
  if (apicWriteRegs.includes(reg)) return { rd: NONE, wr: APIC_WRITE, virt: identity };
  if (reg === 0x30 || (reg >= 0x100 && reg <= 0x270)) return { rd: NONE, wr: APIC_ACCESS, virt: identity };
  if (reg === 0x80) return { rd: NONE, wr: NONE, virt: nibble1 };
  if (reg === 0x310) return { rd: NONE, wr: NONE, virt: byte3 };
  return { rd: APIC_ACCESS, wr: APIC_ACCESS, virt: identity };
}

const CONFIGS: [string, "vaa" | "vaa+tpr" | "reg-virt", Setup][] = [
  ["Virtualize APIC accesses", "vaa", { proc2: VAA, noTprShadow: true }],
  ["Virtualize APIC accesses + Use TPR shadow", "vaa+tpr", { proc2: VAA }],
  ["APIC-register virtualization", "reg-virt", { proc2: VAA | REG_VIRT }],
];

/** The guest's 32-bit read at `reg`: the exit reason (NONE if virtualized) and the value read. */
function guestRead(f: Fixture, reg: number): { exit: number; value: number } {
  const r = apicAccessRead(f.ctx, reg, 4, "data");
  if (r.kind === "exit") {
    expect(r.qualification).toBe(reg); // offset in bits 11:0, access type 0 (data read)
    return { exit: r.reason, value: 0 };
  }
  return { exit: NONE, value: r.value };
}

/** The guest's 32-bit write at `reg`, then APIC-write emulation as the instruction completes. */
function guestWrite(f: Fixture, reg: number, value: number): number {
  const w = apicAccessWrite(f.ctx, reg, 4, value);
  if (w.kind === "exit") {
    expect(w.qualification).toBe(reg | (ApicAccessType.LINEAR_WRITE << 12));
    return w.reason;
  }
  const e = apicWriteEmulation(f.ctx, w.offset);
  if (e.kind === "exit") {
    expect(e.qualification).toBe(reg);
    return e.reason;
  }
  return NONE;
}

describe("kvm-unit-tests apic_reg_virt_test (xAPIC accesses through the APIC-access page)", () => {
  for (const [name, config, setup] of CONFIGS) {
    it(`${name}: every register offset 000H-3F0H, read and write`, () => {
      for (let reg = 0; reg < 0x400; reg += 0x10) {
        const want = kvmExpectation(config, reg);
        // Read: the virtual-APIC page holds MAGIC_VAL_1 at the register.
        const f = makeFixture(setup);
        f.setVapic(reg, MAGIC_VAL_1);
        const rd = guestRead(f, reg);
        expect([reg, rd.exit]).toEqual([reg, want.rd]);
        if (want.rd === NONE) expect(want.virt(rd.value)).toBe(want.virt(MAGIC_VAL_1));
        // Write: the page holds 0 there before.
        const g = makeFixture(setup);
        const wr = guestWrite(g, reg, MAGIC_VAL_1);
        expect([reg, wr]).toEqual([reg, want.wr]);
        if (want.wr === APIC_WRITE) expect(g.vapic(reg)).toBe(MAGIC_VAL_1);
        if (want.wr === NONE) expect(want.virt(g.vapic(reg))).toBe(want.virt(MAGIC_VAL_1));
        if (want.wr === APIC_ACCESS) expect(g.vapic(reg)).toBe(0); // nothing reached the page
      }
    });
  }

  it.each([
    ["Activate secondary controls off", { proc2: VAA | REG_VIRT, noTprShadow: true, noSecondary: true }],
    ["Activate secondary controls off + Use TPR shadow", { proc2: VAA | REG_VIRT, noSecondary: true }],
    ["Virtualize APIC accesses off + Use TPR shadow", { proc2: REG_VIRT }],
  ] as [string, Setup][])("%s: the APIC-access address is ordinary memory", (_name, setup) => {
    const f = makeFixture(setup);
    expect(isApicAccessPage(f.ctx, APIC_ACCESS_PA + 0x80)).toBe(false);
  });

  it("with virtualization on, every byte of the page (and only of that page) is the APIC-access page", () => {
    const f = makeFixture({ proc2: VAA });
    expect(isApicAccessPage(f.ctx, APIC_ACCESS_PA)).toBe(true);
    expect(isApicAccessPage(f.ctx, APIC_ACCESS_PA + 0xfff)).toBe(true);
    expect(isApicAccessPage(f.ctx, APIC_ACCESS_PA - 1)).toBe(false);
    expect(isApicAccessPage(f.ctx, APIC_ACCESS_PA + 0x1000)).toBe(false);
  });
});

describe("which reads are virtualized (SDM 29.4.2)", () => {
  const regVirt: Setup = { proc2: VAA | REG_VIRT };
  it.each([
    // [description, setup, offset, size, kind, virtualized]
    ["TPR dword, TPR shadow only", { proc2: VAA }, 0x80, 4, "data", true],
    ["TPR byte 0, TPR shadow only", { proc2: VAA }, 0x80, 1, "data", true],
    ["TPR byte 1, TPR shadow only: the offset is not 080H", { proc2: VAA }, 0x81, 1, "data", false],
    ["TPR byte 1 with register virtualization", regVirt, 0x81, 1, "data", true],
    ["word at 082H with register virtualization", regVirt, 0x82, 2, "data", true],
    ["word at 083H: past the low 4 bytes", regVirt, 0x83, 2, "data", false],
    ["dword at 084H: not the low 4 bytes of the slot", regVirt, 0x84, 4, "data", false],
    ["64-bit read of TPR: more than 32 bits", regVirt, 0x80, 8, "data", false],
    ["instruction fetch from TPR", regVirt, 0x80, 1, "fetch", false],
    ["PPR is not in the list", regVirt, 0xa0, 4, "data", false],
    ["APR is not in the list", regVirt, 0x90, 4, "data", false],
    ["current count is not in the list", regVirt, 0x390, 4, "data", false],
    ["ISR7", regVirt, 0x170, 4, "data", true],
    ["divide configuration", regVirt, 0x3e0, 4, "data", true],
    ["offset 400H and above", regVirt, 0x400, 4, "data", false],
  ] as [string, Setup, number, number, "data" | "fetch", boolean][])(
    "%s",
    (_d, setup, offset, size, kind, virtualized) => {
      const f = makeFixture(setup);
      f.setVapic(offset & ~3, 0x89abcdef);
      const r = apicAccessRead(f.ctx, offset, size, kind);
      if (virtualized) {
        const shift = (offset & 3) * 8;
        expect(r).toEqual({ kind: "virtualized", value: size === 4 ? 0x89abcdef : (0x89abcdef >>> shift) & ((1 << (size * 8)) - 1) });
      } else {
        const type = kind === "fetch" ? 2 : 0;
        expect(r).toEqual({ kind: "exit", reason: APIC_ACCESS, qualification: offset | (type << 12) });
      }
    },
  );

  it("a read after the same operation virtualized a write exits (e.g. the read of a read-modify-write)", () => {
    const f = makeFixture({ proc2: VAA | REG_VIRT });
    expect(apicAccessRead(f.ctx, 0x80, 4, "data", { priorWrite: { offset: 0x80, size: 4 } }).kind).toBe("exit");
  });

  it("during event delivery the qualification's access type is 3", () => {
    const f = makeFixture({ proc2: VAA });
    expect(apicAccessRead(f.ctx, 0x90, 4, "data", { duringEventDelivery: true })).toEqual({
      kind: "exit", reason: APIC_ACCESS, qualification: 0x3090,
    });
    expect(apicAccessWrite(f.ctx, 0x94, 4, 0, { duringEventDelivery: true })).toEqual({
      kind: "exit", reason: APIC_ACCESS, qualification: 0x3094,
    });
  });

  it("Table 27-6 layout: offset in bits 11:0, access type in bits 15:12", () => {
    expect(apicAccessQualification(0xfff, 15)).toBe(0xffff);
    expect(apicAccessQualification(0x1080, ApicAccessType.LINEAR_FETCH)).toBe(0x2080);
    expect(ApicAccessType).toEqual({
      LINEAR_READ: 0, LINEAR_WRITE: 1, LINEAR_FETCH: 2, LINEAR_EVENT_DELIVERY: 3,
      GUEST_PHYSICAL_EVENT_DELIVERY: 10, GUEST_PHYSICAL_INSTRUCTION: 15,
    });
  });
});

describe("which writes are virtualized (SDM 29.4.3.1)", () => {
  it.each([
    // [description, proc2, offset, size, virtualized]
    ["TPR, no register virtualization or delivery", VAA, 0x80, 4, true],
    ["EOI, no register virtualization or delivery", VAA, 0xb0, 4, false],
    ["EOI with delivery only", VAA | VID, 0xb0, 4, true],
    ["ICR low with delivery only", VAA | VID, 0x300, 4, true],
    ["ICR high with delivery only", VAA | VID, 0x310, 4, false],
    ["LDR with delivery only", VAA | VID, 0xd0, 4, false],
    ["EOI byte 1 with delivery only: the offset is not 0B0H", VAA | VID, 0xb1, 1, false],
    ["EOI byte 1 with register virtualization", VAA | REG_VIRT, 0xb1, 1, true],
    ["version is read-only", VAA | REG_VIRT, 0x30, 4, false],
    ["IRR0 is read-only", VAA | REG_VIRT, 0x200, 4, false],
    ["ICR high", VAA | REG_VIRT, 0x310, 4, true],
    ["64-bit write of ICR", VAA | REG_VIRT, 0x300, 8, false],
    ["dword at 302H straddles the low 4 bytes", VAA | REG_VIRT, 0x302, 4, false],
    ["self IPI (x2APIC only) at 3F0H", VAA | REG_VIRT | VID, 0x3f0, 4, false],
  ] as [string, number, number, number, boolean][])("%s", (_d, proc2, offset, size, virtualized) => {
    const f = makeFixture({ proc2 });
    const r = apicAccessWrite(f.ctx, offset, size, 0xa5a5a5a5);
    if (virtualized) {
      expect(r.kind).toBe("virtualized");
      expect(f.vapic(offset & ~3)).not.toBe(0);
    } else {
      expect(r).toEqual({ kind: "exit", reason: APIC_ACCESS, qualification: offset | 0x1000 });
      expect(f.vapic(offset & ~3)).toBe(0);
    }
  });

  it("without 'use TPR shadow' nothing is virtualized", () => {
    const f = makeFixture({ proc2: VAA | REG_VIRT | VID, noTprShadow: true });
    expect(apicAccessWrite(f.ctx, 0x80, 4, 0).kind).toBe("exit");
    expect(apicAccessRead(f.ctx, 0x80, 4, "data").kind).toBe("exit");
  });

  it("a second write of the same operation exits unless it has the same offset and size", () => {
    const f = makeFixture({ proc2: VAA | REG_VIRT });
    const prior = { priorWrite: { offset: 0x80, size: 4 } };
    expect(apicAccessWrite(f.ctx, 0x80, 4, 1, prior).kind).toBe("virtualized");
    expect(apicAccessWrite(f.ctx, 0x80, 2, 1, prior).kind).toBe("exit");
    expect(apicAccessWrite(f.ctx, 0xd0, 4, 1, prior).kind).toBe("exit");
  });

  it("a sub-dword write changes only its bytes on the virtual-APIC page", () => {
    const f = makeFixture({ proc2: VAA | REG_VIRT });
    f.setVapic(0x320, 0x00010020);
    expect(apicAccessWrite(f.ctx, 0x321, 1, 0x07)).toEqual({ kind: "virtualized", offset: 0x321, emulation: "apic-write" });
    expect(f.vapic(0x320)).toBe(0x00010720);
  });
});

describe("APIC-write emulation (SDM 29.4.3.2) and APIC-write exits (29.4.3.3)", () => {
  it("080H: VTPR bytes 3:1 are cleared, then TPR virtualization (exit 43 when below the threshold)", () => {
    const f = makeFixture({ proc2: VAA, tprThreshold: 4 });
    expect(apicAccessWrite(f.ctx, 0x80, 4, 0xabcdef51)).toEqual({ kind: "virtualized", offset: 0x80, emulation: "tpr" });
    expect(f.vapic(0x80)).toBe(0xabcdef51); // the write itself lands whole
    expect(apicWriteEmulation(f.ctx, 0x80)).toEqual({ kind: "continue", pending: null });
    expect(f.vapic(0x80)).toBe(0x51);
    apicAccessWrite(f.ctx, 0x80, 1, 0x3f);
    expect(apicWriteEmulation(f.ctx, 0x80)).toEqual({ kind: "exit", reason: 43, qualification: 0 });
  });

  it("080H with virtual-interrupt delivery: PPR virtualization and evaluation, no threshold exit", () => {
    const f = makeFixture({ proc2: VAA | VID, tprThreshold: 15, intStatus: 0x0045 });
    f.setVapic(0x80, 0xf0);
    apicAccessWrite(f.ctx, 0x80, 4, 0x30);
    expect(apicWriteEmulation(f.ctx, 0x80)).toEqual({ kind: "continue", pending: 0x45 });
    expect(f.vapic(0xa0)).toBe(0x30);
    expect(pendingVirtualInterrupt(f.ctx)).toBe(0x45);
  });

  it("0B0H with delivery: VEOI cleared, then EOI virtualization", () => {
    // Only vector 40H's EOI-exit bit is set (bitmap 1, bit 0), not 60H's.
    const f = makeFixture({ proc2: VAA | VID, intStatus: 0x6000, eoiExit: [[0, 0], [1, 0], [0, 0], [0, 0]] });
    f.setVapic(0x100 | ((0x60 & 0xe0) >> 1), 1 << 0);
    expect(apicAccessWrite(f.ctx, 0xb0, 4, 0x1234).kind).toBe("virtualized");
    expect(apicWriteEmulation(f.ctx, 0xb0)).toEqual({ kind: "continue", pending: null });
    expect(f.vapic(0xb0)).toBe(0);
    expect(f.vectors(0x100)).toEqual([]);
  });

  it("0B0H with delivery and the vector's EOI-exit bit: exit 45 with the vector", () => {
    // Vector 0x60 = 96: bitmap 1, bit 32 -> the HIGH dword's bit 0.
    const f = makeFixture({ proc2: VAA | VID, intStatus: 0x6000, eoiExit: [[0, 0], [0, 1], [0, 0], [0, 0]] });
    f.setVapic(0x130, 1 << 0);
    apicAccessWrite(f.ctx, 0xb0, 4, 0);
    expect(apicWriteEmulation(f.ctx, 0xb0)).toEqual({ kind: "exit", reason: 45, qualification: 0x60 });
  });

  it.each([
    ["0B0H without delivery (register virtualization)", VAA | REG_VIRT, 0xb0],
    ["0B1H (not 0B0H) with delivery and register virtualization", VAA | REG_VIRT | VID, 0xb1],
    ["081H (not 080H)", VAA | REG_VIRT, 0x81],
    ["300H without delivery", VAA | REG_VIRT, 0x300],
    ["LDR", VAA | REG_VIRT, 0xd0],
    ["LVT timer", VAA | REG_VIRT, 0x320],
  ] as [string, number, number][])("%s: APIC-write exit with the offset", (_d, proc2, offset) => {
    const f = makeFixture({ proc2 });
    const w = apicAccessWrite(f.ctx, offset, 1, 0x5a);
    expect(w.kind).toBe("virtualized");
    expect(apicWriteEmulation(f.ctx, offset)).toEqual({ kind: "exit", reason: APIC_WRITE, qualification: offset });
  });

  it("310H-313H: VICR_HI bytes 2:0 are cleared and nothing else happens", () => {
    for (const offset of [0x310, 0x311, 0x313]) {
      const f = makeFixture({ proc2: VAA | REG_VIRT });
      f.setVapic(0x310, 0x11223344);
      apicAccessWrite(f.ctx, offset, 1, 0xff);
      expect(apicWriteEmulation(f.ctx, offset)).toEqual({ kind: "continue", pending: null });
      expect(f.vapic(0x310) & 0x00ffffff).toBe(0);
    }
  });

  it("300H with delivery: a valid self IPI is virtualized (VIRR, RVI, evaluation), anything else exits", () => {
    const f = makeFixture({ proc2: VAA | VID });
    apicAccessWrite(f.ctx, 0x300, 4, 0x00040051); // fixed, edge, shorthand self, vector 51H
    expect(apicWriteEmulation(f.ctx, 0x300)).toEqual({ kind: "continue", pending: 0x51 });
    expect(f.vectors(0x200)).toEqual([0x51]);
    expect(f.rvi()).toBe(0x51);
    apicAccessWrite(f.ctx, 0x300, 4, 0x000c0052); // shorthand all-including-self
    expect(apicWriteEmulation(f.ctx, 0x300)).toEqual({ kind: "exit", reason: APIC_WRITE, qualification: 0x300 });
    expect(f.vectors(0x200)).toEqual([0x51]);
  });

  it.each([
    [0x00040051, true, "fixed, edge, self, vector 51H"],
    [0x00044851, true, "bit 11 (destination mode) and bit 14 (level) are not checked"],
    [0x0004000f, false, "vector below 16"],
    [0x000400f0, true, "vector F0H"],
    [0x00000051, false, "no shorthand"],
    [0x00080051, false, "all including self"],
    [0x00040151, false, "lowest priority"],
    [0x00040451, false, "NMI"],
    [0x00048051, false, "level-triggered"],
    [0x00041051, false, "delivery status set"],
    [0x00042051, false, "reserved bit 13"],
    [0x00050051, false, "reserved bit 16"],
    [0x00140051, false, "reserved bit 20"],
    [0x80040051, false, "reserved bit 31"],
  ])("VICR_LO %i: self IPI %s (%s)", (vicr, ok) => {
    expect(isVirtualizableSelfIpi(vicr)).toBe(ok);
  });
});
