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

export function buildPacket(size: number, seq: number, arrivalNs: number): Uint8Array {
  const p = new Uint8Array(size);
  const v = new DataView(p.buffer);
  v.setUint32(0, arrivalNs >>> 0, true);
  v.setUint32(4, Math.floor(arrivalNs / 4294967296) >>> 0, true);
  v.setUint32(8, seq >>> 0, true);
  for (let i = 12; i < size; i++) p[i] = (seq + i) & 0xff;
  return p;
}
