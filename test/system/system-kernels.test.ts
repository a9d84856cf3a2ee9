/**
 * System-level test kernels (issue 3): each kernel of kernels.ts is assembled with NASM into a 64 KiB
 * ROM and booted from the reset vector under Bochs -- the reference, see bochs.ts for the exact bochsrc
 * -- and under vmxsim (runRom). Two checks per kernel:
 *   - vmxsim's debugcon output is byte for byte Bochs's, and both reached the kernel's END protocol;
 *   - Bochs's output equals test/system/expected/NAME.txt, made by Bochs (update-golden.ts), so that a
 *     Bochs version change or a kernel edit without a new golden file is noticed.
 * Bochs and NASM are required: without them these tests FAIL saying what to install (.ci/run installs
 * them); they are never skipped.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { runRom } from "../../src/scenario/rom-runner.ts";
import { assembleKernel, expectedPath, missingTools, runBochs, SYSTEM_RAM_MIB, type BochsResult } from "./bochs.ts";
import { KERNELS } from "./kernels.ts";

/** vmxsim gives up after this many instructions (the kernels run a few hundred thousand at most). */
const MAX_INSNS = 50_000_000;
/** Bochs runs at once, at most (each is one process; this machine has 2 cores). */
const BOCHS_PARALLEL = 3;

/** The first line where `got` leaves `want`, both shown under their labels. */
function firstDifference(want: string, got: string, wantLabel = "Bochs", gotLabel = "vmxsim"): string {
  const w = want.split("\n");
  const g = got.split("\n");
  for (let k = 0; k < Math.max(w.length, g.length); k++) {
    if (w[k] !== g[k]) {
      const show = (s: string | undefined) => (s === undefined ? "(end of output)" : JSON.stringify(s));
      return `first difference at line ${k + 1}:\n  ${wantLabel}: ${show(w[k])}\n  ${gotLabel}: ${show(g[k])}`;
    }
  }
  return "no difference";
}

const MISSING = missingTools();

/** Run the kernels under Bochs, BOCHS_PARALLEL at a time, each test awaiting its own. */
function startBochsRuns(roms: (Uint8Array | Error)[]): Promise<BochsResult>[] {
  const gates: (() => void)[] = [];
  let running = 0;
  const acquire = () =>
    new Promise<void>((go) => {
      if (running < BOCHS_PARALLEL) {
        running++;
        go();
      } else gates.push(go);
    });
  const release = () => {
    const next = gates.shift();
    if (next) next();
    else running--;
  };
  return roms.map(async (rom) => {
    if (rom instanceof Error) throw rom;
    await acquire();
    try {
      return await runBochs(rom);
    } finally {
      release();
    }
  });
}

describe("system kernels: vmxsim against Bochs, from the reset vector", () => {
  const roms = KERNELS.map((name) => {
    if (MISSING) return new Error(MISSING);
    try {
      return assembleKernel(name);
    } catch (e) {
      return e as Error;
    }
  });
  const bochs = MISSING ? [] : startBochsRuns(roms);
  bochs.forEach((p) => p.catch(() => {})); // awaited (and reported) by the tests below

  it("has its reference tools (bochs, bochs-term, vgabios, nasm)", () => {
    if (MISSING) throw new Error(MISSING);
  });

  it.each(KERNELS.map((name, i) => [name, i] as const))("%s: vmxsim prints what Bochs prints", async (name, i) => {
    if (MISSING) throw new Error(MISSING);
    const rom = roms[i];
    if (rom instanceof Error) throw rom;
    const b = await bochs[i];
    expect(b.end, `Bochs did not reach ${name}'s END protocol: ${b.reason}\noutput:\n${b.debugcon}`).toBe("shutdown-port");
    const v = runRom(rom, { ramMiB: SYSTEM_RAM_MIB, maxInsns: MAX_INSNS, name: `${name}.rom` });
    const got = Buffer.from(v.stdout).toString("latin1");
    expect(got, `${name}: ${firstDifference(b.debugcon, got)}\nvmxsim notes: ${v.notes.join("\n")}`).toBe(b.debugcon);
    expect(v.stop, v.notes.join("\n")).toBe("debug-exit");
  });

  it.each(KERNELS.map((name, i) => [name, i] as const))("%s: Bochs prints the golden file", async (name, i) => {
    if (MISSING) throw new Error(MISSING);
    const path = expectedPath(name);
    expect(existsSync(path), `no golden file ${path}: run npx tsx test/system/update-golden.ts ${name}`).toBe(true);
    const b = await bochs[i];
    const want = readFileSync(path, "latin1");
    expect(b.debugcon, `${name}: Bochs no longer prints ${path}; ${firstDifference(want, b.debugcon, "golden", "Bochs")}`).toBe(want);
  });
});
