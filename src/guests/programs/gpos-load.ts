/**
 * gpos-load: the general-purpose partition's load (issue 6 "Guests"), on the mini kernel
 * (drivers/mini-kernel.ts). vCPU i runs cfg.vcpus[i % n] forever:
 * - cpu: an integer loop (ADD, XOR, SUB on registers, a dependency chain: no memory traffic; these are the
 *   interpreter's fastest instructions, so the load costs the host little), progress + 1 per 10000 rounds;
 * - thrash: walks a buffer of its own (bufferKiB) with strideBytes, a load per step or, with writes, a
 *   read-modify-write (ADD [m], r), progress + 1 per pass; the cache interference other partitions see;
 * - io: every intervalUs by the TSC (absolute deadlines, next = previous + interval; when it has fallen more
 *   than an interval behind it restarts from now instead of bursting), submits op/bytes to the named device
 *   through the drivers and waits: the driver writes one IO record per operation into this vCPU's log ring.
 *   Block transfers walk the vCPU's own LBA window (IO_LBA_SPAN sectors from vcpu * IO_LBA_SPAN, wrapping);
 *   the buffer is the vCPU's own (zero-filled; a TX packet or WRITE data of zeros).
 * Device interrupts arrive on vCPU 0, which runs with IF = 1; the others run with IF = 0.
 * The progress counter of vCPU v is at symbols.vcpu_blocks + v * STACK_BYTES + VcpuBlock.PROGRESS.
 * Leaves out: a file system or network stack above the drivers, think times other than the fixed interval.
 */
import { type Asm, dword, eax, ebp, ebx, ecx, edx, esi, lbl } from "../asm/index.ts";
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { PvOp } from "../../vmm/abi.ts";
import { Bss, buildMiniKernelImage, VcpuBlock } from "../drivers/mini-kernel.ts";
import { usToTsc } from "../drivers/driver-common.ts";

/** The scenario's GposLoadGuestConfig (src/scenario/config.ts), restated: guests may not import scenario/
 * (shared/DESIGN.md §2); structural typing makes the scenario's objects assignable. */
export type GposWorkload =
  | { kind: "cpu" }
  | { kind: "thrash"; bufferKiB: number; strideBytes: number; writes: boolean }
  | { kind: "io"; device: string; op: "read" | "write" | "tx"; bytes: number; intervalUs: number };
export interface GposLoadSpec {
  vcpus: GposWorkload[];
}

/** Sectors of each io vCPU's LBA window on a block device. */
export const IO_LBA_SPAN = 2048;
const CPU_ROUNDS = 10000;
/** Per-vCPU scratch in its block: next deadline (low TSC), current LBA, window base. */
const NEXT = VcpuBlock.SCRATCH, LBA = VcpuBlock.SCRATCH + 4, LBA_BASE = VcpuBlock.SCRATCH + 8;

const OPS = { read: PvOp.READ, write: PvOp.WRITE, tx: PvOp.TX } as const;

export function buildGposLoadGuest(cfg: GposLoadSpec, env: GuestEnv): GuestImage {
  const n = cfg.vcpus.length;
  if (n === 0) throw new RangeError("gpos-load: no workloads");
  const workloadOf = (v: number): GposWorkload => cfg.vcpus[v % n];
  // Which device each io workload uses, checked here so a bad config fails at build time with a message.
  const ioDevice = cfg.vcpus.map((w, k) => {
    if (w.kind !== "io") return -1;
    const d = env.devices.findIndex((x) => x.name === w.device);
    if (d < 0) throw new RangeError(`gpos-load: vcpus[${k}]: no device '${w.device}' in the partition`);
    const t = env.devices[d].type;
    const ok = t === "block" ? w.op !== "tx" : t === "nic" ? w.op === "tx" : t === "uart" ? w.op === "write" : false;
    if (!ok) throw new RangeError(`gpos-load: vcpus[${k}]: a ${t} device has no '${w.op}' operation`);
    if (t === "block" && (w.bytes % 512 !== 0 || w.bytes / 512 > IO_LBA_SPAN)) {
      throw new RangeError(`gpos-load: vcpus[${k}]: ${w.bytes} bytes is not a whole number of sectors up to ${IO_LBA_SPAN}`);
    }
    return d;
  });

  // Per-vCPU buffers (thrash and io), by vCPU.
  const bufOff: number[] = [];
  return buildMiniKernelImage(env, {
    name: "gpos-load",
    reserve(bss: Bss) {
      for (let v = 0; v < env.vcpus; v++) {
        const w = workloadOf(v);
        bufOff[v] = w.kind === "thrash" ? bss.alloc(w.bufferKiB * 1024, 4096) : w.kind === "io" ? bss.alloc(w.bytes, 64) : -1;
      }
    },
    workload(a: Asm) {
      // Dispatch on the workload index (EBP mod n); each workload gets its buffer from the per-vCPU table.
      a.mov(eax, ebp);
      a.xor(edx, edx);
      a.mov(ecx, n);
      a.insn("div", ecx);
      for (let k = 0; k < n; k++) {
        a.cmp(edx, k);
        a.je(`wl${k}`);
      }
      a.label("wl.none");
      a.cli();
      a.hlt();
      a.jmp("wl.none");
      cfg.vcpus.forEach((w, k) => {
        a.label(`wl${k}`);
        a.mov(ebx, dword({ index: ebp, scale: 4, disp: "vcpu_buf" }));
        emitWorkload(a, env, w, k, ioDevice[k]);
      });
    },
    routines(a: Asm) {
      a.align(4);
      a.label("vcpu_buf");
      for (let v = 0; v < env.vcpus; v++) a.dd(bufOff[v] >= 0 ? lbl("bss", bufOff[v]) : 0);
    },
  });
}

/** Workload k with EBX = its buffer, ESI = the vCPU block, EBP = the vCPU index. */
function emitWorkload(a: Asm, env: GuestEnv, w: GposWorkload, k: number, dev: number): void {
  const L = (s: string) => `wl${k}.${s}`;
  switch (w.kind) {
    case "cpu":
      a.mov(eax, 0x12345678);
      a.label(L("outer"));
      a.mov(ecx, CPU_ROUNDS);
      a.label(L("loop"));
      a.add(eax, edx);
      a.xor(edx, eax);
      a.add(edx, 0x9e3779b9 | 0);
      a.sub(eax, ecx);
      a.dec(ecx);
      a.jnz(L("loop"));
      a.inc(dword(esi, VcpuBlock.PROGRESS));
      a.jmp(L("outer"));
      return;
    case "thrash": {
      const bytes = w.bufferKiB * 1024;
      const steps = Math.max(1, Math.floor((bytes - 4) / w.strideBytes) + 1);
      a.mov(eax, 1);
      a.label(L("pass"));
      a.mov(edx, ebx);
      a.mov(ecx, steps);
      a.label(L("step"));
      if (w.writes) a.add(dword(edx), eax);
      else a.mov(eax, dword(edx));
      a.add(edx, w.strideBytes);
      a.dec(ecx);
      a.jnz(L("step"));
      a.inc(dword(esi, VcpuBlock.PROGRESS));
      a.jmp(L("pass"));
      return;
    }
    case "io": {
      const d = env.devices[dev];
      const interval = usToTsc(env, w.intervalUs);
      const sectors = d.type === "block" ? w.bytes / 512 : 0;
      const slots = sectors > 0 ? Math.floor(IO_LBA_SPAN / sectors) : 1;
      a.imul(eax, ebp, IO_LBA_SPAN);
      a.mov(dword(esi, LBA), eax);
      a.mov(dword(esi, LBA_BASE), eax);
      a.rdtsc();
      a.mov(dword(esi, NEXT), eax);
      a.label(L("next"));
      a.add(dword(esi, NEXT), interval);
      a.label(L("sleep"));
      a.rdtsc();
      a.sub(eax, dword(esi, NEXT));
      a.jns(L("due"));
      a.pause();
      a.jmp(L("sleep"));
      a.label(L("due"));
      a.cmp(eax, interval);
      a.jb(L("submit"));
      a.add(dword(esi, NEXT), eax); // more than an interval late: restart from now
      a.label(L("submit"));
      a.mov(eax, OPS[w.op]);
      a.mov(ecx, w.bytes);
      a.mov(edx, dword(esi, LBA));
      a.call(`drv${dev}_submit`);
      a.test(eax, eax);
      a.jz(L("wait"));
      a.pause();
      a.jmp(L("submit"));
      a.label(L("wait"));
      a.call(`drv${dev}_wait`);
      a.inc(dword(esi, VcpuBlock.PROGRESS));
      if (sectors > 0) {
        a.mov(eax, dword(esi, LBA));
        a.add(eax, sectors);
        a.mov(ecx, eax);
        a.sub(ecx, dword(esi, LBA_BASE));
        a.cmp(ecx, slots * sectors);
        a.jb(L("lba"));
        a.mov(eax, dword(esi, LBA_BASE));
        a.label(L("lba"));
        a.mov(dword(esi, LBA), eax);
      }
      a.jmp(L("next"));
      return;
    }
  }
}
