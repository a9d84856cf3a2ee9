/**
 * The content of a packet the nic (nic.ts) receives from its arrival process, so a guest can measure
 * end-to-end latency and detect loss from the bytes alone:
 *
 * | bytes  | content                                                                  |
 * |--------|--------------------------------------------------------------------------|
 * | 0..7   | arrival time, the nic's ns time, unsigned 64-bit little-endian          |
 * | 8..11  | packet sequence number (1, 2, ...; dropped packets consume theirs), LE  |
 * | 12..   | byte i = (sequence + i) & 0xFF, a pattern a guest can verify             |
 *
 * Leaves out: Ethernet/IP headers (the payload is opaque to the nic), checksums.
 */

/** Smallest packet the nic generates: the timestamp and the sequence number. */
export const NIC_MIN_PACKET_BYTES = 12;

/** RAMP[j] = j & 0xFF: the payload pattern is a window of it, copied in one call. */
const RAMP = Uint8Array.from({ length: 65536 + 256 }, (_, j) => j & 0xff);

/** Writes the packet into `scratch` (at least `size` bytes) and returns the `size`-byte view of it. */
export function buildPacket(scratch: Uint8Array, size: number, seq: number, arrivalNs: number): Uint8Array {
  const p = scratch.subarray(0, size);
  const v = new DataView(p.buffer, p.byteOffset, size);
  v.setUint32(0, arrivalNs >>> 0, true);
  v.setUint32(4, Math.floor(arrivalNs / 4294967296) >>> 0, true);
  v.setUint32(8, seq >>> 0, true);
  const from = (seq + 12) & 0xff;
  p.set(RAMP.subarray(from, from + size - 12), 12);
  return p;
}
