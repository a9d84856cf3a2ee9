/**
 * The MSI capability structure of a PCI function (PCI Local Bus Spec 3.0 §6.8.1), laid out in the
 * function's configuration bytes:
 *   +0 capability ID 05h, +1 next pointer, +2 message control (bit 0 MSI enable, bits 3:1 multiple
 *   message capable, bits 6:4 multiple message enable, bit 7 64-bit address capable), +4 message address
 *   (bits 1:0 read 0), then either +8 message data (32-bit form) or +8 upper address, +0Ch data (64-bit).
 * The function modifies the low log2(vectors) bits of the data to select a vector (§6.8.3.4). A
 * multiple-message-enable value above the capable one is clamped to it, as QEMU does (the spec says
 * software must not write one).
 * Leaves out: per-vector masking (capability bit 8 = 0) and MSI-X.
 */

export const PCI_CAP_ID_MSI = 0x05;

export interface PciMsiOptions {
  /** Vectors the function can use: 1, 2, 4, 8, 16 or 32 (default 1). */
  vectors?: number;
  /** Offer the 64-bit address form (default false: on x86 the address is 0xFEExxxxx). */
  address64?: boolean;
}

/** What the driver programmed, as the device is told of it. */
export interface PciMsiConfig {
  enabled: boolean;
  /** Message address (64-bit form: high * 2^32 + low). */
  address: number;
  data: number;
  /** Vectors enabled (1 << multiple message enable). */
  vectors: number;
}

export interface ConfigBytes {
  config: Uint8Array;
  wmask: Uint8Array;
}

/** Writes the capability at `at` into the configuration bytes and sets its writable bits. */
export function installMsi(b: ConfigBytes, at: number, next: number, o: PciMsiOptions): void {
  const vectors = o.vectors ?? 1;
  const mmc = Math.log2(vectors);
  if (!Number.isInteger(mmc) || mmc < 0 || mmc > 5) throw new RangeError(`pci msi: vectors ${vectors} is not 1, 2, 4, 8, 16 or 32`);
  const { config, wmask } = b;
  config[at] = PCI_CAP_ID_MSI;
  config[at + 1] = next;
  config[at + 2] = (mmc << 1) | (o.address64 ? 0x80 : 0);
  wmask[at + 2] = 0x71; // enable, multiple message enable
  wmask.fill(0xff, at + 4, at + 8);
  wmask[at + 4] = 0xfc;
  const data = o.address64 ? at + 12 : at + 8;
  if (o.address64) wmask.fill(0xff, at + 8, at + 12);
  wmask[data] = 0xff;
  wmask[data + 1] = 0xff;
}

/** Applies the rules the plain write mask cannot express (the enable clamp). */
export function fixupMsi(b: ConfigBytes, at: number): void {
  const c = b.config[at + 2];
  const mmc = (c >> 1) & 7;
  const mme = (c >> 4) & 7;
  if (mme > mmc) b.config[at + 2] = (c & ~0x70) | (mmc << 4);
}

const dword = (c: Uint8Array, at: number) => (c[at] | (c[at + 1] << 8) | (c[at + 2] << 16) | (c[at + 3] << 24)) >>> 0;

export function readMsi(b: ConfigBytes, at: number): PciMsiConfig {
  const c = b.config;
  const wide = (c[at + 2] & 0x80) !== 0;
  const data = wide ? at + 12 : at + 8;
  return {
    enabled: (c[at + 2] & 1) !== 0,
    address: dword(c, at + 4) + (wide ? dword(c, at + 8) * 2 ** 32 : 0),
    data: c[data] | (c[data + 1] << 8),
    vectors: 1 << ((c[at + 2] >> 4) & 7),
  };
}
