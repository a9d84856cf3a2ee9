/**
 * The RTOS kernel assembled: boot (boot.ts), IDT and exception handling (idt.ts), local APIC and tickless
 * timer (timer.ts), scheduler (scheduler.ts), job bodies (tasks.ts), work loop and calibration (work.ts),
 * device ISRs (isr.ts), the result-log routines (log-ring.ts) and the partition's drivers (emitted by the
 * caller's `emitDrivers`, src/guests/drivers), linked at GUEST_IMAGE_GPA (abi.ts). The kernel defines
 * `isr_tsc` and `log_ring_vcpu0` for the drivers and calls drv<i>_init / _submit / _wait / _irq.
 * Follows the abi.ts boot state; the SDM sections are in each part's header. Leaves out: what those leave out.
 */
import { Asm, eax, edx } from "../asm/index.ts";
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { GUEST_IMAGE_GPA } from "../../vmm/abi.ts";
import { emitLogLib } from "./log-ring.ts";
import type { RtosSpec } from "./config.ts";
import { emitBoot } from "./boot.ts";
import { emitBssLabel, emitData, tcbField, varRef } from "./data.ts";
import { emitIdt } from "./idt.ts";
import { emitDeviceIsrs } from "./isr.ts";
import { type KernelPlan, LOG_BYTES, planKernel, TaskKind, Tcb } from "./layout.ts";
import { emitRelease, emitScheduler } from "./scheduler.ts";
import { emitTaskBodies } from "./tasks.ts";
import { emitLapicSetup, emitTimerIsr, emitTimerUpdate } from "./timer.ts";
import { emitCalibration, emitWorkLoop } from "./work.ts";

/** What emits the drv<i>_* routines for env.devices (src/guests/drivers/index.ts emitDrivers). */
export type DriverEmitter = (a: Asm, env: GuestEnv) => void;

export function buildRtosKernel(spec: RtosSpec, env: GuestEnv, emitDrivers: DriverEmitter): GuestImage {
  const k = planKernel(spec, env);
  const a = new Asm({ bits: 32, origin: GUEST_IMAGE_GPA });
  a.entry("rtos_entry");
  emitBoot(a, k, (a) => {
    a.call("rtos_setup_idt");
    a.call("rtos_setup_lapic");
    a.call("rtos_calibrate");
    for (const d of env.devices) a.call(`drv${d.index}_init`);
    emitKernelStart(a, k);
  });
  emitIdt(a, k);
  emitLapicSetup(a, k);
  emitTimerUpdate(a, k);
  emitTimerIsr(a, k);
  emitDeviceIsrs(a, k);
  emitRelease(a, k);
  emitScheduler(a, k);
  emitTaskBodies(a, k);
  emitWorkLoop(a);
  emitCalibration(a, k);
  emitLogLib(a);
  emitData(a, k);
  // The drivers' code and their variables on pages of their own, after the kernel's data (a store to a page
  // that holds decoded code takes the model's self-modifying-code check).
  a.align(4096);
  emitDrivers(a, env);
  emitBssLabel(a);
  const img = a.build();
  const bss = img.symbols.bss;
  if (bss + k.bss.end > env.memoryBytes) {
    throw new Error(`rtos: the kernel needs ${bss + k.bss.end} bytes of guest memory (image, log rings, stacks, `
      + `task buffers); the partition has ${env.memoryBytes}`);
  }
  return {
    bytes: img.bytes,
    loadGpa: GUEST_IMAGE_GPA,
    entry: img.entry,
    symbols: img.symbols,
    logGpa: bss + k.bss.logs,
    logBytes: LOG_BYTES,
    tasks: spec.tasks.map((t) => t.name),
  };
}

/** The task clock starts: periodic tasks release at start + k * period (k = 0 now), the cyclictest thread
 * sleeps to start + interval; the timer is armed for the first event. Interrupts still off. */
function emitKernelStart(a: Asm, k: KernelPlan): void {
  a.mov(varRef("rtos_cur_key"), -1);
  a.mov(varRef("rtos_cur_key", 4), -1);
  a.mov(varRef("rtos_armed"), -1);
  a.mov(varRef("rtos_armed", 4), -1);
  a.rdtsc();
  a.mov(varRef("rtos_start"), eax);
  a.mov(varRef("rtos_start", 4), edx);
  for (const t of k.tasks) {
    if (t.kind === TaskKind.PERIODIC) {
      a.mov(tcbField(t, Tcb.NEXT), eax);
      a.mov(tcbField(t, Tcb.NEXT, 4), edx);
    } else if (t.kind === TaskKind.CYCLICTEST) {
      a.mov(tcbField(t, Tcb.NEXT), eax);
      a.mov(tcbField(t, Tcb.NEXT, 4), edx);
      a.add(tcbField(t, Tcb.NEXT), t.periodTicks % 2 ** 32);
      a.adc(tcbField(t, Tcb.NEXT, 4), Math.floor(t.periodTicks / 2 ** 32));
      a.mov(tcbField(t, Tcb.SLEEPING), 1);
    }
  }
  a.call("rtos_timer_update");
}
