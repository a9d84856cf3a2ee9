/**
 * How the SMP test kernel (smp.asm) is run under its references and under vmxsim, and how their output
 * is collected (issue 4, "Tests against references": an SMP kernel under QEMU -smp 4 and vmxsim).
 *
 * QEMU (Debian qemu-system-x86 7.2), the reference the golden file comes from:
 *   qemu-system-i386 -smp 4 -kernel smp.elf -display none -debugcon stdio
 *     -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -nodefaults -m 128 [-accel tcg,thread=T]
 *   QEMU boots the Multiboot ELF through SeaBIOS and its multiboot option ROM; SeaBIOS has already woken
 *   the APs once (to count them) and parked them, so the kernel's INIT puts them back into
 *   wait-for-SIPI (SDM Vol. 3A 8.4.1, 10.4.7.3). Exit status (v << 1) | 1 for a write of v to 0xF4.
 * Bochs 2.7 with 4 CPUs (Debian's build has SMP support: its log says "SMP support: yes, quantum=16"):
 *   the bochsrc of ../bochs.ts with `cpu: count=4`, and as the BIOS the ROM of rom-loader.asm, which
 *   loads the same kernel from the reset vector (Bochs boots no Multiboot image). The APs wait for SIPI
 *   from power-up. The kernel ends Bochs by writing "Shutdown" to port 0x8900 (after its out 0xF4).
 *   Its debugger prints one "(n) [0x0000fffffff0] f000:fff0 ..." line per CPU before the kernel's
 *   output and one "(n).[ticks] ..." line per CPU after it.
 * vmxsim: `vmxsim exec --cores 4 smp.elf` in a child process (Node + tsx, as test/cli.test.ts does).
 *
 * Leaves out: KVM (the reference is TCG, the same on every host).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bochsrc } from "../bochs.ts";
import { SMP_DIR } from "./build.ts";

export const ROOT = resolve(SMP_DIR, "../../..");
export const EXPECTED_PATH = join(SMP_DIR, "expected.txt");
export const QEMU = "qemu-system-i386";
export const QEMU_HINT = "apt-get install qemu-system-x86";
export const CPUS = 4;
/** `out 0xF4` values of the kernel: every check passed / a check failed. */
export const EXIT_PASS_STATUS = (0x10 << 1) | 1;
export const EXIT_FAIL_STATUS = (0x11 << 1) | 1;

export function haveQemu(): boolean {
  try {
    execFileSync(QEMU, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  /** Exit status, null when killed (timeout). */
  status: number | null;
  /** What the kernel wrote to port 0xE9 (latin1). */
  debugcon: string;
  stderr: string;
  timedOut: boolean;
}

function spawnCollect(cmd: string, args: string[], timeoutMs: number, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult & { stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: opts.cwd, env: opts.env });
    const out: Buffer[] = [];
    let stderr = "";
    let timedOut = false;
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString("latin1")));
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill("SIGKILL");
    }, timeoutMs);
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    p.on("close", (status) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("latin1");
      resolvePromise({ status, debugcon: stdout, stdout, stderr, timedOut });
    });
  });
}

/** Write `bytes` to a temporary file, run `body` on its path, remove it. */
export async function withTempFile<T>(name: string, bytes: Uint8Array, body: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-smp-run-"));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return await body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface QemuOptions {
  smp?: number;
  /** TCG threading: "single" (one host thread, round robin) or "multi" (a host thread per vCPU). */
  thread?: "single" | "multi";
  timeoutMs?: number;
}

export function qemuArgs(elfPath: string, opts: QemuOptions = {}): string[] {
  return [
    "-smp", String(opts.smp ?? CPUS), "-kernel", elfPath, "-display", "none", "-debugcon", "stdio",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot", "-nodefaults", "-m", "128",
    ...(opts.thread ? ["-accel", `tcg,thread=${opts.thread}`] : []),
  ];
}

/** Run the kernel ELF under qemu-system-i386 (a run takes about 0.2 s; the default timeout is 30 s). */
export function runQemu(elf: Uint8Array, opts: QemuOptions = {}): Promise<RunResult> {
  return withTempFile("smp.elf", elf, (path) => spawnCollect(QEMU, qemuArgs(path, opts), opts.timeoutMs ?? 30_000));
}

// ---- Bochs ----

export function bochsSmpRc(romPath: string, cpus = CPUS): string {
  return bochsrc(romPath, cpus);
}

const BOCHS_START = /^(?:\(\d+\) \[0x0*fffffff0\] f000:fff0 .*\n)+/m;
const BOCHS_STOP = /\(\d+\)\.\[(\d+)\] \[0x[0-9a-f]+\] /;

/** The kernel's debugcon bytes between the debugger's per-CPU start lines and its first stop line. */
export function parseBochsSmpStdout(stdout: string): { debugcon: string; ticks: number | undefined } {
  const start = BOCHS_START.exec(stdout);
  if (!start) return { debugcon: "", ticks: undefined };
  const rest = stdout.slice(start.index + start[0].length);
  const stop = BOCHS_STOP.exec(rest);
  if (!stop) return { debugcon: rest, ticks: undefined };
  return { debugcon: rest.slice(0, stop.index), ticks: Number(stop[1]) };
}

export interface BochsSmpResult extends RunResult {
  /** Bochs reached the shutdown port (the kernel's END protocol). */
  shutdown: boolean;
  ticks: number | undefined;
}

/** Boot the ROM (rom-loader.asm + kernel) under Bochs with `cpus` CPUs (about 5 s for 4 CPUs). */
export function runBochsSmp(rom: Uint8Array, cpus = CPUS, timeoutMs = 90_000): Promise<BochsSmpResult> {
  return withTempFile("smp.rom", rom, async (romPath) => {
    const dir = resolve(romPath, "..");
    writeFileSync(join(dir, "bochsrc"), bochsSmpRc(romPath, cpus));
    writeFileSync(join(dir, "cmds"), "c\nquit\n");
    const r = await spawnCollect("bochs", ["-q", "-f", join(dir, "bochsrc"), "-rc", join(dir, "cmds")], timeoutMs, {
      cwd: dir,
      env: { ...process.env, TERM: "dumb" },
    });
    const { debugcon, ticks } = parseBochsSmpStdout(r.stdout);
    return { ...r, debugcon, ticks, shutdown: /Shutdown port: shutdown requested/.test(r.stderr) };
  });
}

// ---- vmxsim ----

function vmxsimArgv(args: string[]): string[] {
  return ["--import", "tsx", join(ROOT, "src/cli.ts"), ...args];
}

/** Null when `vmxsim exec --help` lists --cores; else why the vmxsim half cannot run yet. */
export function vmxsimCoresMissing(): string | null {
  const r = spawnSync(process.execPath, vmxsimArgv(["exec", "--help"]), { cwd: ROOT, encoding: "latin1", timeout: 60_000 });
  if (r.status !== 0) return `'vmxsim exec --help' failed (status ${r.status}): ${r.stderr}`;
  return /--cores\b/.test(r.stdout) ? null : "'vmxsim exec' has no --cores option yet (its --help does not list it)";
}

/** `vmxsim exec --cores N --stats FILE`, in a child process. */
export function runVmxsim(elf: Uint8Array, cores = CPUS, maxInsns = 2_000_000_000, timeoutMs = 300_000): Promise<RunResult> {
  return withTempFile("smp.elf", elf, (path) =>
    spawnCollect(
      process.execPath,
      vmxsimArgv(["exec", "--cores", String(cores), "--stats", "--max-insns", String(maxInsns), path]),
      timeoutMs,
      { cwd: ROOT },
    ),
  );
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
