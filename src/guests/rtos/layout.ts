/**
 * The RTOS kernel's static plan: what the kernel is built with for one partition (the way an OSEK/AUTOSAR
 * OS is generated from its configuration): vectors, the task control block (TCB) layout, each task's
 * constants in TSC ticks, and the memory after the image (log rings, stacks, IDT, work buffers).
 * Guest memory is the partition's [0, env.memoryBytes); the image sits at GUEST_IMAGE_GPA (abi.ts) and
 * everything here follows it, 4 KiB aligned (a page of its own per buffer, so no store lands on a code
 * page). Vectors follow SDM Vol. 3A 6.2 (0-31 reserved for exceptions) and 10.8.3.1 (the spurious
 * vector's low nibble: any on P6 and later; FFH by convention). Leaves out: per-task stacks (the kernel runs
 * every job on one stack, OSEK BCC1), dynamic task creation.
 */
import type { GuestEnv } from "../guest-env.ts";
import { LOG_HEADER_BYTES, LOG_RECORD_BYTES, PvOp } from "../../vmm/abi.ts";
import type { RtosSpec } from "./config.ts";

/** The local APIC timer's vector (Linux's LOCAL_TIMER_VECTOR; any free vector above 31 would do). */
export const TIMER_VECTOR = 0xec;
/** The local APIC spurious-interrupt vector (SVR bits 7:0). */
export const SPURIOUS_VECTOR = 0xff;
/** Records per vCPU log ring. */
export const LOG_CAPACITY = 4096;
/** Bytes per vCPU log ring (header and records, rounded up to a page). */
export const LOG_BYTES = pageUp(LOG_HEADER_BYTES + LOG_CAPACITY * LOG_RECORD_BYTES);
export const KERNEL_STACK_BYTES = 16 * 1024;
/** Stack of a parked (non-bootstrap) vCPU: enough for log_init / log_write and a record. */
export const PARK_STACK_BYTES = 256;
/** Iterations of the work loop timed at boot (over CALIB_BYTES, L1-resident). */
export const CALIB_ITERATIONS = 10_000;
export const CALIB_BYTES = 4096;
/** How long a job retries a driver that answers busy before it gives up its I/O (µs). */
export const IO_BUSY_RETRY_US = 1000;
/** Most TCBs (tasks and the cyclictest thread): the one kernel stack nests at most one job per task. */
export const MAX_TASKS = 64;

/** Local APIC registers (SDM Vol. 3A Table 10-1), offsets from the APIC page. */
export const Lapic = {
  EOI: 0xb0,
  SVR: 0xf0,
  LVT_TIMER: 0x320,
  TIMER_INITIAL: 0x380,
  TIMER_DIVIDE: 0x3e0,
} as const;
/** IA32_TSC_DEADLINE (SDM Vol. 3A 10.5.4.1, Vol. 4 Table 2-2). */
export const MSR_TSC_DEADLINE = 0x6e0;
/** LVT timer mode field (bits 18:17): 10b TSC-deadline (SDM Vol. 3A Figure 10-8). */
export const LVT_TSC_DEADLINE = 2 << 17;
/** Divide configuration 1011b: divide by 1 (SDM Vol. 3A Figure 10-10). */
export const DIVIDE_BY_1 = 0x0b;

/** What a TCB's KIND says. */
export const TaskKind = { PERIODIC: 0, SPORADIC: 1, CYCLICTEST: 2 } as const;

/**
 * Task control block, TCB_BYTES each, in the image's data page. The first DYNAMIC_BYTES are run-time state
 * (zeroed at boot), the rest constants written by the builder.
 */
export const Tcb = {
  /** 1 while a released job waits to start. */
  PENDING: 0,
  /** Releases so far (the job number of the latest release). */
  JOBS: 4,
  /** The waiting job's number. */
  PEND_JOBNO: 8,
  /** Work-loop iterations per job (computed at boot from the calibration). */
  ITERS: 12,
  /** The waiting job's release TSC (u64). */
  PEND_REL: 16,
  /** Its absolute deadline (u64). */
  PEND_DL: 24,
  /** Its scheduling key (u64, smaller runs first): the absolute deadline (EDF) or the priority rank. */
  PEND_KEY: 32,
  /** periodic: the next release TSC; cyclictest: the target it sleeps to (u64). */
  NEXT: 40,
  /** cyclictest: 1 while it sleeps (its next release is armed). */
  SLEEPING: 48,
  // ---- constants ----
  /** Log-record ID (task index; cyclictest thread index). */
  INDEX: 64,
  KIND: 68,
  /** Period (cyclictest: interval) in TSC ticks (u64). */
  PERIOD: 72,
  /** Relative deadline in TSC ticks (u64). */
  DEADLINE: 80,
  /** Fixed-priority rank: 0 for the highest priority present, then 1, 2, ... */
  RANK: 88,
  /** Address of the job body. */
  BODY: 92,
  /** Calibrated work per job in ns. */
  WORK_NS: 96,
} as const;
export const TCB_BYTES = 128;
export const TCB_DYNAMIC_BYTES = 64;

export interface PlannedIo {
  /** Index of the device in env.devices. */
  device: number;
  /** abi.ts PvOp value. */
  op: number;
  bytes: number;
  jobDescriptor: boolean;
}

export interface PlannedTask {
  /** Position in the TCB table. */
  slot: number;
  /** Log-record ID. */
  index: number;
  name: string;
  kind: number;
  periodTicks: number;
  deadlineTicks: number;
  rank: number;
  workNs: number;
  /** The task's buffer: offset from the bss label, and size. */
  bufOff: number;
  bufBytes: number;
  /** sporadic: the index in env.devices of the device that releases it; else -1. */
  releasedBy: number;
  io: PlannedIo | null;
}

export interface KernelPlan {
  env: GuestEnv;
  spec: RtosSpec;
  edf: boolean;
  tscDeadline: boolean;
  /** The cfg tasks, then the cyclictest thread (if any) as the last TCB. */
  tasks: PlannedTask[];
  cyclictest: PlannedTask | null;
  tscKhz: number;
  /** One-shot mode: APIC timer counts per TSC tick = timerNum / timerDen (reduced). */
  timerNum: number;
  timerDen: number;
  ioBusyTicks: number;
  /** Offsets from the bss label (the first page after the image). */
  bss: { logs: number; stack: number; stackTop: number; park: number; idt: number; calib: number; end: number };
}

const IO_OPS: Record<string, number> = {
  read: PvOp.READ, write: PvOp.WRITE, tx: PvOp.TX, job: PvOp.JOB, actuate: PvOp.ACTUATE,
};

export function pageUp(n: number): number {
  return Math.ceil(n / 4096) * 4096;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Build the plan, or throw an Error that says what in the configuration cannot be built. */
export function planKernel(spec: RtosSpec, env: GuestEnv): KernelPlan {
  const tscHz = env.tscHz;
  if (!Number.isSafeInteger(tscHz) || tscHz < 1e6 || tscHz >= 2 ** 32) throw new Error(`rtos: tscHz ${tscHz} out of range`);
  const ticks = (us: number) => Math.round((us * tscHz) / 1e6);
  const devIndex = (name: string, what: string): number => {
    const d = env.devices.find((x) => x.name === name);
    if (d === undefined) throw new Error(`rtos: ${what}: no device '${name}' in the partition`);
    return d.index;
  };
  const vectors = new Set<number>([TIMER_VECTOR, SPURIOUS_VECTOR]);
  for (const d of env.devices) {
    if (!Number.isInteger(d.vector) || d.vector < 32 || d.vector > 0xfe || vectors.has(d.vector)) {
      throw new Error(`rtos: device '${d.name}': vector ${d.vector} is reserved or taken (timer ${TIMER_VECTOR}, spurious ${SPURIOUS_VECTOR})`);
    }
    vectors.add(d.vector);
  }
  const prios = [...new Set([...spec.tasks.map((t) => t.priority), ...(spec.cyclictest ? [spec.cyclictest.priority] : [])])]
    .sort((x, y) => y - x);
  const rank = (p: number) => prios.indexOf(p);

  const bss = { logs: 0, stack: 0, stackTop: 0, park: 0, idt: 0, calib: 0, end: 0 };
  let off = 0;
  bss.logs = off; off += env.vcpus * LOG_BYTES;
  bss.stack = off; off += KERNEL_STACK_BYTES; bss.stackTop = off;
  bss.park = off; off += pageUp(env.vcpus * PARK_STACK_BYTES);
  bss.idt = off; off += 4096;
  bss.calib = off; off += CALIB_BYTES;

  const tasks: PlannedTask[] = spec.tasks.map((t, i) => {
    const what = `task '${t.name}'`;
    if (!(t.periodUs > 0) || !(t.deadlineUs > 0) || !(t.workUs >= 0)) throw new Error(`rtos: ${what}: period and deadline must be > 0, work >= 0`);
    let io: PlannedIo | null = null;
    let need = 64;
    if (t.io !== null) {
      const op = IO_OPS[t.io.op];
      if (op === undefined) throw new Error(`rtos: ${what}: unknown io op '${t.io.op}'`);
      const jobDescriptor = t.io.op === "job";
      io = { device: devIndex(t.io.device, what), op, bytes: t.io.bytes, jobDescriptor };
      // job: descriptor (64), input, output (at most the input's size: dsp ops) - see emitTaskBodies.
      need = jobDescriptor ? 64 + 2 * Math.ceil(t.io.bytes / 64) * 64 : t.io.bytes;
    }
    const bufBytes = pageUp(Math.max(t.workingSetKiB * 1024, need, 64));
    const p: PlannedTask = {
      slot: i, index: i, name: t.name,
      kind: t.kind === "periodic" ? TaskKind.PERIODIC : TaskKind.SPORADIC,
      periodTicks: ticks(t.periodUs), deadlineTicks: ticks(t.deadlineUs), rank: rank(t.priority),
      workNs: Math.round(t.workUs * 1000), bufOff: off, bufBytes,
      releasedBy: t.kind === "sporadic" ? devIndex(t.device ?? "(none)", what) : -1,
      io,
    };
    off += bufBytes;
    return p;
  });
  let cyclictest: PlannedTask | null = null;
  if (spec.cyclictest !== null) {
    const c = spec.cyclictest;
    if (!(c.intervalUs > 0)) throw new Error("rtos: cyclictest: intervalUs must be > 0");
    cyclictest = {
      slot: tasks.length, index: 0, name: "cyclictest", kind: TaskKind.CYCLICTEST,
      periodTicks: ticks(c.intervalUs), deadlineTicks: ticks(c.intervalUs), rank: rank(c.priority),
      workNs: 0, bufOff: 0, bufBytes: 0, releasedBy: -1, io: null,
    };
    tasks.push(cyclictest);
  }
  if (tasks.length > MAX_TASKS) throw new Error(`rtos: ${tasks.length} tasks (cyclictest included); at most ${MAX_TASKS}`);
  for (const t of tasks) {
    if (t.periodTicks < 1 || t.periodTicks >= 2 ** 53 || t.deadlineTicks >= 2 ** 53) throw new Error(`rtos: '${t.name}': period or deadline out of range`);
    if (t.workNs >= 2 ** 32) throw new Error(`rtos: '${t.name}': workUs ${t.workNs / 1000} too large (below 4294 s)`);
  }
  bss.end = off;
  const tscDeadline = spec.timer === "tsc-deadline";
  const g = gcd(env.apicTimerHz, tscHz);
  const timerNum = env.apicTimerHz / g, timerDen = tscHz / g;
  if (!tscDeadline && (!Number.isSafeInteger(env.apicTimerHz) || timerNum > timerDen || timerDen >= 2 ** 32)) {
    throw new Error(`rtos: one-shot timer needs an APIC timer clock (${env.apicTimerHz} Hz) no faster than the TSC (${tscHz} Hz)`);
  }
  return {
    env, spec, edf: spec.scheduler === "edf", tscDeadline, tasks, cyclictest,
    tscKhz: Math.round(tscHz / 1000), timerNum, timerDen, ioBusyTicks: ticks(IO_BUSY_RETRY_US), bss,
  };
}
