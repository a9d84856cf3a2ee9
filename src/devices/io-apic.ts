/**
 * The I/O APIC (Intel 82093AA I/O Advanced Programmable Interrupt Controller datasheet, May 1996):
 * 24 interrupt input pins, each with a 64-bit redirection table entry, turned into interrupt messages
 * for the local APICs (sent to an injected InterruptMessageSink: the machine's ApicBus).
 *
 * Registers (datasheet 3.0): IOREGSEL at offset 00H selects a register (bits 7:0), IOWIN at 10H reads
 * and writes it, as 32-bit accesses. Register 00H IOAPICID (ID in bits 27:24), 01H IOAPICVER (read-only,
 * 00170011H: version 11H, maximum redirection entry 17H = 24 entries), 02H IOAPICARB (read-only,
 * arbitration ID in bits 27:24, loaded from the ID when the ID is written), 10H-3FH the redirection
 * table (entry n: low dword 10H+2n, high dword 11H+2n). Unknown registers read 0 and ignore writes;
 * IOWIN accesses narrower than 32 bits are ignored / read 0; IOREGSEL accepts any size (its low byte).
 *
 * Redirection entry (datasheet 3.2.4): vector 7:0, delivery mode 10:8, destination mode 11, delivery
 * status 12 (read-only, always 0 here: the message is handed to the sink at once), polarity 13 (1 =
 * active low), remote IRR 14 (read-only), trigger mode 15 (1 = level), mask 16, destination 63:56.
 * Reset: every entry masked, everything else 0.
 * - Edge-triggered: a transition of the pin to its active level sends one message if the entry is
 *   unmasked; an edge on a masked pin is lost (datasheet: "not delivered or held pending").
 * - Level-triggered: while the pin is active, the entry unmasked and remote IRR clear, a message is
 *   sent and remote IRR set; the local APIC's EOI message for the entry's vector (eoi()) clears remote
 *   IRR, and a still-active pin sends again. Unmasking an entry whose pin is active sends too.
 *   Writing an entry as edge-triggered clears its remote IRR (as QEMU's ioapic_mem_write; Linux uses it
 *   to recover a stuck entry).
 * - Physical destination FFH is sent as a broadcast (BROADCAST_DEST).
 *
 * Leaves out: ExtINT and SMI delivery (messages are sent with their delivery mode; the local APICs ignore
 * both), the IOAPIC EOI register of version 20H parts, bus arbitration.
 */
import type { IrqLine } from "./irq-line.ts";
import type { MmioAccessSize, MmioDevice } from "./mmio-bus.ts";
import { BROADCAST_DEST, type InterruptMessageSink } from "./interrupt-message.ts";

export const IOAPIC_ENTRIES = 24;
export const IOAPIC_VERSION = 0x00170011;

const RTE_MASKED = 1 << 16;
const RTE_LEVEL = 1 << 15;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_POLARITY_LOW = 1 << 13;
const RTE_LOGICAL = 1 << 11;
/** Writable bits of the low dword: all but delivery status (12) and remote IRR (14). */
const RTE_LO_WRITABLE = 0x0001afff;

export interface IoApicOptions {
  sink: InterruptMessageSink;
  /** Name for diagnostics (default "ioapic"). */
  name?: string;
  /** IOAPICID after reset (bits 27:24 hold id & 0xF). Default 0. */
  id?: number;
}

export class IoApic implements MmioDevice {
  readonly name: string;
  private readonly sink: InterruptMessageSink;
  private regsel = 0;
  private id = 0;
  private arb = 0;
  private readonly lo = new Uint32Array(IOAPIC_ENTRIES);
  private readonly hi = new Uint32Array(IOAPIC_ENTRIES);
  /** Raw pin levels as driven (before polarity). */
  private readonly pinLevel: boolean[] = new Array(IOAPIC_ENTRIES).fill(false);
  private readonly lines: IrqLine[];
  /** Messages sent so far (statistics). */
  sent = 0;

  constructor(opts: IoApicOptions) {
    this.sink = opts.sink;
    this.name = opts.name ?? "ioapic";
    this.lines = Array.from({ length: IOAPIC_ENTRIES }, (_, n) => ({ set: (level: boolean) => this.setPin(n, level) }));
    this.reset(opts.id ?? 0);
  }

  /** Power-up state: all entries masked (datasheet 3.2.4), ID as given. */
  reset(id = 0): void {
    this.regsel = 0;
    this.id = id & 0xf;
    this.arb = this.id;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
  }

  /** The IrqLine a device drives into pin `n`. */
  pin(n: number): IrqLine {
    const l = this.lines[n];
    if (l === undefined) throw new RangeError(`${this.name}: no pin ${n} (0..${IOAPIC_ENTRIES - 1})`);
    return l;
  }

  /** Drive pin `n` to `level` (true = electrically high). */
  setPin(n: number, level: boolean): void {
    if (this.pinLevel[n] === level) return;
    this.pinLevel[n] = level;
    const e = this.lo[n];
    if ((e & RTE_LEVEL) !== 0) {
      this.serviceLevel(n);
    } else if (this.active(n) && (e & RTE_MASKED) === 0) {
      this.send(n);
    }
  }

  /** An EOI message from a local APIC (ApicBus.onEoi): clear remote IRR of entries with `vector`. */
  eoi(vector: number): void {
    for (let n = 0; n < IOAPIC_ENTRIES; n++) {
      const e = this.lo[n];
      if ((e & RTE_REMOTE_IRR) !== 0 && (e & 0xff) === vector) {
        this.lo[n] = (e & ~RTE_REMOTE_IRR) >>> 0;
        this.serviceLevel(n);
      }
    }
  }

  /** Redirection entry `n` as [low dword, high dword]. */
  entry(n: number): [lo: number, hi: number] {
    return [this.lo[n], this.hi[n]];
  }

  mmioRead(offset: number, size: MmioAccessSize): number {
    if (offset === 0x00) return this.regsel;
    if (offset === 0x10 && size === 4) return this.readRegister(this.regsel) | 0;
    return 0;
  }

  mmioWrite(offset: number, size: MmioAccessSize, value: number): void {
    if (offset === 0x00) this.regsel = value & 0xff;
    else if (offset === 0x10 && size === 4) this.writeRegister(this.regsel, value >>> 0);
  }

  readRegister(reg: number): number {
    if (reg === 0x00) return (this.id << 24) >>> 0;
    if (reg === 0x01) return IOAPIC_VERSION;
    if (reg === 0x02) return (this.arb << 24) >>> 0;
    if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_ENTRIES) {
      const n = (reg - 0x10) >>> 1;
      return (reg & 1) === 0 ? this.lo[n] : this.hi[n];
    }
    return 0;
  }

  writeRegister(reg: number, value: number): void {
    if (reg === 0x00) {
      this.id = (value >>> 24) & 0xf;
      this.arb = this.id;
      return;
    }
    if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_ENTRIES) return;
    const n = (reg - 0x10) >>> 1;
    if ((reg & 1) === 1) {
      this.hi[n] = (value & 0xff000000) >>> 0;
      return;
    }
    let e = ((value & RTE_LO_WRITABLE) | (this.lo[n] & RTE_REMOTE_IRR)) >>> 0;
    if ((e & RTE_LEVEL) === 0) e &= ~RTE_REMOTE_IRR;
    this.lo[n] = e >>> 0;
    if ((e & RTE_LEVEL) !== 0) this.serviceLevel(n);
  }

  private active(n: number): boolean {
    return this.pinLevel[n] !== ((this.lo[n] & RTE_POLARITY_LOW) !== 0);
  }

  private serviceLevel(n: number): void {
    const e = this.lo[n];
    if ((e & (RTE_MASKED | RTE_REMOTE_IRR)) !== 0 || (e & RTE_LEVEL) === 0 || !this.active(n)) return;
    this.lo[n] = (e | RTE_REMOTE_IRR) >>> 0;
    this.send(n);
  }

  private send(n: number): void {
    const e = this.lo[n];
    const logical = (e & RTE_LOGICAL) !== 0;
    const d = this.hi[n] >>> 24;
    this.sent++;
    this.sink.deliverInterrupt({
      dest: !logical && d === 0xff ? BROADCAST_DEST : d,
      destMode: logical ? "logical" : "physical",
      deliveryMode: (e >>> 8) & 7,
      vector: e & 0xff,
      level: true,
      trigger: (e & RTE_LEVEL) !== 0 ? "level" : "edge",
    });
  }
}
