/**
 * Guest driver for the rt-io sensor/actuator card (register map: the datasheet in the header of
 * src/devices/rt-io.ts, restated here because guests may not import devices/). Input events arrive as
 * interrupts; the irq routine logs each one (abi LogKind.IRQ: T0 = the kernel's `isr_tsc`, T1 = the event's
 * device time TS in ns, V0 = SEQ), acknowledges it and returns 1 (one release of the sporadic tasks bound to
 * the device). Ops through submit: ACTUATE (EDX = value) and ACK (EDX = SEQ); both complete at once.
 *
 * Register mode: init sets INT_ENABLE.PENDING and CTRL.ENABLE (the event source starts). irq reads SEQ,
 * writes ACK = SEQ at once (the card's acknowledge latency, the outside probe, then differs from the ISR's
 * entry by one register read and one write), then reads TS_LO and TS_HI: four register accesses per
 * event, each a VM exit when emulated. TS stays the acknowledged event's until the next event arrives, so
 * an event arriving within the two TS reads after the ACK (or, with overrun = "replace", between the SEQ
 * read and the ACK) pairs one event's SEQ with the next one's TS; the event source's periods make that a
 * corner case. An interrupt whose SEQ equals the last one handled is spurious (no record, 0 releases).
 * Paravirtual: init posts a WAIT; the VMM completes it at the next event (RESULT = SEQ, ARG0/ARG1 = TS) and
 * raises the vector; irq finds the completed WAIT, logs it, posts an ACK (ARG0 = SEQ) and a new WAIT
 * (ACK first, so a VMM that completes in order never holds the ACK behind the WAIT) and rings once. A
 * WAIT completed with an error is not re-posted (the VMM does not serve it; re-posting would storm).
 * Leaves out: reading DATA (the sensor value), MISSED and the overrun bit (the device reports them).
 */
import { dword, eax, ebx, ecx, edi, edx, esi, lbl } from "../asm/index.ts";
import { LOG_RECORD_BYTES, LogKind, LogRecord, PV_STATUS_OK, PvOp, PvSlot } from "../../vmm/abi.ts";
import { type DriverCtx, STATUS_BAD_OP, emitSubmitExits, emitSubmitPrologue, emitWait } from "./driver-common.ts";
import { checkPosted, emitPvInit, emitPvRing, emitPvSubmitWait, repost } from "./pv-ring.ts";

export const RT_IO_REG = { CTRL: 0x04, STATUS: 0x08, INT_ENABLE: 0x0c, SEQ: 0x10, TS_LO: 0x14, TS_HI: 0x18, ACK: 0x20, ACTUATE: 0x28 } as const;
const CTRL_ENABLE = 1;
const INT_PENDING = 1;

export function emitRtIoDriver(c: DriverCtx): void {
  const { a } = c;
  const rec = c.l("irqrec");
  c.data((d) => {
    d.align(32);
    d.label(rec);
    d.dw(LogKind.IRQ, c.dev.index);
    d.times(LOG_RECORD_BYTES - 4);
  });
  /** Copy isr_tsc to the record's T0 and write the record to vCPU 0's ring. Clobbers EAX. */
  const logIrq = () => {
    a.mov(eax, dword("isr_tsc"));
    a.mov(dword(lbl(rec, LogRecord.T0)), eax);
    a.mov(eax, dword(lbl("isr_tsc", 4)));
    a.mov(dword(lbl(rec, LogRecord.T0 + 4)), eax);
    a.push(esi).push(edi);
    a.mov(esi, rec);
    a.mov(edi, dword("log_ring_vcpu0"));
    a.call("log_write");
    a.pop(edi).pop(esi);
  };

  if (c.dev.mode === "paravirtual") {
    emitPvRing(c);
    emitPvInit(c, () => {
      a.push(ebx);
      a.xor(ebx, ebx);
      a.xor(ecx, ecx);
      a.xor(edx, edx);
      repost(c, "wait_slot", PvOp.WAIT);
      a.call(c.l("pv_notify"));
      a.pop(ebx);
    });
    emitPvSubmitWait(c);

    a.label(`${c.p}_irq`);
    a.cmp(c.v("pv_ok"), 0);
    a.je(c.l("irq.ret0"));
    a.cmp(c.v("wait_dead"), 0);
    a.jne(c.l("irq.ret0"));
    a.push(ebx);
    checkPosted(c, "wait_slot", c.l("irq.none"));
    a.test(edx, edx);
    a.jz(c.l("irq.repost"));
    a.cmp(dword(edx, PvSlot.STATUS), PV_STATUS_OK);
    a.je(c.l("irq.event"));
    a.mov(c.v("wait_dead"), 1);
    a.mov(c.v("wait_slot"), 0);
    a.jmp(c.l("irq.none"));
    a.label(c.l("irq.event"));
    a.mov(ecx, dword(edx, PvSlot.RESULT));
    a.mov(dword(lbl(rec, LogRecord.V0)), ecx);
    a.mov(eax, dword(edx, PvSlot.ARG0));
    a.mov(dword(lbl(rec, LogRecord.T1)), eax);
    a.mov(eax, dword(edx, PvSlot.ARG1));
    a.mov(dword(lbl(rec, LogRecord.T1 + 4)), eax);
    a.mov(edx, ecx);
    a.xor(ebx, ebx);
    a.xor(ecx, ecx);
    a.mov(eax, PvOp.ACK);
    a.call(c.l("pv_post"));
    a.xor(edx, edx);
    repost(c, "wait_slot", PvOp.WAIT);
    a.call(c.l("pv_notify"));
    logIrq();
    a.pop(ebx);
    a.mov(eax, 1);
    a.ret();
    a.label(c.l("irq.repost"));
    a.xor(ebx, ebx);
    a.xor(ecx, ecx);
    a.xor(edx, edx);
    repost(c, "wait_slot", PvOp.WAIT);
    a.call(c.l("pv_notify"));
    a.label(c.l("irq.none"));
    a.pop(ebx);
    a.label(c.l("irq.ret0"));
    a.xor(eax, eax);
    a.ret();
    return;
  }

  a.label(`${c.p}_init`);
  c.wr(RT_IO_REG.INT_ENABLE, INT_PENDING);
  c.wr(RT_IO_REG.CTRL, CTRL_ENABLE);
  a.ret();

  emitSubmitPrologue(c);
  a.cmp(eax, PvOp.ACTUATE);
  a.jne(c.l("not_actuate"));
  c.wr(RT_IO_REG.ACTUATE, edx);
  a.jmp(c.l("done_now"));
  a.label(c.l("not_actuate"));
  a.cmp(eax, PvOp.ACK);
  a.jne(c.l("bad_op"));
  c.wr(RT_IO_REG.ACK, edx);
  a.label(c.l("done_now"));
  a.xor(eax, eax);
  a.jmp(c.l("done_imm"));
  a.label(c.l("bad_op"));
  a.mov(eax, STATUS_BAD_OP);
  a.jmp(c.l("done_imm"));
  emitSubmitExits(c);
  // Every register-mode op completes in submit: the wait only sees the immediate flag.
  emitWait(c, () => {});

  a.label(`${c.p}_irq`);
  c.rd(ecx, RT_IO_REG.SEQ);
  a.cmp(ecx, c.v("last_seq"));
  a.je(c.l("irq.spurious"));
  a.mov(c.v("last_seq"), ecx);
  a.mov(dword(lbl(rec, LogRecord.V0)), ecx);
  c.wr(RT_IO_REG.ACK, ecx);
  c.rd(edx, RT_IO_REG.TS_LO);
  a.mov(dword(lbl(rec, LogRecord.T1)), edx);
  c.rd(edx, RT_IO_REG.TS_HI);
  a.mov(dword(lbl(rec, LogRecord.T1 + 4)), edx);
  logIrq();
  a.mov(eax, 1);
  a.ret();
  a.label(c.l("irq.spurious"));
  a.xor(eax, eax);
  a.ret();
}
