/**
 * The `fault` guest program: boots like the RTOS kernel (log ring per vCPU, BOOT record; vCPUs other than 0
 * park), spins on the TSC for cfg.afterUs, then faults in one of four ways, for the VMM's containment tests:
 * - "triple": LIDT with limit 0, then INT3: vector 3 is beyond the limit -> #GP, whose gate is beyond it too
 *   -> #DF -> again -> triple fault, shutdown (SDM Vol. 3A 6.10, 6.15 interrupt 8, Table 6-5).
 * - "ud": an IDT of 256 valid interrupt gates with P = 0, then UD2: #UD -> its gate not present -> #NP
 *   (contributory) -> not present -> #DF -> not present -> triple fault: the same end by another path.
 * - "ept": a store to a guest-physical address beyond the partition's memory (0x7FFF0000): an EPT violation
 *   under the VMM (SDM Vol. 3C 28.2.3); bare metal, unmapped space ignores it. Then CLI; HLT.
 * - "dma": with a block device given exclusively, a READ of one sector programmed straight into its registers
 *   (src/devices/block-device.ts datasheet: LBA 04H, COUNT 08H, DMA_ADDR 0CH, COMMAND 10H = 1) with DMA_ADDR
 *   beyond the partition's memory: the VMM's DMA check must refuse and report it. Without one: as "ept".
 * Leaves out: faults from other vCPUs (they park).
 */
import { Asm, dword, eax, ecx, edi, edx, esi, esp, fword, lbl } from "../asm/index.ts";
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { GUEST_IMAGE_GPA, LogHeader, LogKind } from "../../vmm/abi.ts";
import { emitLogLib } from "../rtos/log-ring.ts";
import type { FaultSpec } from "../rtos/config.ts";
import { emitPark } from "../rtos/boot.ts";
import { LOG_BYTES, LOG_CAPACITY, PARK_STACK_BYTES, pageUp } from "../rtos/layout.ts";
import { kindId, R } from "../rtos/record.ts";

/** Where "ept" writes and "dma" points the device (beyond any partition's memory below 2 GiB). */
export const FAULT_BEYOND_GPA = 0x7fff0000;
const BLOCK_LBA = 0x04, BLOCK_COUNT = 0x08, BLOCK_DMA_ADDR = 0x0c, BLOCK_COMMAND = 0x10, BLOCK_READ = 1;

export function buildFaultGuest(cfg: FaultSpec, env: GuestEnv): GuestImage {
  if (env.memoryBytes > FAULT_BEYOND_GPA) throw new Error(`fault guest: memory ${env.memoryBytes} reaches ${FAULT_BEYOND_GPA}`);
  if (!(cfg.afterUs >= 0)) throw new Error("fault guest: afterUs must be >= 0");
  const bss = { logs: 0, stackTop: 0, park: 0, idt: 0, end: 0 };
  let off = env.vcpus * LOG_BYTES;
  off += 4096;
  bss.stackTop = off;
  bss.park = off;
  off += pageUp(env.vcpus * PARK_STACK_BYTES);
  bss.idt = off;
  off += 4096;
  bss.end = off;
  const tscKhz = Math.round(env.tscHz / 1000);
  const waitTicks = Math.round((cfg.afterUs * env.tscHz) / 1e6);

  const a = new Asm({ bits: 32, origin: GUEST_IMAGE_GPA });
  a.entry("fault_entry");
  a.label("fault_entry");
  a.cli();
  a.cld();
  a.test(esi, esi);
  a.jnz("fault_park");
  a.mov(esp, lbl("bss", bss.stackTop));
  if (cfg.fault === "ud") { // the IDT of not-present gates, prepared before BOOT
    a.xor(ecx, ecx);
    a.label("fault_idt_fill");
    a.mov(dword({ index: ecx, scale: 8, disp: lbl("bss", bss.idt) }), 0x08 << 16);
    a.mov(dword({ index: ecx, scale: 8, disp: lbl("bss", bss.idt + 4) }), 0x0e00); // interrupt gate, P = 0
    a.inc(ecx);
    a.cmp(ecx, 256);
    a.jb("fault_idt_fill");
  }
  a.mov(edi, lbl("bss", bss.logs));
  a.mov(ecx, LOG_CAPACITY);
  a.call("log_init");
  a.mov(dword(edi, LogHeader.TSC_KHZ), tscKhz);
  a.rdtsc();
  a.sub(esp, 32);
  a.mov(dword(esp, R.KIND_ID), kindId(LogKind.BOOT, 0));
  a.mov(dword(esp, R.V0), 0);
  a.mov(dword(esp, R.T0), eax).mov(dword(esp, R.T0 + 4), edx);
  a.mov(dword(esp, R.T1), 0).mov(dword(esp, R.T1 + 4), 0);
  a.mov(dword(esp, R.V1), 0).mov(dword(esp, R.V2), 0);
  a.mov(esi, esp);
  a.call("log_write");
  a.add(esp, 32);
  // run for afterUs from the BOOT record's TSC
  a.add(eax, waitTicks % 2 ** 32);
  a.adc(edx, Math.floor(waitTicks / 2 ** 32));
  a.push(edx).push(eax);
  a.label("fault_wait");
  a.pause();
  a.rdtsc();
  a.cmp(eax, dword(esp));
  a.sbb(edx, dword(esp, 4));
  a.jb("fault_wait");
  a.add(esp, 8);
  a.label("fault_now");
  const block = env.devices.find((d) => d.type === "block" && d.mode === "exclusive" && d.mmioGpa !== null);
  const fault = cfg.fault === "dma" && block === undefined ? "ept" : cfg.fault;
  switch (fault) {
    case "triple":
      a.lidt(fword(lbl("fault_idt0")));
      a.int3();
      break;
    case "ud":
      a.lidt(fword(lbl("fault_idt_np")));
      a.ud2();
      break;
    case "dma": {
      const reg = (o: number) => dword(block!.mmioGpa! + o);
      a.mov(reg(BLOCK_LBA), 0);
      a.mov(reg(BLOCK_COUNT), 1);
      a.mov(reg(BLOCK_DMA_ADDR), FAULT_BEYOND_GPA);
      a.mov(reg(BLOCK_COMMAND), BLOCK_READ);
      break;
    }
    case "ept":
      a.mov(dword(FAULT_BEYOND_GPA), 0x0bad0bad);
      break;
  }
  a.label("fault_halt");
  a.cli();
  a.hlt();
  a.jmp("fault_halt");
  emitPark(a, "fault_park", { vcpus: env.vcpus, logs: bss.logs, park: bss.park, tscKhz });
  emitLogLib(a);
  a.align(4096);
  a.label("fault_idt0");
  a.dw(0);
  a.dd(0);
  a.align(4);
  a.label("fault_idt_np");
  a.dw(256 * 8 - 1);
  a.dd(lbl("bss", bss.idt));
  a.align(4096);
  a.label("bss");
  const img = a.build();
  const base = img.symbols.bss;
  if (base + bss.end > env.memoryBytes) throw new Error(`fault guest: needs ${base + bss.end} bytes of guest memory, has ${env.memoryBytes}`);
  return {
    bytes: img.bytes, loadGpa: GUEST_IMAGE_GPA, entry: img.entry, symbols: img.symbols,
    logGpa: base + bss.logs, logBytes: LOG_BYTES, tasks: [],
  };
}
