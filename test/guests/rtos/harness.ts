/**
 * Test harness for the RTOS guest kernel: builds it with stand-in drivers (the driver contract of
 * src/guests/rtos/kernel.ts, implemented minimally here, in the tests only), runs it bare-metal on a
 * one-core Skylake machine (the physical local APIC's TSC-deadline and one-shot timers are real there) in
 * the abi.ts boot state, and reads the result-log rings back from RAM (abi.ts LogRecord layout).
 */
import { Machine } from "../../../src/cpu/machine.ts";
import { getProfile } from "../../../src/cpu/profiles/index.ts";
import { Asm, cr0, cr3, cr4, dword, eax, edx, lbl } from "../../../src/guests/asm/index.ts";
import type { GuestDevice, GuestEnv, GuestImage } from "../../../src/guests/guest-env.ts";
import type { RtosSpec, RtosTaskSpec } from "../../../src/guests/rtos/config.ts";
import { buildRtosKernel } from "../../../src/guests/rtos/kernel.ts";
import {
  BOOT_STACK_TOP, DEVICE_VECTOR_BASE, IDENTITY_PD_GPA, LOG_HEADER_BYTES, LOG_RECORD_BYTES, LogHeader, MULTIBOOT_BOOT_MAGIC,
} from "../../../src/vmm/abi.ts";

export const PROFILE = getProfile("skylake");
export const TSC_HZ = PROFILE.tscHz;
export const usToTicks = (us: number) => Math.round((us * TSC_HZ) / 1e6);

export interface LogEntry {
  kind: number; id: number; v0: number; t0: number; t1: number; v1: number; v2: number;
}

export interface RingView {
  magic: number; capacity: number; head: number; dropped: number; tscKhz: number; workPerUsX1000: number;
  records: LogEntry[];
}

/**
 * Stand-in drivers: drv<i>_irq reports one release per interrupt; drv<i>_submit starts an "operation" that
 * completes `ioLatencyUs` later by the TSC, and drv<i>_wait spins (PAUSE) until then. All preserve EBX, ESI,
 * EDI, EBP, as the contract says.
 */
export function standInDrivers(ioLatencyUs = 0) {
  return (a: Asm, env: GuestEnv): void => {
    for (const d of env.devices) {
      const i = d.index;
      a.label(`drv${i}_init`).ret();
      a.label(`drv${i}_irq`);
      a.insn("inc", dword(lbl(`drv${i}_irqs`)));
      a.mov(eax, 1).ret();
      a.label(`drv${i}_submit`);
      a.rdtsc();
      a.add(eax, usToTicks(ioLatencyUs)).adc(edx, 0);
      a.mov(dword(lbl(`drv${i}_done`)), eax).mov(dword(lbl(`drv${i}_done`, 4)), edx);
      a.insn("inc", dword(lbl(`drv${i}_ops`)));
      a.mov(eax, 0).ret();
      a.label(`drv${i}_wait`);
      a.pause();
      a.rdtsc();
      a.cmp(eax, dword(lbl(`drv${i}_done`)));
      a.sbb(edx, dword(lbl(`drv${i}_done`, 4)));
      a.jb(`drv${i}_wait`);
      a.mov(eax, 0).ret();
      a.align(64);
      a.label(`drv${i}_done`).dd(0, 0);
      a.label(`drv${i}_irqs`).dd(0);
      a.label(`drv${i}_ops`).dd(0);
      a.align(64);
    }
  };
}

export function device(index: number, name = `dev${index}`): GuestDevice {
  return { index, name, type: "rt-io", mode: "exclusive", vector: DEVICE_VECTOR_BASE + index, mmioGpa: null, port: null };
}

export function envFor(devices: GuestDevice[] = [], vcpus = 1): GuestEnv {
  return { vcpus, memoryBytes: 16 << 20, tscHz: TSC_HZ, apicTimerHz: PROFILE.apicTimerHz, devices };
}

export function task(name: string, t: Partial<RtosTaskSpec> & { periodUs: number; workUs: number; priority: number }): RtosTaskSpec {
  return {
    name, kind: "periodic", deadlineUs: t.periodUs, workingSetKiB: 4, device: null, io: null, ...t,
  };
}

export function spec(tasks: RtosTaskSpec[], more: Partial<RtosSpec> = {}): RtosSpec {
  return { scheduler: "fixed-priority", timer: "tsc-deadline", tasks, cyclictest: null, ...more };
}

export interface Run {
  m: Machine;
  image: GuestImage;
  stop: string;
  rings: RingView[];
  /** Ring 0's records. */
  log: LogEntry[];
  /** The kernel's start TSC (rtos_start): periodic releases are at start + k * period. */
  start: number;
}

/**
 * Build, load at image.loadGpa, enter in the abi.ts boot state, run until the kernel has started its task
 * clock (rtos_start set), call `setup` with that TSC (to schedule interrupts relative to it), then run until
 * `durationUs` after it.
 */
export function runRtos(s: RtosSpec, env: GuestEnv, durationUs: number, opts: {
  ioLatencyUs?: number;
  setup?: (m: Machine, image: GuestImage, start: number) => void;
  /** Enter with identity 4 MiB pages (the abi.ts boot state on CPUs without unrestricted guest). */
  paging?: boolean;
} = {}): Run {
  const image = buildRtosKernel(s, env, standInDrivers(opts.ioLatencyUs ?? 0));
  const m = new Machine({ ramBytes: env.memoryBytes, cores: env.vcpus, profile: PROFILE });
  m.ram.set(image.bytes, image.loadGpa);
  const c = m.core;
  c.resetToFlat32(image.entry);
  c.regs[0] = MULTIBOOT_BOOT_MAGIC; // EAX
  c.regs[4] = BOOT_STACK_TOP; // ESP
  c.regs[6] = 0; // ESI = vCPU index
  const dv = new DataView(m.ram.buffer);
  if (opts.paging) {
    // The VMM's identity page directory (abi.ts IDENTITY_PD_GPA): 1024 4 MiB pages, P | RW | PS
    // (SDM Vol. 3A 4.3, Table 4-4), switched on by a trampoline that then jumps to the entry.
    for (let i = 0; i < 1024; i++) dv.setUint32(IDENTITY_PD_GPA + 4 * i, ((i << 22) | 0x83) >>> 0, true);
    const t = new Asm({ bits: 32, origin: 0x7000 });
    t.mov(eax, cr4).or(eax, 0x10).mov(cr4, eax);
    t.mov(eax, IDENTITY_PD_GPA).mov(cr3, eax);
    t.mov(eax, cr0).or(eax, 0x80000000).mov(cr0, eax);
    t.mov(eax, MULTIBOOT_BOOT_MAGIC).jmp(image.entry);
    m.ram.set(t.build().bytes, 0x7000);
    c.eip = 0x7000;
  }
  const startAt = image.symbols.rtos_start;
  let start = 0;
  for (let t = 0; start === 0 && t < usToTicks(MAX_BOOT_US); ) {
    t += usToTicks(2);
    const stop = m.run(t);
    start = dv.getUint32(startAt, true) + dv.getUint32(startAt + 4, true) * 2 ** 32;
    if (stop !== "until") break;
  }
  if (start === 0) throw new Error("the kernel did not start its task clock");
  opts.setup?.(m, image, start);
  const stop = m.run(start + usToTicks(durationUs));
  const rings: RingView[] = [];
  for (let v = 0; v < env.vcpus; v++) rings.push(readRing(m.ram, image.logGpa! + v * image.logBytes));
  return { m, image, stop, rings, log: rings[0].records, start };
}

/** Boot (calibration included) takes well under this. */
export const MAX_BOOT_US = 200;

export function readRing(ram: Uint8Array, gpa: number): RingView {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  const u32 = (o: number) => dv.getUint32(gpa + o, true);
  const u64 = (o: number) => u32(o) + u32(o + 4) * 2 ** 32;
  const capacity = u32(LogHeader.CAPACITY), head = u32(LogHeader.HEAD);
  const records: LogEntry[] = [];
  for (let n = Math.max(0, head - capacity); n < head; n++) {
    const r = gpa + LOG_HEADER_BYTES + (n % capacity) * LOG_RECORD_BYTES - gpa;
    records.push({
      kind: dv.getUint16(gpa + r, true), id: dv.getUint16(gpa + r + 2, true), v0: u32(r + 4),
      t0: u64(r + 8), t1: u64(r + 16), v1: u32(r + 24), v2: u32(r + 28),
    });
  }
  return {
    magic: u32(LogHeader.MAGIC), capacity, head, dropped: u32(LogHeader.DROPPED), tscKhz: u32(LogHeader.TSC_KHZ),
    workPerUsX1000: u32(LogHeader.WORK_PER_US_X1000), records,
  };
}

/** The kernel's start TSC (variable rtos_start). */
export function kernelStart(r: Run): number {
  return r.start;
}
