/**
 * The VMM's console backend on a physical UART 16550A (uart-16550.ts, after the PC16550D datasheet): bytes
 * from all partitions go into one FIFO in VMM memory, in the order the VMM received them (so the physical
 * line interleaves partitions byte by byte, as a shared console without line buffering does), and the
 * VMM feeds the UART's 16-byte transmit FIFO whenever it is empty. Per-partition transcripts keep what
 * each partition wrote, for the report.
 *
 * Driving the UART (datasheet register tables; interrupt on THR empty), as Linux's 8250 driver does: set
 * up once at creation (8N1, the divisor left as the UART's reset value, FIFOs enabled and reset,
 * MCR = OUT2 so INTR reaches the PC's IRQ line, IER = 0: no interrupt while there is nothing to send).
 * Sending: read LSR; if THRE, write up to 16 bytes to THR (backend.submit per burst). While bytes remain in
 * the VMM's FIFO the THRE interrupt is enabled (IER = ETBEI); its handler (backend.interrupt) reads IIR,
 * which clears the THRE source and drops the line (re-arming the edge-triggered pin), and sends the next
 * burst; when the FIFO is empty the interrupt is disabled again (IER = 0). Each port access costs the
 * profile's port I/O time (BackendHost.busAccess "portIo").
 * A FIFO beyond CONSOLE_BUFFER_BYTES drops further bytes (counted; the transcripts keep them).
 * No Intel SDM section applies. Leaves out: console input (RBR), flow control, line buffering.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { UART_FIFO_BYTES } from "../../devices/uart-16550.ts";
import type { BackendHost } from "./backend-host.ts";
import { PhysicalRegs } from "./physical-regs.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5;
const LSR_THRE = 0x20;
const IER_ETBEI = 0x02;
const MCR_OUT2 = 0x08;
export const CONSOLE_BUFFER_BYTES = 65536;

export class UartConsole {
  private readonly regs: PhysicalRegs;
  private readonly transcripts = new Map<string, number[]>();
  private buf = new Uint8Array(CONSOLE_BUFFER_BYTES);
  private head = 0;
  private count = 0;
  /** The THRE interrupt is enabled: a burst is on its way and the handler will send the next one. */
  private waiting = false;
  physicalOps = 0;
  interrupts = 0;
  maxQueued = 0;
  dropped = 0;
  bytesSent = 0;

  constructor(physical: DeviceInstance, private readonly host: BackendHost, private readonly turn: VmmTurn) {
    this.regs = new PhysicalRegs(physical, host);
    const r = this.regs;
    r.setupWrite(LCR, 0x03);
    r.setupWrite(FCR, 0x07);
    r.setupWrite(MCR, MCR_OUT2);
    r.setupWrite(IER, 0);
  }

  /** A partition's transcript starts (attach order fixes the report's order). */
  addPartition(name: string): void {
    if (!this.transcripts.has(name)) this.transcripts.set(name, []);
  }

  /** Bytes `partition` wrote: into its transcript and the console FIFO; the UART is fed if idle. */
  put(partition: string, bytes: ArrayLike<number>): void {
    const t = this.transcripts.get(partition) ?? [];
    this.transcripts.set(partition, t);
    this.host.touchState(0, 16, true);
    for (let k = 0; k < bytes.length; k++) {
      t.push(bytes[k] & 0xff);
      if (this.count === CONSOLE_BUFFER_BYTES) {
        this.dropped++;
        continue;
      }
      this.buf[(this.head + this.count) % CONSOLE_BUFFER_BYTES] = bytes[k];
      this.count++;
    }
    if (this.count > this.maxQueued) this.maxQueued = this.count;
    if (!this.waiting && this.count > 0) this.pump();
  }

  onInterrupt(): void {
    this.turn.interrupt(() => {
      this.interrupts++;
      this.host.charge("backend.interrupt");
      this.host.touchState(0, 16, false);
      this.regs.read(IIR);
      this.pump();
    });
  }

  transcript(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, bytes] of this.transcripts) {
      let s = "";
      for (let k = 0; k < bytes.length; k += 4096) s += String.fromCharCode(...bytes.slice(k, k + 4096));
      out[name] = s;
    }
    return out;
  }

  /** Fill the UART's transmit FIFO if it is empty; keep the THRE interrupt enabled while bytes remain. */
  private pump(): void {
    if (this.count > 0 && (this.regs.read(LSR) & LSR_THRE) !== 0) {
      this.host.charge("backend.submit");
      const n = Math.min(UART_FIFO_BYTES, this.count);
      this.host.touchState(16, Math.min(n, 48), false);
      for (let k = 0; k < n; k++) {
        this.regs.write(THR, this.buf[this.head]);
        this.head = (this.head + 1) % CONSOLE_BUFFER_BYTES;
      }
      this.count -= n;
      this.bytesSent += n;
      this.physicalOps++;
    }
    const want = this.count > 0;
    if (want !== this.waiting) {
      this.waiting = want;
      this.regs.write(IER, want ? IER_ETBEI : 0);
    }
  }
}
