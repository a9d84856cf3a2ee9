/**
 * How the bare-metal VMX conformance program (vmx.asm) is built and run under its reference, Bochs 2.7
 * with VMX, and under `vmxsim exec` (issue 5, "Tests": the same cases as a bare-metal x86 program, run
 * under vmxsim and, where Bochs is installed, under Bochs; QEMU's TCG has no VMX).
 *
 * Build: nasm -f bin with two include directories, test/system/kernels/ (the common "lib/..." boot, IDT,
 * printing and END code of the system kernels) and test/system/vmx/ (this program's own includes), into
 * a 64 KiB ROM that starts at the reset vector, like every system kernel (../bochs.ts). `-DBENCH_ONLY`
 * builds the variant that enables VMX and runs only the CPUID round-trip benchmark (one run per CPU
 * profile); `-DDUMP_CAPS` adds a dump of the capability MSRs (for a human comparing models; its lines
 * start with "caps:" and are never part of a golden file).
 *
 * Bochs (Debian bochs 2.7, built with VMX level 2; shared/reference/vmx.md §4) runs the bochsrc of
 * ../bochs.ts with one change: `cpu: model=corei7_skylake_x` instead of p2_klamath, a model whose CPUID
 * database entry reports VMX (with `cpu: model=` the `cpuid: vmx=` option does not apply). It is the
 * Skylake part closest to vmxsim's `--profile skylake` (src/cpu/profiles/skylake.ts), the profile the
 * comparison uses. Output is split from the debugger's lines by ../bochs.ts parseBochsStdout.
 *
 * vmxsim: `vmxsim exec --rom vmx.rom --profile skylake --no-caches --ram-mib 32` in a child process
 * (node + tsx, as the SMP harness does), the RAM Bochs gets (`megs: 32`). The cache model is off for the
 * comparison (nothing compared depends on timing) and on for the benchmark (the profiles' VMX costs are
 * calibrated with it).
 *
 * What is compared: every line except those starting with "bench:" (cycle counts: Bochs's are not
 * timing, vmxsim's are the model's) and "caps:".
 *
 * Leaves out: QEMU (TCG has no VMX), KVM, SMP (one processor).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineOptionsOf } from "../../../src/scenario/exec-runner.ts";
import { buildRomBoard } from "../../../src/scenario/rom-board.ts";
import { KERNELS_DIR, ROM_BYTES, SYSTEM_RAM_MIB, VGA_ROM, INSTALL_HINT, type BochsEnd } from "../bochs.ts";

export const VMX_DIR = dirname(fileURLToPath(import.meta.url));
export const VMX_SOURCE = join(VMX_DIR, "vmx.asm");
export const EXPECTED_PATH = join(VMX_DIR, "expected.txt");
export const ROOT = resolve(VMX_DIR, "../../..");
/** The Bochs CPU model (bochs-bin -help cpu) and the vmxsim profile compared with it. */
export const BOCHS_CPU_MODEL = "corei7_skylake_x";
export const VMXSIM_PROFILE = "skylake";

export interface BuildOptions {
  /** NASM -D definitions (BENCH_ONLY, DUMP_CAPS, BENCH_N=...). */
  defines?: readonly string[];
}

/** Assemble vmx.asm into a 64 KiB ROM (throws with NASM's messages on an error). */
export function buildVmxRom(opts: BuildOptions = {}): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-vmx-nasm-"));
  try {
    const out = join(dir, "vmx.rom");
    const args = ["-f", "bin", "-w+all", "-i", KERNELS_DIR + "/", "-i", VMX_DIR + "/"];
    for (const d of opts.defines ?? []) args.push(`-D${d}`);
    args.push("-o", out, VMX_SOURCE);
    try {
      execFileSync("nasm", args, { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`nasm failed on ${VMX_SOURCE}:\n${err.stderr?.toString() ?? err.message}`);
    }
    const rom = new Uint8Array(readFileSync(out));
    if (rom.length !== ROM_BYTES) throw new Error(`vmx.asm assembled to ${rom.length} bytes, not ${ROM_BYTES}`);
    return rom;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bochsrc of ../bochs.ts with a VMX-capable CPU model. */
export function vmxBochsrc(romPath: string): string {
  return [
    `megs: ${SYSTEM_RAM_MIB}`,
    `romimage: file=${romPath}`,
    `vgaromimage: file=${VGA_ROM}`,
    `cpu: model=${BOCHS_CPU_MODEL}, count=1, reset_on_triple_fault=0`,
    "display_library: term",
    "port_e9_hack: enabled=1",
    "speaker: enabled=0",
    "log: -",
    "panic: action=fatal",
    "error: action=report",
    "",
  ].join("\n");
}

export interface RunOutput {
  /** What the program wrote to port 0xE9 (latin1). */
  debugcon: string;
  /** How the run ended: Bochs's BochsEnd, or vmxsim's stop reason / exit status. */
  end: string;
  /** Diagnostics for failure messages (Bochs's log, vmxsim's stderr). */
  log: string;
}

const BOCHS_ENDINGS: [RegExp, BochsEnd][] = [
  [/Shutdown port: shutdown requested/, "shutdown-port"],
  [/HLT instruction with IF=0/, "halt"],
  [/exception\(\): 3rd \(\d+\) exception with no resolution/, "triple-fault"],
];

const START_LINE = /^\(0\) \[0x0*fffffff0\] f000:fff0 .*\n/m;
const STOP_LINE = /\(0\)\.\[\d+\] \[0x[0-9a-f]+\] [^\n]*\n?/g;

/** The program's debugcon bytes in Bochs's stdout: after the debugger's first line, before its last
 * "(0).[ticks] [0x...] ..." line (printed when the simulation stops). Bochs prints the same kind of line
 * when a guest triple-faults into a VM exit (the triple-fault case); those lines are dropped. */
export function parseVmxBochsStdout(stdout: string): string {
  const start = START_LINE.exec(stdout);
  if (!start) return "";
  const rest = stdout.slice(start.index + start[0].length);
  const stops = [...rest.matchAll(STOP_LINE)];
  if (stops.length === 0) return rest;
  const last = stops[stops.length - 1];
  return rest.slice(0, last.index).replace(STOP_LINE, "");
}

/** Boot the ROM under Bochs with the VMX CPU model (the program takes a few seconds there). */
export function runBochsVmx(rom: Uint8Array, timeoutMs = 120_000): Promise<RunOutput> {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-vmx-bochs-"));
  const romPath = join(dir, "vmx.rom");
  writeFileSync(romPath, rom);
  writeFileSync(join(dir, "bochsrc"), vmxBochsrc(romPath));
  writeFileSync(join(dir, "cmds"), "c\nquit\n");
  return new Promise((resolvePromise, reject) => {
    const p = spawn("bochs", ["-q", "-f", join(dir, "bochsrc"), "-rc", join(dir, "cmds")], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TERM: "dumb" },
    });
    const out: Buffer[] = [];
    let log = "";
    let end: BochsEnd = "other";
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => {
      log += d.toString("latin1");
      if (end !== "other") return;
      for (const [re, e] of BOCHS_ENDINGS) {
        if (re.test(log)) {
          end = e;
          // A halted Bochs would spin until the timeout. SIGINT drops it into its debugger, which
          // finds no more commands and quits, flushing the debugcon output (SIGKILL would lose it).
          if (e === "halt") p.kill("SIGINT");
          break;
        }
      }
    });
    const timer = setTimeout(() => {
      if (end === "other") end = "timeout";
      p.kill("SIGKILL");
    }, timeoutMs);
    p.on("error", (e) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`cannot run bochs: ${e.message}; ${INSTALL_HINT}`));
    });
    p.on("close", () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const debugcon = parseVmxBochsStdout(Buffer.concat(out).toString("latin1"));
      resolvePromise({ debugcon, end, log });
    });
  });
}

export interface VmxsimOptions {
  /** CPU profile id (src/cpu/profiles); null: no profile, which also means no VMX (machine.ts). */
  profile?: string | null;
  /** The cache model (default false: `--no-caches`, functional mode; the compared lines do not depend
   * on timing). The benchmark runs with it, as the profiles' VMX costs are calibrated that way. */
  caches?: boolean;
  maxInsns?: number;
  timeoutMs?: number;
}

function vmxsimArgs(romPath: string, o: VmxsimOptions): string[] {
  const args = ["--import", "tsx", join(ROOT, "src/cli.ts"), "exec", "--rom", romPath];
  const profile = o.profile === undefined ? VMXSIM_PROFILE : o.profile;
  if (profile !== null) args.push("--profile", profile);
  if (profile !== null && !(o.caches ?? false)) args.push("--no-caches");
  args.push("--ram-mib", String(SYSTEM_RAM_MIB), "--max-insns", String(o.maxInsns ?? 200_000_000));
  return args;
}

/** How `vmxsim exec` ends when the program reaches its END protocol (out 0xF4 with 0: status 1). */
export const VMXSIM_DONE = "status 1";

/** `vmxsim exec --rom` synchronously, in a child process (used at collection time to decide what runs). */
export function runVmxsimSync(rom: Uint8Array, o: VmxsimOptions = {}): RunOutput {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-vmx-run-"));
  try {
    const romPath = join(dir, "vmx.rom");
    writeFileSync(romPath, rom);
    const r = spawnSync(process.execPath, vmxsimArgs(romPath, o), {
      cwd: ROOT,
      encoding: "latin1",
      timeout: o.timeoutMs ?? 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const end = r.error ? `error: ${r.error.message}` : `status ${r.status}`;
    return { debugcon: r.stdout ?? "", end, log: r.stderr ?? "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BENCH_LINE = /^bench: cpuid-round-trip n=(\d+) cycles-per-round-trip=(\d+)$/m;

/** The benchmark's result in an output: round trips and cycles per round trip, or null. */
export function benchResult(output: string): { n: number; cyclesPerRoundTrip: number } | null {
  const m = BENCH_LINE.exec(output);
  return m ? { n: Number(m[1]), cyclesPerRoundTrip: Number(m[2]) } : null;
}

/** The lines both emulators must agree on: all but "bench:" and "caps:" lines. */
export function comparable(output: string): string {
  return output
    .split("\n")
    .filter((l) => !l.startsWith("bench:") && !l.startsWith("caps:"))
    .join("\n");
}

/** The first line where `got` leaves `want`, both shown under their labels. */
export function firstDifference(want: string, got: string, wantLabel: string, gotLabel: string): string {
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

/** The golden file (Bochs's comparable output), or null when it does not exist yet. */
export function readExpected(): string | null {
  try {
    return readFileSync(EXPECTED_PATH, "latin1");
  } catch {
    return null;
  }
}

/**
 * Whether a ROM gets past its reset vector on the `exec --rom` board with a profile's cache model: the
 * first 2000 cycles must complete an instruction (a ROM fetch costs a memory access, not thousands of
 * cycles). In-process and bounded by cycles, so a board that charges the first fetch 12,750 cycles and
 * the next one about 1.3e10 (what HEAD does) answers false at once instead of hanging a child process.
 */
export function romRunsWithCaches(rom: Uint8Array, profile: string): boolean {
  const board = buildRomBoard(SYSTEM_RAM_MIB * 1024 * 1024, rom, machineOptionsOf({ profile }));
  const m = board.machine;
  m.core.reset();
  m.run(m.now + 100_000, Infinity); // the first fetches at the reset vector miss to memory: thousands of cycles
  return m.totalInsns() > 0;
}
