/**
 * The computations of the dsp card (see dsp.ts for the job format), as pure functions of the input
 * bytes: what the card's firmware would compute, exactly, so a guest can check the results.
 *
 * | op | name  | input                       | output at OUTPUT_ADDR          | RESULT                       |
 * |----|-------|-----------------------------|--------------------------------|------------------------------|
 * | 0  | CRC32 | any bytes                   | 4 bytes: the CRC, little-endian | CRC-32/ISO-HDLC of the input |
 * | 1  | SCALE | int32 LE samples (len % 4 = 0) | len bytes: each sample times PARAM as signed Q16.16 (floor of s * PARAM / 65536), saturated to int32 | samples that saturated |
 * | 2  | SUM   | int32 LE samples (len % 4 = 0) | 8 bytes: the int64 sum, LE     | low 32 bits of the sum       |
 *
 * All arithmetic is exact (no float rounding): products are split so every intermediate stays below
 * 2^53, and the sum of at most 2^21 samples (8 MiB, the card's limit) stays below 2^53.
 * Leaves out: floating-point samples, FIR filters, multi-pass jobs.
 */
import { crc32 } from "./dsp-crc32.ts";

export const DspOp = { CRC32: 0, SCALE: 1, SUM: 2 } as const;

/** Job error codes, as the card writes them into the descriptor's STATUS (bits 15..8). */
export const DspError = { NONE: 0, BAD_OP: 1, BAD_LENGTH: 2, DMA: 3 } as const;

/** A computed job, or why the op refused its input (bad op 1, bad length 2). */
export type DspOpResult = { error: 0; result: number; output: Uint8Array } | { error: 1 | 2 };

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** floor(s * p / 65536) for int32 s and p, exactly: p = hi * 65536 + lo with lo in 0 .. 65535. */
export function scaleQ16(s: number, p: number): number {
  const hi = p >> 16;
  const lo = p & 0xffff;
  return s * hi + Math.floor((s * lo) / 65536);
}

export function runDspOp(op: number, param: number, input: Uint8Array): DspOpResult {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (op === 0) {
    const c = crc32(input);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, c, true);
    return { error: 0, result: c, output: out };
  }
  if (op !== 1 && op !== 2) return { error: DspError.BAD_OP };
  if (input.length % 4 !== 0) return { error: DspError.BAD_LENGTH };
  const n = input.length >>> 2;
  if (op === 1) {
    const out = new Uint8Array(input.length);
    const ov = new DataView(out.buffer);
    let saturated = 0;
    for (let k = 0; k < n; k++) {
      let v = scaleQ16(view.getInt32(k * 4, true), param | 0);
      if (v > INT32_MAX) { v = INT32_MAX; saturated++; }
      else if (v < INT32_MIN) { v = INT32_MIN; saturated++; }
      ov.setInt32(k * 4, v, true);
    }
    return { error: 0, result: saturated, output: out };
  }
  let sum = 0;
  for (let k = 0; k < n; k++) sum += view.getInt32(k * 4, true);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(sum), true);
  return { error: 0, result: Number(BigInt.asUintN(32, BigInt(sum))), output: out };
}
