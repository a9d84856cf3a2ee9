/**
 * UART 16550A, after the National Semiconductor / TI PC16550D datasheet (register tables 2 and 4,
 * "FIFO Interrupt Mode Operation", baud generator table), the COM port of every PC.
 *
 * Registers at offsets 0-7, DLAB = LCR bit 7 selecting the divisor latch at 0 and 1:
 *   0 RBR (read) / THR (write) / DLL   1 IER / DLM   2 IIR (read) / FCR (write)   3 LCR   4 MCR
 *   5 LSR   6 MSR   7 SCR
 * Reset (datasheet "UART Reset Configuration"): IER 0, IIR 0x01, FCR 0, LCR 0, MCR 0, LSR 0x60,
 * MSR bits 0-3 = 0 and bits 4-7 = the modem inputs.
 *
 * Interrupts, highest priority first (datasheet table 4): receiver line status (OE/PE/FE/BI, cleared by
 * reading LSR) > received data available (DR, or the RX FIFO at its trigger level 1/4/8/14; cleared when
 * it drops below) and, at the same level, character timeout (FIFO mode: data waiting and nothing
 * received or read for 4 character times; cleared by reading RBR) > THR empty (cleared by reading IIR
 * while it is the reported source, or by writing THR) > modem status (cleared by reading MSR). Setting
 * IER.ETBEI while THR is empty raises THRE at once, as on the 8250 family (Linux's driver relies on it).
 *
 * Timing: the baud clock is the 1.8432 MHz crystal divided by 16 * divisor (baud = 115200 / divisor).
 * A character takes (start + data + parity + stop bits) * 16 * divisor crystal clocks (1.5 stop bits =
 * 24 clocks with 5 data bits). Writing THR moves the byte into the transmit shift register at once if it
 * is idle; the shift register finishes exactly one character time later (one Clock event per
 * character), then takes the next byte. So THRE comes back when the last byte leaves THR/the TX FIFO,
 * and TEMT one character time after that. Received bytes arrive the same way: `receive(bytes)` puts them
 * on the line, one character time apart at the current line settings, and a byte that finds the RX FIFO
 * (or, without FIFOs, RBR) full is an overrun: OE is set, and the byte is lost (FIFO mode) or replaces
 * RBR (16450 mode), as the datasheet describes. Transmitted bytes go to `sink` and are kept in
 * `state.transmitted`.
 *
 * Loopback (MCR bit 4): the transmitter's output goes to the receiver, the line input is ignored, and
 * MSR shows DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. PC wiring: the INTR output reaches the IRQ line
 * only through a buffer enabled by the OUT2 pin (IBM PC/AT serial adapter), and in loopback the
 * datasheet forces the modem outputs (OUT2 included) inactive, so no interrupt reaches the bus in
 * loopback; `out2GatesIrq: false` connects INTR directly (a PCI or SoC UART). IIR reports interrupts
 * either way.
 *
 * Leaves out: the 16550's delayed THRE interrupt after a single-byte FIFO write (datasheet: one
 * character time minus the last stop bit), DMA mode signalling (FCR bit 3 is stored; no TXRDY/RXRDY
 * pins), sending break (LCR bit 6 is stored), parity/framing checking against the sender's settings
 * (line errors come only from `receive(bytes, errors)`), and the 16750's 64-byte FIFO and AFE.
 * A divisor of 0 (not specified by the datasheet) divides by 65536. LSR bit 7 is computed as "an
 * erroneous character is in the RX FIFO", so it clears when that character is read.
 */
import type { Clock } from "../sim/clock.ts";
import type { SimEvent } from "../sim/event-queue.ts";
import { ClockDomain } from "./clock-domain.ts";
import { UNCONNECTED, type IrqLine } from "./irq-line.ts";
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export const UART_CRYSTAL_HZ = 1843200;
export const UART_FIFO_BYTES = 16;

/** Register offsets (DLAB = 0 names first). */
export const UartReg = { RBR: 0, THR: 0, DLL: 0, IER: 1, DLM: 1, IIR: 2, FCR: 2, LCR: 3, MCR: 4, LSR: 5, MSR: 6, SCR: 7 } as const;

export const Lsr = { DR: 0x01, OE: 0x02, PE: 0x04, FE: 0x08, BI: 0x10, THRE: 0x20, TEMT: 0x40, RXFE: 0x80 } as const;
/** IIR bits 3-0 (bit 0 = 1: no interrupt pending). */
export const Iir = { NONE: 0x01, RLS: 0x06, RDA: 0x04, CTI: 0x0c, THRE: 0x02, MSR: 0x00, FIFO: 0xc0 } as const;
export const Ier = { ERBFI: 0x01, ETBEI: 0x02, ELSI: 0x04, EDSSI: 0x08 } as const;
export const Fcr = { ENABLE: 0x01, RX_RESET: 0x02, TX_RESET: 0x04, DMA: 0x08 } as const;
export const Mcr = { DTR: 0x01, RTS: 0x02, OUT1: 0x04, OUT2: 0x08, LOOP: 0x10 } as const;
export const Msr = { DCTS: 0x01, DDSR: 0x02, TERI: 0x04, DDCD: 0x08, CTS: 0x10, DSR: 0x20, RI: 0x40, DCD: 0x80 } as const;

const LINE_ERRORS = Lsr.OE | Lsr.PE | Lsr.FE | Lsr.BI;
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface Uart16550Options {
  clock: Clock;
  /** The interrupt output (ISA IRQ4 for COM1, IRQ3 for COM2 on a PC). */
  irq?: IrqLine;
  /** Receives each transmitted byte (not in loopback). */
  sink?: (byte: number) => void;
  name?: string;
  /** Divisor latch at reset. The datasheet leaves it undefined; 1 (115200 baud) by default, so a guest
   * that never programs the UART (as many bare-metal kernels under QEMU) is not slowed down. */
  resetDivisor?: number;
  /** Modem inputs as MSR bits 4-7 outside loopback: default CTS | DSR | DCD (a connected peer, as QEMU). */
  modemInputs?: number;
  /** INTR reaches `irq` only while MCR.OUT2 is set and loopback is off (PC wiring). Default true. */
  out2GatesIrq?: boolean;
}

/** Everything the UART holds, as plain data. Clock values are counts of 1.8432 MHz crystal edges. */
export interface Uart16550State {
  ier: number;
  lcr: number;
  mcr: number;
  /** FCR bits as last written with FIFOs enabled: enable, DMA mode, trigger (bits 6-7). */
  fcr: number;
  /** Sticky line-status errors (OE, PE, FE, BI); DR, THRE, TEMT and bit 7 are derived. */
  lsrErrors: number;
  /** MSR delta bits 0-3; bits 4-7 are derived from the inputs or, in loopback, from MCR. */
  msrDeltas: number;
  /** Modem signals (MSR bits 4-7) as last seen, to detect changes. */
  msrSignals: number;
  modemInputs: number;
  scr: number;
  dll: number;
  dlm: number;
  /** RX FIFO (capacity 1 without FIFOs: RBR) and each entry's line errors. */
  rxFifo: number[];
  rxErrors: number[];
  /** The last byte read from RBR (what an empty RBR reads). */
  rbr: number;
  /** TX FIFO (capacity 1 without FIFOs: THR). */
  txFifo: number[];
  /** The byte in the transmit shift register, -1 when idle, and the crystal clock it finishes at. */
  tsr: number;
  txDoneClock: number;
  thrPending: boolean;
  timeoutPending: boolean;
  /** Crystal clock at which the character timeout expires, -1 when not running. */
  timeoutClock: number;
  /** Bytes still on the input line, their errors, and the clock the first one completes at. */
  lineIn: number[];
  lineInErrors: number[];
  lineInClock: number;
  /** Every byte sent to the sink. */
  transmitted: number[];
  /** Bytes written to a full TX FIFO (lost) and bytes lost to RX overruns. */
  txDropped: number;
  rxOverruns: number;
}

export class Uart16550 implements PortDevice {
  readonly name: string;
  readonly maxAccessSize = 1;
  readonly state: Uart16550State;
  private readonly clock: Clock;
  private readonly dom: ClockDomain;
  private readonly irq: IrqLine;
  private readonly sink: (byte: number) => void;
  private readonly gateByOut2: boolean;
  private readonly resetDivisor: number;
  private txEvent: SimEvent | null = null;
  private timeoutEvent: SimEvent | null = null;
  private irqLevel = false;

  constructor(o: Uart16550Options) {
    this.name = o.name ?? "uart16550";
    this.clock = o.clock;
    this.dom = new ClockDomain(o.clock.hz, UART_CRYSTAL_HZ);
    this.irq = o.irq ?? UNCONNECTED;
    this.sink = o.sink ?? (() => {});
    this.gateByOut2 = o.out2GatesIrq ?? true;
    this.resetDivisor = o.resetDivisor ?? 1;
    if (!Number.isInteger(this.resetDivisor) || this.resetDivisor < 0 || this.resetDivisor > 0xffff) {
      throw new RangeError(`${this.name}: resetDivisor ${this.resetDivisor} is not a 16-bit divisor`);
    }
    const inputs = (o.modemInputs ?? Msr.CTS | Msr.DSR | Msr.DCD) & 0xf0;
    this.state = {
      ier: 0, lcr: 0, mcr: 0, fcr: 0, lsrErrors: 0, msrDeltas: 0, msrSignals: inputs, modemInputs: inputs, scr: 0,
      dll: this.resetDivisor & 0xff, dlm: this.resetDivisor >> 8,
      rxFifo: [], rxErrors: [], rbr: 0, txFifo: [], tsr: -1, txDoneClock: -1,
      thrPending: false, timeoutPending: false, timeoutClock: -1,
      lineIn: [], lineInErrors: [], lineInClock: -1, transmitted: [], txDropped: 0, rxOverruns: 0,
    };
  }

  /** Master reset (the MR pin): registers to their reset values; bytes on the input line are kept. */
  reset(): void {
    const s = this.state;
    this.clock.cancel(this.txEvent);
    this.txEvent = null;
    Object.assign(s, {
      ier: 0, lcr: 0, mcr: 0, fcr: 0, lsrErrors: 0, msrDeltas: 0, rxFifo: [], rxErrors: [], txFifo: [],
      tsr: -1, txDoneClock: -1, thrPending: false, timeoutPending: false, timeoutClock: -1,
    });
    s.msrSignals = this.signals();
    this.update();
  }

  // ---- the outside world ----

  /** Bytes arriving on the input line, one character time apart, each with `errors` (Lsr.PE/FE/BI). */
  receive(bytes: ArrayLike<number>, errors = 0): void {
    const s = this.state;
    for (let k = 0; k < bytes.length; k++) {
      s.lineIn.push(bytes[k] & 0xff);
      s.lineInErrors.push(errors & (Lsr.PE | Lsr.FE | Lsr.BI));
    }
    if (s.lineIn.length > 0 && s.lineInClock < 0) {
      s.lineInClock = this.dom.countAt(this.clock.now()) + this.charClocks();
      this.scheduleLineIn();
    }
  }

  /** A break on the input line: one zero character with BI (datasheet: LSR bit 4). */
  receiveBreak(): void {
    this.receive([0], Lsr.BI);
  }

  /** Change the modem inputs (MSR bits 4-7: CTS, DSR, RI, DCD); sets the delta bits as MSR does. */
  setModemInputs(msrBits: number): void {
    this.state.modemInputs = msrBits & 0xf0;
    this.signalsChanged();
  }

  /** Crystal clocks one character takes at the current LCR and divisor. */
  charClocks(): number {
    const lcr = this.state.lcr;
    const data = 5 + (lcr & 3);
    const parity = (lcr >> 3) & 1;
    const stop16 = lcr & 4 ? (data === 5 ? 24 : 32) : 16;
    return (16 * (1 + data + parity) + stop16) * this.divisor();
  }

  divisor(): number {
    return ((this.state.dlm << 8) | this.state.dll) || 0x10000;
  }

  // ---- PortDevice ----

  portRead(offset: number, _size: PortAccessSize): number {
    const s = this.state;
    const dlab = (s.lcr & 0x80) !== 0;
    switch (offset & 7) {
      case 0:
        return dlab ? s.dll : this.readRbr();
      case 1:
        return dlab ? s.dlm : s.ier;
      case 2: {
        const id = this.interruptId();
        if (id === Iir.THRE) {
          s.thrPending = false;
          this.update();
        }
        return id | (this.fifoOn() ? Iir.FIFO : 0);
      }
      case 3:
        return s.lcr;
      case 4:
        return s.mcr;
      case 5: {
        const v = this.lsr();
        s.lsrErrors = 0;
        this.update();
        return v;
      }
      case 6: {
        const v = s.msrDeltas | this.signals();
        s.msrDeltas = 0;
        this.update();
        return v;
      }
      default:
        return s.scr;
    }
  }

  portWrite(offset: number, _size: PortAccessSize, value: number): void {
    const s = this.state;
    const v = value & 0xff;
    const dlab = (s.lcr & 0x80) !== 0;
    switch (offset & 7) {
      case 0:
        if (dlab) s.dll = v;
        else this.writeThr(v);
        return;
      case 1:
        if (dlab) {
          s.dlm = v;
          return;
        }
        if (v & ~s.ier & Ier.ETBEI && s.txFifo.length === 0) s.thrPending = true;
        s.ier = v & 0x0f;
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        s.lcr = v;
        return;
      case 4:
        s.mcr = v & 0x1f;
        this.signalsChanged();
        return;
      case 5:
      case 6:
        return; // LSR and MSR are read-only (datasheet: writes are for factory test)
      default:
        s.scr = v;
        return;
    }
    this.update();
  }

  // ---- registers ----

  lsr(): number {
    const s = this.state;
    let v = s.lsrErrors;
    if (s.rxFifo.length > 0) v |= Lsr.DR;
    if (s.txFifo.length === 0) v |= s.tsr < 0 ? Lsr.THRE | Lsr.TEMT : Lsr.THRE;
    if (this.fifoOn() && s.rxErrors.some((e) => e !== 0)) v |= Lsr.RXFE;
    return v;
  }

  /** The IIR identification bits 3-0 of the highest-priority pending interrupt (Iir.NONE if none). */
  interruptId(): number {
    const s = this.state;
    const ier = s.ier;
    if (ier & Ier.ELSI && s.lsrErrors & LINE_ERRORS) return Iir.RLS;
    if (ier & Ier.ERBFI) {
      const need = this.fifoOn() ? TRIGGER_LEVELS[s.fcr >> 6] : 1;
      if (s.rxFifo.length >= need) return Iir.RDA;
      if (s.timeoutPending) return Iir.CTI;
    }
    if (ier & Ier.ETBEI && s.thrPending) return Iir.THRE;
    if (ier & Ier.EDSSI && s.msrDeltas) return Iir.MSR;
    return Iir.NONE;
  }

  private fifoOn(): boolean {
    return (this.state.fcr & Fcr.ENABLE) !== 0;
  }

  private update(): void {
    const s = this.state;
    const gate = !this.gateByOut2 || (s.mcr & (Mcr.OUT2 | Mcr.LOOP)) === Mcr.OUT2;
    const level = gate && this.interruptId() !== Iir.NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private readRbr(): number {
    const s = this.state;
    if (s.rxFifo.length > 0) {
      s.rbr = s.rxFifo.shift()!;
      s.rxErrors.shift();
      // The next character's errors show in LSR when it reaches the top of the FIFO.
      if (s.rxErrors.length > 0) s.lsrErrors |= s.rxErrors[0];
    }
    s.timeoutPending = false;
    this.restartTimeout();
    this.update();
    return s.rbr;
  }

  private writeThr(v: number): void {
    const s = this.state;
    const cap = this.fifoOn() ? UART_FIFO_BYTES : 1;
    if (s.txFifo.length < cap) s.txFifo.push(v);
    else if (cap === 1) s.txFifo[0] = v; // 16450: THR simply overwritten
    else s.txDropped++;
    s.thrPending = false;
    if (s.tsr < 0) this.startTx(this.dom.countAt(this.clock.now()));
    else this.update();
  }

  private writeFcr(v: number): void {
    const s = this.state;
    if ((v ^ s.fcr) & Fcr.ENABLE) {
      // Switching between FIFO and 16450 mode empties both FIFOs (datasheet FCR0).
      this.clearRx();
      this.clearTx();
    }
    if (!(v & Fcr.ENABLE)) {
      s.fcr = 0;
      return;
    }
    if (v & Fcr.RX_RESET) this.clearRx();
    if (v & Fcr.TX_RESET) this.clearTx();
    s.fcr = v & (Fcr.ENABLE | Fcr.DMA | 0xc0);
  }

  private clearRx(): void {
    const s = this.state;
    s.rxFifo = [];
    s.rxErrors = [];
    s.timeoutPending = false;
    s.timeoutClock = -1;
  }

  /** Empties THR / the TX FIFO; the shift register finishes its character. */
  private clearTx(): void {
    this.state.txFifo = [];
    this.state.thrPending = true;
  }

  // ---- transmitter ----

  private startTx(startClock: number): void {
    const s = this.state;
    s.tsr = s.txFifo.shift()!;
    s.txDoneClock = startClock + this.charClocks();
    if (s.txFifo.length === 0) s.thrPending = true;
    this.txEvent = this.clock.at(this.dom.tickOf(s.txDoneClock), () => this.txDone(), `${this.name}.tx`);
    this.update();
  }

  private txDone(): void {
    const s = this.state;
    this.txEvent = null;
    const byte = s.tsr;
    const done = s.txDoneClock;
    s.tsr = -1;
    s.txDoneClock = -1;
    if (s.mcr & Mcr.LOOP) this.deposit(byte, 0);
    else {
      s.transmitted.push(byte);
      this.sink(byte);
    }
    if (s.txFifo.length > 0) this.startTx(done);
    else this.update();
  }

  // ---- receiver ----

  private scheduleLineIn(): void {
    this.clock.at(this.dom.tickOf(this.state.lineInClock), () => this.lineInDone(), `${this.name}.rx`);
  }

  private lineInDone(): void {
    const s = this.state;
    const byte = s.lineIn.shift()!;
    const errors = s.lineInErrors.shift()!;
    // In loopback the receiver listens to the transmitter, not to the line.
    if (!(s.mcr & Mcr.LOOP)) this.deposit(byte, errors);
    if (s.lineIn.length > 0) {
      s.lineInClock += this.charClocks();
      this.scheduleLineIn();
    } else s.lineInClock = -1;
  }

  private deposit(byte: number, errors: number): void {
    const s = this.state;
    const cap = this.fifoOn() ? UART_FIFO_BYTES : 1;
    if (s.rxFifo.length >= cap) {
      s.lsrErrors |= Lsr.OE;
      s.rxOverruns++;
      if (cap === 1) {
        // 16450: the new character replaces the unread one in RBR.
        s.rxFifo[0] = byte;
        s.rxErrors[0] = errors;
        s.lsrErrors |= errors;
      }
    } else {
      s.rxFifo.push(byte);
      s.rxErrors.push(errors);
      if (s.rxFifo.length === 1) s.lsrErrors |= errors;
    }
    this.restartTimeout();
    this.update();
  }

  /** The character timeout restarts at every character received or read (FIFO mode, data waiting).
   * One event at most is pending: when it fires early (the timeout moved on), it re-arms itself. */
  private restartTimeout(): void {
    const s = this.state;
    if (!this.fifoOn() || s.rxFifo.length === 0) {
      s.timeoutClock = -1;
      return;
    }
    s.timeoutClock = this.dom.countAt(this.clock.now()) + 4 * this.charClocks();
    if (this.timeoutEvent === null) this.armTimeout();
  }

  private armTimeout(): void {
    this.timeoutEvent = this.clock.at(this.dom.tickOf(this.state.timeoutClock), () => this.timeoutFired(), `${this.name}.timeout`);
  }

  private timeoutFired(): void {
    const s = this.state;
    this.timeoutEvent = null;
    if (s.timeoutClock < 0) return;
    if (this.dom.countAt(this.clock.now()) < s.timeoutClock) {
      this.armTimeout();
      return;
    }
    s.timeoutClock = -1;
    s.timeoutPending = true;
    this.update();
  }

  // ---- modem status ----

  /** MSR bits 4-7 now: the inputs, or in loopback DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
  private signals(): number {
    const s = this.state;
    if (!(s.mcr & Mcr.LOOP)) return s.modemInputs;
    const m = s.mcr;
    return ((m & Mcr.RTS) << 3) | ((m & Mcr.DTR) << 5) | ((m & Mcr.OUT1) << 4) | ((m & Mcr.OUT2) << 4);
  }

  private signalsChanged(): void {
    const s = this.state;
    const now = this.signals();
    const changed = now ^ s.msrSignals;
    if (changed & Msr.CTS) s.msrDeltas |= Msr.DCTS;
    if (changed & Msr.DSR) s.msrDeltas |= Msr.DDSR;
    if (changed & Msr.DCD) s.msrDeltas |= Msr.DDCD;
    if (changed & Msr.RI && !(now & Msr.RI)) s.msrDeltas |= Msr.TERI; // trailing edge of RI
    s.msrSignals = now;
    this.update();
  }
}
