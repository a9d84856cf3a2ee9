/**
 * Guest driver for the block card (register map and command flow: the datasheet in the header of
 * src/devices/block-device.ts; guests may not import devices/, so the offsets are restated here and a test
 * compares them with the device's). Ops (abi PvOp): READ and WRITE (EBX = buffer, ECX = bytes, a multiple of
 * 512, EDX = LBA), FLUSH.
 *
 * Register mode (exclusive and emulated: the same code): submit writes LBA, COUNT, DMA_ADDR, COMMAND (four
 * MMIO writes; FLUSH only COMMAND). Completion: the irq routine clears INT_STATUS.COMPLETE (W1C) and reads
 * STATUS; when it shows DONE it publishes the status for the operation generation it saw, so the wait ends
 * without touching a register. With interrupts off (IF = 0 where the wait runs) it reads STATUS itself
 * every BLOCK_POLL_US; with them on it trusts the interrupt and reads STATUS only every
 * BLOCK_POLL_WITH_IRQ_US as a safety net: a register read is an MMIO round trip on hardware (~1 us) and a
 * VM exit when emulated, so it is never read in a tight loop. (IF = 1 on a vCPU other than 0 relies on
 * vCPU 0 handling the interrupt, as the kernels here do; the safety net bounds the cost otherwise.) The generation (bumped after COMMAND) keeps a late interrupt of operation k
 * from completing operation k + 1. Status: 0, or 2 | ERROR << 8 (the card's codes 1-3 equal abi PvError's).
 * Paravirtual: READ/WRITE/FLUSH requests on the ring (ARG0 = LBA).
 * Leaves out: IDENTIFY, queueing several commands (the card has no queue).
 */
import { eax, ebx, ecx, edx } from "../asm/index.ts";
import { PvOp } from "../../vmm/abi.ts";
import { type DriverCtx, STATUS_BAD_OP, emitSubmitExits, emitSubmitPrologue, emitWait, pollGate, usToTsc } from "./driver-common.ts";
import { emitPvInit, emitPvIrqNothing, emitPvRing, emitPvSubmitWait } from "./pv-ring.ts";

/** Register offsets (block-device.ts datasheet). */
export const BLOCK_REG = {
  LBA: 0x04, COUNT: 0x08, DMA_ADDR: 0x0c, COMMAND: 0x10, STATUS: 0x14, ERROR: 0x18, INT_ENABLE: 0x1c, INT_STATUS: 0x20,
} as const;
const CMD_READ = 1, CMD_WRITE = 2, CMD_FLUSH = 3;
const ST_BUSY = 1, ST_DONE = 2, ST_ERROR = 4;
const INT_COMPLETE = 1;
/** Poll period of the wait with interrupts off (the poll ends it) and on (a safety net: the irq ends it). */
export const BLOCK_POLL_US = 25;
export const BLOCK_POLL_WITH_IRQ_US = 1000;

export function emitBlockDriver(c: DriverCtx): void {
  if (c.dev.mode === "paravirtual") {
    emitPvRing(c);
    emitPvInit(c);
    emitPvSubmitWait(c);
    emitPvIrqNothing(c);
    return;
  }
  const { a } = c;
  a.label(`${c.p}_init`);
  c.wr(BLOCK_REG.INT_STATUS, INT_COMPLETE);
  c.wr(BLOCK_REG.INT_ENABLE, INT_COMPLETE);
  a.ret();

  emitSubmitPrologue(c);
  a.cmp(eax, PvOp.FLUSH);
  a.je(c.l("flush"));
  a.cmp(eax, PvOp.READ);
  a.je(c.l("rw"));
  a.cmp(eax, PvOp.WRITE);
  a.je(c.l("rw"));
  a.mov(eax, STATUS_BAD_OP);
  a.jmp(c.l("done_imm"));
  a.label(c.l("rw"));
  a.mov(c.v("cmd"), CMD_READ);
  a.cmp(eax, PvOp.READ);
  a.je(c.l("rw.regs"));
  a.mov(c.v("cmd"), CMD_WRITE);
  a.label(c.l("rw.regs"));
  c.wr(BLOCK_REG.LBA, edx);
  a.shr(ecx, 9);
  c.wr(BLOCK_REG.COUNT, ecx);
  c.wr(BLOCK_REG.DMA_ADDR, ebx);
  a.mov(ecx, c.v("cmd"));
  c.wr(BLOCK_REG.COMMAND, ecx);
  a.jmp(c.l("started"));
  a.label(c.l("flush"));
  c.wr(BLOCK_REG.COMMAND, CMD_FLUSH);
  a.label(c.l("started"));
  a.inc(c.v("gen"));
  a.jmp(c.l("accept"));
  emitSubmitExits(c);

  emitWait(c, () => {
    a.mov(eax, c.v("gen"));
    a.cmp(eax, c.v("done_gen"));
    a.jne(c.l("wait.poll"));
    a.mov(eax, c.v("done_status"));
    a.jmp(c.l("seen"));
    a.label(c.l("wait.poll"));
    pollGate(c);
    statusToEdx(c, c.l("wait.pause"));
    a.mov(eax, edx);
    a.jmp(c.l("seen"));
  }, { poll: { withIrqCycles: usToTsc(c.env, BLOCK_POLL_WITH_IRQ_US), withoutIrqCycles: usToTsc(c.env, BLOCK_POLL_US) } });

  // irq: generation first, then W1C, then STATUS (see the header for why this order).
  a.label(`${c.p}_irq`);
  a.mov(eax, c.v("gen"));
  c.wr(BLOCK_REG.INT_STATUS, INT_COMPLETE);
  a.push(eax);
  statusToEdx(c, c.l("irq.out"));
  a.pop(eax);
  a.mov(c.v("done_status"), edx);
  a.mov(c.v("done_gen"), eax);
  a.push(eax);
  a.label(c.l("irq.out"));
  a.pop(eax);
  a.xor(eax, eax);
  a.ret();
}

/** Read STATUS: not finished (BUSY, or no DONE) -> jump to `notDone`; else EDX = 0 or 2 | ERROR << 8.
 * Clobbers ECX, EDX. */
function statusToEdx(c: DriverCtx, notDone: string): void {
  const { a } = c;
  c.rd(ecx, BLOCK_REG.STATUS);
  a.test(ecx, ST_BUSY);
  a.jnz(notDone);
  a.test(ecx, ST_DONE);
  a.jz(notDone);
  a.xor(edx, edx);
  a.test(ecx, ST_ERROR);
  a.jz(`${notDone}.ok`);
  c.rd(edx, BLOCK_REG.ERROR);
  a.shl(edx, 8);
  a.or(edx, 2);
  a.label(`${notDone}.ok`);
}
