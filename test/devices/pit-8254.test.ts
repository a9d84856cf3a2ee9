/**
 * PIT 8254 against the Intel 8254 datasheet (231164): control word format (table 1), the mode
 * definitions (waveforms of modes 0, 2, 3 and 4, "initial count loaded on the next CLK pulse", odd
 * counts in mode 3), the counter latch and read-back commands (status byte format), BCD counting;
 * and against Linux's TSC calibration through PIT channel 2 and port 0x61 (arch/x86/kernel/tsc.c
 * pit_calibrate_tsc: gate on, mode 0, 50 ms latch, poll bit 5). Expected edge times are computed here
 * from the 1.193182 MHz clock with BigInt: edge k at ceil(k * hz / 1193182).
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import type { IrqLine } from "../../src/devices/irq-line.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import { Pit8254, PitPort61 } from "../../src/devices/pit-8254.ts";

const HZ = 2_400_000_000;
const F = 1193182;
/** Tick of PIT edge k (reference: the datasheet's input clock, independent of the model's arithmetic). */
const edgeTick = (k: number) => Number((BigInt(k) * BigInt(HZ) + BigInt(F - 1)) / BigInt(F));

function board(opts: { biosInit?: boolean } = {}) {
  const queue = new EventQueue();
  const clock = new QueueClock(queue, HZ);
  const changes: [number, boolean][] = [];
  const irq: IrqLine = { set: (l) => changes.push([queue.now, l]) };
  const pit = new Pit8254({ clock, irq, ...opts });
  const bus = new PortBus();
  bus.map(0x40, 4, pit);
  const port61 = new PitPort61(pit);
  bus.map(0x61, 1, port61);
  const out = (p: number, v: number) => bus.write(p, 1, v);
  const inb = (p: number) => bus.read(p, 1);
  /** Go to PIT edge k (the queue fires everything up to that tick). */
  const at = (k: number) => queue.runUntil(edgeTick(k));
  const count16 = (v: number, port = 0x40) => { out(port, v & 0xff); out(port, v >> 8); };
  const read16 = (port = 0x40) => inb(port) | (inb(port) << 8);
  const latched = (ch: number) => { out(0x43, ch << 6); return read16(0x40 + ch); };
  const rises = () => changes.filter(([, l]) => l).map(([t]) => t);
  const falls = () => changes.filter(([, l]) => !l).map(([t]) => t);
  return { queue, pit, out, inb, at, count16, read16, latched, changes, rises, falls };
}

describe("PIT mode 2 (rate generator)", () => {
  it("pulses OUT low for one clock every N clocks, the first N+1 clocks after the count is written", () => {
    const b = board();
    b.out(0x43, 0x34); // counter 0, LSB then MSB, mode 2, binary
    b.count16(1193);
    b.at(1 + 1193 * 10);
    // OUT goes high with the control word (from low after power-up), then: low at the count of 1, high at reload.
    expect(b.rises()).toEqual([0, ...Array.from({ length: 10 }, (_, k) => edgeTick(1 + 1193 * (k + 1)))]);
    expect(b.falls()).toEqual(Array.from({ length: 10 }, (_, k) => edgeTick(1193 * (k + 1))));
  });

  it("counts N, N-1 ... 1 and reloads (read through the counter latch command)", () => {
    const b = board();
    b.out(0x43, 0x34);
    b.count16(5);
    const seen: number[] = [];
    for (let k = 1; k <= 11; k++) {
      b.at(k);
      seen.push(b.latched(0));
    }
    expect(seen).toEqual([5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5]);
  });

  it("takes a new count at the next reload, not at once", () => {
    const b = board();
    b.out(0x43, 0x34);
    b.count16(100);
    b.at(30);
    b.count16(50);
    b.at(1 + 100 + 50 * 3);
    expect(b.rises().slice(1)).toEqual([edgeTick(101), edgeTick(151), edgeTick(201), edgeTick(251)]);
  });

  it("treats a count of 0 as 65536: the 18.2065 Hz tick a PC BIOS leaves in channel 0 (mode 3)", () => {
    const b = board({ biosInit: true });
    b.at(1 + 65536 * 3);
    expect(b.rises().slice(1)).toEqual([1, 2, 3].map((k) => edgeTick(1 + 65536 * k)));
    const periodSeconds = (edgeTick(1 + 65536 * 2) - edgeTick(1 + 65536)) / HZ;
    expect(1 / periodSeconds).toBeCloseTo(18.2065, 3);
  });
});

describe("PIT mode 3 (square wave)", () => {
  it("with an even count: OUT high N/2, low N/2, counting down by two (6, 4, 2)", () => {
    const b = board();
    b.out(0x43, 0x36);
    b.count16(6);
    const seen: number[] = [];
    const outs: boolean[] = [];
    for (let k = 1; k <= 12; k++) {
      b.at(k);
      seen.push(b.latched(0));
      outs.push(b.pit.out(0));
    }
    expect(seen).toEqual([6, 4, 2, 6, 4, 2, 6, 4, 2, 6, 4, 2]);
    expect(outs).toEqual([true, true, true, false, false, false, true, true, true, false, false, false]);
  });

  it("with an odd count: OUT high (N+1)/2, low (N-1)/2; N, N-1, N-3 ... then N, N-3 ... (datasheet)", () => {
    const b = board();
    b.out(0x43, 0x36);
    b.count16(5);
    const seen: number[] = [];
    const outs: boolean[] = [];
    for (let k = 1; k <= 10; k++) {
      b.at(k);
      seen.push(b.latched(0));
      outs.push(b.pit.out(0));
    }
    expect(seen).toEqual([5, 4, 2, 5, 2, 5, 4, 2, 5, 2]);
    expect(outs).toEqual([true, true, true, false, false, true, true, true, false, false]);
    expect(b.rises().slice(1)).toEqual([edgeTick(6)]);
    expect(b.falls()).toEqual([edgeTick(4), edgeTick(9)]);
  });

  it("takes a new count at the end of the current half-cycle", () => {
    const b = board();
    b.out(0x43, 0x36);
    b.count16(100); // high 1..50, low 51..100, high from 101
    b.at(20);
    b.count16(10); // from the fall at 51: low 5 clocks, high 5 ...
    b.at(80);
    expect(b.falls()).toEqual([edgeTick(51), edgeTick(61), edgeTick(71)]);
    expect(b.rises().slice(1)).toEqual([edgeTick(56), edgeTick(66), edgeTick(76)]);
  });
});

describe("PIT mode 0 (interrupt on terminal count) and mode 4 (software strobe)", () => {
  it("mode 0: OUT low at the control word, high N+1 clocks after the count is written, then stays high", () => {
    const b = board();
    b.out(0x43, 0x30);
    b.count16(100);
    b.at(100);
    expect(b.pit.out(0)).toBe(false);
    b.at(101);
    expect(b.pit.out(0)).toBe(true);
    expect(b.latched(0)).toBe(0);
    b.at(102);
    expect(b.latched(0)).toBe(0xffff); // the counter wraps and keeps counting
    b.at(5000);
    expect(b.rises()).toEqual([edgeTick(101)]);
    expect(b.falls()).toEqual([]);
  });

  it("mode 0: writing the first byte of a new count stops counting and sets OUT low", () => {
    const b = board();
    b.out(0x43, 0x30);
    b.count16(10);
    b.at(20);
    expect(b.pit.out(0)).toBe(true);
    b.out(0x40, 0x05);
    expect(b.pit.out(0)).toBe(false);
    const frozen = b.latched(0);
    b.at(40);
    expect(b.latched(0)).toBe(frozen);
    b.out(0x40, 0x00); // count 5, loaded on the next clock
    b.at(40 + 1 + 5);
    expect(b.rises()).toEqual([edgeTick(11), edgeTick(46)]);
  });

  it("mode 4: OUT high, low for one clock N+1 clocks after the write, then high again (once)", () => {
    const b = board();
    b.out(0x43, 0x38);
    b.count16(10);
    b.at(200);
    expect(b.falls()).toEqual([edgeTick(11)]);
    expect(b.rises()).toEqual([0, edgeTick(12)]);
  });
});

describe("PIT counter latch and read-back commands", () => {
  it("holds a latched count until both bytes are read; a second latch before that is ignored", () => {
    const b = board();
    b.out(0x43, 0x34);
    b.count16(1000);
    b.at(100);
    b.out(0x43, 0x00);
    b.at(150);
    b.out(0x43, 0x00); // ignored: the first latched count is unread
    b.at(200);
    expect(b.read16()).toBe(1000 - 99);
    expect(b.read16()).toBe(1000 - 199); // live again
  });

  it("reads LSB only / MSB only counters with one byte per read", () => {
    const b = board();
    b.out(0x43, 0x54); // counter 1, LSB only, mode 2
    b.out(0x41, 0x80);
    b.out(0x43, 0xa4); // counter 2, MSB only, mode 2
    b.out(0x42, 0x02); // count 0x0200
    b.out(0x61, 0x01); // gate 2 high
    b.at(3);
    expect(b.inb(0x41)).toBe(0x80 - 2);
    expect(b.inb(0x42)).toBe(0x01); // 0x0200 loaded at edge 1 (after the gate rose), 0x01FE at edge 3
  });

  it("returns the status byte (OUT, NULL COUNT, RW, mode, BCD) before a latched count", () => {
    const b = board();
    b.out(0x43, 0x34);
    b.out(0x43, 0xe2); // read-back: status only, counter 0
    expect(b.inb(0x40)).toBe(0x80 | 0x40 | 0x34); // OUT high, null count (no count yet)
    b.count16(500);
    b.out(0x43, 0xe2);
    expect(b.inb(0x40)).toBe(0xf4); // still null: the count loads on the next clock
    b.at(1);
    b.out(0x43, 0xc2); // status and count
    expect(b.inb(0x40)).toBe(0xb4);
    expect(b.read16()).toBe(500);
    b.at(1 + 499);
    b.out(0x43, 0xc2);
    expect(b.inb(0x40)).toBe(0x34); // OUT low for the clock the count is 1
    expect(b.read16()).toBe(1);
  });

  it("latches several counters with one read-back command", () => {
    const b = board();
    b.out(0x43, 0x34);
    b.count16(300);
    b.out(0x43, 0x74);
    b.count16(400, 0x41);
    b.at(11);
    b.out(0x43, 0xd6); // latch count (not status) of counters 0 and 1
    b.at(50);
    expect(b.read16(0x40)).toBe(300 - 10);
    expect(b.read16(0x41)).toBe(400 - 10);
  });

  it("counts in BCD when the control word says so (0x1000 = 1000 clocks)", () => {
    const b = board();
    b.out(0x43, 0x35);
    b.count16(0x1000);
    b.at(2);
    expect(b.latched(0)).toBe(0x0999);
    b.at(1 + 1000 * 2);
    expect(b.rises().slice(1)).toEqual([edgeTick(1001), edgeTick(2001)]);
  });

  it("reads the control port as 0xFF (no operation, data bus floating)", () => {
    expect(board().inb(0x43)).toBe(0xff);
  });
});

describe("PIT gates and port 0x61", () => {
  it("lets Linux calibrate the TSC: channel 2 mode 0, 50 ms latch, bit 5 of port 0x61 rises N+1 clocks later", () => {
    const b = board();
    b.at(7);
    b.out(0x61, (b.inb(0x61) & ~0x02) | 0x01);
    b.out(0x43, 0xb0);
    const latch = Math.floor(F / 20);
    b.count16(latch, 0x42);
    b.at(7 + latch);
    expect(b.inb(0x61) & 0x20).toBe(0);
    b.at(7 + latch + 1);
    expect(b.inb(0x61) & 0x20).toBe(0x20);
    expect(b.inb(0x61) & 0x0f).toBe(0x01);
  });

  it("does not count channel 2 while its gate (port 0x61 bit 0) is low", () => {
    const b = board();
    b.out(0x43, 0xb0);
    b.count16(100, 0x42);
    b.at(500);
    expect(b.inb(0x61) & 0x20).toBe(0);
    b.out(0x61, 0x01);
    b.at(500 + 99);
    expect(b.inb(0x61) & 0x20).toBe(0);
    b.at(500 + 100);
    expect(b.inb(0x61) & 0x20).toBe(0x20);
  });

  it("toggles the refresh bit 4 of port 0x61 every 18 PIT clocks (15.085 us)", () => {
    const b = board();
    b.at(17);
    const r0 = b.inb(0x61) & 0x10;
    b.at(18);
    expect(b.inb(0x61) & 0x10).toBe(r0 ^ 0x10);
  });

  it("mode 2 with the gate low: OUT forced high, counting stopped; a rising gate reloads", () => {
    const b = board();
    b.out(0x43, 0xb4); // counter 2, mode 2
    b.count16(10, 0x42);
    b.out(0x61, 0x01);
    b.at(9); // count 10 at edge 1 ... 2 at edge 9
    b.out(0x61, 0x00);
    expect(b.pit.out(2)).toBe(true);
    b.at(30);
    b.out(0x43, 0x80);
    expect(b.read16(0x42)).toBe(2);
    b.out(0x61, 0x01); // reload on the next clock
    b.at(31);
    b.out(0x43, 0x80);
    expect(b.read16(0x42)).toBe(10);
    b.at(40);
    expect(b.pit.out(2)).toBe(false);
  });

  it("mode 1: a rising gate starts the one-shot (OUT low on the next clock for N clocks) and retriggers it", () => {
    const b = board();
    b.out(0x43, 0xb2); // counter 2, mode 1
    b.count16(10, 0x42);
    b.at(5);
    expect(b.pit.out(2)).toBe(true); // no trigger yet
    b.out(0x61, 0x01); // trigger at edge 5: OUT low from edge 6
    b.at(6);
    expect(b.pit.out(2)).toBe(false);
    b.at(10);
    b.out(0x61, 0x00);
    b.at(12);
    b.out(0x61, 0x01); // retrigger at edge 12: the count starts again at edge 13
    b.at(22);
    expect(b.pit.out(2)).toBe(false);
    b.at(23);
    expect(b.pit.out(2)).toBe(true);
  });

  it("mode 5: a rising gate starts the count; OUT strobes low for one clock at terminal count", () => {
    const b = board();
    b.out(0x43, 0xba); // counter 2, mode 5
    b.count16(4, 0x42);
    b.at(3);
    b.out(0x61, 0x01); // trigger: load at edge 4, terminal at edge 8
    const outs: boolean[] = [];
    for (let k = 4; k <= 10; k++) {
      b.at(k);
      outs.push(b.pit.out(2));
    }
    expect(outs).toEqual([true, true, true, true, false, true, true]);
  });
});
