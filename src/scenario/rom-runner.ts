/**
 * The ROM runner behind `vmxsim exec --rom FILE` (issue 3, "Reset and real-address mode"): map a
 * system ROM on the ROM board (rom-board.ts: 0xF0000 and its alias at 0xFFFF0000), put the core in the
 * power-on reset state (SDM Vol. 3A 9.1.1, Table 9-1: real-address mode, CS selector F000H with base
 * FFFF0000H, EIP 0000FFF0H, so the first instruction is fetched at FFFFFFF0H) and run it with the
 * Multiboot runner's loop (exec-runner.ts runBoard): the same debugcon and isa-debug-exit ports, the
 * same stop reasons and exit statuses, and the POST ports 0x80 and 0x190.
 *
 * Image rule: 1 to 65536 bytes; a smaller image sits at the end of the 64 KiB window (as a BIOS does,
 * so its reset vector is its last 16 bytes). Anything else is a bad image: status 2, a note naming the
 * image and its size, and nothing run.
 *
 * The reset state itself is the core's (Core.reset, SDM 9.1.1); CS.base stays FFFF0000H until the ROM's
 * first far jump reloads CS, so real-mode code then runs in the 0xF0000 window.
 *
 * Leaves out: the INIT (as opposed to power-on) state, BIST.
 */
import {
  boardResult, DEFAULT_RAM_MIB, ExitStatus, machineOptionsOf, runBoard, type ExecResult, type MachineChoice, type RunLoopOptions,
} from "./exec-runner.ts";
import { buildBareMetalBoard } from "./bare-metal-board.ts";
import { buildRomBoard, ROM_BYTES } from "./rom-board.ts";

export interface RomOptions extends RunLoopOptions, MachineChoice {
  /** Guest RAM in MiB (default 128); at least 1, as the ROM's low window lies in the first megabyte. */
  ramMiB?: number;

  /** How to name the image in messages (the CLI passes the file name). */
  name?: string;
}

/** Run a ROM image from the reset vector; the result has the shape execImage returns. */
export function runRom(image: Uint8Array, opts: RomOptions = {}): ExecResult {
  const name = opts.name ?? "ROM image";
  const ramMiB = opts.ramMiB ?? DEFAULT_RAM_MIB;
  if (image.length < 1 || image.length > ROM_BYTES) {
    // A minimal board that never runs, only to report the failure in the usual shape.
    const board = buildBareMetalBoard(4096);
    const why = image.length === 0 ? "is empty" : `is ${image.length} bytes, more than the 64 KiB (65536-byte) ROM window`;
    return boardResult(board, [`bad ROM: '${name}' ${why}`], ExitStatus.BAD_IMAGE, "bad-image");
  }
  const board = buildRomBoard(ramMiB * 1024 * 1024, image, machineOptionsOf(opts));
  const notes: string[] = [];
  if (image.length < ROM_BYTES) {
    notes.push(`ROM '${name}' is ${image.length} bytes: mapped at the end of the 64 KiB window, 0xFF below it`);
  }
  board.machine.core.reset(); // SDM 9.1.1 Table 9-1, power-up column
  return runBoard(board, opts, notes);
}
