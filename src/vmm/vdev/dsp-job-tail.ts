/**
 * The end of a dsp job as the partition sees it in memory: RESULT, STATUS and JOB_ID written into its
 * job descriptor (dsp.ts descriptor table, offsets +20, +24, +28), in one 12-byte copy as the card writes
 * them (so STATUS = 1 means the output is there). Nothing is written when the descriptor itself was
 * outside partition RAM. No Intel SDM section applies. Leaves out: nothing.
 */
import type { VdevHost } from "./vdev.ts";

export function writeJobTail(h: VdevHost, job: { descGpa: number; descOk: boolean }, status: number, result: number, jobId: number): void {
  if (!job.descOk) return;
  const tail = new Uint8Array(12);
  const v = new DataView(tail.buffer);
  v.setUint32(0, result >>> 0, true);
  v.setUint32(4, status >>> 0, true);
  v.setUint32(8, jobId >>> 0, true);
  h.writeGuest(job.descGpa + 20, tail);
}
