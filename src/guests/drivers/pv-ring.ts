/**
 * The guest side of a paravirtual device (src/vmm/abi.ts "Paravirtual devices", PV_* and Hypercall): the
 * ring (64-byte aligned in the image, PV_RING_ENTRIES slots), HC_PV_SETUP at init, posting a request (fill
 * the slot at avail % entries, then increment AVAIL: x86 stores are seen in order, SDM Vol. 3A 8.2.2, so
 * the VMM never sees AVAIL before the slot), the HC_PV_NOTIFY doorbell, and the generic submit / wait /
 * irq of a PV device: submit posts one request and rings, wait polls that slot's STATUS (written by the
 * VMM before it increments USED) in guest memory, so waiting costs no VM exit and needs no interrupt.
 *
 * Posting is serialised by a ring lock (XCHG, SDM Vol. 3A 8.1.2.1) taken with interrupts off, so a submit
 * on any vCPU and the irq routine on vCPU 0 (which re-posts rt-io WAITs and nic RX buffers) never take
 * the same slot. A slot is reused only when USED has passed it (the ABI's rule); the driver checks its own
 * slot's STATUS rather than USED, so a VMM that completes a later request before an earlier one that
 * waits (an rt-io WAIT, a nic RX) still completes the later one at once.
 * Leaves out: batching several submits per doorbell (one operation in flight per device, see
 * driver-common.ts), ring resizing.
 */
import { dword, eax, ebx, ecx, edi, edx, esi, lbl } from "../asm/index.ts";
import { Hypercall, PV_RING_HEADER_BYTES, PV_SLOT_BYTES, PvRingHeader, PvSlot } from "../../vmm/abi.ts";
import { type DriverCtx, STATUS_DEVICE, emitSubmitExits, emitSubmitPrologue, emitWait, statusWordCheck } from "./driver-common.ts";

/** Slots per ring (a power of two, abi: 1 .. 256). */
export const PV_RING_ENTRIES = 64;
export const PV_RING_BYTES = PV_RING_HEADER_BYTES + PV_RING_ENTRIES * PV_SLOT_BYTES;

/** Declare the ring (data) and emit `${p}.pv_post` and `${p}.pv_notify`. */
export function emitPvRing(c: DriverCtx): void {
  const { a } = c;
  const ring = c.l("ring");
  c.data((d) => {
    d.align(64);
    d.label(ring);
    d.times(PV_RING_BYTES);
  });

  // pv_post: EAX = op, EBX = ADDR, ECX = LEN, EDX = ARG0 -> EAX = slot address, or 0 when the ring is full.
  // Preserves EBX, ESI, EDI, EBP and EFLAGS.IF; clobbers ECX, EDX.
  a.label(c.l("pv_post"));
  a.pushfd();
  a.cli();
  a.push(esi).push(edi);
  a.mov(esi, eax);
  a.label(c.l("pv_post.spin"));
  a.mov(eax, 1);
  a.xchg(eax, c.v("ring_lock"));
  a.test(eax, eax);
  a.jz(c.l("pv_post.locked"));
  a.pause();
  a.jmp(c.l("pv_post.spin"));
  a.label(c.l("pv_post.locked"));
  a.mov(edi, dword(lbl(ring, PvRingHeader.AVAIL)));
  a.mov(eax, edi);
  a.sub(eax, dword(lbl(ring, PvRingHeader.USED)));
  a.cmp(eax, PV_RING_ENTRIES);
  a.jae(c.l("pv_post.full"));
  a.mov(eax, edi);
  a.and(eax, PV_RING_ENTRIES - 1);
  a.shl(eax, 5); // * PV_SLOT_BYTES
  a.add(eax, lbl(ring, PV_RING_HEADER_BYTES));
  a.mov(dword(eax, PvSlot.OP), esi);
  a.mov(dword(eax, PvSlot.ID), edi);
  a.mov(dword(eax, PvSlot.ADDR), ebx);
  a.mov(dword(eax, PvSlot.LEN), ecx);
  a.mov(dword(eax, PvSlot.ARG0), edx);
  a.mov(dword(eax, PvSlot.ARG1), 0);
  a.mov(dword(eax, PvSlot.STATUS), 0);
  a.mov(dword(eax, PvSlot.RESULT), 0);
  a.inc(edi);
  a.mov(dword(lbl(ring, PvRingHeader.AVAIL)), edi);
  a.jmp(c.l("pv_post.unlock"));
  a.label(c.l("pv_post.full"));
  a.xor(eax, eax);
  a.label(c.l("pv_post.unlock"));
  a.mov(c.v("ring_lock"), 0);
  a.pop(edi).pop(esi);
  a.popfd();
  a.ret();

  // pv_notify: the doorbell. Clobbers EAX only.
  a.label(c.l("pv_notify"));
  a.push(ebx);
  a.mov(eax, Hypercall.PV_NOTIFY);
  a.mov(ebx, c.dev.index);
  a.vmcall();
  a.pop(ebx);
  a.ret();
}

/** `${p}_init` for a PV device: HC_PV_SETUP; `after` runs only when the VMM accepted the ring. */
export function emitPvInit(c: DriverCtx, after?: () => void): void {
  const { a } = c;
  a.label(`${c.p}_init`);
  a.push(ebx);
  a.mov(eax, Hypercall.PV_SETUP);
  a.mov(ebx, c.dev.index);
  a.mov(ecx, c.l("ring"));
  a.mov(edx, PV_RING_ENTRIES);
  a.vmcall();
  a.pop(ebx);
  a.test(eax, eax);
  a.jnz(c.l("init.out"));
  a.mov(c.v("pv_ok"), 1);
  after?.();
  a.label(c.l("init.out"));
  a.ret();
}

/**
 * The generic PV `${p}_submit` and `${p}_wait`: any op is posted as it comes (the VMM answers an op the
 * device does not have with PvError.BAD_OP); `slotLen` replaces the slot's LEN (dsp: the descriptor's size).
 */
export function emitPvSubmitWait(c: DriverCtx, opts: { slotLen?: number } = {}): void {
  const { a } = c;
  emitSubmitPrologue(c);
  a.cmp(c.v("pv_ok"), 0);
  a.jne(c.l("submit.post"));
  a.mov(eax, STATUS_DEVICE);
  a.jmp(c.l("done_imm"));
  a.label(c.l("submit.post"));
  if (opts.slotLen !== undefined) a.mov(ecx, opts.slotLen);
  a.call(c.l("pv_post"));
  a.test(eax, eax);
  a.jz(c.l("reject"));
  a.mov(c.v("slot"), eax);
  a.call(c.l("pv_notify"));
  a.jmp(c.l("accept"));
  emitSubmitExits(c);

  emitWait(c, () => {
    a.mov(edx, c.v("slot"));
    statusWordCheck(c, PvSlot.STATUS);
  });
}

/** A PV irq routine with nothing to hand back: the completion is seen by the wait in the ring. */
export function emitPvIrqNothing(c: DriverCtx): void {
  c.a.label(`${c.p}_irq`);
  c.a.xor(eax, eax);
  c.a.ret();
}

/**
 * Inside an irq routine (interrupts off): keep a long-lived request posted. `slotVar` holds its slot (0 = not
 * posted, e.g. the ring was full last time). If it is posted and its STATUS is still 0, go to `notDone`;
 * else fall through with EDX = the completed slot (or 0 if there was none) for the caller to consume,
 * and the caller then calls repost. Kept as two halves so that rt-io can read the slot before re-posting.
 */
export function checkPosted(c: DriverCtx, slotVar: string, notDone: string): void {
  const { a } = c;
  a.mov(edx, c.v(slotVar));
  a.test(edx, edx);
  a.jz(`${notDone}.empty`);
  a.cmp(dword(edx, PvSlot.STATUS), 0);
  a.je(notDone);
  a.label(`${notDone}.empty`);
}

/** Post (op, EBX = addr, ECX = len, EDX = arg0) and remember the slot in `slotVar` (0 if the ring was full). */
export function repost(c: DriverCtx, slotVar: string, op: number): void {
  const { a } = c;
  a.mov(eax, op);
  a.call(c.l("pv_post"));
  a.mov(c.v(slotVar), eax);
}

/** Guest-physical address of slot `index` of a ring at `ring` (for tests and test VMMs). */
export function slotAddress(ring: number, index: number): number {
  return ring + PV_RING_HEADER_BYTES + (index % PV_RING_ENTRIES) * PV_SLOT_BYTES;
}
