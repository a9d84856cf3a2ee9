/**
 * The I/O APIC. Reference: Intel 82093AA I/O APIC datasheet (290566-001): 3.0 register access through
 * IOREGSEL (00H) and IOWIN (10H); 3.1 IOAPICID (bits 27:24), IOAPICVER (00170011H for 24 entries),
 * IOAPICARB; 3.2.4 redirection table entry fields (vector, delivery mode, destination mode, delivery
 * status RO, polarity, remote IRR RO, trigger mode, mask, destination 63:56), masked at reset, edge
 * interrupts on a masked pin are lost, level interrupts and remote IRR cleared by the EOI message; SDM
 * Vol. 3A 10.8.5 for the EOI message a local APIC sends for a level-triggered vector. The end-to-end
 * cases run the IOAPIC into four LocalApics on an ApicBus.
 */
import { describe, expect, it } from "vitest";
import { IoApic } from "../../src/devices/io-apic.ts";
import type { InterruptMessage, InterruptMessageSink } from "../../src/devices/interrupt-message.ts";
import { enable, makeRig, w } from "../cpu/lapic/harness.ts";

class Sink implements InterruptMessageSink {
  readonly msgs: InterruptMessage[] = [];
  deliverInterrupt(msg: InterruptMessage): void {
    this.msgs.push(msg);
  }
}

function reg(io: IoApic, index: number, value?: number): number {
  io.mmioWrite(0x00, 4, index);
  if (value !== undefined) io.mmioWrite(0x10, 4, value);
  return io.mmioRead(0x10, 4) >>> 0;
}

/** Program entry `n`: low dword `lo`, destination byte `dest`. */
function route(io: IoApic, n: number, lo: number, dest = 0): void {
  reg(io, 0x11 + 2 * n, dest << 24);
  reg(io, 0x10 + 2 * n, lo);
}

const LOGICAL = 1 << 11;
const POLARITY_LOW = 1 << 13;
const REMOTE_IRR = 1 << 14;
const LEVEL = 1 << 15;
const MASKED = 1 << 16;

describe("IOAPIC registers (82093AA 3.0-3.2)", () => {
  it("version 00170011H: version 11H, 24 redirection entries", () => {
    const io = new IoApic({ sink: new Sink() });
    expect(reg(io, 0x01)).toBe(0x00170011);
  });

  it("ID in bits 27:24; the arbitration ID follows it", () => {
    const io = new IoApic({ sink: new Sink(), id: 2 });
    expect(reg(io, 0x00)).toBe(0x02000000);
    expect(reg(io, 0x00, 0xff000000)).toBe(0x0f000000);
    expect(reg(io, 0x02)).toBe(0x0f000000);
    reg(io, 0x01, 0);
    expect(reg(io, 0x01)).toBe(0x00170011);
  });

  it("IOREGSEL reads back; unknown registers read 0", () => {
    const io = new IoApic({ sink: new Sink() });
    io.mmioWrite(0x00, 4, 0x3f);
    expect(io.mmioRead(0x00, 4)).toBe(0x3f);
    expect(reg(io, 0x40)).toBe(0);
    expect(reg(io, 0x03)).toBe(0);
  });

  it("every entry is masked at reset; delivery status and remote IRR are read-only", () => {
    const io = new IoApic({ sink: new Sink() });
    for (let n = 0; n < 24; n++) expect(reg(io, 0x10 + 2 * n)).toBe(MASKED);
    expect(reg(io, 0x10, 0xffffffff)).toBe(0x0001afff);
    expect(reg(io, 0x11, 0xffffffff)).toBe(0xff000000);
  });

  it("ignores IOWIN accesses narrower than 32 bits", () => {
    const io = new IoApic({ sink: new Sink() });
    io.mmioWrite(0x00, 1, 0x10);
    io.mmioWrite(0x10, 2, 0x55);
    expect(io.mmioRead(0x10, 2)).toBe(0);
    expect(reg(io, 0x10)).toBe(MASKED);
  });
});

describe("IOAPIC pin behaviour (82093AA 3.2.4)", () => {
  it("edge-triggered: one message per rising edge, with the entry's fields", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 3, 0x0123, 5); // vector 23H, delivery mode lowest priority (001), physical
    io.pin(3).set(true);
    io.pin(3).set(true);
    io.pin(3).set(false);
    io.pin(3).set(true);
    expect(sink.msgs).toEqual([
      { dest: 5, destMode: "physical", deliveryMode: 1, vector: 0x23, level: true, trigger: "edge" },
      { dest: 5, destMode: "physical", deliveryMode: 1, vector: 0x23, level: true, trigger: "edge" },
    ]);
  });

  it("an edge on a masked pin is lost, not held pending", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 0, 0x30 | MASKED);
    io.pin(0).set(true);
    route(io, 0, 0x30);
    expect(sink.msgs).toEqual([]);
  });

  it("polarity active-low: the falling edge is the active one", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    io.pin(1).set(true);
    route(io, 1, 0x31 | POLARITY_LOW);
    io.pin(1).set(false);
    expect(sink.msgs.length).toBe(1);
    io.pin(1).set(true);
    expect(sink.msgs.length).toBe(1);
  });

  it("level-triggered: sends while active and remote IRR clear; EOI of its vector clears remote IRR", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 9, 0x49 | LEVEL, 1);
    io.pin(9).set(true);
    expect(sink.msgs.length).toBe(1);
    expect(sink.msgs[0].trigger).toBe("level");
    expect(reg(io, 0x10 + 18) & REMOTE_IRR).toBe(REMOTE_IRR);
    io.eoi(0x48); // another vector: no effect
    expect(sink.msgs.length).toBe(1);
    io.eoi(0x49); // still asserted: sent again
    expect(sink.msgs.length).toBe(2);
    io.pin(9).set(false);
    io.eoi(0x49);
    expect(reg(io, 0x10 + 18) & REMOTE_IRR).toBe(0);
    expect(sink.msgs.length).toBe(2);
  });

  it("level-triggered and active when unmasked: sends at the unmask", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 4, 0x44 | LEVEL | MASKED);
    io.pin(4).set(true);
    expect(sink.msgs.length).toBe(0);
    route(io, 4, 0x44 | LEVEL);
    expect(sink.msgs.length).toBe(1);
  });

  it("level-triggered, active-low: asserted while the pin is low", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    io.pin(5).set(true);
    route(io, 5, 0x45 | LEVEL | POLARITY_LOW);
    expect(sink.msgs.length).toBe(0);
    io.pin(5).set(false);
    expect(sink.msgs.length).toBe(1);
  });

  it("rewriting an entry as edge-triggered clears a stuck remote IRR (as QEMU's ioapic)", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 2, 0x42 | LEVEL);
    io.pin(2).set(true);
    expect(reg(io, 0x14) & REMOTE_IRR).toBe(REMOTE_IRR);
    route(io, 2, 0x42 | LEVEL | MASKED);
    expect(reg(io, 0x14) & REMOTE_IRR).toBe(REMOTE_IRR);
    route(io, 2, 0x42 | MASKED);
    expect(reg(io, 0x14) & REMOTE_IRR).toBe(0);
  });

  it("physical destination FFH is a broadcast; logical destinations pass through", () => {
    const sink = new Sink();
    const io = new IoApic({ sink });
    route(io, 6, 0x46, 0xff);
    route(io, 7, 0x47 | LOGICAL, 0xff);
    io.pin(6).set(true);
    io.pin(7).set(true);
    expect(sink.msgs.map((m) => [m.dest >>> 0, m.destMode])).toEqual([[0xffffffff, "physical"], [0xff, "logical"]]);
  });

  it("refuses pins beyond 23", () => {
    expect(() => new IoApic({ sink: new Sink() }).pin(24)).toThrow(RangeError);
  });
});

describe("IOAPIC into four local APICs (end to end)", () => {
  function board(latency = 50) {
    const rig = makeRig({ cores: 4, latency });
    rig.apics.forEach((a) => enable(a));
    const io = new IoApic({ sink: rig.bus });
    rig.bus.onEoi((v) => io.eoi(v));
    return { rig, io };
  }

  it("routes an edge interrupt to a logical flat destination after the bus latency", () => {
    const { rig, io } = board(50);
    rig.apics.forEach((a, i) => w(a, 0x0d0, (1 << i) << 24));
    route(io, 1, 0x61 | LOGICAL, 0x0a); // APICs 1 and 3
    rig.runTo(1000);
    io.pin(1).set(true);
    rig.runTo(1049);
    expect(rig.apics.map((a) => a.irr.has(0x61))).toEqual([false, false, false, false]);
    rig.runTo(1050);
    expect(rig.apics.map((a) => a.irr.has(0x61))).toEqual([false, true, false, true]);
  });

  it("level interrupt: TMR set at the APIC, EOI travels back, a still-asserted line fires again", () => {
    const { rig, io } = board();
    route(io, 10, 0x6a | LEVEL, 2);
    io.pin(10).set(true);
    rig.settle();
    const a = rig.apics[2];
    expect(a.tmr.has(0x6a)).toBe(true);
    expect(a.acknowledge()).toBe(0x6a);
    expect(reg(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    w(a, 0x0b0, 0);
    expect(reg(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR); // re-sent at once: set again
    rig.settle();
    expect(a.irr.has(0x6a)).toBe(true);
    expect(a.acknowledge()).toBe(0x6a);
    io.pin(10).set(false);
    w(a, 0x0b0, 0);
    rig.settle();
    expect(a.irr.has(0x6a)).toBe(false);
    expect(reg(io, 0x10 + 20) & REMOTE_IRR).toBe(0);
    expect(io.sent).toBe(2);
  });

  it("lowest-priority delivery picks the APIC with the lowest PPR among the logical destination", () => {
    const { rig, io } = board();
    rig.apics.forEach((a, i) => {
      w(a, 0x0d0, 0x01000000);
      w(a, 0x080, [0x40, 0x30, 0x10, 0x20][i]);
    });
    route(io, 11, 0x6b | (1 << 8) | LOGICAL, 0x01);
    io.pin(11).set(true);
    rig.settle();
    expect(rig.apics.map((a) => a.irr.has(0x6b))).toEqual([false, false, true, false]);
  });

  it("NMI delivery mode reaches the core's NMI input", () => {
    const { rig, io } = board();
    route(io, 12, (4 << 8), 3);
    io.pin(12).set(true);
    rig.settle();
    expect(rig.cores.map((c) => c.nmis)).toEqual([0, 0, 0, 1]);
  });
});
