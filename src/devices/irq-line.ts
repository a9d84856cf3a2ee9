/**
 * Interrupt wiring as a device sees it (shared/DESIGN.md §3: a device gets its IRQ line injected and
 * never calls into a core). Whoever assembles the machine connects the line to an IOAPIC pin (or the
 * 8259 input / a LAPIC LINT pin) or gives the device an MsiSink.
 *
 * A line carries a level. Level-triggered devices hold it while their condition lasts; edge-triggered
 * ones (ISA devices) raise it and lower it again (pulse). The receiver decides how it samples the line
 * (IOAPIC redirection entry: edge or level, polarity).
 */

export interface IrqLine {
  /** Drive the line to `level` (true = asserted). Setting the same level again is no change. */
  set(level: boolean): void;
}

/** Raise then lower a line: one edge for an edge-triggered input. */
export function pulse(line: IrqLine): void {
  line.set(true);
  line.set(false);
}

/** A message-signalled interrupt target (SDM Vol. 3A 10.11): a 32-bit write of `data` to `address`
 * in the 0xFEExxxxx range, which the platform turns into an interrupt to a local APIC. */
export interface MsiSink {
  deliverMsi(address: number, data: number): void;
}

/** A line connected to nothing (a device whose interrupt is not routed). */
export const UNCONNECTED: IrqLine = { set: () => {} };

/** A line that remembers its level and counts rising edges: for tests and probes. */
export class RecordingLine implements IrqLine {
  level = false;
  edges = 0;
  readonly history: boolean[] = [];
  set(level: boolean): void {
    if (level === this.level) return;
    this.level = level;
    this.history.push(level);
    if (level) this.edges++;
  }
}
