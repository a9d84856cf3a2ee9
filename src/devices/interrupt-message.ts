/**
 * An interrupt message as a device-side interrupt controller sends it to the processors' local APICs
 * (SDM Vol. 3A 10.11 for MSI, 10.6.1 for the fields an IPI shares; Intel 82093AA I/O APIC datasheet
 * 3.2.4 for the redirection entry the IOAPIC turns into one). The IOAPIC (io-apic.ts) and the MSI
 * decoder (msi.ts) produce these and hand them to an injected InterruptMessageSink, so devices never
 * import the CPU (shared/DESIGN.md §2); the machine passes its ApicBus (src/cpu/apic-bus.ts) as the sink.
 *
 * Field encodings are the SDM's: deliveryMode is the 3-bit field of the ICR / redirection entry / MSI
 * data register. `dest` is the destination field as sent: 8 bits from the IOAPIC, MSI and xAPIC, 32
 * bits from an x2APIC; an 8-bit physical broadcast (FFH) is sent as BROADCAST_DEST, so receivers in either
 * APIC mode recognise it.
 *
 * Leaves out: interrupt remapping (VT-d), the extended destination ID of MSI address bits 11:5.
 */

/** Delivery mode field values (SDM Vol. 3A 10.6.1 Figure 10-12, 10.11.2 Figure 10-25). */
export const enum DeliveryMode {
  FIXED = 0,
  LOWEST_PRIORITY = 1,
  SMI = 2,
  NMI = 4,
  INIT = 5,
  STARTUP = 6,
  EXTINT = 7,
}

/** Physical destination that selects every local APIC (SDM 10.6.2.1: FFH in xAPIC, FFFFFFFFH x2APIC). */
export const BROADCAST_DEST = 0xffffffff;

export type DestinationMode = "physical" | "logical";
export type TriggerMode = "edge" | "level";

export interface InterruptMessage {
  /** Destination field; BROADCAST_DEST for a physical broadcast. */
  dest: number;
  destMode: DestinationMode;
  /** DeliveryMode value (0..7). */
  deliveryMode: number;
  vector: number;
  /** Assert (true) or de-assert; edge-triggered messages always assert. */
  level: boolean;
  trigger: TriggerMode;
}

/** Where device interrupt controllers send their messages (the machine's ApicBus implements it). */
export interface InterruptMessageSink {
  deliverInterrupt(msg: InterruptMessage): void;
}
