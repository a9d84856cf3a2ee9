/**
 * A partition's emulated console: a 16550A register file at 8 ports (uart-16550.ts / PC16550D datasheet
 * register tables 2 and 4), every access an I/O-instruction exit. Enough for a driver that polls LSR or
 * transmits on THRE interrupts:
 * - THR (DLAB = 0): the byte goes to the console backend (uart-console.ts) and the partition's transcript;
 *   the transmitter is never busy: LSR always reads THRE | TEMT (60H), RBR reads 0 (no console input);
 * - IER, LCR, MCR, SCR, FCR (stored; IIR shows the FIFO bits C0H when FCR.0 is set), DLL/DLM under
 *   LCR.DLAB (stored, no effect on timing); MSR reads CTS | DSR | DCD (B0H), or in loopback the datasheet's
 *   mapping of MCR (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD);
 * - THRE interrupt: pending when IER.ETBEI is set and the THR "emptied" (at once after every THR write, and
 *   when ETBEI is set: the 8250-family behaviour uart-16550.ts models); IIR reads 02H while it is pending
 *   and reading it clears it, else 01H. The guest vector is raised on each rising edge of INTR, which (PC
 *   wiring, as COM1 on the platform) reaches the interrupt controller only while MCR.OUT2 is set and
 *   loopback is off.
 * Accesses wider than a byte are dropped (read 0), as the port bus does for the 16550.
 * Costs: vdev.registerRead/Write per access, vdev.command per THR byte (one console op, complete at once).
 * No Intel SDM section applies. Leaves out: receive, line-status and modem-status interrupts, baud timing.
 */
import type { VdevHost, VdevStats, VirtualDevice } from "./vdev.ts";
import { OpStats } from "./op-stats.ts";
import type { UartConsole } from "./uart-console.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const ETBEI = 0x02;
const OUT2 = 0x08, LOOP = 0x10;
const DLAB = 0x80;

export class UartEmulated implements VirtualDevice {
  readonly mode = "emulated" as const;
  private readonly opStats = new OpStats();
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private fcr = 0;
  private scr = 0;
  private dll = 1;
  private dlm = 0;
  private thrPending = false;
  private level = false;

  constructor(private readonly host: VdevHost, private readonly turn: VmmTurn, private readonly console: UartConsole) {}

  reset(): void {
    this.ier = this.lcr = this.mcr = this.fcr = this.scr = this.dlm = 0;
    this.dll = 1;
    this.thrPending = this.level = false;
  }

  portRead(offset: number, size: 1 | 2 | 4): number {
    return this.turn.run(() => {
      this.host.charge("vdev.registerRead");
      this.host.touchState(offset & 7, 1, false);
      return size === 1 ? this.read(offset & 7) : 0;
    });
  }

  portWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.turn.run(() => {
      this.host.charge("vdev.registerWrite");
      this.host.touchState(offset & 7, 1, true);
      if (size === 1) this.write(offset & 7, value & 0xff);
    });
  }

  stats(): VdevStats {
    return this.opStats.snapshot();
  }

  private read(off: number): number {
    const dlab = (this.lcr & DLAB) !== 0;
    switch (off) {
      case 0: return dlab ? this.dll : 0;
      case 1: return dlab ? this.dlm : this.ier;
      case 2: {
        const fifo = this.fcr & 1 ? 0xc0 : 0;
        if (this.ier & ETBEI && this.thrPending) {
          this.thrPending = false;
          this.update();
          return 0x02 | fifo;
        }
        return 0x01 | fifo;
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: return 0x60;
      case 6: {
        if (!(this.mcr & LOOP)) return 0xb0;
        const m = this.mcr;
        return ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
      }
      default: return this.scr;
    }
  }

  private write(off: number, v: number): void {
    const dlab = (this.lcr & DLAB) !== 0;
    switch (off) {
      case 0: {
        if (dlab) {
          this.dll = v;
          return;
        }
        this.host.charge("vdev.command");
        this.console.put(this.host.partition, [v]);
        const now = this.host.clock.now();
        this.opStats.record(now, now);
        // THR empties at once: INTR drops on the write and rises again (a new edge).
        this.thrPending = true;
        this.level = false;
        this.update();
        return;
      }
      case 1:
        if (dlab) {
          this.dlm = v;
          return;
        }
        if (v & ~this.ier & ETBEI) this.thrPending = true;
        this.ier = v & 0x0f;
        this.update();
        return;
      case 2:
        this.fcr = v & 1 ? v & 0xc9 : 0;
        return;
      case 3:
        this.lcr = v;
        return;
      case 4:
        this.mcr = v & 0x1f;
        this.update();
        return;
      case 7:
        this.scr = v;
        return;
      default:
    }
  }

  /** INTR as the interrupt controller sees it; a rising edge raises the guest vector. */
  private update(): void {
    const gate = (this.mcr & (OUT2 | LOOP)) === OUT2;
    const level = gate && (this.ier & ETBEI) !== 0 && this.thrPending;
    if (level && !this.level) this.turn.raise(this.host);
    this.level = level;
  }
}
