/**
 * HPET against the IA-PC HPET specification 1.0a (register map §2.3, GCAP_ID fields, one-shot and
 * periodic modes §2.3.9, level interrupts and GINTR_STA write-1-to-clear, legacy replacement routes
 * timer 0 -> IRQ0/IOAPIC pin 2 and timer 1 -> IRQ8), the ICH7 datasheet (GCAP_ID 0x8086A201 with period
 * 0x0429B17F = 69841279 fs, Tn_INT_ROUTE_CAP pins 20-23, 32-bit mode zeroing the comparator's upper
 * half, status set with Tn_INT_ENB_CNF clear), and Linux's arch/x86/kernel/hpet.c (hpet_set_periodic's
 * comparator write sequence with Tn_VAL_SET_CNF). Match times are computed here from the period in
 * femtoseconds with BigInt: counter value v is reached at ceil(v * period_fs * hz / 1e15) ticks.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import type { IrqLine } from "../../src/devices/irq-line.ts";
import { MmioBus } from "../../src/devices/mmio-bus.ts";
import { Hpet } from "../../src/devices/hpet.ts";

const HZ = 2_400_000_000;
const PERIOD = 69841279n;
const BASE = 0xfed00000;
/** Tick at which the counter, started at tick `start` from 0, reaches `v`. */
const tickOfCount = (v: number, start = 0) => start + Number((BigInt(v) * PERIOD * BigInt(HZ) + 10n ** 15n - 1n) / 10n ** 15n);

const CONF = (n: number) => BASE + 0x100 + 0x20 * n;
const CMP = (n: number) => CONF(n) + 8;
const GEN_CONF = BASE + 0x10;
const GINTR_STA = BASE + 0x20;
const MAIN_CNT = BASE + 0xf0;
// Tn_CONF bits
const LEVEL = 0x02, ENB = 0x04, PERIODIC = 0x08, VAL_SET = 0x40, MODE32 = 0x100;

function board() {
  const queue = new EventQueue();
  const clock = new QueueClock(queue, HZ);
  const edges: number[][] = [[], [], []];
  const levels: boolean[] = [false, false, false];
  const irqs: IrqLine[] = [0, 1, 2].map((n) => ({
    set: (l: boolean) => {
      if (l && !levels[n]) edges[n].push(queue.now);
      levels[n] = l;
    },
  }));
  const routes: [number, number][] = [];
  const legacy: boolean[] = [];
  const hpet = new Hpet({ clock, irqs, onRouteChange: (t, p) => routes.push([t, p]), onLegacyReplacement: (on) => legacy.push(on) });
  const bus = new MmioBus();
  bus.map(BASE, 1024, hpet);
  const rd = (a: number) => bus.read(a, 4) >>> 0;
  const wr = (a: number, v: number) => bus.write(a, 4, v);
  return { queue, hpet, rd, wr, edges, levels, routes, legacy, run: (t: number) => queue.runUntil(t) };
}

describe("HPET general registers", () => {
  it("reads GCAP_ID 0x8086A201 and the period 69841279 fs (ICH7: 3 timers, 64-bit, legacy capable)", () => {
    const b = board();
    expect(b.rd(BASE)).toBe(0x8086a201);
    expect(b.rd(BASE + 4)).toBe(0x0429b17f);
    expect(b.hpet.mmioRead(4, 1)).toBe(0x7f); // narrower reads return the addressed bytes
    expect(b.hpet.mmioRead(6, 2)).toBe(0x0429);
  });

  it("resets to halted, GEN_CONF 0, timers periodic- and 64-bit-capable with route caps 20-23 (timer 2: also 11)", () => {
    const b = board();
    expect(b.rd(GEN_CONF)).toBe(0);
    expect(b.rd(CONF(0)) & 0x30).toBe(0x30);
    expect(b.rd(CONF(0) + 4)).toBe(0x00f00000);
    expect(b.rd(CONF(2) + 4)).toBe(0x00f00800);
    b.run(1_000_000);
    expect(b.rd(MAIN_CNT)).toBe(0);
  });

  it("counts at 14.31818 MHz while enabled, holds its value while halted, accepts writes only while halted", () => {
    const b = board();
    b.wr(GEN_CONF, 1);
    b.run(HZ / 1000); // 1 ms
    expect(b.rd(MAIN_CNT)).toBe(14318); // floor(1e-3 s / 69.841279 ns)
    b.wr(MAIN_CNT, 5); // ignored while running
    expect(b.rd(MAIN_CNT)).toBe(14318);
    b.wr(GEN_CONF, 0);
    b.run(HZ / 100);
    expect(b.rd(MAIN_CNT)).toBe(14318);
    b.wr(MAIN_CNT, 0xfffffff0);
    b.wr(MAIN_CNT + 4, 0x12);
    expect(b.rd(MAIN_CNT)).toBe(0xfffffff0);
    b.wr(GEN_CONF, 1);
    b.run(HZ / 100 + tickOfCount(0x20));
    expect(b.rd(MAIN_CNT)).toBe(0x10); // carried into the upper half
    expect(b.rd(MAIN_CNT + 4)).toBe(0x13);
  });
});

describe("HPET one-shot and periodic timers", () => {
  it("one-shot: one edge when the counter equals the comparator, none after", () => {
    const b = board();
    b.wr(CONF(0), ENB);
    b.wr(CMP(0), 1000);
    b.wr(CMP(0) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(1000) - 1);
    expect(b.edges[0]).toEqual([]);
    b.run(tickOfCount(1000) + HZ);
    expect(b.edges[0]).toEqual([tickOfCount(1000)]);
    expect(b.rd(CMP(0))).toBe(1000); // a one-shot comparator does not change
  });

  it("periodic as Linux programs it (VAL_SET, comparator = now + delta, then delta): an edge every delta", () => {
    const b = board();
    b.wr(GEN_CONF, 1);
    const start = HZ / 10000;
    b.run(start);
    const now = b.rd(MAIN_CNT);
    const delta = 14318; // 1 ms
    b.wr(CONF(0), ENB | PERIODIC | VAL_SET | MODE32);
    b.wr(CMP(0), now + delta);
    expect(b.rd(CONF(0)) & VAL_SET).toBe(0); // cleared by the comparator write
    b.wr(CMP(0), delta);
    b.run(tickOfCount(now + delta * 5));
    expect(b.edges[0]).toEqual([1, 2, 3, 4, 5].map((k) => tickOfCount(now + delta * k)));
    expect(b.rd(CMP(0))).toBe(now + delta * 6); // the accumulator moved on by the period at each match
  });

  it("periodic without VAL_SET: a comparator write sets only the period (64-bit comparator, dword writes)", () => {
    const b = board();
    b.wr(CONF(1), ENB | PERIODIC | VAL_SET);
    b.wr(CMP(1) + 4, 0); // VAL_SET applies to one write: set it again for the low half
    b.wr(CONF(1), ENB | PERIODIC | VAL_SET);
    b.wr(CMP(1), 100);
    b.wr(CMP(1), 300);
    expect([b.rd(CMP(1)), b.rd(CMP(1) + 4)]).toEqual([100, 0]);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(1000));
    expect(b.edges[1]).toEqual([100, 400, 700, 1000].map((v) => tickOfCount(v)));
  });

  it("32-bit mode: the periodic accumulator wraps in 32 bits and matches the counter's low half", () => {
    const b = board();
    b.wr(MAIN_CNT, 0xffffff00);
    b.wr(CONF(0), ENB | PERIODIC | VAL_SET | MODE32);
    b.wr(CMP(0), 0xffffff80);
    b.wr(CMP(0), 0x200);
    expect(b.rd(CMP(0) + 4)).toBe(0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(0x100 + 0x180));
    expect(b.edges[0]).toEqual([tickOfCount(0x80), tickOfCount(0x280)]);
    expect(b.rd(CMP(0))).toBe(0x380);
  });

  it("32-bit mode one-shot behind the counter fires after the low half wraps; in 64-bit mode it never does", () => {
    const b = board();
    b.wr(MAIN_CNT, 0xffffff00);
    b.wr(CONF(0), ENB | MODE32);
    b.wr(CMP(0), 0x10);
    b.wr(CONF(1), ENB);
    b.wr(CMP(1), 0x10);
    b.wr(CMP(1) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(0x200));
    expect(b.edges[0]).toEqual([tickOfCount(0x110)]);
    expect(b.edges[1]).toEqual([]);
    expect(b.hpet.state.matches[1]).toBe(0);
  });

  it("setting 32-bit mode zeroes the comparator's upper half, and upper-half writes are ignored", () => {
    const b = board();
    b.wr(CMP(2) + 4, 0x1234);
    expect(b.rd(CMP(2) + 4)).toBe(0x1234);
    b.wr(CONF(2), MODE32);
    expect(b.rd(CMP(2) + 4)).toBe(0);
    b.wr(CMP(2) + 4, 0x55);
    expect(b.rd(CMP(2) + 4)).toBe(0);
  });

  it("stops matching when ENABLE_CNF is cleared, and resumes from the held count", () => {
    const b = board();
    b.wr(CONF(0), ENB);
    b.wr(CMP(0), 500);
    b.wr(CMP(0) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(200));
    b.wr(GEN_CONF, 0);
    b.run(tickOfCount(2000));
    expect(b.edges[0]).toEqual([]);
    const t = b.queue.now;
    b.wr(GEN_CONF, 1);
    b.run(t + tickOfCount(300));
    expect(b.edges[0].length).toBe(1);
    expect(b.edges[0][0]).toBeGreaterThanOrEqual(t + tickOfCount(299));
    expect(b.edges[0][0]).toBeLessThanOrEqual(t + tickOfCount(300));
  });
});

describe("HPET interrupts", () => {
  it("level mode: sets Tn_INT_STS and holds the line until software writes 1 to the status bit", () => {
    const b = board();
    b.wr(CONF(2), LEVEL | ENB | (20 << 9));
    b.wr(CMP(2), 100);
    b.wr(CMP(2) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(100));
    expect(b.rd(GINTR_STA)).toBe(0x4);
    expect(b.levels[2]).toBe(true);
    b.wr(GINTR_STA, 0x1); // other bits: no effect
    expect(b.levels[2]).toBe(true);
    b.wr(GINTR_STA, 0x4);
    expect(b.rd(GINTR_STA)).toBe(0);
    expect(b.levels[2]).toBe(false);
  });

  it("level mode with Tn_INT_ENB_CNF clear: the status bit is set, the line stays low", () => {
    const b = board();
    b.wr(CONF(1), LEVEL);
    b.wr(CMP(1), 50);
    b.wr(CMP(1) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(60));
    expect(b.rd(GINTR_STA)).toBe(0x2);
    expect(b.levels[1]).toBe(false);
    b.wr(CONF(1), LEVEL | ENB); // enabling now raises it
    expect(b.levels[1]).toBe(true);
  });

  it("edge mode: pulses the line and leaves GINTR_STA clear", () => {
    const b = board();
    b.wr(CONF(0), ENB);
    b.wr(CMP(0), 10);
    b.wr(CMP(0) + 4, 0);
    b.wr(GEN_CONF, 1);
    b.run(tickOfCount(10));
    expect(b.edges[0].length).toBe(1);
    expect(b.levels[0]).toBe(false);
    expect(b.rd(GINTR_STA)).toBe(0);
  });

  it("accepts only routes allowed by Tn_INT_ROUTE_CAP and reports route changes to the board", () => {
    const b = board();
    b.wr(CONF(0), 21 << 9);
    expect((b.rd(CONF(0)) >> 9) & 31).toBe(21);
    b.wr(CONF(0), 5 << 9); // not in the capability: the old value stays
    expect((b.rd(CONF(0)) >> 9) & 31).toBe(21);
    b.wr(CONF(2), 11 << 9);
    expect(b.hpet.routeOf(2)).toBe(11);
    expect(b.routes).toEqual([[0, 21], [2, 11]]);
  });

  it("legacy replacement routes timer 0 to pin 2 (IRQ0) and timer 1 to pin 8 (IRQ8)", () => {
    const b = board();
    b.wr(CONF(0), 20 << 9);
    b.wr(GEN_CONF, 3);
    expect(b.rd(GEN_CONF)).toBe(3);
    expect([b.hpet.routeOf(0), b.hpet.routeOf(1), b.hpet.routeOf(2)]).toEqual([2, 8, 0]);
    expect(b.legacy).toEqual([true]);
    expect(b.routes).toEqual([[0, 20], [0, 2], [1, 8]]);
    b.wr(GEN_CONF, 1);
    expect(b.hpet.routeOf(0)).toBe(20);
    expect(b.legacy).toEqual([true, false]);
  });
});
