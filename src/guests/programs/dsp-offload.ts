/**
 * dsp-offload: offloads jobs to the dsp card and measures their turnaround (issue 6 "Guests"), on the mini
 * kernel (drivers/mini-kernel.ts). vCPU 0 fills an input buffer of jobBytes once with a deterministic
 * pattern (a 32-bit LCG, x = x * 1664525 + 1013904223 from DSP_INPUT_SEED, stored little-endian: Numerical
 * Recipes' constants), builds one job descriptor (dsp.ts layout: INPUT_ADDR, INPUT_LEN, OUTPUT_ADDR, OP,
 * PARAM) and then every intervalUs by the TSC submits it (op JOB) through the drivers and waits: the
 * driver writes an IO record per job (V1 = jobBytes, V2 = status). The card (or the VMM, paravirtual)
 * writes RESULT/STATUS/JOB_ID into the descriptor (symbol `dsp_desc`) and the output to `dsp_output`
 * (the input is at `dsp_input`).
 * Ops: crc32 (dsp op 0), scale (op 1, PARAM = DSP_SCALE_GAIN, Q16.16) and sum (op 2).
 * Other vCPUs park (CLI; HLT). Leaves out: several jobs in flight, changing input between jobs.
 */
import { type Asm, dword, eax, ebp, ebx, ecx, edi, edx, esi, lbl } from "../asm/index.ts";
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { PvOp } from "../../vmm/abi.ts";
import { Bss, buildMiniKernelImage, VcpuBlock } from "../drivers/mini-kernel.ts";
import { DSP_DESC } from "../drivers/dsp-driver.ts";
import { usToTsc } from "../drivers/driver-common.ts";

/** The scenario's DspOffloadGuestConfig (src/scenario/config.ts), restated: guests may not import scenario/. */
export interface DspOffloadSpec {
  device: string;
  jobBytes: number;
  intervalUs: number;
  op: "crc32" | "scale" | "sum";
}

export const DSP_OPS = { crc32: 0, scale: 1, sum: 2 } as const;
/** SCALE's gain: 1.5 in Q16.16. */
export const DSP_SCALE_GAIN = 0x00018000;
export const DSP_INPUT_SEED = 0x2545f491;

/** The input the guest builds (for tests: the same bytes, computed here). */
export function dspInputPattern(bytes: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes / 4) * 4);
  const v = new DataView(out.buffer);
  let x = DSP_INPUT_SEED;
  for (let k = 0; k < out.length; k += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v.setUint32(k, x, true);
  }
  return out.subarray(0, bytes);
}

export function buildDspOffloadGuest(cfg: DspOffloadSpec, env: GuestEnv): GuestImage {
  const dev = env.devices.findIndex((d) => d.name === cfg.device);
  if (dev < 0) throw new RangeError(`dsp-offload: no device '${cfg.device}' in the partition`);
  if (env.devices[dev].type !== "dsp") throw new RangeError(`dsp-offload: '${cfg.device}' is a ${env.devices[dev].type} device, not a dsp`);
  if (!(Number.isInteger(cfg.jobBytes) && cfg.jobBytes >= 1)) throw new RangeError(`dsp-offload: jobBytes ${cfg.jobBytes} is not a positive integer`);
  const words = Math.ceil(cfg.jobBytes / 4);
  const outBytes = cfg.op === "scale" ? words * 4 : 8;
  const interval = usToTsc(env, cfg.intervalUs);
  let inOff = 0, outOff = 0;
  const img = buildMiniKernelImage(env, {
    name: "dsp-offload",
    reserve(bss: Bss) {
      inOff = bss.alloc(words * 4, 64);
      outOff = bss.alloc(outBytes, 64);
    },
    setup(a: Asm) {
      a.push(edi);
      a.mov(edi, lbl("bss", inOff));
      a.mov(ecx, words);
      a.mov(eax, DSP_INPUT_SEED);
      a.label("dsp.fill");
      a.imul(eax, eax, 1664525);
      a.add(eax, 1013904223);
      a.mov(dword(edi), eax);
      a.add(edi, 4);
      a.dec(ecx);
      a.jnz("dsp.fill");
      a.pop(edi);
      a.mov(dword(lbl("dsp_desc", DSP_DESC.INPUT_ADDR)), lbl("bss", inOff));
      a.mov(dword(lbl("dsp_desc", DSP_DESC.INPUT_LEN)), cfg.jobBytes);
      a.mov(dword(lbl("dsp_desc", DSP_DESC.OUTPUT_ADDR)), lbl("bss", outOff));
      a.mov(dword(lbl("dsp_desc", DSP_DESC.OP)), DSP_OPS[cfg.op]);
      a.mov(dword(lbl("dsp_desc", DSP_DESC.PARAM)), cfg.op === "scale" ? DSP_SCALE_GAIN : 0);
    },
    workload(a: Asm) {
      a.test(ebp, ebp);
      a.jz("dsp.run");
      a.label("dsp.park");
      a.cli();
      a.hlt();
      a.jmp("dsp.park");
      a.label("dsp.run");
      a.rdtsc();
      a.mov(dword("dsp_next"), eax);
      a.label("dsp.next");
      a.add(dword("dsp_next"), interval);
      a.label("dsp.sleep");
      a.rdtsc();
      a.sub(eax, dword("dsp_next"));
      a.jns("dsp.due");
      a.pause();
      a.jmp("dsp.sleep");
      a.label("dsp.due");
      a.cmp(eax, interval);
      a.jb("dsp.submit");
      a.add(dword("dsp_next"), eax);
      a.label("dsp.submit");
      a.mov(eax, PvOp.JOB);
      a.mov(ebx, "dsp_desc");
      a.mov(ecx, cfg.jobBytes);
      a.xor(edx, edx);
      a.call(`drv${dev}_submit`);
      a.test(eax, eax);
      a.jz("dsp.wait");
      a.pause();
      a.jmp("dsp.submit");
      a.label("dsp.wait");
      a.call(`drv${dev}_wait`);
      a.inc(dword(esi, VcpuBlock.PROGRESS));
      a.jmp("dsp.next");
    },
    routines(a: Asm) {
      a.align(64);
      a.label("dsp_desc");
      a.times(32);
      a.label("dsp_next");
      a.dd(0);
      a.align(64);
    },
  });
  img.symbols.dsp_input = img.symbols.bss + inOff;
  img.symbols.dsp_output = img.symbols.bss + outOff;
  return img;
}
