/**
 * The RTOS kernel's IDT (SDM Vol. 3A 6.10-6.11): 256 gates, 32-bit interrupt gates (type 1110b, P = 1,
 * DPL 0, selector 08H) for exceptions 0-31, the local APIC timer, the spurious vector and each device's
 * vector; every other gate is an interrupt gate with P = 0, so an unexpected vector raises #NP (6.14; an
 * all-zero entry would be an invalid gate type and raise #GP instead), which is logged. Exceptions
 * go to one handler that writes a FAULT record (abi.ts LogKind.FAULT: ID = vector, V0 = error code,
 * T0 = TSC, V1 = the faulting EIP) and halts the vCPU for good. Which exceptions push an error code:
 * SDM Vol. 3A Table 6-1 (8, 10-14, 17, 21, 29, 30); the other stubs push 0 so the frame is the same.
 * The spurious-vector handler returns without EOI (10.9). Leaves out: recovering from an exception.
 */
import { type Asm, dword, eax, ecx, edx, esp, fword, lbl } from "../asm/index.ts";
import { LogKind } from "../../vmm/abi.ts";
import { type KernelPlan, SPURIOUS_VECTOR, TIMER_VECTOR } from "./layout.ts";
import { emitRecord, R } from "./record.ts";

const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

export function emitIdt(a: Asm, k: KernelPlan): void {
  const idt = (add: number) => dword({ index: ecx, scale: 8, disp: lbl("bss", k.bss.idt + add) });
  // set_gate: EAX = handler, ECX = vector; clobbers EDX
  a.label("rtos_set_gate");
  a.mov(edx, eax);
  a.and(edx, 0xffff);
  a.or(edx, 0x08 << 16);
  a.mov(idt(0), edx);
  a.mov(edx, eax);
  a.and(edx, 0xffff0000);
  a.or(edx, 0x8e00);
  a.mov(idt(4), edx);
  a.ret();

  a.label("rtos_setup_idt");
  a.xor(ecx, ecx);
  a.label("rtos_setup_idt.np"); // every gate a valid 32-bit interrupt gate with P = 0: #NP if used
  a.mov(idt(0), 0x08 << 16);
  a.mov(idt(4), 0x0e00);
  a.inc(ecx);
  a.cmp(ecx, 256);
  a.jb("rtos_setup_idt.np");
  a.xor(ecx, ecx);
  a.label("rtos_setup_idt.exc");
  a.mov(eax, dword({ index: ecx, scale: 4, disp: "rtos_exc_table" }));
  a.call("rtos_set_gate");
  a.inc(ecx);
  a.cmp(ecx, 32);
  a.jb("rtos_setup_idt.exc");
  const gate = (vector: number, handler: string) => a.mov(eax, handler).mov(ecx, vector).call("rtos_set_gate");
  gate(TIMER_VECTOR, "isr_timer");
  gate(SPURIOUS_VECTOR, "rtos_spurious");
  for (const d of k.env.devices) gate(d.vector, `isr_dev${d.index}`);
  a.lidt(fword(lbl("rtos_idt_desc")));
  a.ret();

  a.label("rtos_spurious");
  a.iretd();

  for (let v = 0; v < 32; v++) {
    a.label(`rtos_exc${v}`);
    if (!ERROR_CODE_VECTORS.has(v)) a.push(0);
    a.push(v);
    a.jmp("rtos_fault");
  }
  // [esp] = vector, [esp+4] = error code, [esp+8] = EIP
  a.label("rtos_fault");
  a.cli();
  a.rdtsc();
  emitRecord(a, (a) => {
    a.mov(ecx, dword(esp, 32));
    a.shl(ecx, 16);
    a.or(ecx, LogKind.FAULT);
    a.mov(dword(esp, R.KIND_ID), ecx);
    a.mov(ecx, dword(esp, 32 + 4));
    a.mov(dword(esp, R.V0), ecx);
    a.mov(dword(esp, R.T0), eax).mov(dword(esp, R.T0 + 4), edx);
    a.mov(dword(esp, R.T1), 0).mov(dword(esp, R.T1 + 4), 0);
    a.mov(ecx, dword(esp, 32 + 8));
    a.mov(dword(esp, R.V1), ecx);
    a.mov(dword(esp, R.V2), 0);
  });
  a.label("rtos_fault.halt");
  a.cli();
  a.hlt();
  a.jmp("rtos_fault.halt");
}
