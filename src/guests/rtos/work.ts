/**
 * The RTOS kernel's unit of execution time: the work loop, which touches one 64-byte cache line per
 * iteration (a read and a write) walking a buffer round and round, so that a job's time depends on where
 * its working set lives in the cache hierarchy. At boot the loop is timed with RDTSC for CALIB_ITERATIONS
 * iterations over a warmed, L1-resident 4 KiB buffer; iterations per microsecond (x1000) follow, and every
 * task's iterations per job (workUs worth) are fixed then, never recalibrated: a slower memory system (a
 * thrashing neighbour, fewer cache ways) shows up as a longer job, as on hardware.
 * Leaves out: TSC frequency measurement (the TSC rate is given at build time: GuestEnv.tscHz, also
 * HC_TSC_KHZ under the VMM); cache-line sizes other than 64 bytes.
 */
import { type Asm, dword, eax, ecx, edi, edx, esi, lbl } from "../asm/index.ts";
import { tcbField, varRef } from "./data.ts";
import { CALIB_BYTES, CALIB_ITERATIONS, type KernelPlan, TaskKind, Tcb } from "./layout.ts";

export const LINE_BYTES = 64;

/** rtos_work: ESI = buffer start, EDI = buffer end (a multiple of 64 bytes after ESI), ECX = iterations.
 * Clobbers EAX, ECX, EDX, ESI. */
export function emitWorkLoop(a: Asm): void {
  a.label("rtos_work");
  a.test(ecx, ecx);
  a.jz("rtos_work.done");
  a.mov(edx, esi);
  a.label("rtos_work.loop");
  a.mov(eax, dword(esi));
  a.add(eax, ecx);
  a.mov(dword(esi), eax);
  a.add(esi, LINE_BYTES);
  a.cmp(esi, edi);
  a.jb("rtos_work.next");
  a.mov(esi, edx);
  a.label("rtos_work.next");
  a.dec(ecx);
  a.jnz("rtos_work.loop");
  a.label("rtos_work.done");
  a.ret();
}

/** rtos_calibrate: sets rtos_wpu and rtos_calib_cycles, then every task's ITERS. Clobbers EAX-EDX, ESI, EDI. */
export function emitCalibration(a: Asm, k: KernelPlan): void {
  const buf = lbl("bss", k.bss.calib), end = lbl("bss", k.bss.calib + CALIB_BYTES);
  a.label("rtos_calibrate");
  a.mov(esi, buf).mov(edi, end).mov(ecx, 2 * (CALIB_BYTES / LINE_BYTES)); // warm the buffer and the loop
  a.call("rtos_work");
  a.rdtsc();
  a.push(eax);
  a.mov(esi, buf).mov(edi, end).mov(ecx, CALIB_ITERATIONS);
  a.call("rtos_work");
  a.rdtsc();
  a.pop(ecx);
  a.sub(eax, ecx); // ticks (the loop takes far less than 2^32)
  a.mov(varRef("rtos_calib_cycles"), eax);
  a.mov(ecx, eax);
  // iterations per ms = CALIB_ITERATIONS * tscKhz / ticks = iterations per µs x 1000
  a.mov(eax, CALIB_ITERATIONS);
  a.mov(edx, k.tscKhz);
  a.mul(edx);
  a.div(ecx);
  a.mov(varRef("rtos_wpu"), eax);
  for (const t of k.tasks) {
    if (t.kind === TaskKind.CYCLICTEST) continue;
    // ITERS = WORK_NS * wpu / 10^6
    a.mov(eax, varRef("rtos_wpu"));
    a.mov(ecx, t.workNs);
    a.mul(ecx);
    a.mov(ecx, 1_000_000);
    a.div(ecx);
    a.mov(tcbField(t, Tcb.ITERS), eax);
  }
  a.ret();
}
