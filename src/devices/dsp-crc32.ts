/**
 * CRC-32 as the dsp card computes it (op 0): the IEEE 802.3 / ISO-HDLC CRC (reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), the CRC of zlib, PNG and Ethernet. Check value:
 * CRC-32("123456789") = 0xCBF43926 (the catalogue of parametrised CRC algorithms, "CRC-32/ISO-HDLC").
 * Table-driven, one byte per step. Leaves out: other polynomials, incremental (streaming) use.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let k = 0; k < bytes.length; k++) c = TABLE[(c ^ bytes[k]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
