/**
 * The RTOS kernel's tickless timer on the local APIC (SDM Vol. 3A 10.5.4): one event armed at a time, the
 * earliest of the periodic tasks' next releases and the cyclictest thread's target. `rtos_timer_update`
 * computes that TSC and programs the timer only when it differs from what is armed (under a VMM each timer
 * write may be a VM exit, so one write per event): TSC-deadline mode (LVT timer mode 10b, 10.5.4.1) writes
 * the absolute TSC to IA32_TSC_DEADLINE; one-shot mode (divide by 1) writes the initial count
 * ceil((target - now) * apicTimerHz / tscHz), at least 1, so it never fires before the target. The timer
 * ISR marks nothing armed, releases every job whose time has come and reprograms.
 * Also the local APIC set-up: software enable with the spurious vector (SVR, 10.9), the LVT timer and the
 * divide configuration. EOI: a write of 0 to FEE000B0H (10.8.5).
 * Leaves out: the periodic APIC timer mode (releases are absolute TSC times, so nothing drifts).
 */
import { type Asm, dword, eax, ebp, ebx, ecx, edi, edx, esi } from "../asm/index.ts";
import { GUEST_APIC_GPA } from "../../vmm/abi.ts";
import { tcbField, tcbLabel, varRef } from "./data.ts";
import {
  DIVIDE_BY_1, type KernelPlan, Lapic, LVT_TSC_DEADLINE, MSR_TSC_DEADLINE, SPURIOUS_VECTOR, TaskKind, Tcb, TIMER_VECTOR,
} from "./layout.ts";

export const apicReg = (offset: number) => dword(GUEST_APIC_GPA + offset);

export function emitLapicSetup(a: Asm, k: KernelPlan): void {
  a.label("rtos_setup_lapic");
  a.mov(apicReg(Lapic.SVR), 0x100 | SPURIOUS_VECTOR);
  if (k.tscDeadline) {
    a.mov(apicReg(Lapic.LVT_TIMER), LVT_TSC_DEADLINE | TIMER_VECTOR);
  } else {
    a.mov(apicReg(Lapic.TIMER_DIVIDE), DIVIDE_BY_1);
    a.mov(apicReg(Lapic.LVT_TIMER), TIMER_VECTOR);
  }
  a.ret();
}

/** rtos_timer_update (IF = 0): program the next event if it changed. Clobbers EAX, EBX, ECX, EDX. */
export function emitTimerUpdate(a: Asm, k: KernelPlan): void {
  a.label("rtos_timer_update");
  a.push(esi);
  a.mov(eax, -1);
  a.mov(edx, -1);
  for (const t of k.tasks) {
    if (t.kind === TaskKind.SPORADIC) continue;
    const skip = `rtos_timer_update.n${t.slot}`;
    if (t.kind === TaskKind.CYCLICTEST) {
      a.cmp(tcbField(t, Tcb.SLEEPING), 0);
      a.je(skip);
    }
    // take NEXT when NEXT < EDX:EAX (the borrow of NEXT - EDX:EAX)
    a.mov(ebx, tcbField(t, Tcb.NEXT));
    a.mov(ecx, tcbField(t, Tcb.NEXT, 4));
    a.cmp(ebx, eax);
    a.mov(esi, ecx);
    a.sbb(esi, edx);
    a.jae(skip);
    a.mov(eax, ebx);
    a.mov(edx, ecx);
    a.label(skip);
  }
  a.cmp(eax, varRef("rtos_armed"));
  a.jne("rtos_timer_update.prog");
  a.cmp(edx, varRef("rtos_armed", 4));
  a.je("rtos_timer_update.out");
  a.label("rtos_timer_update.prog");
  a.mov(varRef("rtos_armed"), eax);
  a.mov(varRef("rtos_armed", 4), edx);
  a.mov(ecx, eax);
  a.and(ecx, edx);
  a.cmp(ecx, -1);
  a.je("rtos_timer_update.out"); // nothing to wait for
  if (k.tscDeadline) {
    a.mov(ecx, MSR_TSC_DEADLINE);
    a.wrmsr();
  } else {
    a.mov(ebx, eax);
    a.mov(esi, edx);
    a.rdtsc();
    a.sub(ebx, eax);
    a.sbb(esi, edx); // target - now
    a.jb("rtos_timer_update.one"); // already due
    a.test(esi, esi);
    a.jnz("rtos_timer_update.max"); // 2^32 TSC ticks or more away
    a.mov(eax, ebx);
    a.mov(ecx, k.timerNum);
    a.mul(ecx);
    a.add(eax, k.timerDen - 1);
    a.adc(edx, 0);
    a.mov(ecx, k.timerDen);
    a.div(ecx);
    a.test(eax, eax);
    a.jnz("rtos_timer_update.write");
    a.label("rtos_timer_update.one");
    a.mov(eax, 1);
    a.jmp("rtos_timer_update.write");
    a.label("rtos_timer_update.max"); // the count of 2^32 - 1 TSC ticks: fires early, the ISR re-arms
    a.mov(eax, Math.max(1, Math.floor(((2 ** 32 - 1) * k.timerNum) / k.timerDen)));
    a.label("rtos_timer_update.write");
    a.mov(apicReg(Lapic.TIMER_INITIAL), eax);
  }
  a.label("rtos_timer_update.out");
  a.pop(esi);
  a.ret();
}

/**
 * isr_timer: the timer interrupt. The first two instructions save EAX and EDX (RDTSC overwrites them), the
 * third is RDTSC (the entry time, kept in rtos_timer_tsc); then EOI, releases, reprogramming and the
 * scheduler, which runs the released jobs nested here with interrupts enabled (OSEK BCC1).
 */
export function emitTimerIsr(a: Asm, k: KernelPlan): void {
  a.label("isr_timer");
  a.push(eax).push(edx);
  a.rdtsc();
  a.mov(varRef("rtos_timer_tsc"), eax);
  a.mov(varRef("rtos_timer_tsc", 4), edx);
  a.push(ecx).push(ebx).push(esi).push(edi).push(ebp);
  a.cld();
  a.mov(apicReg(Lapic.EOI), 0);
  a.mov(varRef("rtos_armed"), -1);
  a.mov(varRef("rtos_armed", 4), -1);
  a.rdtsc();
  a.mov(edi, eax);
  a.mov(ebp, edx); // now, in EBP:EDI
  for (const t of k.tasks) {
    if (t.kind === TaskKind.SPORADIC) continue;
    const top = `isr_timer.t${t.slot}`, done = `isr_timer.d${t.slot}`;
    if (t.kind === TaskKind.CYCLICTEST) a.cmp(tcbField(t, Tcb.SLEEPING), 0).je(done);
    a.label(top);
    a.mov(eax, tcbField(t, Tcb.NEXT));
    a.mov(edx, tcbField(t, Tcb.NEXT, 4));
    a.cmp(edi, eax);
    a.mov(ecx, ebp);
    a.sbb(ecx, edx);
    a.jb(done); // now < NEXT
    a.mov(ebx, tcbLabel(t));
    if (t.kind === TaskKind.CYCLICTEST) {
      a.mov(tcbField(t, Tcb.SLEEPING), 0); // its body advances NEXT and sleeps again
      a.call("rtos_release");
    } else {
      a.call("rtos_release");
      const p = t.periodTicks;
      a.add(tcbField(t, Tcb.NEXT), p % 2 ** 32);
      a.adc(tcbField(t, Tcb.NEXT, 4), Math.floor(p / 2 ** 32));
      a.jmp(top);
    }
    a.label(done);
  }
  a.call("rtos_timer_update");
  a.call("rtos_sched");
  a.pop(ebp).pop(edi).pop(esi).pop(ebx).pop(ecx);
  a.pop(edx).pop(eax);
  a.iretd();
}
