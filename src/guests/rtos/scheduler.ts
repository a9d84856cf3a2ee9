/**
 * The RTOS kernel's scheduler: fixed-priority preemptive (higher `priority` first) or EDF (earliest absolute
 * deadline first; Liu & Layland 1973), both as one rule: every released job has a 64-bit key (EDF: its
 * absolute deadline in TSC ticks; fixed priority: its priority's rank, 0 = highest) and the job with the
 * smallest key runs, preempting the running job only when its key is strictly smaller (ties: the lower
 * task index; equal priorities never preempt each other).
 * Jobs run to completion on the one kernel stack (OSEK/VDX OS 2.2.3 basic tasks, conformance class BCC1:
 * one activation per task, no waiting): `rtos_sched` is called with interrupts off by an ISR (after EOI) and
 * dispatches each job that beats the running one as a nested call with interrupts enabled; when it returns,
 * it logs the JOB record and looks again, and returns to the ISR (which IRETs to the preempted job) when
 * nothing beats the job it interrupted. A release while the task's previous job still waits (not started)
 * skips that job (SKIP record), so a job is never queued twice.
 * Leaves out: BCC2/ECC (multiple activations, waiting tasks, per-task stacks), resources and priority ceiling.
 */
import { type Asm, cl, dword, eax, ebp, ebx, ecx, edi, edx, esi, esp } from "../asm/index.ts";
import { LogKind } from "../../vmm/abi.ts";
import { varRef } from "./data.ts";
import { type KernelPlan, TaskKind, Tcb, TCB_BYTES } from "./layout.ts";
import { emitRecord, R } from "./record.ts";

/** The job frame rtos_sched pushes (EBP points at it while the body runs). */
export const Frame = { START: 0, JOBNO: 8, REL: 12, DL: 20, TCB: 28, SAVED_KEY: 32 } as const;
const FRAME_JOB_BYTES = 32; // START .. TCB

/**
 * rtos_release (IF = 0): EBX = TCB, EDX:EAX = the release TSC. Skips a job still waiting, then makes the
 * new one wait with its absolute deadline and key. Preserves EBX, ESI, EDI, EBP; clobbers EAX, ECX, EDX.
 */
export function emitRelease(a: Asm, k: KernelPlan): void {
  a.label("rtos_release");
  a.cmp(dword(ebx, Tcb.PENDING), 0);
  a.je("rtos_release.fresh");
  emitRecord(a, (a) => {
    a.mov(ecx, dword(ebx, Tcb.INDEX));
    a.shl(ecx, 16);
    a.or(ecx, LogKind.SKIP);
    a.mov(dword(esp, R.KIND_ID), ecx);
    a.mov(ecx, dword(ebx, Tcb.PEND_JOBNO));
    a.mov(dword(esp, R.V0), ecx);
    a.mov(ecx, dword(ebx, Tcb.PEND_REL)).mov(dword(esp, R.T0), ecx);
    a.mov(ecx, dword(ebx, Tcb.PEND_REL + 4)).mov(dword(esp, R.T0 + 4), ecx);
    a.mov(dword(esp, R.T1), eax).mov(dword(esp, R.T1 + 4), edx); // the release that skipped it
    a.mov(dword(esp, R.V1), 0).mov(dword(esp, R.V2), 0);
  });
  a.label("rtos_release.fresh");
  a.inc(dword(ebx, Tcb.JOBS));
  a.mov(ecx, dword(ebx, Tcb.JOBS));
  a.mov(dword(ebx, Tcb.PEND_JOBNO), ecx);
  a.mov(dword(ebx, Tcb.PEND_REL), eax);
  a.mov(dword(ebx, Tcb.PEND_REL + 4), edx);
  a.add(eax, dword(ebx, Tcb.DEADLINE));
  a.adc(edx, dword(ebx, Tcb.DEADLINE + 4));
  a.mov(dword(ebx, Tcb.PEND_DL), eax);
  a.mov(dword(ebx, Tcb.PEND_DL + 4), edx);
  if (k.edf) {
    a.mov(dword(ebx, Tcb.PEND_KEY), eax);
    a.mov(dword(ebx, Tcb.PEND_KEY + 4), edx);
  } else {
    a.mov(ecx, dword(ebx, Tcb.RANK));
    a.mov(dword(ebx, Tcb.PEND_KEY), ecx);
    a.mov(dword(ebx, Tcb.PEND_KEY + 4), 0);
  }
  a.mov(dword(ebx, Tcb.PENDING), 1);
  a.ret();
}

/** rtos_sched (IF = 0, returns with IF = 0): run every waiting job that beats the running one. Clobbers
 * EAX, EBX, ECX, EDX, ESI, EDI, EBP. */
export function emitScheduler(a: Asm, k: KernelPlan): void {
  const n = k.tasks.length;
  a.label("rtos_sched");
  if (n === 0) {
    a.ret();
    return;
  }
  a.label("rtos_sched.loop");
  a.mov(eax, varRef("rtos_cur_key"));
  a.mov(edx, varRef("rtos_cur_key", 4));
  a.xor(ebx, ebx);
  a.mov(esi, "rtos_tcbs");
  a.mov(ecx, n);
  a.label("rtos_sched.scan");
  a.cmp(dword(esi, Tcb.PENDING), 0);
  a.je("rtos_sched.next");
  a.mov(edi, dword(esi, Tcb.PEND_KEY));
  a.cmp(edi, eax);
  a.mov(edi, dword(esi, Tcb.PEND_KEY + 4));
  a.sbb(edi, edx);
  a.jae("rtos_sched.next"); // key >= best
  a.mov(eax, dword(esi, Tcb.PEND_KEY));
  a.mov(edx, dword(esi, Tcb.PEND_KEY + 4));
  a.mov(ebx, esi);
  a.label("rtos_sched.next");
  a.add(esi, TCB_BYTES);
  a.dec(ecx);
  a.jnz("rtos_sched.scan");
  a.test(ebx, ebx);
  a.jnz("rtos_sched.dispatch");
  a.ret();

  a.label("rtos_sched.dispatch");
  a.push(varRef("rtos_cur_key", 4));
  a.push(varRef("rtos_cur_key"));
  a.mov(varRef("rtos_cur_key"), eax);
  a.mov(varRef("rtos_cur_key", 4), edx);
  a.mov(dword(ebx, Tcb.PENDING), 0);
  a.push(ebx);
  a.push(dword(ebx, Tcb.PEND_DL + 4)).push(dword(ebx, Tcb.PEND_DL));
  a.push(dword(ebx, Tcb.PEND_REL + 4)).push(dword(ebx, Tcb.PEND_REL));
  a.push(dword(ebx, Tcb.PEND_JOBNO));
  a.rdtsc();
  a.push(edx).push(eax); // start
  a.mov(ebp, esp);
  a.sti();
  a.call(dword(ebx, Tcb.BODY)); // EBX = TCB, EBP = the frame; may clobber every register
  a.cli();
  a.rdtsc(); // finish
  a.mov(ebx, dword(esp, Frame.TCB));
  a.cmp(dword(ebx, Tcb.KIND), TaskKind.CYCLICTEST);
  a.je("rtos_sched.done"); // the cyclictest thread writes WAKE records itself
  const f = (field: number) => dword(esp, 32 + field); // the frame while the record is built
  emitRecord(a, (a) => {
    a.mov(ecx, dword(ebx, Tcb.INDEX));
    a.shl(ecx, 16);
    a.or(ecx, LogKind.JOB);
    a.mov(dword(esp, R.KIND_ID), ecx);
    a.mov(ecx, f(Frame.JOBNO)).mov(dword(esp, R.V0), ecx);
    a.mov(ecx, f(Frame.REL)).mov(dword(esp, R.T0), ecx);
    a.mov(ecx, f(Frame.REL + 4)).mov(dword(esp, R.T0 + 4), ecx);
    a.mov(dword(esp, R.T1), eax).mov(dword(esp, R.T1 + 4), edx);
    // missed: deadline < finish (the borrow of DL - finish)
    a.mov(ecx, f(Frame.DL));
    a.cmp(ecx, eax);
    a.mov(ecx, f(Frame.DL + 4));
    a.sbb(ecx, edx);
    a.setb(cl);
    a.movzx(ecx, cl);
    a.mov(dword(esp, R.V1), ecx);
    // start - release, saturated to 32 bits
    a.mov(eax, f(Frame.START));
    a.mov(edx, f(Frame.START + 4));
    a.sub(eax, f(Frame.REL));
    a.sbb(edx, f(Frame.REL + 4));
    a.jz("rtos_sched.fits");
    a.mov(eax, -1);
    a.label("rtos_sched.fits");
    a.mov(dword(esp, R.V2), eax);
  });
  a.label("rtos_sched.done");
  a.add(esp, FRAME_JOB_BYTES);
  a.pop(varRef("rtos_cur_key"));
  a.pop(varRef("rtos_cur_key", 4));
  a.jmp("rtos_sched.loop");
}
