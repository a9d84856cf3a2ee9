/**
 * LINT0/LINT1 inputs and EOI messages. Reference: SDM Vol. 3A 10.5.1 Figure 10-8 (LVT delivery modes
 * fixed/NMI/ExtINT, pin polarity bit 13, remote IRR bit 14 "set when the local APIC accepts the
 * interrupt, reset when an EOI command is received", trigger mode bit 15, "LINT1 does not support
 * level-sensitive interrupts"), 10.4.3 (globally disabled: the processor behaves as one without an
 * APIC, LINT0/LINT1 being its INTR and NMI inputs), 10.8.5 (EOI of a level-triggered vector sends an EOI
 * message to the I/O APICs), 10.9 Figure 10-23 and 10.4.1 version bit 24 (EOI-broadcast suppression).
 */
import { describe, expect, it } from "vitest";
import { enable, inject, makeRig, r, w } from "./harness.ts";

const NMI_MODE = 4 << 8;
const EXTINT_MODE = 7 << 8;
const POLARITY_LOW = 1 << 13;
const REMOTE_IRR = 1 << 14;
const LEVEL = 1 << 15;
const MASKED = 1 << 16;

describe("LINT1 as NMI (SDM 10.5.1)", () => {
  it("signals one NMI per transition to the active level", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x360, NMI_MODE);
    a.lint(1, true);
    a.lint(1, true);
    expect(c.nmis).toBe(1);
    a.lint(1, false);
    expect(c.nmis).toBe(1);
    a.lint(1, true);
    expect(c.nmis).toBe(2);
  });

  it("with polarity active-low, the falling edge is the active one", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    a.lint(1, true);
    w(a, 0x360, NMI_MODE | POLARITY_LOW);
    a.lint(1, false);
    expect(c.nmis).toBe(1);
    a.lint(1, true);
    expect(c.nmis).toBe(1);
  });

  it("does nothing while masked", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x360, NMI_MODE | MASKED);
    a.lint(1, true);
    expect(c.nmis).toBe(0);
  });

  it("ignores the level-trigger bit: stays edge-triggered", () => {
    const { apics: [a], cores: [c] } = makeRig();
    enable(a);
    w(a, 0x360, 0x33 | LEVEL);
    a.lint(1, true);
    expect(a.irr.has(0x33)).toBe(true);
    expect(a.tmr.has(0x33)).toBe(false);
    expect(r(a, 0x360) & REMOTE_IRR).toBe(0);
    expect(c.intr).toBe(true);
  });
});

describe("LINT0 fixed (SDM 10.5.1)", () => {
  it("edge-triggered: one IRR entry per rising edge", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    w(a, 0x350, 0x30);
    a.lint(0, true);
    expect(a.irr.has(0x30)).toBe(true);
    expect(a.tmr.has(0x30)).toBe(false);
    expect(a.acknowledge()).toBe(0x30);
    a.lint(0, true);
    expect(a.irr.has(0x30)).toBe(false);
  });

  it("level-triggered: remote IRR set on acceptance, cleared by EOI, re-delivered while asserted", () => {
    const rig = makeRig();
    const [a] = rig.apics;
    const eois: number[] = [];
    rig.bus.onEoi((v) => eois.push(v));
    enable(a);
    w(a, 0x350, 0x31 | LEVEL);
    a.lint(0, true);
    expect(r(a, 0x350)).toBe(0x31 | LEVEL | REMOTE_IRR);
    expect(a.tmr.has(0x31)).toBe(true);
    expect(a.acknowledge()).toBe(0x31);
    w(a, 0x0b0, 0);
    expect(eois).toEqual([0x31]);
    // Still asserted: delivered again, remote IRR set again.
    expect(a.irr.has(0x31)).toBe(true);
    expect(r(a, 0x350) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(a.acknowledge()).toBe(0x31);
    a.lint(0, false);
    w(a, 0x0b0, 0);
    expect(r(a, 0x350) & REMOTE_IRR).toBe(0);
    expect(a.irr.has(0x31)).toBe(false);
  });

  it("level-triggered and masked when asserted: delivered when unmasked", () => {
    const { apics: [a] } = makeRig();
    enable(a);
    w(a, 0x350, 0x32 | LEVEL | MASKED);
    a.lint(0, true);
    expect(a.irr.has(0x32)).toBe(false);
    w(a, 0x350, 0x32 | LEVEL);
    expect(a.irr.has(0x32)).toBe(true);
  });
});

describe("LINT0 ExtINT (the 8259 through the local APIC)", () => {
  function extRig() {
    let acks = 0;
    const rig = makeRig({ apic: { extIntAcknowledge: () => (acks++, 0x28) } });
    return { rig, a: rig.apics[0], c: rig.cores[0], acks: () => acks };
  }

  it("asserts INTR while LINT0 is active and takes the vector from the 8259's acknowledge", () => {
    const { a, c, acks } = extRig();
    enable(a);
    w(a, 0x350, EXTINT_MODE);
    a.lint(0, true);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x28);
    expect(acks()).toBe(1);
    expect(r(a, 0x110)).toBe(0); // no ISR bit: the 8259 has its own
    a.lint(0, false);
    expect(c.intr).toBe(false);
  });

  it("an APIC vector is acknowledged before the 8259's; masked ExtINT asserts nothing", () => {
    const { a, c } = extRig();
    enable(a);
    w(a, 0x350, EXTINT_MODE);
    a.lint(0, true);
    inject(a, 0x90);
    expect(a.acknowledge()).toBe(0x90);
    expect(a.acknowledge()).toBe(0x28);
    w(a, 0x350, EXTINT_MODE | MASKED);
    expect(c.intr).toBe(false);
  });

  it("globally disabled: LINT0 is the core's INTR input and LINT1 its NMI input (SDM 10.4.3)", () => {
    const { a, c } = extRig();
    a.writeMsrApicBase(0xfee00000, 0);
    a.lint(0, true);
    expect(c.intr).toBe(true);
    expect(a.acknowledge()).toBe(0x28);
    a.lint(0, false);
    expect(c.intr).toBe(false);
    a.lint(1, true);
    expect(c.nmis).toBe(1);
  });

  it("software-disabled after reset: LVT LINT0 is masked, the 8259 does not get through", () => {
    const { a, c } = extRig();
    w(a, 0x350, EXTINT_MODE);
    a.lint(0, true);
    expect(c.intr).toBe(false);
  });
});

describe("EOI messages (SDM 10.8.5)", () => {
  it("are sent for level-triggered vectors only", () => {
    const rig = makeRig();
    const [a] = rig.apics;
    const eois: number[] = [];
    rig.bus.onEoi((v) => eois.push(v));
    enable(a);
    inject(a, 0x40, "edge");
    inject(a, 0x41, "level");
    a.acknowledge();
    w(a, 0x0b0, 0);
    a.acknowledge();
    w(a, 0x0b0, 0);
    expect(eois).toEqual([0x41]);
  });

  it("SVR bit 12 suppresses them when the version register advertises it (bit 24)", () => {
    const rig = makeRig({ apic: { eoiBroadcastSuppression: true } });
    const [a] = rig.apics;
    const eois: number[] = [];
    rig.bus.onEoi((v) => eois.push(v));
    expect(r(a, 0x030)).toBe(0x01050014);
    w(a, 0x0f0, 0x11ff);
    expect(r(a, 0x0f0)).toBe(0x11ff);
    inject(a, 0x41, "level");
    a.acknowledge();
    w(a, 0x0b0, 0);
    expect(eois).toEqual([]);
  });

  it("without suppression support SVR bit 12 is not writable", () => {
    const { apics: [a] } = makeRig();
    w(a, 0x0f0, 0x11ff);
    expect(r(a, 0x0f0)).toBe(0x1ff);
  });
});
