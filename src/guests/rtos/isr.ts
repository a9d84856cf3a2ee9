/**
 * The RTOS kernel's device interrupt service routines, one per device of the partition (`isr_dev<i>`, the
 * label probes look for, at the gate's entry). The entry saves EAX and EDX, then RDTSC (the interrupted code
 * may be a job or a driver spinning with a live EAX/EDX, so RDTSC cannot come before the two one-byte
 * pushes; the probe-vs-guest difference is those two stores), stores the TSC in `isr_tsc` for the driver,
 * saves the rest, calls drv<i>_irq, sends EOI (SDM Vol. 3A 10.8.5: the driver has quieted a level-triggered
 * source first), releases the sporadic tasks bound to the device once per event the driver reports
 * (EAX > 0), with the ISR's TSC as their release, runs the scheduler, restores and IRETDs.
 * Leaves out: interrupt priorities between devices (ISRs run with interrupts off; jobs with them on).
 */
import { type Asm, eax, ebp, ebx, ecx, edi, edx, esi } from "../asm/index.ts";
import { tcbLabel, varRef } from "./data.ts";
import { type KernelPlan, Lapic } from "./layout.ts";
import { apicReg } from "./timer.ts";

export function emitDeviceIsrs(a: Asm, k: KernelPlan): void {
  for (const d of k.env.devices) {
    const i = d.index;
    const name = `isr_dev${i}`;
    a.label(name);
    a.push(eax).push(edx);
    a.rdtsc();
    a.mov(varRef("isr_tsc"), eax);
    a.mov(varRef("isr_tsc", 4), edx);
    a.push(ecx).push(ebx).push(esi).push(edi).push(ebp);
    a.cld();
    a.call(`drv${i}_irq`);
    a.mov(apicReg(Lapic.EOI), 0);
    const bound = k.tasks.filter((t) => t.releasedBy === i);
    if (bound.length > 0) {
      a.mov(esi, eax);
      a.label(`${name}.rel`);
      a.test(esi, esi);
      a.jle(`${name}.sched`);
      for (const t of bound) {
        a.mov(ebx, tcbLabel(t));
        a.mov(eax, varRef("isr_tsc"));
        a.mov(edx, varRef("isr_tsc", 4));
        a.call("rtos_release");
      }
      a.dec(esi);
      a.jmp(`${name}.rel`);
      a.label(`${name}.sched`);
      a.call("rtos_sched");
    }
    a.pop(ebp).pop(edi).pop(esi).pop(ebx).pop(ecx);
    a.pop(edx).pop(eax);
    a.iretd();
  }
}
