/**
 * IA32_APIC_BASE and the x2APIC MSR interface. Reference: SDM Vol. 3A 10.4.4 Figure 10-5 (BSP bit 8,
 * global enable bit 11, base 31:12), 10.4.3 (disabling returns the APIC to its power-up state),
 * 10.12.1 Figure 10-26 (EXTD bit 10), 10.12.5 Figure 10-27 (legal transitions; illegal ones #GP),
 * 10.12.1.2 Table 10-6 (MSR 800H + offset/16; RO/WO semantics; #GP when not in x2APIC mode; non-zero
 * writes to EOI and ESR #GP), 10.12.1.3 (reserved bits #GP), 10.12.10.2 (LDR derived from the x2APIC ID:
 * cluster = ID[19:4], bit ID[3:0]), 10.12.9 (ICR as one 64-bit MSR, 32-bit destination),
 * 10.12.11 (SELF IPI), 10.5.4.1 (IA32_TSC_DEADLINE).
 */
import { describe, expect, it } from "vitest";
import { CoreState } from "../../../src/cpu/core-state.ts";
import { CpuFault } from "../../../src/cpu/exceptions.ts";
import { readMsr, writeMsr } from "../../../src/cpu/msr.ts";
import { apicBaseMsr } from "../../../src/cpu/x2apic-msrs.ts";
import { x2apicLdr } from "../../../src/cpu/lapic-destination.ts";
import type { LocalApic } from "../../../src/cpu/lapic.ts";
import { enable, makeRig, r, readEsr, w } from "./harness.ts";

const EN = 1 << 11;
const EXTD = 1 << 10;
const BSP = 1 << 8;

function gp(f: () => unknown): number | "no fault" {
  try {
    f();
    return "no fault";
  } catch (e) {
    if (e instanceof CpuFault) return e.vector;
    throw e;
  }
}

/** A CoreState whose lapic is `a`, to go through msr.ts readMsr/writeMsr. */
function coreWith(a: LocalApic | null): CoreState {
  const c = new CoreState({ ram: new Uint8Array(4096) });
  c.lapic = a;
  return c;
}

function x2rig(cores = 1, opts: Record<string, unknown> = {}) {
  const rig = makeRig({ cores, apic: { x2apic: true, ...opts } });
  for (const a of rig.apics) a.writeMsrApicBase(0xfee00000 | EN | EXTD, 0);
  return rig;
}

const rd = (c: CoreState, idx: number) => [...readMsr(c, idx)];

describe("IA32_APIC_BASE (SDM 10.4.4, 10.12.5)", () => {
  it("resets to FEE00000H, enabled, BSP only on the bootstrap processor", () => {
    const rig = makeRig({ cores: 2 });
    expect(rig.apics[0].readMsrApicBase()).toEqual([(0xfee00000 | EN | BSP) >>> 0, 0]);
    expect(rig.apics[1].readMsrApicBase()).toEqual([(0xfee00000 | EN) >>> 0, 0]);
  });

  it("moves the base; BSP is read-only; bits 63:32 and 7:0, 9 are reserved (#GP)", () => {
    const { apics: [a] } = makeRig({ cores: 1 });
    let changes = 0;
    a.onBaseChange = () => changes++;
    a.writeMsrApicBase(0xfec00000 | EN, 0);
    expect(a.readMsrApicBase()).toEqual([(0xfec00000 | EN | BSP) >>> 0, 0]);
    expect(a.mmioBase).toBe(0xfec00000);
    expect(changes).toBe(1);
    expect(gp(() => a.writeMsrApicBase(0xfee00000 | EN, 1))).toBe(13);
    expect(gp(() => a.writeMsrApicBase(0xfee00000 | EN | 1, 0))).toBe(13);
    expect(gp(() => a.writeMsrApicBase(0xfee00000 | EN | (1 << 9), 0))).toBe(13);
    expect(gp(() => a.writeMsrApicBase(0xfee00000 | EN | EXTD, 0))).toBe(13); // no x2APIC support
  });

  // Figure 10-27: from (EN, EXTD) to (EN, EXTD).
  it.each([
    ["xAPIC -> x2APIC", [1, 0], [1, 1], "no fault"],
    ["xAPIC -> disabled", [1, 0], [0, 0], "no fault"],
    ["x2APIC -> disabled", [1, 1], [0, 0], "no fault"],
    ["disabled -> xAPIC", [0, 0], [1, 0], "no fault"],
    ["x2APIC -> xAPIC", [1, 1], [1, 0], 13],
    ["disabled -> x2APIC", [0, 0], [1, 1], 13],
    ["xAPIC -> invalid (EN 0, EXTD 1)", [1, 0], [0, 1], 13],
    ["x2APIC -> x2APIC", [1, 1], [1, 1], "no fault"],
  ])("%s", (_n, from, to, outcome) => {
    const { apics: [a] } = makeRig({ apic: { x2apic: true } });
    const val = ([en, extd]: number[]) => 0xfee00000 | (en ? EN : 0) | (extd ? EXTD : 0);
    if (from[0] === 0) a.writeMsrApicBase(val([0, 0]), 0);
    if (from[1] === 1) a.writeMsrApicBase(val([1, 1]), 0);
    expect(gp(() => a.writeMsrApicBase(val(to), 0))).toBe(outcome);
    const expectState = outcome === "no fault" ? to : from;
    expect(a.readMsrApicBase()[0] & (EN | EXTD)).toBe((expectState[0] ? EN : 0) | (expectState[1] ? EXTD : 0));
  });

  it("disabling returns the APIC to its power-up state and hides the MMIO page (SDM 10.4.3)", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x080, 0x30);
    w(a, 0x020, 0x05000000);
    a.receive({ dest: 5, destMode: "physical", deliveryMode: 0, vector: 0x80, level: true, trigger: "edge", shorthand: "none", source: -1 });
    expect(c.intr).toBe(true);
    a.writeMsrApicBase(0xfee00000, 0);
    expect(a.mmioActive).toBe(false);
    expect(a.hardwareEnabled).toBe(false);
    expect(c.intr).toBe(false);
    expect(a.mmioRead(0x080, 4)).toBe(0);
    a.writeMsrApicBase(0xfee00000 | EN, 0);
    expect(r(a, 0x080)).toBe(0);
    expect(r(a, 0x0f0)).toBe(0xff);
    expect(r(a, 0x020)).toBe(0);
  });

  it("backs the IA32_APIC_BASE MSR definition (and keeps storage behaviour on a core without APIC)", () => {
    const { apics: [a] } = makeRig({ cores: 1 });
    const c = coreWith(a);
    const out: [number, number] = [0, 0];
    apicBaseMsr.read!(c, [0, 0], out, 0);
    expect(out).toEqual([(0xfee00000 | EN | BSP) >>> 0, 0]);
    apicBaseMsr.write!(c, 0xfed00000 | EN, 0, [0, 0], 0);
    expect(a.mmioBase).toBe(0xfed00000);
    const bare = coreWith(null);
    const stored: [number, number] = [0xfee00000 | EN | BSP, 0];
    apicBaseMsr.write!(bare, 0xfed00000, 0, stored, 0);
    expect(stored).toEqual([(0xfed00000 | BSP) >>> 0, 0]);
    expect(gp(() => apicBaseMsr.write!(bare, 0xfed00000, 1, stored, 0))).toBe(13);
  });
});

describe("x2APIC registers through RDMSR/WRMSR (SDM 10.12.1.2 Table 10-6)", () => {
  it("raise #GP(0) when the APIC is in xAPIC mode or the core has none", () => {
    const { apics: [a] } = makeRig({ apic: { x2apic: true } });
    expect(gp(() => readMsr(coreWith(a), 0x802))).toBe(13);
    expect(gp(() => writeMsr(coreWith(a), 0x808, [0, 0]))).toBe(13);
    expect(gp(() => readMsr(coreWith(null), 0x803))).toBe(13);
  });

  it("read the 32-bit ID, the version and the LDR derived from the ID", () => {
    const rig = makeRig({ cores: 1, apic: { x2apic: true, id: 0x23 } });
    const a = rig.apics[0];
    a.writeMsrApicBase(0xfee00000 | EN | EXTD, 0);
    const c = coreWith(a);
    expect(rd(c, 0x802)).toEqual([0x23, 0]);
    expect(rd(c, 0x803)).toEqual([0x00050014, 0]);
    expect(rd(c, 0x80d)).toEqual([0x00020008, 0]);
    expect(a.mmioActive).toBe(false);
  });

  it.each([
    [0, 0x00000001], [1, 0x00000002], [15, 0x00008000], [16, 0x00010001], [0x23, 0x00020008], [0x1234f, 0x12348000],
  ])("x2APIC ID %i -> LDR %i (10.12.10.2)", (id, ldr) => {
    expect(x2apicLdr(id)).toBe(ldr);
  });

  it.each([
    ["APR (809H) does not exist", () => (c: CoreState) => readMsr(c, 0x809)],
    ["DFR (80EH) does not exist", () => (c: CoreState) => readMsr(c, 0x80e)],
    ["ICR high (831H) does not exist", () => (c: CoreState) => writeMsr(c, 0x831, [0, 0])],
    ["LVT CMCI (82FH) does not exist on a model with six LVT entries", () => (c: CoreState) => readMsr(c, 0x82f)],
    ["840H is not in Table 10-6", () => (c: CoreState) => readMsr(c, 0x840)],
    ["EOI is write-only", () => (c: CoreState) => readMsr(c, 0x80b)],
    ["SELF IPI is write-only", () => (c: CoreState) => readMsr(c, 0x83f)],
    ["ID is read-only", () => (c: CoreState) => writeMsr(c, 0x802, [0, 0])],
    ["LDR is read-only", () => (c: CoreState) => writeMsr(c, 0x80d, [0, 0])],
    ["PPR is read-only", () => (c: CoreState) => writeMsr(c, 0x80a, [0, 0])],
    ["current count is read-only", () => (c: CoreState) => writeMsr(c, 0x839, [0, 0])],
    ["EOI: non-zero write", () => (c: CoreState) => writeMsr(c, 0x80b, [1, 0])],
    ["ESR: non-zero write", () => (c: CoreState) => writeMsr(c, 0x828, [1, 0])],
    ["TPR: bits 31:8 reserved", () => (c: CoreState) => writeMsr(c, 0x808, [0x100, 0])],
    ["TPR: bits 63:32 reserved", () => (c: CoreState) => writeMsr(c, 0x808, [0x10, 1])],
    ["DCR: bit 2 reserved", () => (c: CoreState) => writeMsr(c, 0x83e, [4, 0])],
    ["SELF IPI: bits 31:8 reserved", () => (c: CoreState) => writeMsr(c, 0x83f, [0x140, 0])],
    ["LVT timer: TSC-deadline bit without support", () => (c: CoreState) => writeMsr(c, 0x832, [0x40040, 0])],
    ["SVR: bit 12 without EOI-broadcast suppression", () => (c: CoreState) => writeMsr(c, 0x80f, [0x11ff, 0])],
    ["ICR: delivery status bit 12 is reserved in x2APIC mode", () => (c: CoreState) => writeMsr(c, 0x830, [0x1040, 0])],
  ])("#GP(0): %s", (_n, op) => {
    const { apics: [a] } = x2rig();
    expect(gp(() => op()(coreWith(a)))).toBe(13);
  });

  it("reads and writes TPR, SVR, LVT, timer registers as the xAPIC registers", () => {
    const { apics: [a] } = x2rig();
    const c = coreWith(a);
    writeMsr(c, 0x80f, [0x1ff, 0]);
    writeMsr(c, 0x808, [0x20, 0]);
    writeMsr(c, 0x835, [0x10041, 0]);
    writeMsr(c, 0x83e, [0xb, 0]);
    writeMsr(c, 0x838, [1234, 0]);
    expect(rd(c, 0x80f)).toEqual([0x1ff, 0]);
    expect(rd(c, 0x808)).toEqual([0x20, 0]);
    expect(rd(c, 0x80a)).toEqual([0x20, 0]);
    expect(rd(c, 0x835)).toEqual([0x10041, 0]);
    expect(rd(c, 0x83e)).toEqual([0xb, 0]);
    expect(rd(c, 0x838)).toEqual([1234, 0]);
    expect(rd(c, 0x839)).toEqual([1234, 0]);
    writeMsr(c, 0x828, [0, 0]);
    expect(rd(c, 0x828)).toEqual([0, 0]);
  });

  it("ICR is one 64-bit MSR with a 32-bit destination; no delivery-status bit", () => {
    const rig = makeRig({ cores: 3, apic: { x2apic: true } });
    rig.apics.forEach((a) => {
      a.writeMsrApicBase(0xfee00000 | EN | EXTD, 0);
      a.writeRegister(0x0f0, 0x1ff);
    });
    const c0 = coreWith(rig.apics[0]);
    writeMsr(c0, 0x830, [0x4051, 2]);
    expect(rd(c0, 0x830)).toEqual([0x4051, 2]);
    rig.settle();
    expect(rig.apics[2].irr.has(0x51)).toBe(true);
    expect(rig.apics[1].irr.has(0x51)).toBe(false);
    // physical broadcast FFFFFFFFH
    writeMsr(c0, 0x830, [0x4052, 0xffffffff]);
    rig.settle();
    expect(rig.apics.map((a) => a.irr.has(0x52))).toEqual([true, true, true]);
    // xAPIC-style FFH is just ID 255 in x2APIC mode
    writeMsr(c0, 0x830, [0x4053, 0xff]);
    rig.settle();
    expect(rig.apics.map((a) => a.irr.has(0x53))).toEqual([false, false, false]);
  });

  it("logical x2APIC destination: cluster in bits 31:16, member bitmap in 15:0", () => {
    const rig = makeRig({ cores: 4, apic: { x2apic: true } });
    rig.apics.forEach((a) => {
      a.writeMsrApicBase(0xfee00000 | EN | EXTD, 0);
      a.writeRegister(0x0f0, 0x1ff);
    });
    writeMsr(coreWith(rig.apics[0]), 0x830, [0x4854, 0x0000000a]); // cluster 0, IDs 1 and 3
    rig.settle();
    expect(rig.apics.map((a) => a.irr.has(0x54))).toEqual([false, true, false, true]);
    writeMsr(coreWith(rig.apics[0]), 0x830, [0x4855, 0x0001000f]); // cluster 1: nobody
    rig.settle();
    expect(rig.apics.map((a) => a.irr.has(0x55))).toEqual([false, false, false, false]);
  });

  it("SELF IPI (83FH) sets the vector in the sender's own IRR; an illegal vector sets ESR bits 5 and 6", () => {
    const rig = x2rig(2);
    const [a, b] = rig.apics;
    a.writeRegister(0x0f0, 0x1ff);
    b.writeRegister(0x0f0, 0x1ff);
    const c = coreWith(a);
    writeMsr(c, 0x83f, [0x61, 0]);
    rig.settle();
    expect(a.irr.has(0x61)).toBe(true);
    expect(b.irr.has(0x61)).toBe(false);
    writeMsr(c, 0x83f, [0x07, 0]);
    rig.settle();
    writeMsr(c, 0x828, [0, 0]);
    expect(rd(c, 0x828)).toEqual([0x60, 0]);
  });

  it("EOI (80BH) ends the interrupt in service", () => {
    const { apics: [a] } = x2rig();
    const c = coreWith(a);
    writeMsr(c, 0x80f, [0x1ff, 0]);
    a.receive({ dest: 0, destMode: "physical", deliveryMode: 0, vector: 0x70, level: true, trigger: "edge", shorthand: "none", source: -1 });
    expect(a.acknowledge()).toBe(0x70);
    // vector 70H: ISR word 3 (MSR 813H), bit 16
    expect(rd(c, 0x813)).toEqual([0x10000, 0]);
    writeMsr(c, 0x80b, [0, 0]);
    expect(rd(c, 0x813)).toEqual([0, 0]);
  });

  it("ignores xAPIC MMIO while in x2APIC mode (10.12.1.2: the page behaves as a disabled APIC)", () => {
    const { apics: [a] } = x2rig();
    a.mmioWrite(0x080, 4, 0x40);
    expect(a.mmioRead(0x080, 4)).toBe(0);
    expect(a.taskPriority).toBe(0);
    expect(readEsr(a)).toBe(0);
  });
});

describe("IA32_TSC_DEADLINE (6E0H, SDM 10.5.4.1)", () => {
  it("is #GP(0) without TSC-deadline support and goes to the timer with it", () => {
    const plain = makeRig().apics[0];
    expect(gp(() => readMsr(coreWith(plain), 0x6e0))).toBe(13);
    const rig = makeRig({ apic: { tscDeadline: true } });
    const a = rig.apics[0];
    enable(a);
    w(a, 0x320, 0x40040);
    const c = coreWith(a);
    writeMsr(c, 0x6e0, [500, 0]);
    expect(rd(c, 0x6e0)).toEqual([500, 0]);
    rig.runTo(500);
    expect(rig.cores[0].rises).toEqual([500]);
    expect(rd(c, 0x6e0)).toEqual([0, 0]);
  });
});
