/**
 * The small boot harness the load programs (programs/gpos-load.ts, programs/dsp-offload.ts) share: enough
 * kernel to run the drivers on every vCPU, in the abi.ts boot state (flat 32-bit, interrupts off, ESI =
 * vCPU index; paging off or identity 4 MiB pages: nothing here depends on which).
 *
 * Every vCPU: loads the program's GDT (08H code, 10H data, flat: SDM Vol. 3A 3.4.5) and IDT, switches to
 * its own stack, initialises its own log ring (logGpa + vcpu * logBytes; rtos/log-ring.ts) with the TSC
 * rate in the header, and writes a BOOT record. vCPU 0 then builds the IDT (32-bit interrupt gates, SDM
 * Vol. 3A 6.11), software-enables its local APIC (SVR = 1FFH, 10.9), calls every drv<i>_init, publishes
 * `kernel_ready`, enables interrupts and runs its workload; the others wait for `kernel_ready` and run theirs
 * with IF = 0 (device interrupts go to vCPU 0 only, abi.ts).
 *
 * Per-vCPU block: each vCPU's stack is STACK_BYTES, aligned to its size, and its lowest dwords hold that
 * vCPU's variables (+0 its log ring, +4 its index, +8 a progress counter the workloads increment, then
 * workload scratch from +12), so code finds them from ESP alone (`and esp-copy, -STACK_BYTES`), without
 * per-CPU segments. The drivers' IO records use this to reach the ring of the vCPU that waits.
 *
 * ISRs: device i's stub (`isr_dev<i>`) saves EAX and EDX, reads the TSC into `isr_tsc` (so an IRQ record's
 * T0 is two pushes after the first instruction), calls drv<i>_irq, writes EOI (0 to FEE000B0H), IRETD.
 * Exceptions 0-31 write a FAULT record (ID = vector, V0 = error code, V1 = EIP) and stop the vCPU (CLI; HLT).
 * The spurious vector (FFH) returns at once. Leaves out: a timer, a scheduler, user mode, paging.
 */
import {
  Asm, ax, dword, eax, ebp, ecx, edi, edx, esi, esp, far, fword, lbl, word, ds, es, fs, gs, ss,
} from "../asm/index.ts";
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { GUEST_APIC_GPA, GUEST_IMAGE_GPA, LOG_HEADER_BYTES, LOG_RECORD_BYTES, LogHeader, LogKind, LogRecord } from "../../vmm/abi.ts";
import { emitLogLib } from "../rtos/log-ring.ts";
import { emitDrivers } from "./index.ts";

export const STACK_BYTES = 8192;
const STACK_SHIFT = 13;
/** Offsets in a vCPU's block (the bottom of its stack). */
export const VcpuBlock = { RING: 0, INDEX: 4, PROGRESS: 8, SCRATCH: 12 } as const;
/** Records per vCPU log ring. */
export const LOG_CAPACITY = 4096;
export const LOG_BYTES = LOG_HEADER_BYTES + LOG_CAPACITY * LOG_RECORD_BYTES;
const IDT_BYTES = 256 * 8;
const APIC_SVR = 0xf0, APIC_EOI = 0xb0;
const SPURIOUS_VECTOR = 0xff;
/** Exceptions that push an error code (SDM Vol. 3A Table 6-1). */
const WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** Bump allocator for the zero-filled memory after the image ("bss"), as offsets from its start. */
export class Bss {
  private top = 0;
  alloc(bytes: number, align = 64): number {
    this.top = Math.ceil(this.top / align) * align;
    const at = this.top;
    this.top += bytes;
    return at;
  }
  get size(): number {
    return this.top;
  }
}

export interface MiniKernelProgram {
  /** Program name (messages). */
  name: string;
  /** Reserve buffers (called before any code is emitted; vCPU blocks and log rings are already placed). */
  reserve?(bss: Bss): void;
  /** vCPU 0 after drv*_init, before STI (interrupts off): program set-up (fill buffers ...). */
  setup?(a: Asm): void;
  /** The workload: runs forever with EBP = vCPU index, ESI = its block; may use `lbl("bss", off)`. */
  workload(a: Asm): void;
  /** Routines the workload calls (emitted after the kernel). */
  routines?(a: Asm): void;
}

/** Emit code that loads `r` with the running vCPU's block (from ESP). */
export function vcpuBlock(a: Asm, r: typeof edi): void {
  a.mov(r, esp);
  a.and(r, -STACK_BYTES);
}

/** Assemble a program on the mini kernel into a GuestImage. */
export function buildMiniKernelImage(env: GuestEnv, prog: MiniKernelProgram): GuestImage {
  const bss = new Bss();
  const blocksOff = bss.alloc(env.vcpus * STACK_BYTES, STACK_BYTES);
  const logOff = bss.alloc(env.vcpus * LOG_BYTES, 4096);
  const idtOff = bss.alloc(IDT_BYTES, 8);
  prog.reserve?.(bss);

  const a = new Asm({ bits: 32, origin: GUEST_IMAGE_GPA });
  a.entry("_start");
  a.label("_start");
  a.cli();
  a.cld();
  a.lgdt(fword("gdt_desc"));
  a.jmp(far(0x08, "boot.cs"));
  a.label("boot.cs");
  a.mov(eax, 0x10);
  for (const s of [ds, es, fs, gs, ss]) a.mov(s, ax);
  a.lidt(fword("idt_desc"));
  a.mov(ebp, esi);
  a.mov(eax, ebp);
  a.shl(eax, STACK_SHIFT);
  a.lea(esp, dword({ base: eax, disp: lbl("bss", blocksOff + STACK_BYTES) }));
  a.lea(esi, dword({ base: eax, disp: lbl("bss", blocksOff) }));
  a.imul(edi, ebp, LOG_BYTES);
  a.add(edi, lbl("bss", logOff));
  a.mov(dword(esi, VcpuBlock.RING), edi);
  a.mov(dword(esi, VcpuBlock.INDEX), ebp);
  a.mov(ecx, LOG_CAPACITY);
  a.call("log_init");
  a.mov(dword(edi, LogHeader.TSC_KHZ), Math.round(env.tscHz / 1000));
  // BOOT record, built on the stack.
  a.sub(esp, LOG_RECORD_BYTES);
  a.rdtsc();
  a.mov(dword(esp, LogRecord.KIND), LogKind.BOOT); // KIND = BOOT, ID = 0
  a.mov(dword(esp, LogRecord.V0), ebp);
  a.mov(dword(esp, LogRecord.T0), eax);
  a.mov(dword(esp, LogRecord.T0 + 4), edx);
  for (const f of [LogRecord.T1, LogRecord.T1 + 4, LogRecord.V1, LogRecord.V2]) a.mov(dword(esp, f), 0);
  a.push(esi);
  a.lea(esi, dword(esp, 4));
  a.call("log_write");
  a.pop(esi);
  a.add(esp, LOG_RECORD_BYTES);
  a.test(ebp, ebp);
  a.jnz("boot.ap");

  // vCPU 0: IDT, local APIC, drivers, then interrupts on.
  a.mov(dword("log_ring_vcpu0"), edi);
  a.mov(edx, "gate_table");
  a.label("boot.gates");
  a.mov(ecx, dword(edx));
  a.cmp(ecx, -1);
  a.je("boot.gates_done");
  a.mov(eax, dword(edx, 4));
  a.mov(word({ index: ecx, scale: 8, disp: lbl("bss", idtOff) }), ax);
  a.mov(word({ index: ecx, scale: 8, disp: lbl("bss", idtOff + 2) }), 0x08);
  a.mov(word({ index: ecx, scale: 8, disp: lbl("bss", idtOff + 4) }), 0x8e00);
  a.shr(eax, 16);
  a.mov(word({ index: ecx, scale: 8, disp: lbl("bss", idtOff + 6) }), ax);
  a.add(edx, 8);
  a.jmp("boot.gates");
  a.label("boot.gates_done");
  a.mov(dword(GUEST_APIC_GPA + APIC_SVR), 0x100 | SPURIOUS_VECTOR);
  for (let i = 0; i < env.devices.length; i++) a.call(`drv${i}_init`);
  prog.setup?.(a);
  a.mov(dword("kernel_ready"), 1);
  a.sti();
  a.jmp("boot.main");

  a.label("boot.ap");
  a.cmp(dword("kernel_ready"), 0);
  a.jne("boot.main");
  a.pause();
  a.jmp("boot.ap");

  a.label("boot.main");
  prog.workload(a);

  // ---- ISRs ----
  const gates: [number, string][] = [];
  env.devices.forEach((d, i) => {
    const l = `isr_dev${i}`;
    gates.push([d.vector, l]);
    a.label(l);
    a.push(eax).push(edx);
    a.rdtsc();
    a.mov(dword("isr_tsc"), eax);
    a.mov(dword(lbl("isr_tsc", 4)), edx);
    a.push(ecx);
    a.call(`drv${i}_irq`);
    a.mov(dword(GUEST_APIC_GPA + APIC_EOI), 0);
    a.pop(ecx).pop(edx).pop(eax);
    a.iretd();
  });
  a.label("isr_spurious");
  a.iretd();
  gates.push([SPURIOUS_VECTOR, "isr_spurious"]);
  for (let v = 0; v < 32; v++) {
    const l = `isr_exc${v}`;
    gates.push([v, l]);
    a.label(l);
    if (!WITH_ERROR_CODE.has(v)) a.push(0);
    a.push(v);
    a.jmp("isr_exc_common");
  }
  // [esp] = vector, [esp + 4] = error code, [esp + 8] = EIP.
  a.label("isr_exc_common");
  a.sub(esp, LOG_RECORD_BYTES);
  a.rdtsc();
  a.mov(dword(esp, LogRecord.T0), eax);
  a.mov(dword(esp, LogRecord.T0 + 4), edx);
  a.mov(eax, dword(esp, LOG_RECORD_BYTES));
  a.shl(eax, 16);
  a.or(eax, LogKind.FAULT);
  a.mov(dword(esp, LogRecord.KIND), eax);
  a.mov(eax, dword(esp, LOG_RECORD_BYTES + 4));
  a.mov(dword(esp, LogRecord.V0), eax);
  a.mov(eax, dword(esp, LOG_RECORD_BYTES + 8));
  a.mov(dword(esp, LogRecord.V1), eax);
  for (const f of [LogRecord.T1, LogRecord.T1 + 4, LogRecord.V2]) a.mov(dword(esp, f), 0);
  a.mov(esi, esp);
  vcpuBlock(a, edi);
  a.mov(edi, dword(edi, VcpuBlock.RING));
  a.call("log_write");
  a.label("isr_exc.halt");
  a.cli();
  a.hlt();
  a.jmp("isr_exc.halt");

  prog.routines?.(a);
  emitLogLib(a);
  a.align(64);
  emitDrivers(a, env, {
    logRing: (x) => {
      vcpuBlock(x, edi);
      x.mov(edi, dword(edi, VcpuBlock.RING));
    },
  });

  // ---- data ----
  a.align(64);
  a.label("gdt");
  a.dd(0, 0, 0x0000ffff, 0x00cf9a00, 0x0000ffff, 0x00cf9200);
  a.label("gdt_desc");
  a.dw(3 * 8 - 1);
  a.dd("gdt");
  a.align(4);
  a.label("idt_desc");
  a.dw(IDT_BYTES - 1);
  a.dd(lbl("bss", idtOff));
  a.align(4);
  a.label("gate_table");
  for (const [v, l] of gates) a.dd(v, l);
  a.dd(-1, 0);
  a.align(64);
  a.label("kernel_ready");
  a.dd(0);
  a.label("log_ring_vcpu0");
  a.dd(0);
  a.label("isr_tsc");
  a.dd(0, 0);
  a.align(STACK_BYTES);
  a.label("bss");

  const img = a.build();
  const bssGpa = img.symbols.bss;
  const end = bssGpa + bss.size;
  if (end > env.memoryBytes) {
    throw new RangeError(
      `${prog.name}: needs ${Math.ceil(end / 1024)} KiB of guest memory (image ${Math.ceil(img.bytes.length / 1024)} KiB at ` +
      `${GUEST_IMAGE_GPA.toString(16)}H, then ${Math.ceil(bss.size / 1024)} KiB of buffers), the partition has ${env.memoryBytes / 1024} KiB`,
    );
  }
  return {
    bytes: img.bytes,
    loadGpa: GUEST_IMAGE_GPA,
    entry: img.entry,
    symbols: { ...img.symbols, vcpu_blocks: bssGpa + blocksOff, idt: bssGpa + idtOff },
    logGpa: bssGpa + logOff,
    logBytes: LOG_BYTES,
    tasks: [],
  };
}
