/**
 * The bare-metal runner behind `vmxsim exec` (the contract of issue 2, "Bare-metal runner"): load a
 * Multiboot-1 kernel onto the bare-metal board, start it in the Multiboot entry state (Multiboot 0.6.96
 * §3.2: flat 32-bit protected mode, paging off, IF = 0, EAX = 0x2BADB002, EBX = information structure),
 * run it in quanta and report why it stopped:
 *
 *   isa-debug-exit write of v -> status (v << 1) | 1 (8 bits, as the host sees QEMU's exit status)
 *   HLT that nothing can wake -> 0, with a note       triple fault -> 3, with a register dump
 *   instruction limit reached -> 124 (as timeout(1))   malformed image -> 2, saying what is wrong
 *   a vmxsim bug (SimulationError) -> 70 (EX_SOFTWARE)
 *
 * The run loop itself (runBoard) is shared with the ROM runner (rom-runner.ts), which starts the same
 * board from the reset vector instead.
 *
 * Deterministic: no wall clock here; the CLI times the run and prints.
 */
import { exitReasonName } from "../cpu/vmx/exit-reasons.ts";
import { SimulationError } from "../cpu/simulation-error.ts";
import { Eflags, Reg } from "../cpu/registers.ts";
import { ImageError } from "../guests/image/image-error.ts";
import { loadMultiboot, type MultibootBoot } from "../guests/image/multiboot-loader.ts";
import { buildBareMetalBoard, type BareMetalBoard } from "./bare-metal-board.ts";
import type { Machine, MachineOptions } from "../cpu/machine.ts";
import { getProfile } from "../cpu/profiles/index.ts";

export const DEFAULT_RAM_MIB = 128;

export const ExitStatus = {
  HALT: 0,
  BAD_IMAGE: 2,
  TRIPLE_FAULT: 3,
  INTERNAL_ERROR: 70,
  MAX_INSNS: 124,
} as const;

export type ExecStop = "debug-exit" | "halt" | "shutdown" | "max-insns" | "bad-image" | "internal-error";

/** How a board is run, whatever put its core in its start state. */
export interface RunLoopOptions {
  /** Stop with status 124 after this many instructions (all cores together). */
  maxInsns?: number;
  /** Receives debugcon output as it is produced (after each quantum), for streaming. */
  onOutput?: (chunk: Uint8Array) => void;
  /**
   * Keep all output for the result's `stdout` (default true). A streaming caller sets false so that a
   * guest printing forever does not fill the host's memory; `stdout` is then empty.
   */
  retainOutput?: boolean;
  /** Receives what COM1 transmitted, after each quantum. */
  onSerial?: (chunk: Uint8Array) => void;
  /** Receives each POST code (port 0x80 or 0x190) after the quantum that wrote it, in order. */
  onPostCode?: (port: number, code: number) => void;
}

/** The machine a runner builds (shared by exec and exec --rom). */
export interface MachineChoice {
  /** Cores (default 1); the application processors wait for INIT-SIPI-SIPI. */
  cores?: number;
  /** Cycles per quantum of the machine (default 1000). */
  quantumCycles?: number;
  /** CPU profile id (cpu/profiles; default: none, the static cost table at a nominal 1 GHz). */
  profile?: string;
  /** With a profile: the cache model (default true; false = functional mode). */
  caches?: boolean;
}

/** MachineOptions for a choice (throws RangeError for an unknown profile id, naming the known ones). */
export function machineOptionsOf(c: MachineChoice): Omit<MachineOptions, "ramBytes" | "ports"> {
  const profile = c.profile !== undefined ? getProfile(c.profile) : undefined;
  return { cores: c.cores, quantumCycles: c.quantumCycles, profile, caches: profile !== undefined ? (c.caches ?? true) : false };
}

export interface ExecOptions extends RunLoopOptions, MachineChoice {
  /** Guest RAM in MiB (default 128, QEMU's default). */
  ramMiB?: number;
  /** Multiboot command line. */
  cmdline?: string;
}

export interface ExecResult {
  status: number;
  stop: ExecStop;
  /** Everything the guest wrote to debugcon (empty when the caller streamed with retainOutput false). */
  stdout: Uint8Array;
  /** Everything COM1 transmitted (same retention rule). */
  serial: Uint8Array;
  /** Human-readable notes for stderr (why it stopped, loader remarks, a register dump). */
  notes: string[];
  instructions: number;
  cycles: number;
  /** The machine that ran: cores, quantum (cycles), CPU profile id (or null), cache model on. */
  machine: { cores: number; quantumCycles: number; profile: string | null; caches: boolean };
  /** VM exits of all cores by basic exit-reason name (SDM Appendix C), for a guest that is a hypervisor. */
  vmExits: Record<string, number>;
  /** The raw value written to isa-debug-exit, when that ended the run. */
  debugExitValue?: number;
  /** POST codes written (empty when the caller streamed with retainOutput false). */
  postCodes: { port: number; code: number }[];
  boot?: MultibootBoot;
}

/** VM exits by reason name over all cores (empty when nothing ran in VMX non-root operation). */
function vmExitCounts(m: Machine): Record<string, number> {
  const out: Record<string, number> = {};
  for (let r = 0; r < 65; r++) {
    let n = 0;
    for (const c of m.cores) n += c.vmx?.exitCounts[r] ?? 0;
    if (n > 0) out[exitReasonName(r) ?? `REASON_${r}`] = n;
  }
  return out;
}

const hex8 = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

/** Check the run-loop options shared by every runner (throws RangeError: a caller's bug, not input). */
export function checkRunOptions(opts: RunLoopOptions): void {
  const { maxInsns } = opts;
  if (maxInsns !== undefined && !(Number.isSafeInteger(maxInsns) && maxInsns > 0)) {
    throw new RangeError(`maxInsns must be a positive integer, got ${maxInsns}`);
  }
}

/** The ExecResult of a board as it stands. */
export function boardResult(
  board: BareMetalBoard, notes: string[], status: number, stop: ExecStop, boot?: MultibootBoot,
): ExecResult {
  const m = board.machine;
  return {
    status, stop, stdout: board.debugcon.slice(), serial: board.serial.slice(), notes, instructions: m.totalInsns(), cycles: m.core.cycles,
    machine: { cores: m.cores.length, quantumCycles: m.quantumCycles, profile: m.profile?.id ?? null, caches: m.caches !== null },
    vmExits: vmExitCounts(m),
    debugExitValue: board.debugExit?.value, postCodes: board.postCodes.slice(), boot,
  };
}

/**
 * Run a board whose core is already in its start state until the guest ends the run (debug-exit, HLT
 * with nothing to wake it, triple fault), the instruction limit is reached or vmxsim fails; shared by
 * the Multiboot runner below and the ROM runner (rom-runner.ts).
 */
export function runBoard(board: BareMetalBoard, opts: RunLoopOptions, notes: string[], boot?: MultibootBoot): ExecResult {
  checkRunOptions(opts);
  const m = board.machine;
  const maxInsns = opts.maxInsns;
  const result = (status: number, stop: ExecStop) => boardResult(board, notes, status, stop, boot);
  const retain = opts.retainOutput ?? true;
  let postFlushed = 0;
  /** Hand what `log` gained since the last call to `sink`, then forget it unless output is retained. */
  const streamer = (log: BareMetalBoard["debugcon"], sink?: (chunk: Uint8Array) => void) => {
    let done = 0;
    return () => {
      if (sink && log.length > done) sink(log.slice(done));
      if (retain) done = log.length;
      else log.clear();
    };
  };
  const flushDebugcon = streamer(board.debugcon, opts.onOutput);
  const flushSerial = streamer(board.serial, opts.onSerial);
  const flush = () => {
    flushDebugcon();
    flushSerial();
    const codes = board.postCodes;
    if (opts.onPostCode) for (let k = postFlushed; k < codes.length; k++) opts.onPostCode(codes[k].port, codes[k].code);
    if (retain) postFlushed = codes.length;
    else codes.length = 0;
  };
  try {
    const stop = m.run(Infinity, maxInsns ?? Infinity, flush);
    flush();
    const core = m.shutdownCore ?? m.core;
    switch (stop) {
      case "exit":
        return result(board.debugExit!.status, "debug-exit");
      case "shutdown":
        notes.push(`triple fault: core ${core.id} shut down (eip=${hex8(core.eip)}); registers:\n${core.dump()}`);
        return result(ExitStatus.TRIPLE_FAULT, "shutdown");
      case "max-insns":
        notes.push(`instruction limit reached: ${maxInsns} instructions executed, next eip=${hex8(m.core.eip)}`);
        return result(ExitStatus.MAX_INSNS, "max-insns");
      default: {
        const ifSet = (m.core.getEflags() & Eflags.IF) !== 0;
        notes.push(
          ifSet
            ? `halted with interrupts enabled at eip=${hex8(m.core.eip)}, and nothing is scheduled that could wake a core`
            : `halted with interrupts disabled at eip=${hex8(m.core.eip)}; nothing can wake the core`,
        );
        return result(ExitStatus.HALT, "halt");
      }
    }
  } catch (e) {
    flush();
    if (!(e instanceof SimulationError)) throw e;
    notes.push(`internal error (a vmxsim bug, not the guest's): ${e.message}`);
    return result(ExitStatus.INTERNAL_ERROR, "internal-error");
  }
}

export function execImage(image: Uint8Array, opts: ExecOptions = {}): ExecResult {
  checkRunOptions(opts);
  const board = buildBareMetalBoard((opts.ramMiB ?? DEFAULT_RAM_MIB) * 1024 * 1024, undefined, machineOptionsOf(opts));
  const core = board.machine.core;
  const notes: string[] = [];
  let boot: MultibootBoot;
  try {
    boot = loadMultiboot(image, board.machine.ram, { cmdline: opts.cmdline });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    notes.push(`bad image: ${e.message}`);
    return boardResult(board, notes, ExitStatus.BAD_IMAGE, "bad-image");
  }
  notes.push(...boot.notes);
  core.resetToFlat32(boot.entry);
  core.regs[Reg.EAX] = boot.eax;
  core.regs[Reg.EBX] = boot.ebx;
  return runBoard(board, opts, notes, boot);
}
