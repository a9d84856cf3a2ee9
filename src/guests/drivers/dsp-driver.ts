/**
 * Guest driver for the dsp card (register map and job descriptor: the datasheet in the header of
 * src/devices/dsp.ts, restated here because guests may not import devices/). Op: JOB with EBX = a 32-byte
 * job descriptor in guest memory that the caller filled (INPUT_ADDR, INPUT_LEN, OUTPUT_ADDR, OP, PARAM),
 * ECX = the job's input bytes (for the IO record).
 *
 * Register mode: submit clears the descriptor's STATUS word and writes its address to DOORBELL (one MMIO
 * write). The card writes RESULT, STATUS and JOB_ID into the descriptor by DMA when the job finishes, so
 * the wait polls that STATUS in memory (no register access, no exit) and returns 0 for 1 (done) or the
 * word itself (2 | code << 8) for a failed job. The irq routine clears INT_STATUS (DONE | ERROR, W1C: one
 * write; the line drops). One job in flight, so the card's queue is never full.
 * Paravirtual: a JOB request (ADDR = the descriptor, LEN = 32); the VMM writes the descriptor as the card
 * would and completes the slot.
 * Leaves out: queueing several jobs (the card could take queueDepth).
 */
import { dword, eax, ebx, edx } from "../asm/index.ts";
import { PvOp } from "../../vmm/abi.ts";
import {
  type DriverCtx, STATUS_BAD_OP, emitSubmitExits, emitSubmitPrologue, emitWait, statusWordCheck,
} from "./driver-common.ts";
import { emitPvInit, emitPvIrqNothing, emitPvRing, emitPvSubmitWait } from "./pv-ring.ts";

export const DSP_REG = { DOORBELL: 0x04, STATUS: 0x08, INT_ENABLE: 0x0c, INT_STATUS: 0x10 } as const;
/** Job descriptor fields (dsp.ts). */
export const DSP_DESC = { INPUT_ADDR: 0, INPUT_LEN: 4, OUTPUT_ADDR: 8, OP: 12, PARAM: 16, RESULT: 20, STATUS: 24, JOB_ID: 28 } as const;
export const DSP_DESC_BYTES = 32;
const INT_DONE = 1, INT_ERROR = 2;

export function emitDspDriver(c: DriverCtx): void {
  if (c.dev.mode === "paravirtual") {
    emitPvRing(c);
    emitPvInit(c);
    emitPvSubmitWait(c, { slotLen: DSP_DESC_BYTES });
    emitPvIrqNothing(c);
    return;
  }
  const { a } = c;
  a.label(`${c.p}_init`);
  c.wr(DSP_REG.INT_STATUS, INT_DONE | INT_ERROR);
  c.wr(DSP_REG.INT_ENABLE, INT_DONE | INT_ERROR);
  a.ret();

  emitSubmitPrologue(c);
  a.cmp(eax, PvOp.JOB);
  a.je(c.l("job"));
  a.mov(eax, STATUS_BAD_OP);
  a.jmp(c.l("done_imm"));
  a.label(c.l("job"));
  a.mov(dword(ebx, DSP_DESC.STATUS), 0);
  a.mov(c.v("slot"), ebx);
  c.wr(DSP_REG.DOORBELL, ebx);
  a.jmp(c.l("accept"));
  emitSubmitExits(c);

  emitWait(c, () => {
    a.mov(edx, c.v("slot"));
    statusWordCheck(c, DSP_DESC.STATUS);
  });

  a.label(`${c.p}_irq`);
  c.wr(DSP_REG.INT_STATUS, INT_DONE | INT_ERROR);
  a.xor(eax, eax);
  a.ret();
}
