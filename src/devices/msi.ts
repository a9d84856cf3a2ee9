/**
 * Message-signalled interrupts (SDM Vol. 3A 10.11 "Message Signalled Interrupts"): a device's 32-bit
 * write of `data` to `address` in the FEExxxxxH range is decoded into an interrupt message and sent
 * to the local APICs through an injected InterruptMessageSink (the machine's ApicBus).
 *
 * Address (Figure 10-24): bits 31:20 = FEEH, 19:12 destination ID, 3 redirection hint (RH), 2
 * destination mode (DM: 0 physical, 1 logical). Data (Figure 10-25): 7:0 vector, 10:8 delivery mode,
 * 14 level (assert/de-assert, for level-triggered messages), 15 trigger mode (1 = level).
 *
 * The destination mode is taken from DM whatever RH says, as QEMU's apic_send_msi does (SDM 10.11.1
 * describes RH=0 as "DM ignored", yet platforms and operating systems use DM with RH=0 for logical
 * destinations); lowest-priority arbitration comes from the delivery mode. Physical destination FFH is
 * a broadcast. A write whose address is not FEExxxxxH is not an interrupt and is dropped (counted in
 * `dropped`); so is a de-assert message (level-triggered, level bit 0): edge and level MSIs both arrive
 * as one assert.
 *
 * Leaves out: interrupt remapping, the extended destination ID in address bits 11:5, per-vector masking
 * (the PCI MSI capability, a device-side register block).
 */
import type { MsiSink } from "./irq-line.ts";
import { BROADCAST_DEST, type InterruptMessage, type InterruptMessageSink } from "./interrupt-message.ts";

/** Decode an MSI address/data pair; null if the address is not in the FEExxxxxH interrupt range. */
export function decodeMsi(address: number, data: number): InterruptMessage | null {
  address >>>= 0;
  if (address >>> 20 !== 0xfee) return null;
  const logical = (address & 0x4) !== 0;
  const d = (address >>> 12) & 0xff;
  const levelTriggered = (data & 0x8000) !== 0;
  return {
    dest: !logical && d === 0xff ? BROADCAST_DEST : d,
    destMode: logical ? "logical" : "physical",
    deliveryMode: (data >>> 8) & 7,
    vector: data & 0xff,
    // An edge-triggered message always asserts (SDM 10.11.2: the level bit matters for level trigger only).
    level: !levelTriggered || (data & 0x4000) !== 0,
    trigger: levelTriggered ? "level" : "edge",
  };
}

/** Encode an MSI address for a destination (SDM Figure 10-24): what a driver writes to a device. */
export function msiAddress(dest: number, logical: boolean, redirectionHint = false): number {
  return (0xfee00000 | ((dest & 0xff) << 12) | (redirectionHint ? 8 : 0) | (logical ? 4 : 0)) >>> 0;
}

/** Encode MSI data (SDM Figure 10-25). */
export function msiData(vector: number, deliveryMode = 0, trigger: "edge" | "level" = "edge", level = true): number {
  return ((vector & 0xff) | ((deliveryMode & 7) << 8) | (level ? 0x4000 : 0) | (trigger === "level" ? 0x8000 : 0)) >>> 0;
}

/** The platform's MSI target: decodes device writes and forwards them as interrupt messages. */
export class MsiRouter implements MsiSink {
  /** Writes that were not interrupt messages (wrong address range) or were de-asserts. */
  dropped = 0;
  /** Messages forwarded. */
  forwarded = 0;

  constructor(private readonly sink: InterruptMessageSink) {}

  deliverMsi(address: number, data: number): void {
    const m = decodeMsi(address, data);
    if (m === null || (m.trigger === "level" && !m.level)) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    this.sink.deliverInterrupt(m);
  }
}
