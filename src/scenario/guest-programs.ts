/**
 * The guest programs a scenario can name (`guest.program`), each built for its partition (GuestEnv), and
 * Multiboot ELF images built elsewhere (`program: image`), loaded as a Multiboot 0.6.96 loader would into
 * the partition's guest-physical memory. The only place the scenario layer knows the program names.
 */
import type { GuestEnv, GuestImage } from "../guests/guest-env.ts";
import { loadMultiboot } from "../guests/image/multiboot-loader.ts";
import type { GuestConfig } from "./config.ts";
import { buildRtosGuest } from "../guests/programs/rtos.ts";
import { buildGposLoadGuest } from "../guests/programs/gpos-load.ts";
import { buildDspOffloadGuest } from "../guests/programs/dsp-offload.ts";
import { buildFaultGuest } from "../guests/programs/fault-guest.ts";

/** Reads a file named in a scenario (the CLI resolves it against the scenario's directory). */
export type FileReader = (path: string) => Uint8Array;

export function buildGuestImage(guest: GuestConfig, env: GuestEnv, files: FileReader): GuestImage {
  switch (guest.program) {
    case "image":
      return loadElfImage(files(guest.image), env, guest.cmdline);
    case "rtos":
      return buildRtosGuest(guest, env);
    case "gpos-load":
      return buildGposLoadGuest(guest, env);
    case "dsp-offload":
      return buildDspOffloadGuest(guest, env);
    case "fault":
      return buildFaultGuest(guest, env);
  }
}

function loadElfImage(file: Uint8Array, env: GuestEnv, cmdline: string): GuestImage {
  const scratch = new Uint8Array(env.memoryBytes);
  const boot = loadMultiboot(file, scratch, { cmdline });
  let lo = Infinity, hi = 0;
  for (const r of boot.ranges) {
    lo = Math.min(lo, r.addr);
    hi = Math.max(hi, r.addr + r.memBytes);
  }
  if (lo === Infinity) throw new RangeError("the image loads nothing");
  return { bytes: scratch.slice(lo, hi), loadGpa: lo, entry: boot.entry, symbols: {}, logGpa: null, logBytes: 0, tasks: [] };
}
