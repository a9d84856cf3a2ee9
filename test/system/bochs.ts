/**
 * The Bochs reference harness for the system-level test kernels (issue 3, "Tests against references
 * that are not our code"): assemble a kernel with NASM into a 64 KiB ROM, boot that ROM under Bochs as
 * its BIOS and collect what it wrote to port 0xE9. The same ROM runs under vmxsim (`runRom`), so both
 * start from the identical power-on state (SDM Vol. 3A 9.1.1) with no BIOS in between.
 *
 * Bochs (Debian bochs 2.7, plus bochs-term for a headless display and vgabios for the VGA ROM that Bochs
 * insists on loading) runs with this bochsrc (BOCHSRC below, ROM path filled in):
 *
 *   megs: 32                            RAM (vmxsim gets the same with ramMiB 32)
 *   romimage: file=kernel.rom           our ROM as the system BIOS. Bochs maps a romimage at
 *                                       4 GiB - size (log: "rom at 0xffff0000/65536") and decodes the
 *                                       top 128 KiB below 1 MiB to the top of that area, so a 64 KiB image
 *                                       appears at 0xF0000 and at 0xFFFF0000; the CPU starts at F000:FFF0
 *                                       with CS.base FFFF0000. Stores to 0xF0000-0xFFFFF are discarded
 *                                       (i440FX PAM registers at reset), as on the vmxsim ROM board.
 *   vgaromimage: file=/usr/share/vgabios/vgabios.bin   required by Bochs; never run (no BIOS calls it)
 *   cpu: model=p2_klamath, count=1, reset_on_triple_fault=0
 *                                       a Pentium II (family 6 model 3: PSE, PGE, PAE, SYSENTER, CMOV,
 *                                       MTRR; no SSE, no long mode); a triple fault ends the run instead
 *                                       of resetting into the ROM again
 *   display_library: term               Debian's build has no "nogui"; term (ncurses, TERM=dumb) writes
 *                                       nothing as long as the kernel leaves VGA memory alone
 *   port_e9_hack: enabled=1             debugcon: bytes written to port 0xE9 go to Bochs's stdout
 *   speaker: enabled=0                  no sound device probing
 *   log: -  /  panic: action=fatal  /  error: action=report
 *
 * Debian's Bochs has the internal debugger compiled in and stops before the first instruction; the
 * harness feeds it `-rc` commands ("c", then "quit"). The debugger prints its own lines on the same
 * stdout, so the debugcon text is what lies between the first "(0) [0x0000fffffff0] f000:fff0 ..." line
 * and the first "(0).[ticks] [0x...]" line (printed when the simulation stops, right after the last
 * byte, with no newline of its own).
 *
 * How a run ends (the kernel's END protocol -- every kernel must finish this way):
 *   1. out 0xF4, value   isa-debug-exit: vmxsim stops here (status (value << 1) | 1); no device on Bochs
 *   2. write the bytes "Shutdown" to port 0x8900 (Bochs's "unmapped" device: shutdown port); Bochs
 *      stops at once (a PANIC with action=fatal). Nothing listens there on vmxsim.
 * A kernel that halts with IF = 0 ends too: Bochs logs "HLT instruction with IF=0" and the harness kills
 * it ("halt"); a triple fault ends Bochs ("triple-fault"). Anything else hits the timeout ("timeout").
 *
 * Adding a kernel: test/system/kernels/NAME.asm (a flat image with `org`, at most 64 KiB, reset vector
 * in its last 16 bytes; includes name "lib/..." files, the kernels directory is NASM's include path)
 * plus its name in KERNELS (system-kernels.test.ts) and its golden file, made by Bochs with
 * `npx tsx test/system/update-golden.ts NAME`.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SYSTEM_DIR = dirname(fileURLToPath(import.meta.url));
export const KERNELS_DIR = join(SYSTEM_DIR, "kernels");
export const EXPECTED_DIR = join(SYSTEM_DIR, "expected");
export const ROM_BYTES = 0x10000;
/** RAM given to both Bochs (megs) and vmxsim (ramMiB). */
export const SYSTEM_RAM_MIB = 32;
export const BOCHS = "bochs";
export const VGA_ROM = "/usr/share/vgabios/vgabios.bin";
export const INSTALL_HINT =
  "install Bochs and NASM: apt-get install bochs bochs-term bochsbios vgabios nasm (.ci/run does this)";

/** The bochsrc of the system kernels: `cpus` processors (the SMP kernel uses 4). */
export function bochsrc(romPath: string, cpus = 1): string {
  return [
    `megs: ${SYSTEM_RAM_MIB}`,
    `romimage: file=${romPath}`,
    `vgaromimage: file=${VGA_ROM}`,
    `cpu: model=p2_klamath, count=${cpus}, reset_on_triple_fault=0`,
    "display_library: term",
    "port_e9_hack: enabled=1",
    "speaker: enabled=0",
    "log: -",
    "panic: action=fatal",
    "error: action=report",
    "",
  ].join("\n");
}

/** Why Bochs stopped. */
export type BochsEnd = "shutdown-port" | "halt" | "triple-fault" | "timeout" | "other";

export interface BochsResult {
  /** Everything the kernel wrote to port 0xE9 (latin1). */
  debugcon: string;
  end: BochsEnd;
  /** Bochs's tick count when it stopped (one tick per instruction with the default IPS settings). */
  ticks: number | undefined;
  /** The PANIC or other line that explains `end`, for failure messages. */
  reason: string;
  /** Bochs's stderr (its log), for failure messages. */
  log: string;
  /** Raw stdout, debugger lines included. */
  stdout: string;
}

/** Null when Bochs, the term display plugin, the VGA ROM and NASM are all there; else what is missing. */
export function missingTools(): string | null {
  const missing: string[] = [];
  const runs = (cmd: string, args: string[]) => {
    try {
      execFileSync(cmd, args, { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (!runs(BOCHS, ["--help"])) missing.push("bochs");
  if (!runs("sh", ["-c", "ls /usr/lib/*/bochs/plugins/libbx_term_gui.so* || ls /usr/lib/bochs/plugins/libbx_term_gui.so*"])) {
    missing.push("bochs-term (the term display library)");
  }
  if (!runs("test", ["-f", VGA_ROM])) missing.push(`vgabios (${VGA_ROM})`);
  if (!runs("nasm", ["-v"])) missing.push("nasm");
  return missing.length === 0 ? null : `missing ${missing.join(", ")}: ${INSTALL_HINT}`;
}

/** Assemble test/system/kernels/NAME.asm (nasm -f bin, kernels dir on the include path) into a 64 KiB
 * ROM: an image shorter than 64 KiB is placed at the end, 0xFF below it (as both runners map it). */
export function assembleKernel(name: string): Uint8Array {
  return assembleFile(join(KERNELS_DIR, `${name}.asm`));
}

/** Assemble NASM source text (for small kernels written inline in a test) into a 64 KiB ROM. */
export function assembleSource(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-asm-"));
  try {
    const src = join(dir, "inline.asm");
    writeFileSync(src, source);
    return assembleFile(src);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assembleFile(src: string): Uint8Array {
  const name = basename(src, ".asm");
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-nasm-"));
  try {
    const out = join(dir, `${name}.bin`);
    try {
      execFileSync("nasm", ["-f", "bin", "-w+all", "-i", KERNELS_DIR + "/", "-o", out, src], {
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`nasm failed on ${src}:\n${err.stderr?.toString() ?? err.message}`);
    }
    const img = new Uint8Array(readFileSync(out));
    if (img.length < 16 || img.length > ROM_BYTES) {
      throw new Error(`${src}: assembled to ${img.length} bytes; a ROM kernel is 16 .. ${ROM_BYTES} bytes`);
    }
    const rom = new Uint8Array(ROM_BYTES).fill(0xff);
    rom.set(img, ROM_BYTES - img.length);
    return rom;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const START_LINE = /^\(0\) \[0x0*fffffff0\] f000:fff0 .*\n/m;
const STOP_MARK = /\(0\)\.\[(\d+)\] \[0x[0-9a-f]+\] /;

/** Split Bochs's stdout into the kernel's debugcon bytes and the debugger's stop tick. */
export function parseBochsStdout(stdout: string): { debugcon: string; ticks: number | undefined } {
  const start = START_LINE.exec(stdout);
  if (!start) return { debugcon: "", ticks: undefined };
  const rest = stdout.slice(start.index + start[0].length);
  const stop = STOP_MARK.exec(rest);
  if (!stop) return { debugcon: rest, ticks: undefined };
  return { debugcon: rest.slice(0, stop.index), ticks: Number(stop[1]) };
}

const ENDINGS: [RegExp, BochsEnd][] = [
  [/Shutdown port: shutdown requested/, "shutdown-port"],
  [/HLT instruction with IF=0/, "halt"],
  [/exception\(\): 3rd \(\d+\) exception with no resolution/, "triple-fault"],
];

export interface BochsOptions {
  /** Kill Bochs after this long (default 20 s; a kernel normally ends in well under a second). */
  timeoutMs?: number;
}

/** Boot `rom` (exactly 64 KiB) under Bochs and collect its debugcon output. */
export function runBochs(rom: Uint8Array, opts: BochsOptions = {}): Promise<BochsResult> {
  if (rom.length !== ROM_BYTES) throw new RangeError(`runBochs: the ROM must be ${ROM_BYTES} bytes, got ${rom.length}`);
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-bochs-"));
  const romPath = join(dir, "kernel.rom");
  writeFileSync(romPath, rom);
  writeFileSync(join(dir, "bochsrc"), bochsrc(romPath));
  writeFileSync(join(dir, "cmds"), "c\nquit\n");
  return new Promise((resolvePromise, reject) => {
    const p = spawn(BOCHS, ["-q", "-f", join(dir, "bochsrc"), "-rc", join(dir, "cmds")], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TERM: "dumb" },
    });
    const out: Buffer[] = [];
    let log = "";
    let end: BochsEnd = "other";
    let reason = "";
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => {
      log += d.toString("latin1");
      if (end !== "other") return;
      for (const [re, e] of ENDINGS) {
        const m = re.exec(log);
        if (m) {
          end = e;
          const eol = log.indexOf("\n", m.index);
          reason = log.slice(log.lastIndexOf("\n", m.index) + 1, eol < 0 ? undefined : eol);
          // A halted Bochs would spin until the timeout; the others are already on their way out.
          if (e === "halt") p.kill("SIGKILL");
          break;
        }
      }
    });
    const timer = setTimeout(() => {
      if (end === "other") end = "timeout";
      p.kill("SIGKILL");
    }, opts.timeoutMs ?? 20_000);
    p.on("error", (e) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`cannot run ${BOCHS}: ${e.message}; ${INSTALL_HINT}`));
    });
    p.on("close", () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const stdout = Buffer.concat(out).toString("latin1");
      const { debugcon, ticks } = parseBochsStdout(stdout);
      if (end === "other") {
        const m = /^.*(>>PANIC<<|Bochs is exiting).*$/m.exec(log);
        reason = m ? m[0] : "Bochs exited without a known end message";
      }
      resolvePromise({ debugcon, end, ticks, reason, log, stdout });
    });
  });
}

/** The golden file of a kernel (Bochs's debugcon output). */
export function expectedPath(name: string): string {
  return resolve(EXPECTED_DIR, `${name}.txt`);
}
