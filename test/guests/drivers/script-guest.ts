/**
 * A test guest on the mini kernel (src/guests/drivers/mini-kernel.ts) that runs a fixed script of driver
 * calls on vCPU 0 and stores what each returned: for step k, results[2k] = drv<i>_submit's EAX and
 * results[2k + 1] = drv<i>_wait's EAX (or NOT_CALLED), then sets `script_done` and halts (IF = 1 so device
 * interrupts still run, or IF = 0 with `interrupts: false`). Buffers live in the image at `buf<n>`.
 */
import { dword, eax, ebp, ebx, ecx, edx, lbl } from "../../../src/guests/asm/index.ts";
import type { GuestEnv, GuestImage } from "../../../src/guests/guest-env.ts";
import { buildMiniKernelImage } from "../../../src/guests/drivers/mini-kernel.ts";

export const NOT_CALLED = 0xdeadbeef;

export interface Step {
  dev: number;
  op: number;
  /** A buffer index (buf<n>) or an absolute address. */
  buf: { n: number; add?: number } | number;
  bytes: number;
  arg0?: number;
  /** Call wait after the submit (default true). */
  wait?: boolean;
}

export function buildScriptGuest(env: GuestEnv, steps: Step[], buffers: Uint8Array[], opts: { interrupts?: boolean } = {}): GuestImage {
  return buildMiniKernelImage(env, {
    name: "script",
    workload(a) {
      a.test(ebp, ebp);
      a.jnz("script.park");
      if (opts.interrupts === false) a.cli();
      steps.forEach((s, k) => {
        a.mov(eax, s.op);
        a.mov(ebx, typeof s.buf === "number" ? s.buf : lbl(`buf${s.buf.n}`, s.buf.add ?? 0));
        a.mov(ecx, s.bytes);
        a.mov(edx, s.arg0 ?? 0);
        a.call(`drv${s.dev}_submit`);
        a.mov(dword(lbl("results", 8 * k)), eax);
        if (s.wait !== false) {
          a.call(`drv${s.dev}_wait`);
          a.mov(dword(lbl("results", 8 * k + 4)), eax);
        }
      });
      a.mov(dword("script_done"), 1);
      a.label("script.park");
      a.hlt();
      a.jmp("script.park");
    },
    routines(a) {
      a.align(64);
      a.label("results");
      for (let k = 0; k < 2 * steps.length; k++) a.dd(NOT_CALLED);
      a.label("script_done");
      a.dd(0);
      buffers.forEach((b, n) => {
        a.align(64);
        a.label(`buf${n}`);
        a.db(...b);
      });
      a.align(64);
    },
  });
}

/** [submit EAX, wait EAX] per step. */
export function scriptResults(ram: Uint8Array, img: GuestImage, steps: number): [number, number][] {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  return Array.from({ length: steps }, (_, k) => [dv.getUint32(img.symbols.results + 8 * k, true), dv.getUint32(img.symbols.results + 8 * k + 4, true)]);
}

export function scriptDone(ram: Uint8Array, img: GuestImage): boolean {
  return new DataView(ram.buffer, ram.byteOffset).getUint32(img.symbols.script_done, true) === 1;
}
