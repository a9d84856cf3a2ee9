/**
 * The APIC timer against the clock. Reference: SDM Vol. 3A 10.5.4 (initial/current count, one-shot and
 * periodic modes, "writing 0 to the initial-count register stops the timer", "changing the mode ...
 * does not start the timer"), Figure 10-10 (divide configuration encoding), 10.5.1 (LVT mask: the timer
 * counts on, no interrupt), 10.5.4.1 (TSC-deadline: fires when the TSC reaches the deadline, disarms and
 * reads 0, writing 0 disarms, mode switches disarm, initial-count writes ignored). Expected ticks are
 * computed by hand from the frequencies: 3 GHz core / 24 MHz timer = 125 ticks per timer clock.
 */
import { describe, expect, it } from "vitest";
import { mulDivCeil, mulDivFloor } from "../../../src/cpu/lapic-timer.ts";
import { enable, makeRig, r, readEsr, w } from "./harness.ts";

const ONE_SHOT = 0;
const PERIODIC = 1 << 17;
const DEADLINE = 2 << 17;
const MASKED = 1 << 16;

function timerRig(lvt: number, dcr: number, opts: Parameters<typeof makeRig>[0] = {}) {
  const rig = makeRig(opts);
  const a = rig.apics[0];
  enable(a);
  w(a, 0x3e0, dcr);
  w(a, 0x320, lvt);
  return { rig, a, core: rig.cores[0] };
}

/** Acknowledge and end the pending timer interrupt. */
function serve(rig: ReturnType<typeof makeRig>): number {
  const v = rig.apics[0].acknowledge();
  w(rig.apics[0], 0x0b0, 0);
  return v;
}

describe("APIC timer divide configuration (SDM Figure 10-10)", () => {
  it.each([
    [0b0000, 2], [0b0001, 4], [0b0010, 8], [0b0011, 16],
    [0b1000, 32], [0b1001, 64], [0b1010, 128], [0b1011, 1],
    [0b0100, 2], // bit 2 is not part of the field
  ])("DCR %i divides by %i: 10 counts take 10 * divisor * 125 ticks", (dcr, divisor) => {
    const { rig, a, core } = timerRig(0x40 | ONE_SHOT, dcr);
    w(a, 0x380, 10);
    const expected = 10 * divisor * 125;
    rig.runTo(expected - 1);
    expect(core.rises).toEqual([]);
    rig.runTo(expected);
    expect(core.rises).toEqual([expected]);
    expect(r(a, 0x3e0)).toBe(dcr & 0xb);
  });
});

describe("one-shot mode (SDM 10.5.4)", () => {
  it("interrupts once, 1000 * 16 * 125 ticks after the initial-count write, and counts down to 0", () => {
    const { rig, a, core } = timerRig(0x40 | ONE_SHOT, 0b0011);
    rig.runTo(500);
    w(a, 0x380, 1000);
    expect(r(a, 0x380)).toBe(1000);
    expect(r(a, 0x390)).toBe(1000);
    rig.runTo(500 + 1999);
    expect(r(a, 0x390)).toBe(1000);
    rig.runTo(500 + 2000);
    expect(r(a, 0x390)).toBe(999);
    rig.runTo(500 + 1_000_000);
    expect(r(a, 0x390)).toBe(500);
    rig.runTo(500 + 1_999_999);
    expect(r(a, 0x390)).toBe(1);
    expect(core.rises).toEqual([]);
    rig.runTo(500 + 2_000_000);
    expect(core.rises).toEqual([2_000_500]);
    expect(r(a, 0x390)).toBe(0);
    expect(serve(rig)).toBe(0x40);
    rig.runTo(10_000_000);
    expect(core.rises).toEqual([2_000_500]);
    expect(r(a, 0x390)).toBe(0);
    expect(r(a, 0x380)).toBe(1000);
  });

  it("restarts from a new initial count; writing 0 stops it", () => {
    const { rig, a, core } = timerRig(0x40, 0b1011); // divide by 1: 125 ticks per count
    w(a, 0x380, 100);
    rig.runTo(5000);
    expect(r(a, 0x390)).toBe(60);
    w(a, 0x380, 100);
    rig.runTo(5000 + 100 * 125);
    expect(core.rises).toEqual([17_500]);
    serve(rig);
    w(a, 0x380, 100);
    rig.runTo(20_000);
    w(a, 0x380, 0);
    expect(r(a, 0x390)).toBe(0);
    expect(a.timerNextExpiry).toBeNull();
    rig.runTo(100_000);
    expect(core.rises).toEqual([17_500]);
  });
});

describe("periodic mode (SDM 10.5.4)", () => {
  it("interrupts every initial count * divisor * 125 ticks without drift and reloads the count", () => {
    const { rig, a, core } = timerRig(0x41 | PERIODIC, 0b0011);
    w(a, 0x380, 1000);
    for (let k = 1; k <= 5; k++) {
      rig.runTo(k * 2_000_000 - 1);
      expect(r(a, 0x390)).toBe(1);
      rig.runTo(k * 2_000_000);
      expect(r(a, 0x390)).toBe(1000);
      expect(serve(rig)).toBe(0x41);
    }
    expect(core.rises).toEqual([2e6, 4e6, 6e6, 8e6, 10e6]);
  });

  it("keeps an exact period when a count is not a whole number of ticks (core 2.4 GHz, bus 266.666666 MHz)", () => {
    // 2_400_000_000 / 266_666_666 ticks per timer clock; divide 1, initial count 3: each period is
    // 3 * 2.4e9 / 266_666_666 = 27.0000000675 ticks, so expiry k lands on ceil(k * 27.0000000675).
    const { rig, a, core } = timerRig(0x42 | PERIODIC, 0b1011, { hz: 2_400_000_000, timerHz: 266_666_666 });
    w(a, 0x380, 3);
    for (let k = 1; k <= 4; k++) {
      rig.runTo(k * 27 + 1);
      serve(rig);
    }
    expect(core.rises).toEqual([28, 55, 82, 109]);
  });

  it("counts on while masked (no interrupts) and resumes in phase when unmasked (SDM 10.5.1)", () => {
    const { rig, a, core } = timerRig(0x41 | PERIODIC | MASKED, 0b1011);
    w(a, 0x380, 8); // 1000 ticks per period
    rig.runTo(3_500);
    expect(core.rises).toEqual([]);
    expect(r(a, 0x390)).toBe(4);
    expect(a.timerNextExpiry).toBeNull();
    w(a, 0x320, 0x41 | PERIODIC);
    expect(a.timerNextExpiry).toBe(4000);
    rig.runTo(4000);
    serve(rig);
    rig.runTo(5000);
    expect(core.rises).toEqual([4000, 5000]);
  });

  it("switching periodic to one-shot lets the count run out and stop (SDM 10.5.4)", () => {
    const { rig, a, core } = timerRig(0x41 | PERIODIC, 0b1011);
    w(a, 0x380, 8);
    rig.runTo(1500);
    serve(rig);
    w(a, 0x320, 0x41 | ONE_SHOT);
    rig.runTo(10_000);
    serve(rig);
    expect(core.rises).toEqual([1000, 2000]);
    expect(r(a, 0x390)).toBe(0);
  });

  it("switching one-shot to periodic after expiry does not start the timer", () => {
    const { rig, a, core } = timerRig(0x41, 0b1011);
    w(a, 0x380, 8);
    rig.runTo(1000);
    serve(rig);
    w(a, 0x320, 0x41 | PERIODIC);
    rig.runTo(10_000);
    expect(core.rises).toEqual([1000]);
  });

  it("a DCR write keeps the current count and counts on at the new rate", () => {
    const { rig, a, core } = timerRig(0x41, 0b1011); // 125 ticks per count
    w(a, 0x380, 100);
    rig.runTo(125 * 40);
    expect(r(a, 0x390)).toBe(60);
    w(a, 0x3e0, 0b0000); // divide by 2: 250 ticks per count
    expect(r(a, 0x390)).toBe(60);
    rig.runTo(5000 + 60 * 250);
    expect(core.rises).toEqual([20_000]);
  });

  it("delivers a timer vector below 16 as a receive-illegal-vector error (SDM 10.5.3)", () => {
    const { rig, a, core } = timerRig(0x0e, 0b1011);
    w(a, 0x380, 1);
    rig.runTo(1000);
    expect(core.rises).toEqual([]);
    expect(readEsr(a)).toBe(0x40);
  });
});

describe("TSC-deadline mode (SDM 10.5.4.1)", () => {
  it("fires at the first tick at which the TSC reaches the deadline (TSC = core clock + offset)", () => {
    const { rig, a, core } = timerRig(0x50 | DEADLINE, 0, { apic: { tscDeadline: true } });
    core.tscOffset = 1_000_000;
    rig.runTo(100);
    a.writeTscDeadline(1_000_000 + 12_345, 0);
    expect(a.readTscDeadline()).toEqual([1_012_345, 0]);
    rig.runTo(12_344);
    expect(core.rises).toEqual([]);
    rig.runTo(12_345);
    expect(core.rises).toEqual([12_345]);
    expect(a.readTscDeadline()).toEqual([0, 0]);
    expect(a.acknowledge()).toBe(0x50);
  });

  it("finds the exact tick when the TSC runs slower than the core (2.4 GHz TSC, 3 GHz core)", () => {
    const { rig, a, core } = timerRig(0x50 | DEADLINE, 0, { tscHz: 2_400_000_000, apic: { tscDeadline: true } });
    rig.runTo(7);
    const deadline = 1_000_001;
    a.writeTscDeadline(deadline, 0);
    const t = a.timerNextExpiry!;
    // The reference is the TSC definition itself: floor(t * 0.8) crosses the deadline at t.
    expect(Math.floor(((t - 1) * 4) / 5)).toBeLessThan(deadline);
    expect(Math.floor((t * 4) / 5)).toBeGreaterThanOrEqual(deadline);
    expect(t).toBe(1_250_002);
    rig.runTo(t);
    expect(core.rises).toEqual([t]);
  });

  it("fires at once for a deadline already passed; writing 0 disarms", () => {
    const { rig, a, core } = timerRig(0x50 | DEADLINE, 0, { apic: { tscDeadline: true } });
    rig.runTo(1000);
    a.writeTscDeadline(999, 0);
    rig.runTo(1000);
    expect(core.rises).toEqual([1000]);
    serve(rig);
    a.writeTscDeadline(5000, 0);
    a.writeTscDeadline(0, 0);
    rig.runTo(10_000);
    expect(core.rises).toEqual([1000]);
  });

  it("ignores initial-count writes, reads current count 0, and disarms on a mode switch", () => {
    const { rig, a, core } = timerRig(0x50 | DEADLINE, 0b1011, { apic: { tscDeadline: true } });
    w(a, 0x380, 5);
    expect(r(a, 0x380)).toBe(0);
    expect(r(a, 0x390)).toBe(0);
    a.writeTscDeadline(3000, 0);
    w(a, 0x320, 0x50 | ONE_SHOT);
    expect(a.readTscDeadline()).toEqual([0, 0]);
    w(a, 0x320, 0x50 | DEADLINE);
    expect(a.readTscDeadline()).toEqual([0, 0]);
    rig.runTo(10_000);
    expect(core.rises).toEqual([]);
  });

  it("a running one-shot count is disarmed by switching to TSC-deadline mode", () => {
    const { rig, a, core } = timerRig(0x50, 0b1011, { apic: { tscDeadline: true } });
    w(a, 0x380, 10);
    w(a, 0x320, 0x50 | DEADLINE);
    w(a, 0x320, 0x50 | ONE_SHOT);
    rig.runTo(10_000);
    expect(core.rises).toEqual([]);
    expect(r(a, 0x390)).toBe(0);
  });

  it("in other modes the deadline MSR reads 0 and ignores writes", () => {
    const { rig, a, core } = timerRig(0x50, 0, { apic: { tscDeadline: true } });
    a.writeTscDeadline(100, 0);
    expect(a.readTscDeadline()).toEqual([0, 0]);
    rig.runTo(1000);
    expect(core.rises).toEqual([]);
  });

  it("without TSC-deadline support LVT bit 18 is not writable", () => {
    const { a } = timerRig(0x50 | DEADLINE, 0);
    expect(r(a, 0x320)).toBe(0x50);
  });

  it("masked: disarms at the deadline without an interrupt", () => {
    const { rig, a, core } = timerRig(0x50 | DEADLINE | MASKED, 0, { apic: { tscDeadline: true } });
    a.writeTscDeadline(500, 0);
    rig.runTo(1000);
    expect(core.rises).toEqual([]);
    expect(a.readTscDeadline()).toEqual([0, 0]);
  });
});

describe("exact multiply-divide used for the timer arithmetic", () => {
  // Reference: BigInt arithmetic.
  const cases: [number, number, number][] = [
    [0, 5, 7], [7, 5, 7], [2 ** 32 - 1, 128 * 3_000_000_000, 24_000_000], [123_456_789_012, 1_000_000_007, 3],
    [2 ** 52, 3, 2], [9, 4_000_000_000, 266_666_666],
  ];
  it.each(cases)("floor/ceil(%d * %d / %d)", (a, b, c) => {
    const p = BigInt(a) * BigInt(b);
    const C = BigInt(c);
    expect(mulDivFloor(a, b, c)).toBe(Number(p / C));
    expect(mulDivCeil(a, b, c)).toBe(Number((p + C - 1n) / C));
  });
});
