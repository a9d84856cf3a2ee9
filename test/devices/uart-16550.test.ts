/**
 * UART 16550A against the PC16550D datasheet (National Semiconductor / TI): the reset configuration
 * table, the register and DLAB map (table 2), the IIR priority table (table 4), FCR trigger levels, the
 * baud generator formula (baud = 1.8432 MHz / (16 * divisor)), loopback (MCR bit 4, "diagnostic mode"),
 * and Linux's 8250 driver's loopback probe (drivers/tty/serial/8250/8250_port.c autoconfig: MCR =
 * LOOP | 0x0A must read MSR & 0xF0 == 0x90).
 * Expected character times are computed from bits / baud * hz here, not from the model's code.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import { Uart16550 } from "../../src/devices/uart-16550.ts";

const HZ = 2_400_000_000;
const COM1 = 0x3f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7].map((o) => COM1 + o);
const FCR = IIR;

function board(opts: { modemInputs?: number; out2GatesIrq?: boolean } = {}) {
  const queue = new EventQueue();
  const clock = new QueueClock(queue, HZ);
  const irq = new RecordingLine();
  const out: number[] = [];
  const outTicks: number[] = [];
  const uart = new Uart16550({
    clock, irq, sink: (b) => { out.push(b); outTicks.push(queue.now); }, ...opts,
  });
  const bus = new PortBus();
  bus.map(COM1, 8, uart);
  const rd = (p: number) => bus.read(p, 1);
  const wr = (p: number, v: number) => bus.write(p, 1, v);
  /** Program divisor and LCR as a driver does (DLAB on, DLL/DLM, DLAB off with the line format). */
  const setLine = (divisor: number, lcr: number) => {
    wr(LCR, 0x80);
    wr(RBR, divisor & 0xff);
    wr(IER, divisor >> 8);
    wr(LCR, lcr);
  };
  return { queue, clock, irq, out, outTicks, uart, rd, wr, setLine, run: (t: number) => queue.runUntil(t) };
}

/** Ticks for `chars` characters of `bits` bits at `baud`, rounded up to the tick the last one completes. */
const charTicks = (bits: number, baud: number, chars = 1) => Math.ceil((chars * bits * HZ) / baud - 1e-9);

describe("UART 16550A registers (PC16550D reset configuration and register map)", () => {
  it("resets to IER 0, IIR 01, LCR 0, MCR 0, LSR 60, MSR bits 0-3 clear", () => {
    const { rd } = board();
    expect(rd(IER)).toBe(0x00);
    expect(rd(IIR)).toBe(0x01);
    expect(rd(LCR)).toBe(0x00);
    expect(rd(MCR)).toBe(0x00);
    expect(rd(LSR)).toBe(0x60);
    expect(rd(MSR) & 0x0f).toBe(0);
  });

  it("reports the modem inputs in MSR bits 4-7 (CTS, DSR, RI, DCD)", () => {
    expect(board().rd(MSR)).toBe(0xb0);
    expect(board({ modemInputs: 0x00 }).rd(MSR)).toBe(0x00);
  });

  it("switches offsets 0 and 1 to DLL/DLM while LCR bit 7 (DLAB) is set", () => {
    const { rd, wr, out, uart } = board();
    wr(IER, 0x05);
    wr(LCR, 0x83);
    expect(rd(IER)).toBe(0x00); // DLM after reset divisor 1
    expect(rd(RBR)).toBe(0x01); // DLL
    wr(RBR, 0x0c);
    wr(IER, 0x00);
    expect(uart.divisor()).toBe(12);
    expect(out).toEqual([]); // the DLL write did not transmit
    wr(LCR, 0x03);
    expect(rd(IER)).toBe(0x05); // IER came back untouched
    expect(rd(LCR)).toBe(0x03);
  });

  it("keeps IER bits 4-7 and MCR bits 5-7 at 0, and the scratch register as written", () => {
    const { rd, wr } = board();
    wr(IER, 0xff);
    wr(MCR, 0xff);
    wr(SCR, 0xa5);
    expect(rd(IER)).toBe(0x0f);
    expect(rd(MCR)).toBe(0x1f);
    expect(rd(SCR)).toBe(0xa5);
  });

  it("shows the FIFO bits 6-7 of IIR only while FCR bit 0 is set", () => {
    const { rd, wr } = board();
    wr(FCR, 0x01);
    expect(rd(IIR)).toBe(0xc1);
    wr(FCR, 0x00);
    expect(rd(IIR)).toBe(0x01);
  });

  it("goes back to the reset configuration on a master reset, keeping the divisor latch and SCR", () => {
    const b = board();
    b.setLine(12, 0x1b);
    b.wr(IER, 0x0f);
    b.wr(FCR, 0xc7);
    b.wr(MCR, 0x1f);
    b.wr(SCR, 0x77);
    b.wr(RBR, 0x41);
    b.uart.reset();
    expect([b.rd(IER), b.rd(IIR), b.rd(LCR), b.rd(MCR), b.rd(LSR), b.rd(SCR)]).toEqual([0, 0x01, 0, 0, 0x60, 0x77]);
    expect(b.uart.divisor()).toBe(12);
    b.run(charTicks(11, 9600, 3));
    expect(b.out).toEqual([]); // the character in the shift register was abandoned
  });

  it("accepts byte accesses only, as QEMU's serial device (a 16-bit access is dropped by the port bus)", () => {
    const b = board();
    b.wr(SCR, 0x12);
    expect(b.uart.portRead(7, 1)).toBe(0x12);
    const bus = new PortBus();
    bus.map(COM1, 8, b.uart);
    expect(bus.read(SCR, 2)).toBe(0);
    bus.write(RBR, 2, 0x4142);
    b.run(charTicks(10, 115200, 4));
    expect(b.out).toEqual([]);
  });
});

describe("UART transmit timing (baud = 1843200 / (16 * divisor))", () => {
  it.each([
    [9600, 12, 0x03, 10], // 8N1: start + 8 + stop
    [115200, 1, 0x03, 10],
    [9600, 12, 0x1e, 11], // 7E2: start + 7 + parity + 2 stop
    [38400, 3, 0x0c, 8.5], // 5 data bits, parity odd, 1.5 stop bits
  ])("at %i baud (divisor %i, LCR %s) THRE returns after exactly one character of %s bits", (baud, div, lcr, bits) => {
    const b = board();
    b.setLine(div, lcr);
    b.wr(MCR, 0x08); // OUT2: interrupts reach the line
    b.wr(IER, 0x02);
    expect(b.rd(IIR)).toBe(0x02); // THRE raised by enabling ETBEI; the read clears it
    expect(b.rd(IIR)).toBe(0x01);
    b.wr(RBR, 0x41); // goes straight into the shift register: THR empty again
    expect(b.rd(LSR) & 0x60).toBe(0x20);
    b.wr(RBR, 0x42); // waits in THR
    expect(b.rd(LSR) & 0x60).toBe(0x00);
    expect(b.irq.level).toBe(false);
    const t1 = charTicks(bits, baud);
    b.run(t1 - 1);
    expect(b.rd(LSR) & 0x60).toBe(0x00);
    expect(b.out).toEqual([]);
    b.run(t1);
    expect(b.out).toEqual([0x41]);
    expect(b.rd(LSR) & 0x60).toBe(0x20); // THRE, not yet TEMT
    expect(b.irq.level).toBe(true);
    expect(b.rd(IIR)).toBe(0x02);
    expect(b.irq.level).toBe(false);
    const t2 = charTicks(bits, baud, 2);
    b.run(t2 - 1);
    expect(b.rd(LSR) & 0x40).toBe(0);
    b.run(t2);
    expect(b.out).toEqual([0x41, 0x42]);
    expect(b.rd(LSR) & 0x60).toBe(0x60);
    expect(b.outTicks).toEqual([t1, t2]);
  });

  it("sends shift register + 16-byte TX FIFO one character time per byte: THRE after 16, TEMT after 17", () => {
    const b = board();
    b.setLine(12, 0x03);
    b.wr(FCR, 0x07);
    for (let k = 0; k < 17; k++) b.wr(RBR, 0x30 + k); // the first goes straight to the shift register
    b.wr(RBR, 0x99); // FIFO full: lost
    expect(b.uart.state.txDropped).toBe(1);
    const ct = (n: number) => charTicks(10, 9600, n);
    b.run(ct(16) - 1);
    expect(b.rd(LSR) & 0x60).toBe(0x00);
    b.run(ct(16));
    expect(b.rd(LSR) & 0x60).toBe(0x20);
    b.run(ct(17) - 1);
    expect(b.rd(LSR) & 0x60).toBe(0x20);
    b.run(ct(17));
    expect(b.rd(LSR) & 0x60).toBe(0x60);
    expect(b.out).toEqual(Array.from({ length: 17 }, (_, k) => 0x30 + k));
    expect(b.outTicks).toEqual(Array.from({ length: 17 }, (_, k) => ct(k + 1)));
  });

  it("FCR bit 2 empties the TX FIFO but lets the shift register finish", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(FCR, 0x01);
    b.wr(RBR, 1);
    b.wr(RBR, 2);
    b.wr(RBR, 3);
    b.wr(FCR, 0x05);
    expect(b.rd(LSR) & 0x60).toBe(0x20);
    b.run(charTicks(10, 115200, 5));
    expect(b.out).toEqual([1]);
  });
});

describe("UART receiver: FIFO trigger levels, timeout, overrun", () => {
  it.each([
    [0x01, 1], [0x41, 4], [0x81, 8], [0xc1, 14],
  ])("FCR %s raises 'received data available' at %i bytes", (fcr, level) => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(FCR, fcr);
    b.wr(IER, 0x01);
    b.wr(MCR, 0x08);
    b.uart.receive(Array.from({ length: 16 }, (_, k) => k));
    b.run(charTicks(10, 115200, level - 1));
    expect(b.rd(IIR)).toBe(0xc1);
    b.run(charTicks(10, 115200, level));
    expect(b.rd(IIR)).toBe(0xc4);
    expect(b.irq.level).toBe(true);
    // Reading one byte drops the FIFO below the trigger level: the interrupt goes away.
    b.rd(RBR);
    expect(b.rd(IIR)).toBe(0xc1);
    expect(b.irq.level).toBe(false);
  });

  it("raises the character timeout 4 character times after the last byte, cleared by reading RBR", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(FCR, 0x81); // trigger 8
    b.wr(IER, 0x01);
    b.uart.receive([0x61, 0x62, 0x63]);
    const last = charTicks(10, 115200, 3);
    b.run(last);
    expect(b.rd(LSR) & 1).toBe(1);
    expect(b.rd(IIR)).toBe(0xc1);
    const timeout = charTicks(10, 115200, 3 + 4);
    b.run(timeout - 1);
    expect(b.rd(IIR)).toBe(0xc1);
    b.run(timeout);
    expect(b.rd(IIR)).toBe(0xcc);
    expect(b.rd(RBR)).toBe(0x61);
    expect(b.rd(IIR)).toBe(0xc1);
    // The timer restarted at the read: 4 more character times with 2 bytes waiting.
    b.run(timeout + charTicks(10, 115200, 4));
    expect(b.rd(IIR)).toBe(0xcc);
  });

  it("has no character timeout without FIFOs", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(IER, 0x01);
    b.uart.receive([0x61]);
    b.run(charTicks(10, 115200, 20));
    expect(b.rd(IIR)).toBe(0x04);
  });

  it("overruns a full 16-byte RX FIFO: OE set, the 17th byte lost, the first 16 kept", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(FCR, 0x01);
    b.uart.receive(Array.from({ length: 17 }, (_, k) => 0x40 + k));
    b.run(charTicks(10, 115200, 16));
    expect(b.rd(LSR) & 0x02).toBe(0);
    b.run(charTicks(10, 115200, 17));
    expect(b.rd(LSR) & 0x03).toBe(0x03);
    expect(b.rd(LSR) & 0x02).toBe(0); // reading LSR cleared OE
    const got: number[] = [];
    while (b.rd(LSR) & 1) got.push(b.rd(RBR));
    expect(got).toEqual(Array.from({ length: 16 }, (_, k) => 0x40 + k));
  });

  it("overruns RBR without FIFOs: the new byte replaces the unread one", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.uart.receive([0x31, 0x32]);
    b.run(charTicks(10, 115200, 2));
    expect(b.rd(LSR) & 0x03).toBe(0x03);
    expect(b.rd(RBR)).toBe(0x32);
    expect(b.rd(LSR) & 0x01).toBe(0);
  });

  it("reports a parity error when the character reaches the top of the FIFO, with LSR bit 7", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(FCR, 0x01);
    b.wr(IER, 0x05);
    b.uart.receive([0x11]);
    b.uart.receive([0x22], 0x04);
    b.run(charTicks(10, 115200, 2));
    expect(b.rd(IIR)).toBe(0xc4); // the first byte has no error: data available, no line status
    expect(b.rd(LSR)).toBe(0x80 | 0x61);
    expect(b.rd(RBR)).toBe(0x11);
    expect(b.rd(IIR)).toBe(0xc6); // now the bad byte is on top
    expect(b.rd(LSR)).toBe(0x80 | 0x64 | 0x01);
    expect(b.rd(IIR)).toBe(0xc4);
    expect(b.rd(RBR)).toBe(0x22);
    expect(b.rd(LSR)).toBe(0x60);
  });

  it("receives a break as one zero character with BI", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.uart.receiveBreak();
    b.run(charTicks(10, 115200));
    expect(b.rd(LSR) & 0x11).toBe(0x11);
    expect(b.rd(RBR)).toBe(0);
  });
});

describe("UART interrupt identification (PC16550D table 4 priorities)", () => {
  it("reports line status > data available > THR empty > modem status, each cleared by its own action", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(MCR, 0x08);
    b.uart.receive([1, 2]); // two bytes without FIFO: an overrun
    b.run(charTicks(10, 115200, 2));
    b.uart.setModemInputs(0xa0); // CTS drops, DCD stays: DCTS
    b.wr(IER, 0x0f); // THRE is raised by enabling ETBEI with THR empty
    expect(b.irq.level).toBe(true);
    expect(b.rd(IIR)).toBe(0x06);
    expect(b.rd(IIR)).toBe(0x06); // reading IIR does not clear line status
    b.rd(LSR);
    expect(b.rd(IIR)).toBe(0x04);
    b.rd(RBR);
    expect(b.rd(IIR)).toBe(0x02);
    expect(b.rd(IIR)).toBe(0x00); // the THRE report was cleared by reading it
    expect(b.rd(MSR)).toBe(0xa1);
    expect(b.rd(IIR)).toBe(0x01);
    expect(b.irq.level).toBe(false);
  });

  it("clears a THRE interrupt by writing THR, and raises it again when THR empties", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(IER, 0x02);
    b.wr(RBR, 0x55); // THRE back at once (the byte went to the shift register)
    expect(b.rd(IIR)).toBe(0x02);
    b.wr(RBR, 0x56);
    expect(b.rd(IIR)).toBe(0x01);
    b.run(charTicks(10, 115200));
    expect(b.rd(IIR)).toBe(0x02);
  });

  it("sets TERI on the trailing edge of RI only, and DDCD/DDSR on any change", () => {
    const b = board({ modemInputs: 0x00 });
    b.uart.setModemInputs(0x40);
    expect(b.rd(MSR)).toBe(0x40);
    b.uart.setModemInputs(0xa0);
    expect(b.rd(MSR)).toBe(0xa0 | 0x04 | 0x08 | 0x02);
    expect(b.rd(MSR)).toBe(0xa0);
  });
});

describe("UART loopback and the OUT2 interrupt gate", () => {
  it("maps DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (Linux's probe: LOOP|0x0A reads MSR 0x9x)", () => {
    const b = board();
    b.rd(MSR);
    b.wr(MCR, 0x10 | 0x0a);
    expect(b.rd(MSR) & 0xf0).toBe(0x90);
    b.wr(MCR, 0x10 | 0x0f);
    expect(b.rd(MSR) & 0xf0).toBe(0xf0);
    b.wr(MCR, 0x10);
    expect(b.rd(MSR) & 0xf0).toBe(0x00);
  });

  it("sends transmitted bytes to the receiver one character time later, not to the line", () => {
    const b = board();
    b.setLine(12, 0x03);
    b.wr(MCR, 0x18);
    b.wr(IER, 0x01);
    b.wr(RBR, 0x5a);
    b.run(charTicks(10, 9600) - 1);
    expect(b.rd(LSR) & 1).toBe(0);
    b.run(charTicks(10, 9600));
    expect(b.rd(IIR)).toBe(0x04);
    // PC wiring: the modem outputs (OUT2) are forced inactive in loopback, so the line stays low.
    expect(b.irq.level).toBe(false);
    expect(b.rd(RBR)).toBe(0x5a);
    expect(b.out).toEqual([]);
  });

  it("ignores the input line while in loopback", () => {
    const b = board();
    b.setLine(1, 0x03);
    b.wr(MCR, 0x10);
    b.uart.receive([0x77]);
    b.run(charTicks(10, 115200, 2));
    expect(b.rd(LSR) & 1).toBe(0);
  });

  it("drives the IRQ line only while MCR.OUT2 is set (IBM PC serial adapter); IIR reports either way", () => {
    const b = board();
    b.wr(IER, 0x02);
    expect(b.uart.interruptId()).toBe(0x02);
    expect(b.irq.level).toBe(false);
    b.wr(MCR, 0x08);
    expect(b.irq.level).toBe(true);
    b.wr(MCR, 0x00);
    expect(b.irq.level).toBe(false);
    const direct = board({ out2GatesIrq: false });
    direct.wr(IER, 0x02);
    expect(direct.irq.level).toBe(true);
  });
});
