/**
 * The vmxsim command line (commander). The only module that touches process, argv, the file system
 * and the wall clock (shared/DESIGN.md §2): it reads files, runs the deterministic model, and prints.
 *
 *   vmxsim exec IMAGE [--max-insns N] [--stats] [--ram-mib N] [--cmdline S] [--post]
 *   vmxsim exec --rom FILE [--max-insns N] [--stats] [--ram-mib N] [--post]
 *   vmxsim demo [--stats]
 *   vmxsim demo-image OUT
 *   vmxsim run [SCENARIO] [--seed N] [--duration-ms D] [--json FILE] [--histogram US] [--no-progress]
 *   vmxsim validate SCENARIO
 *
 * Exit status: the guest's (see src/scenario/exec-runner.ts); 2 for bad input or usage; 70 for an
 * internal error. Nothing is half-written: output files are written to a temporary name and renamed.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { DEFAULT_RAM_MIB, execImage, type ExecResult, type MachineChoice, type RunLoopOptions } from "./scenario/exec-runner.ts";
import { PROFILES } from "./cpu/profiles/index.ts";
import { runRom } from "./scenario/rom-runner.ts";
import { dirname, resolve } from "node:path";
import { existsSync } from "node:fs";
import cliProgress from "cli-progress";
import { BUILTIN_SCENARIOS, ConfigError, DEFAULT_SCENARIO_NAME, loadBuiltinScenario, parseScenario } from "./scenario/scenario-load.ts";
import type { ScenarioConfig } from "./scenario/config.ts";
import { runScenario } from "./scenario/run.ts";
import { formatReport } from "./report/text-report.ts";
import { toJson } from "./report/json-report.ts";

const USAGE_ERROR = 2;

class UsageError extends Error {}

function positiveInt(what: string, max = Number.MAX_SAFE_INTEGER) {
  return (s: string): number => {
    if (!/^\d+$/.test(s.replaceAll("_", "")) || s.startsWith("_")) {
      throw new InvalidArgumentError(`${what} must be a positive integer, got '${s}'.`);
    }
    const n = Number(s.replaceAll("_", ""));
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${what} must be between 1 and ${max}, got '${s}'.`);
    }
    return n;
  };
}

function note(msg: string): void {
  process.stderr.write(`vmxsim: ${msg}\n`);
}

interface RunFlags {
  maxInsns?: number;
  stats?: boolean;
  ramMib?: number;
  cmdline?: string;
  rom?: string;
  post?: boolean;
  cores?: number;
  quantum?: number;
  profile?: string;
  caches?: boolean;
}

/** Runs a guest with the streaming options the CLI gives (exec-runner.ts execImage, rom-runner.ts runRom). */
type Runner = (loop: RunLoopOptions) => ExecResult;

/** A POST code as the issue's `POST xx` line: two lower-case hex digits, whichever port (0x80, 0x190). */
function postLine(code: number): string {
  return `POST ${code.toString(16).padStart(2, "0")}\n`;
}

/** Run a guest, streaming debugcon to stdout (and POST codes to stderr with --post), and set the exit status. */
function runAndReport(run: Runner, flags: RunFlags): ExecResult {
  const t0 = performance.now();
  const r = run({
    maxInsns: flags.maxInsns,
    onOutput: (chunk) => process.stdout.write(chunk),
    onSerial: (chunk) => process.stdout.write(chunk),
    retainOutput: false,
    onPostCode: flags.post ? (_port, code) => process.stderr.write(postLine(code)) : undefined,
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const n of r.notes) note(n);
  if (flags.stats) {
    const mips = seconds > 0 ? r.instructions / seconds / 1e6 : 0;
    process.stderr.write(
      `vmxsim: stats: ${r.machine.cores} core(s), profile ${r.machine.profile ?? "none"}, caches ${r.machine.caches ? "on" : "off"}, ` +
        `quantum ${r.machine.quantumCycles} cycles; ${r.instructions} instructions, ${r.cycles} simulated cycles, ` +
        `${seconds.toFixed(3)} s host time, ${mips.toFixed(1)} MIPS (host), exit status ${r.status} (${r.stop})\n`,
    );
    const exits = Object.entries(r.vmExits);
    if (exits.length > 0) {
      process.stderr.write(`vmxsim: stats: VM exits: ${exits.map(([name, n]) => `${name} ${n}`).join(", ")}\n`);
    }
  }
  process.exitCode = r.status;
  return r;
}

/** The machine flags of exec, checked (an unknown profile is a usage error naming the known ones). */
function machineChoice(flags: RunFlags): MachineChoice {
  if (flags.profile !== undefined && !(flags.profile in PROFILES)) {
    throw new UsageError(`exec: unknown --profile '${flags.profile}' (known: ${Object.keys(PROFILES).join(", ")})`);
  }
  return { cores: flags.cores, quantumCycles: flags.quantum, profile: flags.profile, caches: flags.caches };
}

function readImage(path: string, what = "image"): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/** Write atomically: a temporary file in the same directory, then rename. */
function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing was written */
    }
    throw new UsageError(`cannot write '${path}': ${(e as Error).message}`);
  }
}

async function loadDemo(): Promise<typeof import("./guests/programs/demo.ts")> {
  return import("./guests/programs/demo.ts");
}

function buildProgram(): Command {
  const program = new Command();
  program
    .name("vmxsim")
    .description(
      "Deterministic, cycle-accounted model of an IA-32 machine with VT-x. Runs Multiboot-1 kernels " +
        "bare-metal: bytes written to port 0xE9 (debugcon) go to stdout; a write of v to port 0xF4 " +
        "(isa-debug-exit) ends the run with exit status (v << 1) | 1, as under QEMU.",
    )
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s.startsWith("error:") ? `vmxsim: ${s}` : s) })
    .showHelpAfterError("(run 'vmxsim --help' for usage)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  vmxsim demo                                 run the bundled demo guest\n" +
        "  vmxsim exec kernel.elf --stats              run a kernel; statistics on stderr\n" +
        "  vmxsim exec kernel.bin --max-insns 1_000_000  give up after a million instructions (status 124)\n" +
        "  vmxsim exec --rom bios.rom --post           boot a ROM from the reset vector; POST codes on stderr\n" +
        "  vmxsim demo-image demo.bin                  write the demo kernel (for qemu-system-i386 -kernel)\n",
    );

  program
    .command("exec")
    .description(
      "run a Multiboot-1 kernel image (ELF32, or a flat binary with the a.out-kludge header fields), or " +
        "with --rom a 64 KiB system ROM from the reset vector",
    )
    .argument("[image]", "kernel file, as for qemu-system-i386 -kernel")
    .option(
      "--rom <file>",
      "run FILE as the system ROM instead of a kernel: mapped at 0xF0000 and 0xFFFF0000 (an image " +
        "shorter than 64 KiB at the end of the window), the core starts at F000:FFF0 in real mode",
    )
    .option("--post", "write POST codes (ports 0x80 and 0x190) to stderr as 'POST xx' lines (two lower-case hex digits)")
    .option("--max-insns <n>", "stop after N instructions (exit status 124)", positiveInt("--max-insns"))
    .option("--stats", "print instructions, simulated cycles and host MIPS on stderr")
    .option("--ram-mib <n>", `guest RAM in MiB (default ${DEFAULT_RAM_MIB})`, positiveInt("--ram-mib", 3072))
    .option("--cmdline <string>", "Multiboot command line passed to the kernel (not with --rom)")
    .option("--cores <n>", "number of cores, 1-64 (default 1); core 0 runs the kernel, the others wait for INIT-SIPI-SIPI", positiveInt("--cores", 64))
    .option("--quantum <cycles>", "cycles each core runs before the next one takes its turn (default 1000)", positiveInt("--quantum"))
    .option("--profile <id>", "CPU profile: clock, instruction costs, caches, bus latencies (core2-q6600, nehalem, sandybridge, haswell, skylake)")
    .option("--no-caches", "with --profile: functional mode, no cache or TLB timing model")
    .addHelpText(
      "after",
      "\nExit status:\n" +
        "  (v << 1) | 1  the guest wrote v to port 0xF4 (isa-debug-exit)\n" +
        "  0             the guest halted with nothing to wake it (note on stderr)\n" +
        "  2             bad image or ROM, or bad usage (the message says what is wrong)\n" +
        "  3             triple fault (register dump on stderr)\n" +
        "  124           --max-insns reached\n" +
        "  70            internal error in vmxsim\n",
    )
    .action((path: string | undefined, flags: RunFlags) => {
      if (flags.rom !== undefined) {
        if (path !== undefined) throw new UsageError(`exec: give a kernel IMAGE or --rom FILE, not both ('${path}' and --rom '${flags.rom}')`);
        if (flags.cmdline !== undefined) throw new UsageError("exec: --cmdline is for Multiboot kernels; a ROM gets no command line");
        const rom = readImage(flags.rom, "ROM");
        const name = flags.rom;
        runAndReport((loop) => runRom(rom, { ...loop, ramMiB: flags.ramMib, name, ...machineChoice(flags) }), flags);
        return;
      }
      if (path === undefined) throw new UsageError("exec: missing the kernel IMAGE (or --rom FILE)");
      const image = readImage(path);
      runAndReport(
        (loop) => execImage(image, { ...loop, ramMiB: flags.ramMib, cmdline: flags.cmdline, ...machineChoice(flags) }),
        flags,
      );
    });

  program
    .command("demo")
    .description(
      "run the bundled bare-metal demo guest (built with vmxsim's own assembler); exits 0 when the " +
        "guest reports that all its self-checks passed (under 'exec' the same image exits with 33)",
    )
    .option("--stats", "print instructions, simulated cycles and host MIPS on stderr")
    .action(async (flags: RunFlags) => {
      const demo = await loadDemo();
      const image = demo.buildDemoKernel();
      const r = runAndReport((loop) => execImage(image, loop), flags);
      // The guest's own verdict: success is a showcase run, so `npm start` exits 0.
      if (r.stop === "debug-exit" && r.debugExitValue === demo.DEMO_EXIT_VALUE) {
        note(`demo passed: status ${r.status} from the guest means success, so 'vmxsim demo' exits 0`);
        process.exitCode = 0;
      }
    });

  program
    .command("demo-image")
    .description("write the demo guest as a Multiboot kernel file (to compare with qemu-system-i386 -kernel)")
    .argument("<out>", "output file")
    .action(async (out: string) => {
      const demo = await loadDemo();
      writeFileAtomic(out, demo.buildDemoKernel());
      note(
        `wrote ${out}; try: qemu-system-i386 -kernel ${out} -display none -debugcon stdio ` +
          `-device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -nodefaults`,
      );
    });
  program
    .command("run")
    .description(
      "run a scenario (YAML or JSON; default: the built-in '" + DEFAULT_SCENARIO_NAME + "') and print its results: " +
        "VM exits per partition (perf kvm stat layout), interrupt and wake-up latencies, tasks, I/O, caches",
    )
    .argument("[scenario]", `scenario file, or the name of a built-in one (${Object.keys(BUILTIN_SCENARIOS).join(", ")})`)
    .option("--seed <n>", "seed of every random stream (default: the scenario's)", nonNegativeInt("--seed"))
    .option("--duration-ms <d>", "simulated time in milliseconds (default: the scenario's)", positiveNumber("--duration-ms"))
    .option("--json <file>", "also write the full results as JSON (README: Results JSON)")
    .option("--histogram <us>", "print a cyclictest -h style latency histogram up to US microseconds", positiveInt("--histogram", 100_000))
    .option("--no-progress", "no progress bar (none is drawn when stderr is not a terminal)")
    .addHelpText("after", "\nExit status: 0 done; 2 bad scenario or usage (nothing is run or written); 70 internal error.\n")
    .action((path: string | undefined, flags: { seed?: number; durationMs?: number; json?: string; histogram?: number; progress: boolean }) => {
      const { config, dir } = loadScenario(path);
      const bar = flags.progress && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: `${config.name} [{bar}] {percentage}% | {value}/{total} ms simulated`, hideCursor: true }, cliProgress.Presets.shades_classic)
        : null;
      const durationMs = flags.durationMs ?? config.durationMs;
      bar?.start(durationMs, 0);
      const t0 = performance.now();
      let results;
      try {
        results = runScenario(config, {
          seed: flags.seed, durationMs,
          onProgress: bar ? (f) => bar.update(Math.round(f * durationMs * 1000) / 1000) : undefined,
          files: (p) => readImage(resolve(dir, p), "guest image"),
        });
      } finally {
        bar?.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const threads = Object.fromEntries(config.partitions.flatMap((p) =>
        p.guest.program === "rtos" && p.guest.cyclictest !== null ? [[p.name, { priority: p.guest.cyclictest.priority, intervalUs: p.guest.cyclictest.intervalUs }]] : []));
      process.stdout.write(formatReport(results, { histogramUs: flags.histogram, wakeup: { threads } }));
      if (flags.json !== undefined) writeFileAtomic(flags.json, new TextEncoder().encode(toJson(results)));
      note(`${config.name}: ${(results.simulatedNs / 1e6).toFixed(3)} ms simulated in ${seconds.toFixed(2)} s host time${flags.json ? `; results in ${flags.json}` : ""}`);
    });

  program
    .command("validate")
    .description("check a scenario file (every error, with its path) without running it")
    .argument("<scenario>", "scenario file (YAML or JSON) or the name of a built-in one")
    .action((path: string) => {
      const { config } = loadScenario(path);
      note(`${path}: valid: ${config.partitions.length} partition(s), ${config.devices.length} device(s), profile ${config.profile}`);
    });
  return program;
}

/** A scenario file, or a built-in scenario by name; bad input is a ConfigError (exit 2). */
function loadScenario(path: string | undefined): { config: ScenarioConfig; dir: string } {
  if (path === undefined) return { config: loadBuiltinScenario(), dir: process.cwd() };
  if (!existsSync(path) && path in BUILTIN_SCENARIOS) return { config: loadBuiltinScenario(path), dir: process.cwd() };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read scenario '${path}': ${(e as Error).message}`);
  }
  return { config: parseScenario(text, path), dir: dirname(resolve(path)) };
}

function nonNegativeInt(what: string) {
  return (s: string): number => {
    if (!/^\d+$/.test(s)) throw new InvalidArgumentError(`${what} must be a non-negative integer, got '${s}'.`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} is too large: '${s}'.`);
    return n;
  };
}

function positiveNumber(what: string) {
  return (s: string): number => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number, got '${s}'.`);
    return n;
  };
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      process.exitCode = USAGE_ERROR;
      return;
    }
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : USAGE_ERROR;
    } else if (e instanceof UsageError || e instanceof ConfigError) {
      note(e.message);
      process.exitCode = USAGE_ERROR;
    } else {
      note(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 70;
    }
  }
}

await main(process.argv);
