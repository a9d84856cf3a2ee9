/**
 * Shared console over the real UART model (src/devices/uart-16550.ts). References: the PC16550D datasheet
 * (register tables 2 and 4: LSR THRE/TEMT = 60H, IIR 01H none / 02H THR empty / C0H FIFO bits, MSR
 * loopback mapping; a character takes (start + 8 data + stop) * 16 crystal clocks at 1.8432 MHz, i.e.
 * 86.8 us at divisor 1), abi.ts (PV ring), and the vdev brief's cost list.
 */
import { describe, expect, it } from "vitest";
import type { Uart16550 } from "../../../src/devices/uart-16550.ts";
import { PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp } from "../../../src/vmm/abi.ts";
import { GuestRing, PART_BYTES, rig } from "./fake-hosts.ts";
import type { VirtualDevice } from "../../../src/vmm/vdev/vdev.ts";

const CHAR_NS = (10 * 16 * 1e9) / 1843200; // 86805.6 ns per 8N1 character at 115200 baud

function uart(r: ReturnType<typeof rig>): Uart16550 {
  return r.physical.device as Uart16550;
}

/** A polling driver: wait for LSR.THRE, write THR, per byte (2 exits per byte). */
function putsPolling(v: VirtualDevice, s: string): void {
  for (const ch of s) {
    expect(v.portRead!(5, 1) & 0x20).toBe(0x20);
    v.portWrite!(0, 1, ch.charCodeAt(0));
  }
}

describe("shared uart: output (reference: 16550 datasheet timing)", () => {
  it("an emulated and a paravirtual partition: per-partition transcripts, one FIFO on the physical line", () => {
    const r = rig("uart");
    const h0 = r.partition(0), h1 = r.partition(1);
    const v0 = r.shared.attach(h0, "emulated");
    const v1 = r.shared.attach(h1, "paravirtual");
    putsPolling(v0, "hello\n");
    h1.poke(0x9000, new TextEncoder().encode("world\n"));
    const ring = new GuestRing(h1, 0x4000, 4);
    v1.setupRing!(0x4000, 4);
    const n = ring.post(PvOp.WRITE, 0x9000, 6);
    v1.notify!();
    expect(ring.status(n)).toBe(PV_STATUS_OK);
    expect(ring.result(n)).toBe(6);
    expect(h1.raises).toBe(1);
    r.run();
    expect(r.shared.transcript!()).toEqual({ p0: "hello\n", p1: "world\n" });
    expect(String.fromCharCode(...uart(r).state.transmitted)).toBe("hello\nworld\n");
    // 12 characters back to back on the line: the last stop bit ends ~12 character times after the first THR write.
    expect(r.q.now).toBeGreaterThanOrEqual(12 * CHAR_NS - 1);
    expect(r.q.now).toBeLessThan(14 * CHAR_NS);
  });

  it("a long write is sent in 16-byte bursts, each after a THRE interrupt, in order", () => {
    const r = rig("uart");
    const h = r.partition(0);
    const v = r.shared.attach(h, "paravirtual");
    const text = Array.from({ length: 100 }, (_, k) => String.fromCharCode(33 + (k % 90))).join("");
    h.poke(0x9000, new TextEncoder().encode(text));
    const ring = new GuestRing(h, 0x4000, 4);
    v.setupRing!(0x4000, 4);
    ring.post(PvOp.WRITE, 0x9000, 100);
    v.notify!();
    r.run();
    expect(String.fromCharCode(...uart(r).state.transmitted)).toBe(text);
    const rep = r.shared.report();
    expect(rep.physicalOps).toBe(Math.ceil(100 / 16));
    expect(rep.counters.bytesSent).toBe(100);
    expect(r.backend.rec.count("backend.submit")).toBe(7);
    expect(r.backend.bus.every((k) => k === "portIo")).toBe(true);
  });
});

describe("shared uart: the emulated 16550 register file (reference: datasheet tables 2 and 4)", () => {
  it("LSR always THRE|TEMT, IIR none/THRE with FIFO bits, scratch, divisor latch, MSR", () => {
    const r = rig("uart");
    const h = r.partition(0);
    const v = r.shared.attach(h, "emulated");
    expect(v.portRead!(5, 1)).toBe(0x60);
    expect(v.portRead!(2, 1)).toBe(0x01);
    v.portWrite!(2, 1, 0x07); // FIFO enable
    expect(v.portRead!(2, 1)).toBe(0xc1);
    v.portWrite!(7, 1, 0x5a);
    expect(v.portRead!(7, 1)).toBe(0x5a);
    v.portWrite!(3, 1, 0x83); // DLAB
    v.portWrite!(0, 1, 0x0c);
    v.portWrite!(1, 1, 0x00);
    expect(v.portRead!(0, 1)).toBe(0x0c);
    v.portWrite!(3, 1, 0x03);
    expect(v.portRead!(3, 1)).toBe(0x03);
    expect(v.portRead!(6, 1)).toBe(0xb0);
    v.portWrite!(4, 1, 0x10 | 0x01 | 0x08); // loopback, DTR, OUT2 -> DSR, DCD
    expect(v.portRead!(6, 1)).toBe(0x20 | 0x80);
    expect(v.portRead!(0, 4)).toBe(0); // wider than a byte: dropped
    expect(r.shared.transcript!()).toEqual({ p0: "" }); // the divisor write did not reach the console
  });

  it("THRE interrupts: raised when ETBEI is set and after each THR write, only with OUT2; IIR read clears", () => {
    const r = rig("uart");
    const h = r.partition(0);
    const v = r.shared.attach(h, "emulated");
    v.portWrite!(1, 1, 0x02); // ETBEI, OUT2 still clear: INTR does not reach the controller
    expect(h.raises).toBe(0);
    expect(v.portRead!(2, 1)).toBe(0x02); // but IIR reports it (and reading clears it)
    expect(v.portRead!(2, 1)).toBe(0x01);
    v.portWrite!(4, 1, 0x08); // OUT2
    v.portWrite!(0, 1, 0x41);
    expect(h.raises).toBe(1);
    v.portWrite!(0, 1, 0x42); // THR write: INTR drops and rises again
    expect(h.raises).toBe(2);
    expect(v.portRead!(2, 1)).toBe(0x02);
    expect(v.portRead!(2, 1)).toBe(0x01);
    v.portWrite!(1, 1, 0x00);
    v.portWrite!(0, 1, 0x43);
    expect(h.raises).toBe(2);
    expect(r.shared.transcript!().p0).toBe("ABC");
  });

  it("costs: a register charge per access, vdev.command per THR byte; PV per request", () => {
    const r = rig("uart");
    const h = r.partition(0);
    const v = r.shared.attach(h, "emulated");
    putsPolling(v, "abc");
    expect(h.rec.count("vdev.registerRead")).toBe(3);
    expect(h.rec.count("vdev.registerWrite")).toBe(3);
    expect(h.rec.count("vdev.command")).toBe(3);
    expect(v.stats().ops).toBe(3);
  });
});

describe("shared uart: bad guest input", () => {
  it("unknown op, over-long and outside-RAM writes complete with errors", () => {
    const r = rig("uart");
    const h = r.partition(0);
    const v = r.shared.attach(h, "paravirtual");
    const ring = new GuestRing(h, 0x4000, 4);
    v.setupRing!(0x4000, 4);
    const a = ring.post(PvOp.READ, 0x9000, 4);
    const b = ring.post(PvOp.WRITE, 0x9000, 5000);
    const c = ring.post(PvOp.WRITE, PART_BYTES - 2, 4);
    v.notify!();
    expect(ring.status(a)).toBe(PV_STATUS_ERROR | (PvError.BAD_OP << 8));
    expect(ring.status(b)).toBe(PV_STATUS_ERROR | (PvError.BAD_RANGE << 8));
    expect(ring.status(c)).toBe(PV_STATUS_ERROR | (PvError.DMA << 8));
    expect(h.faults).toHaveLength(1);
    expect(ring.used).toBe(3);
    expect(h.raises).toBe(1); // one raise for the doorbell's batch
  });
});
