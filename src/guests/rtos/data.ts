/**
 * The RTOS kernel's data page (after the code, page-aligned so that no store lands on a code page): the
 * GDT and its pseudo-descriptor (SDM Vol. 3A 3.4.5, 3.5.1: flat 4 GiB code 08H and data 10H, the selectors
 * of the abi.ts boot state), the IDT pseudo-descriptor (6.10; the table itself is in the bss), the
 * exception-stub table, `log_ring_vcpu0` (the driver contract's dword holding vCPU 0's ring address), the
 * TCB table (layout.ts Tcb) and the run-time variables, which boot zeroes. Leaves out: an LDT and a TSS
 * (no privilege changes: everything runs at CPL 0).
 */
import { type Asm, dword, lbl } from "../asm/index.ts";
import { type KernelPlan, type PlannedTask, Tcb, TCB_BYTES } from "./layout.ts";

/** Run-time variables (zeroed at boot), in order, with their sizes. */
const VARS: [string, number][] = [
  ["isr_tsc", 8], // the device ISR's entry TSC (driver contract)
  ["rtos_timer_tsc", 8], // the timer ISR's entry TSC
  ["rtos_cur_key", 8], // the running job's scheduling key (all ones: idle)
  ["rtos_armed", 8], // the TSC the timer is programmed for (all ones: none)
  ["rtos_start", 8], // the kernel's start TSC (periodic releases are k * period after it)
  ["rtos_wpu", 4], // work-loop iterations per µs, x1000 (calibration)
  ["rtos_calib_cycles", 4], // TSC ticks the calibration loop took
];

export const varRef = (name: string, add = 0) => dword(lbl(name, add));
export const tcbLabel = (t: PlannedTask | number) => lbl("rtos_tcbs", (typeof t === "number" ? t : t.slot) * TCB_BYTES);
/** A TCB field of a statically known task. */
export const tcbField = (t: PlannedTask, field: number, add = 0) => dword(lbl("rtos_tcbs", t.slot * TCB_BYTES + field + add));

export function emitData(a: Asm, k: KernelPlan): void {
  a.align(4096);
  a.label("rtos_data");
  a.label("rtos_gdt");
  a.dd(0, 0);
  a.dd(0x0000ffff, 0x00cf9a00); // 08H: code, base 0, limit 4 GiB, 32-bit, execute/read
  a.dd(0x0000ffff, 0x00cf9200); // 10H: data, base 0, limit 4 GiB, read/write
  a.align(4);
  a.label("rtos_gdt_desc");
  a.dw(3 * 8 - 1);
  a.dd("rtos_gdt");
  a.align(4);
  a.label("rtos_idt_desc");
  a.dw(256 * 8 - 1);
  a.dd(lbl("bss", k.bss.idt));
  a.align(4);
  a.label("rtos_exc_table");
  for (let v = 0; v < 32; v++) a.dd(`rtos_exc${v}`);
  a.label("log_ring_vcpu0");
  a.dd(lbl("bss", k.bss.logs));
  a.align(64);
  a.label("rtos_tcbs");
  for (const t of k.tasks) {
    a.times(Tcb.INDEX);
    a.dd(t.index, t.kind);
    a.dd(t.periodTicks % 2 ** 32, Math.floor(t.periodTicks / 2 ** 32));
    a.dd(t.deadlineTicks % 2 ** 32, Math.floor(t.deadlineTicks / 2 ** 32));
    a.dd(t.rank, `rtos_body${t.slot}`, t.workNs);
    a.times(TCB_BYTES - Tcb.WORK_NS - 4);
  }
  a.align(64);
  a.label("rtos_vars");
  for (const [name, bytes] of VARS) {
    a.label(name);
    a.times(bytes);
  }
  a.align(4);
  a.label("rtos_vars_end");
}

/** The label `bss` on the next page: everything KernelPlan.bss lays out, not part of the image's bytes. */
export function emitBssLabel(a: Asm): void {
  a.align(4096);
  a.label("bss");
}
