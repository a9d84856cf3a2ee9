/**
 * The RTOS kernel's entry and boot (every vCPU starts here in the abi.ts boot state: flat 32-bit protected
 * mode, IF = 0, ESI = vCPU index; paging off or identity 4 MiB pages, which this code does not care about).
 * vCPU 0 loads its own GDT and reloads every segment register (SDM Vol. 3A 3.4.3: a far jump for CS, MOV for
 * the data segments), zeroes the kernel's variables, initialises its log ring and writes BOOT, then sets up
 * the IDT, the local APIC, calibrates the work loop, initialises the drivers (interrupts still off), starts
 * the task clock and idles (STI; HLT: STI's interrupt shadow, SDM Vol. 2B STI, makes the pair race-free).
 * Other vCPUs initialise their own ring, write BOOT and park (CLI; HLT forever).
 * Leaves out: multiprocessor scheduling (only vCPU 0 runs tasks), the Multiboot information (unused).
 */
import { type Asm, ax, dword, fword, eax, ecx, ds, edi, edx, es, esi, esp, far, fs, gs, lbl, ss } from "../asm/index.ts";
import { LogHeader, LogKind } from "../../vmm/abi.ts";
import { varRef } from "./data.ts";
import { type KernelPlan, LOG_BYTES, LOG_CAPACITY, PARK_STACK_BYTES, TCB_BYTES, TCB_DYNAMIC_BYTES } from "./layout.ts";
import { emitRecord, kindId, R } from "./record.ts";

/** The entry point and the bootstrap vCPU's path up to the idle loop. `inits` emits the set-up calls. */
export function emitBoot(a: Asm, k: KernelPlan, inits: (a: Asm) => void): void {
  a.label("rtos_entry");
  a.cli();
  a.cld();
  a.test(esi, esi);
  a.jnz("rtos_park");
  a.mov(esp, lbl("bss", k.bss.stackTop));
  a.lgdt(fword(lbl("rtos_gdt_desc")));
  a.jmp(far(0x08, "rtos_boot.cs"));
  a.label("rtos_boot.cs");
  a.mov(ax, 0x10);
  for (const s of [ds, es, fs, gs, ss]) a.mov(s, ax);
  // zero the variables and the dynamic half of every TCB
  a.xor(eax, eax);
  a.mov(edi, "rtos_vars");
  a.mov(ecx, "rtos_vars_end");
  a.sub(ecx, edi);
  a.shr(ecx, 2);
  a.rep().stosd();
  for (let i = 0; i < k.tasks.length; i++) {
    a.mov(edi, lbl("rtos_tcbs", i * TCB_BYTES));
    a.mov(ecx, TCB_DYNAMIC_BYTES / 4);
    a.rep().stosd();
  }
  // the log ring of vCPU 0 and the BOOT record
  a.mov(edi, lbl("bss", k.bss.logs));
  a.mov(ecx, LOG_CAPACITY);
  a.call("log_init");
  a.mov(dword(edi, LogHeader.TSC_KHZ), k.tscKhz);
  a.rdtsc();
  emitRecord(a, (a) => {
    a.mov(dword(esp, R.KIND_ID), kindId(LogKind.BOOT, 0));
    a.mov(dword(esp, R.V0), 0);
    a.mov(dword(esp, R.T0), eax).mov(dword(esp, R.T0 + 4), edx);
    a.mov(dword(esp, R.T1), 0).mov(dword(esp, R.T1 + 4), 0);
    a.mov(dword(esp, R.V1), 0).mov(dword(esp, R.V2), 0);
  });
  inits(a);
  // the calibration result goes into the header, and each task's iterations per job follow from it
  a.mov(eax, varRef("rtos_wpu"));
  a.mov(edi, lbl("bss", k.bss.logs));
  a.mov(dword(edi, LogHeader.WORK_PER_US_X1000), eax);
  a.label("rtos_idle");
  a.sti();
  a.hlt();
  a.jmp("rtos_idle");

  emitPark(a, "rtos_park", { vcpus: k.env.vcpus, logs: k.bss.logs, park: k.bss.park, tscKhz: k.tscKhz });
}

/**
 * The path of every vCPU but 0 (label `name`, entered with ESI = vCPU index, IF = 0): its own stack in the
 * park area, its own log ring (logs + index * LOG_BYTES) with a BOOT record (V0 = index), then CLI; HLT for
 * good. An index beyond `vcpus` halts without a ring. Offsets are from the bss label.
 */
export function emitPark(a: Asm, name: string, p: { vcpus: number; logs: number; park: number; tscKhz: number }): void {
  a.label(name);
  a.cmp(esi, p.vcpus);
  a.jae(`${name}.halt`);
  a.mov(esp, esi);
  a.shl(esp, Math.log2(PARK_STACK_BYTES));
  a.add(esp, lbl("bss", p.park + PARK_STACK_BYTES));
  a.insn("imul", edi, esi, LOG_BYTES);
  a.add(edi, lbl("bss", p.logs));
  a.mov(ecx, LOG_CAPACITY);
  a.call("log_init");
  a.mov(dword(edi, LogHeader.TSC_KHZ), p.tscKhz);
  a.rdtsc();
  a.sub(esp, 32);
  a.mov(dword(esp, R.KIND_ID), kindId(LogKind.BOOT, 0));
  a.mov(dword(esp, R.V0), esi);
  a.mov(dword(esp, R.T0), eax).mov(dword(esp, R.T0 + 4), edx);
  a.mov(dword(esp, R.T1), 0).mov(dword(esp, R.T1 + 4), 0);
  a.mov(dword(esp, R.V1), 0).mov(dword(esp, R.V2), 0);
  a.mov(esi, esp);
  a.call("log_write");
  a.label(`${name}.halt`);
  a.cli();
  a.hlt();
  a.jmp(`${name}.halt`);
}
