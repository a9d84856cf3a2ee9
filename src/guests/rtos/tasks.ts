/**
 * The RTOS kernel's job bodies, one generated routine per task (`rtos_body<slot>`, called by rtos_sched with
 * EBX = TCB, EBP = the job frame, interrupts enabled; may clobber every register):
 * - a task: the work loop for its calibrated iterations over its own buffer, then its I/O operation if it
 *   has one, through the driver contract: drv<d>_submit (EAX = abi PvOp, EBX = buffer, ECX = bytes,
 *   EDX = arg0) retried while the driver answers busy (for at most IO_BUSY_RETRY_US), then drv<d>_wait.
 *   A `job` operation first builds a dsp job descriptor (src/devices/dsp.ts layout: INPUT_ADDR, INPUT_LEN,
 *   OUTPUT_ADDR, OP = 0 CRC32, PARAM, RESULT, STATUS, JOB_ID) at the start of the buffer, the input after it.
 *   arg0: 0 (block LBA 0), the job number for `actuate`.
 * - the cyclictest thread (after rt-tests' cyclictest: sleep to an absolute time, then read the clock): its
 *   first instruction is RDTSC; it logs WAKE (V0 = loop, T0 = target, T1 = the TSC read), advances the
 *   target by the interval and sleeps again (re-arming the timer if the next event changed).
 * Leaves out: I/O errors (the driver logs its IO record with the status; the job goes on).
 */
import { type Asm, dword, eax, ebp, ebx, ecx, edx, edi, esi, esp, lbl } from "../asm/index.ts";
import { LogKind, PvOp } from "../../vmm/abi.ts";
import { tcbField } from "./data.ts";
import { type KernelPlan, type PlannedTask, TaskKind, Tcb } from "./layout.ts";
import { emitRecord, kindId, R } from "./record.ts";
import { Frame } from "./scheduler.ts";

/** dsp job descriptor fields (src/devices/dsp.ts header; guests may not import devices). */
const Dsp = { INPUT_ADDR: 0, INPUT_LEN: 4, OUTPUT_ADDR: 8, OP: 12, PARAM: 16, RESULT: 20, STATUS: 24, JOB_ID: 28 } as const;
const DSP_OP_CRC32 = 0;
const DSP_INPUT_OFFSET = 64;

export function emitTaskBodies(a: Asm, k: KernelPlan): void {
  for (const t of k.tasks) {
    a.label(`rtos_body${t.slot}`);
    if (t.kind === TaskKind.CYCLICTEST) emitCyclictestBody(a, t);
    else emitTaskBody(a, k, t);
  }
}

function emitTaskBody(a: Asm, k: KernelPlan, t: PlannedTask): void {
  const buf = (add = 0) => lbl("bss", t.bufOff + add);
  a.mov(esi, buf()).mov(edi, buf(t.bufBytes));
  a.mov(ecx, dword(ebx, Tcb.ITERS));
  a.call("rtos_work");
  const io = t.io;
  if (io !== null) {
    const name = `rtos_body${t.slot}`;
    if (io.jobDescriptor) {
      const d = (f: number) => dword(buf(f));
      const out = DSP_INPUT_OFFSET + Math.ceil(io.bytes / 64) * 64;
      a.mov(d(Dsp.INPUT_ADDR), buf(DSP_INPUT_OFFSET));
      a.mov(d(Dsp.INPUT_LEN), io.bytes);
      a.mov(d(Dsp.OUTPUT_ADDR), buf(out));
      a.mov(d(Dsp.OP), DSP_OP_CRC32);
      for (const f of [Dsp.PARAM, Dsp.RESULT, Dsp.STATUS, Dsp.JOB_ID]) a.mov(d(f), 0);
    }
    a.rdtsc();
    a.add(eax, k.ioBusyTicks);
    a.adc(edx, 0);
    a.push(edx).push(eax); // give up after this TSC
    a.label(`${name}.submit`);
    a.mov(eax, io.op);
    a.mov(ebx, buf());
    a.mov(ecx, io.bytes);
    if (io.op === PvOp.ACTUATE) a.mov(edx, dword(ebp, Frame.JOBNO));
    else a.xor(edx, edx);
    a.call(`drv${io.device}_submit`);
    a.test(eax, eax);
    a.jz(`${name}.wait`);
    a.pause();
    a.rdtsc();
    a.cmp(eax, dword(esp));
    a.sbb(edx, dword(esp, 4));
    a.jb(`${name}.submit`);
    a.add(esp, 8);
    a.ret();
    a.label(`${name}.wait`);
    a.add(esp, 8);
    a.call(`drv${io.device}_wait`);
  }
  a.ret();
}

function emitCyclictestBody(a: Asm, t: PlannedTask): void {
  a.rdtsc(); // first: the wake-up time
  emitRecord(a, (a) => {
    a.mov(dword(esp, R.KIND_ID), kindId(LogKind.WAKE, t.index));
    a.mov(ecx, dword(ebp, Frame.JOBNO)).mov(dword(esp, R.V0), ecx);
    a.mov(ecx, dword(ebp, Frame.REL)).mov(dword(esp, R.T0), ecx);
    a.mov(ecx, dword(ebp, Frame.REL + 4)).mov(dword(esp, R.T0 + 4), ecx);
    a.mov(dword(esp, R.T1), eax).mov(dword(esp, R.T1 + 4), edx);
    a.mov(dword(esp, R.V1), 0).mov(dword(esp, R.V2), 0);
  });
  a.cli();
  const p = t.periodTicks;
  a.add(tcbField(t, Tcb.NEXT), p % 2 ** 32);
  a.adc(tcbField(t, Tcb.NEXT, 4), Math.floor(p / 2 ** 32));
  a.mov(tcbField(t, Tcb.SLEEPING), 1);
  a.call("rtos_timer_update");
  a.sti();
  a.ret();
}
