/**
 * ClockDomain, the device-clock/tick conversion the PIT, UART and HPET share, against its definition
 * computed with BigInt here: countAt(t) = floor(t * f / hz), tickOf(c) = ceil(c * hz / f), for the
 * datasheet frequencies (PIT 1193182 Hz, UART crystal 1843200 Hz, HPET period 69841279 fs) at several
 * core clocks, including times far beyond 2^53 / f where plain float products would round.
 */
import { describe, expect, it } from "vitest";
import { ClockDomain } from "../../src/devices/clock-domain.ts";
import { Rng } from "../../src/sim/rng.ts";

const cases: [string, number, number, number][] = [
  ["PIT at 2.4 GHz", 2_400_000_000, 1193182, 1],
  ["PIT at 2.66 GHz", 2_666_666_667, 1193182, 1],
  ["UART crystal at 3 GHz", 3_000_000_000, 1843200, 1],
  ["HPET 14.31818 MHz at 2.4 GHz", 2_400_000_000, 1e15, 69841279],
  ["HPET 14.31818 MHz at 3.333 GHz", 3_333_333_333, 1e15, 69841279],
  ["a 1 MHz core with the PIT (device faster than 1/2 the core)", 1_000_000, 1193182, 1],
];

describe("ClockDomain", () => {
  it.each(cases)("%s: countAt and tickOf equal floor/ceil of the exact ratio", (_name, hz, num, den) => {
    const d = new ClockDomain(hz, num, den);
    const bhz = BigInt(hz) * BigInt(den);
    const bf = BigInt(num);
    const rng = new Rng(7, "clock-domain");
    // Up to ~7.9e15 ticks (~38 days at 2.4 GHz), as long as the count stays an exact double.
    const tMax = Math.min(2 ** 50 * 7, Math.floor((2 ** 52 * hz * den) / num));
    for (let k = 0; k < 2000; k++) {
      const t = k < 1000 ? rng.int(0, 1e7) : rng.int(0, tMax);
      expect(d.countAt(t)).toBe(Number((BigInt(t) * bf) / bhz));
      const c = rng.int(0, 2 ** 40);
      expect(d.tickOf(c)).toBe(Number((BigInt(c) * bhz + bf - 1n) / bf));
    }
  });

  it("tickOf is the first tick at which countAt reaches the count", () => {
    const d = new ClockDomain(2_400_000_000, 1193182);
    for (const c of [1, 2, 1193, 65536, 1193182, 123456789]) {
      const t = d.tickOf(c);
      expect(d.countAt(t)).toBe(c);
      expect(d.countAt(t - 1)).toBe(c - 1);
    }
  });

  it("rejects non-integer or non-positive frequencies", () => {
    expect(() => new ClockDomain(0, 1)).toThrow(RangeError);
    expect(() => new ClockDomain(1e9, 1.5)).toThrow(RangeError);
  });
});
