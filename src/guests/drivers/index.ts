/**
 * The guest device drivers (issue 6 "Guests": drivers for uart, rt-io, block, nic and dsp in all three
 * modes, one API). `emitDrivers(a, env)` emits, for every env.devices[i], four routines:
 *
 *   drv<i>_init    at boot, interrupts off: enable the device and its interrupt; paravirtual: the ring and
 *                  HC_PV_SETUP (plus posted rt-io WAIT / nic RX requests)
 *   drv<i>_submit  EAX = op (abi PvOp), EBX = buffer GPA, ECX = bytes, EDX = arg0 -> EAX = 0 accepted,
 *                  1 busy (an operation of this device is in flight: one at a time, on any vCPU)
 *   drv<i>_wait    spin (PAUSE) until that operation completed -> EAX = status (0 ok, else
 *                  abi PV_STATUS_ERROR | PvError code << 8); works with interrupts on or off, on any vCPU
 *                  (it polls the device's completion in memory, or its STATUS register at a slow rate);
 *                  writes the LogKind.IO record (T0 = submit TSC, T1 = the TSC when it saw completion)
 *   drv<i>_irq     from the kernel's ISR for env.devices[i].vector, interrupts off, on vCPU 0: handle and
 *                  clear the device's interrupt -> EAX = releases for sporadic tasks (rt-io: 1 per event)
 *
 * All four preserve EBX, ESI, EDI, EBP and may clobber EAX, ECX, EDX. They need from the program:
 * `log_write` (rtos/log-ring.ts), `log_ring_vcpu0` (dword: vCPU 0's ring) and `isr_tsc` (8 bytes: the TSC
 * the ISR took first). Exclusive and emulated devices run the same register code (the VMM decides whether an
 * access exits); paravirtual ones use a ring and VMCALL (pv-ring.ts). Per device type: rt-io-driver.ts,
 * block-driver.ts, nic-driver.ts, dsp-driver.ts, uart-driver.ts; shared parts: driver-common.ts.
 * Leaves out: several operations in flight per device, device discovery (the build-time env says it all).
 */
import type { Asm } from "../asm/index.ts";
import type { GuestEnv } from "../guest-env.ts";
import { DriverCtx, type DriverOptions, vcpu0LogRing } from "./driver-common.ts";
import { emitBlockDriver } from "./block-driver.ts";
import { emitDspDriver } from "./dsp-driver.ts";
import { emitNicDriver } from "./nic-driver.ts";
import { emitRtIoDriver } from "./rt-io-driver.ts";
import { emitUartDriver } from "./uart-driver.ts";

export type { DriverOptions } from "./driver-common.ts";

const EMITTERS = {
  "rt-io": emitRtIoDriver,
  block: emitBlockDriver,
  nic: emitNicDriver,
  dsp: emitDspDriver,
  uart: emitUartDriver,
} as const;

/** Emit the drivers of every device of `env` at the current position of `a` (code, then their data on
 * 64-byte aligned lines of their own). */
export function emitDrivers(a: Asm, env: GuestEnv, opts: DriverOptions = {}): void {
  const ctxs: DriverCtx[] = [];
  env.devices.forEach((dev, i) => {
    if (dev.index !== i) throw new Error(`emitDrivers: device '${dev.name}' has index ${dev.index} at position ${i}`);
    const c = new DriverCtx(a, dev, env, opts.logRing ?? vcpu0LogRing);
    EMITTERS[dev.type](c);
    ctxs.push(c);
  });
  for (const c of ctxs) c.emitData(a);
}

/** The labels a program calls for device i. */
export const driverLabels = (i: number) => ({
  init: `drv${i}_init`, submit: `drv${i}_submit`, wait: `drv${i}_wait`, irq: `drv${i}_irq`,
});
