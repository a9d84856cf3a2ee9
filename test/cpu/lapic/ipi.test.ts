/**
 * Interprocessor interrupts across four local APICs on one ApicBus. Reference: SDM Vol. 3A 10.6.1
 * (ICR fields, Figure 10-12; delivery modes fixed, lowest priority, NMI, INIT, INIT level de-assert,
 * start-up; shorthands), Table 10-3 (valid combinations on the Pentium 4 / Xeon xAPIC: self and
 * all-including-self only with fixed; level-triggered IPIs go out edge-triggered), 10.6.2.1 (physical
 * destination, FFH broadcast), 10.6.2.2 (logical destination: flat model, cluster model), 10.6.2.4
 * (lowest priority: the rule of this model is lowest PPR, then lowest APIC ID, documented in
 * apic-bus.ts), 10.5.3 (send/receive illegal vector), 10.4.7.3 (INIT resets the APIC but keeps its ID).
 */
import { describe, expect, it } from "vitest";
import { ApicBus } from "../../../src/cpu/apic-bus.ts";
import { enable, makeRig, r, readEsr, sendIcr, w } from "./harness.ts";

const FIXED = 0 << 8;
const LOWEST = 1 << 8;
const NMI = 4 << 8;
const INIT = 5 << 8;
const STARTUP = 6 << 8;
const LOGICAL = 1 << 11;
const ASSERT = 1 << 14;
const LEVEL_TRIGGER = 1 << 15;
const SELF = 1 << 18;
const ALL = 2 << 18;
const OTHERS = 3 << 18;

function fourCores(latency = 100) {
  const rig = makeRig({ cores: 4, latency });
  for (const a of rig.apics) enable(a);
  return rig;
}

/** Which APICs have `vector` in their IRR. */
function holders(rig: ReturnType<typeof makeRig>, vector: number): number[] {
  return rig.apics.filter((a) => a.irr.has(vector)).map((a) => a.initialId);
}

describe("fixed IPI, physical destination (SDM 10.6.1, 10.6.2.1)", () => {
  it("arrives at the target after the bus latency, not before; delivery status reads 1 meanwhile", () => {
    const rig = fourCores(250);
    rig.runTo(1000);
    sendIcr(rig.apics[0], 0x40 | FIXED | ASSERT, 2);
    expect(r(rig.apics[0], 0x300) & 0x1000).toBe(0x1000);
    rig.runTo(1249);
    expect(holders(rig, 0x40)).toEqual([]);
    expect(r(rig.apics[0], 0x300) & 0x1000).toBe(0x1000);
    rig.runTo(1250);
    expect(holders(rig, 0x40)).toEqual([2]);
    expect(rig.cores[2].rises).toEqual([1250]);
    expect(r(rig.apics[0], 0x300)).toBe(0x40 | ASSERT);
    expect(r(rig.apics[0], 0x310)).toBe(0x02000000);
  });

  it("physical FFH reaches every APIC, including the sender", () => {
    const rig = fourCores();
    sendIcr(rig.apics[1], 0x41, 0xff);
    rig.settle();
    expect(holders(rig, 0x41)).toEqual([0, 1, 2, 3]);
  });

  it("an ID with no APIC reaches nobody", () => {
    const rig = fourCores();
    sendIcr(rig.apics[1], 0x41, 9);
    rig.settle();
    expect(holders(rig, 0x41)).toEqual([]);
  });

  it("follows a changed xAPIC ID register", () => {
    const rig = fourCores();
    w(rig.apics[3], 0x020, 0x20 << 24);
    sendIcr(rig.apics[0], 0x42, 0x20);
    sendIcr(rig.apics[0], 0x43, 3);
    rig.settle();
    expect(holders(rig, 0x42)).toEqual([3]);
    expect(holders(rig, 0x43)).toEqual([]);
  });

  it("level trigger is sent as edge (Table 10-3 note 2): no TMR bit at the target", () => {
    const rig = fourCores();
    sendIcr(rig.apics[0], 0x44 | ASSERT | LEVEL_TRIGGER, 1);
    rig.settle();
    expect(holders(rig, 0x44)).toEqual([1]);
    expect(rig.apics[1].tmr.has(0x44)).toBe(false);
  });
});

describe("destination shorthands (SDM 10.6.1, Table 10-3)", () => {
  it.each([
    ["self", SELF, [2]],
    ["all including self", ALL, [0, 1, 2, 3]],
    ["all excluding self", OTHERS, [0, 1, 3]],
  ])("%s from APIC 2 (destination field ignored)", (_n, sh, expected) => {
    const rig = fourCores();
    sendIcr(rig.apics[2], 0x50 | sh, 1);
    rig.settle();
    expect(holders(rig, 0x50)).toEqual(expected);
  });

  it.each([
    ["NMI to self", NMI | SELF],
    ["INIT to self", INIT | ASSERT | SELF],
    ["start-up to all including self", STARTUP | ALL],
    ["lowest priority to self", LOWEST | SELF],
    ["NMI to all including self", NMI | ALL],
  ])("invalid combination is not sent: %s", (_n, lo) => {
    const rig = fourCores();
    sendIcr(rig.apics[0], 0x60 | lo, 0);
    rig.settle();
    expect(rig.cores.map((c) => c.nmis + c.inits + c.startups.length)).toEqual([0, 0, 0, 0]);
    expect(holders(rig, 0x60)).toEqual([]);
  });
});

describe("logical destinations (SDM 10.6.2.2)", () => {
  it.each([
    [0x01, [0]], [0x05, [0, 2]], [0x0f, [0, 1, 2, 3]], [0xf0, []], [0xff, [0, 1, 2, 3]],
  ])("flat model (DFR FFFFFFFFH), logical IDs 1,2,4,8: MDA %i", (mda, expected) => {
    const rig = fourCores();
    rig.apics.forEach((a, i) => w(a, 0x0d0, (1 << i) << 24));
    sendIcr(rig.apics[0], 0x51 | LOGICAL, mda);
    rig.settle();
    expect(holders(rig, 0x51)).toEqual(expected);
  });

  it.each([
    [0x11, [0]], [0x13, [0, 1]], [0x21, [2]], [0x23, [2, 3]], [0x31, []], [0x1c, []], [0xff, [0, 1, 2, 3]],
  ])("cluster model (DFR 0FFFFFFFH), clusters 1 and 2 of two: MDA %i", (mda, expected) => {
    const rig = fourCores();
    const ldrs = [0x11, 0x12, 0x21, 0x22];
    rig.apics.forEach((a, i) => {
      w(a, 0x0e0, 0x0fffffff);
      w(a, 0x0d0, ldrs[i] << 24);
    });
    expect(r(rig.apics[0], 0x0e0)).toBe(0x0fffffff);
    sendIcr(rig.apics[0], 0x52 | LOGICAL, mda);
    rig.settle();
    expect(holders(rig, 0x52)).toEqual(expected);
  });

  it("an APIC whose logical ID is 0 is never selected in the flat model", () => {
    const rig = fourCores();
    w(rig.apics[1], 0x0d0, 0x02 << 24);
    sendIcr(rig.apics[0], 0x53 | LOGICAL, 0xff);
    rig.settle();
    expect(holders(rig, 0x53)).toEqual([1]);
  });
});

describe("NMI, INIT, start-up (SDM 10.6.1, 10.4.7.3)", () => {
  it("NMI goes to the targets' NMI input, the vector ignored", () => {
    const rig = fourCores();
    sendIcr(rig.apics[0], NMI | ASSERT | OTHERS);
    rig.settle();
    expect(rig.cores.map((c) => c.nmis)).toEqual([0, 1, 1, 1]);
  });

  it("INIT-SIPI-SIPI: INIT resets the target APIC (not its ID) and the core; start-up passes the vector", () => {
    const rig = fourCores();
    const t = rig.apics[3];
    w(t, 0x020, 0x03000000);
    w(t, 0x080, 0x40);
    w(t, 0x0d0, 0x08000000);
    sendIcr(rig.apics[0], INIT | ASSERT, 3);
    rig.settle();
    expect(rig.cores[3].inits).toBe(1);
    expect(r(t, 0x080)).toBe(0);
    expect(r(t, 0x0d0)).toBe(0);
    expect(r(t, 0x0f0)).toBe(0xff);
    expect(r(t, 0x020)).toBe(0x03000000);
    sendIcr(rig.apics[0], STARTUP | ASSERT | 0x9a, 3);
    rig.settle();
    sendIcr(rig.apics[0], STARTUP | ASSERT | 0x9a, 3);
    rig.settle();
    expect(rig.cores[3].startups).toEqual([0x9a, 0x9a]);
    expect(rig.cores.slice(0, 3).map((c) => c.inits + c.startups.length)).toEqual([0, 0, 0]);
  });

  it("start-up and INIT reach a software-disabled APIC (SDM 10.4.7.2); fixed does not", () => {
    const rig = makeRig({ cores: 2 });
    enable(rig.apics[0]);
    sendIcr(rig.apics[0], INIT | ASSERT, 1);
    sendIcr(rig.apics[0], STARTUP | ASSERT | 0x10, 1);
    sendIcr(rig.apics[0], 0x70, 1);
    rig.settle();
    expect(rig.cores[1].inits).toBe(1);
    expect(rig.cores[1].startups).toEqual([0x10]);
    expect(holders(rig, 0x70)).toEqual([]);
  });

  it("INIT level de-assert (level 0, trigger level) does nothing (10.6.1: not supported since Pentium 4)", () => {
    const rig = fourCores();
    sendIcr(rig.apics[0], INIT | LEVEL_TRIGGER | ALL);
    sendIcr(rig.apics[0], INIT | LEVEL_TRIGGER, 1);
    rig.settle();
    expect(rig.cores.map((c) => c.inits)).toEqual([0, 0, 0, 0]);
    expect(rig.bus.delivered).toBe(0);
  });
});

describe("lowest priority (SDM 10.6.2.4; this model: lowest PPR, then lowest APIC ID)", () => {
  it.each([
    { tprs: [0x20, 0x10, 0x30, 0x10], expected: 1 },
    { tprs: [0x20, 0x30, 0x30, 0x05], expected: 3 },
    { tprs: [0, 0, 0, 0], expected: 0 },
    { tprs: [0x40, 0x40, 0x40, 0x3f], expected: 3 },
  ])("TPRs $tprs -> APIC $expected", ({ tprs, expected }) => {
    const rig = fourCores();
    rig.apics.forEach((a, i) => {
      w(a, 0x080, tprs[i]);
      w(a, 0x0d0, 0x01000000);
    });
    sendIcr(rig.apics[0], 0x80 | LOWEST | LOGICAL, 0x01);
    rig.settle();
    expect(holders(rig, 0x80)).toEqual([expected]);
  });

  it("counts an interrupt in service in the PPR", () => {
    const rig = fourCores();
    rig.apics.forEach((a) => w(a, 0x0d0, 0x01000000));
    rig.apics[0].receive({ dest: 0, destMode: "physical", deliveryMode: 0, vector: 0x90, level: true, trigger: "edge", shorthand: "none", source: -1 });
    rig.apics[0].acknowledge(); // APIC 0: PPR 90H
    w(rig.apics[1], 0x080, 0x50);
    w(rig.apics[2], 0x080, 0x60);
    w(rig.apics[3], 0x080, 0x70);
    sendIcr(rig.apics[0], 0x81 | LOWEST | LOGICAL, 0x01);
    rig.settle();
    expect(holders(rig, 0x81)).toEqual([1]);
  });

  it("skips software-disabled APICs, and with all excluding self may not pick the sender", () => {
    const rig = fourCores();
    w(rig.apics[1], 0x0f0, 0xff);
    w(rig.apics[0], 0x080, 0);
    rig.apics.slice(2).forEach((a) => w(a, 0x080, 0x20));
    sendIcr(rig.apics[0], 0x82 | LOWEST | OTHERS);
    rig.settle();
    expect(holders(rig, 0x82)).toEqual([2]);
  });

  it("a model that cannot send lowest-priority IPIs sets ESR bit 4 and sends nothing", () => {
    const rig = makeRig({ cores: 2, apic: { lowestPriorityIpi: false } });
    rig.apics.forEach((a) => enable(a));
    sendIcr(rig.apics[0], 0x83 | LOWEST, 1);
    rig.settle();
    expect(holders(rig, 0x83)).toEqual([]);
    expect(readEsr(rig.apics[0])).toBe(0x10);
  });

  it("ApicBus.lowestPriority on its own: ties go to the lowest APIC ID, whatever the attach order", () => {
    const m = (apicId: number, ppr: number, acceptsFixed = true) =>
      ({ initialId: apicId, apicId, ppr, acceptsFixed, hardwareEnabled: true }) as never;
    expect((ApicBus.lowestPriority([m(5, 0x10), m(2, 0x10), m(7, 0x20)]) as { apicId: number }).apicId).toBe(2);
    expect(ApicBus.lowestPriority([m(5, 0x10, false)])).toBeNull();
  });
});

describe("illegal vectors (SDM 10.5.3)", () => {
  it("the sender sets ESR bit 5, the receiver bit 6 and accepts nothing", () => {
    const rig = fourCores();
    sendIcr(rig.apics[0], 0x0f, 1);
    rig.settle();
    expect(readEsr(rig.apics[0])).toBe(0x20);
    expect(readEsr(rig.apics[1])).toBe(0x40);
    expect(r(rig.apics[1], 0x200)).toBe(0);
  });

  it("does not apply to NMI, INIT or start-up, whose vector field is not an interrupt vector", () => {
    const rig = fourCores();
    sendIcr(rig.apics[0], NMI | 0x02, 1);
    sendIcr(rig.apics[0], STARTUP | 0x08, 1);
    rig.settle();
    expect(readEsr(rig.apics[0])).toBe(0);
    expect(readEsr(rig.apics[1])).toBe(0);
    expect(rig.cores[1].startups).toEqual([8]);
  });
});
