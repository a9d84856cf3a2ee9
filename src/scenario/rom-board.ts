/**
 * The board of `vmxsim exec --rom`: the bare-metal board (bare-metal-board.ts: RAM, debugcon 0xE9,
 * isa-debug-exit 0xF4, POST ports 0x80/0x190) with a 64 KiB system ROM where a PC's BIOS sits, so that
 * a core leaving reset (SDM Vol. 3A 9.1.4: first instruction at physical FFFFFFF0H) runs it:
 *
 *   0x000F0000-0x000FFFFF  the ROM, as the chipset decodes the top of the first megabyte (real-mode
 *                          code after the first far jump runs here)
 *   0xFFFF0000-0xFFFFFFFF  the same ROM aliased below 4 GiB (CS base FFFF0000H after reset)
 *
 * Both windows are read-only: stores are discarded, as the i440FX (and Bochs, the reference) do with
 * the BIOS area while its PAM registers are at their reset value. The low window lives in RAM, copied
 * there and marked read-only with the core's setRomRange; the high window is outside RAM and served by
 * readPhys here (writes there already go nowhere: Machine.writePhys ignores them).
 *
 * An image smaller than 64 KiB is placed at the END of the window, as a BIOS image is, and the rest of
 * the window reads 0xFF (erased flash). Bochs 2.7 does the same with a 32 KiB romimage (checked: it
 * maps it at 0xFFFF8000 and shows 0xFF at F000:0000-7FFF), but not with an image of a few hundred
 * bytes, which it leaves out of the low window; the Bochs-referenced kernels are therefore 64 KiB.
 * Larger or empty images are rejected by the caller (rom-runner.ts).
 *
 * Leaves out: PAM shadowing (making 0xF0000 writable RAM), the 0xE0000 window, option ROMs, A20.
 */
import { Machine, type MachineOptions } from "../cpu/machine.ts";
import { buildBareMetalBoard, type BareMetalBoard } from "./bare-metal-board.ts";

export const ROM_BYTES = 0x10000;
/** The ROM window at the top of the first megabyte. */
export const ROM_LOW_BASE = 0xf0000;
/** The alias at the top of the 4 GiB physical address space. */
export const ROM_HIGH_BASE = 0xffff0000;
/** The low window lies in RAM: the machine needs at least this much. */
export const ROM_MIN_RAM_BYTES = ROM_LOW_BASE + ROM_BYTES;

/** The 64 KiB window contents for an image of 1 .. 65536 bytes: the image at the end, 0xFF below it. */
export function romWindow(image: Uint8Array): Uint8Array {
  if (image.length < 1 || image.length > ROM_BYTES) {
    throw new RangeError(`ROM image of ${image.length} bytes does not fit the ${ROM_BYTES}-byte window`);
  }
  const w = new Uint8Array(ROM_BYTES).fill(0xff);
  w.set(image, ROM_BYTES - image.length);
  return w;
}

/** A machine that answers physical reads of 0xFFFF0000-0xFFFFFFFF from the ROM. */
class RomMachine extends Machine {
  private readonly romView: DataView;

  constructor(opts: MachineOptions, private readonly rom: Uint8Array) {
    super(opts);
    this.romView = new DataView(rom.buffer, rom.byteOffset, rom.byteLength);
  }

  override readPhys(pa: number, size: 1 | 2 | 4): number {
    const off = (pa >>> 0) - ROM_HIGH_BASE;
    if (off < 0 || off + size > ROM_BYTES) return super.readPhys(pa, size);
    if (size === 1) return this.rom[off];
    return size === 2 ? this.romView.getUint16(off, true) : this.romView.getInt32(off, true);
  }
}

export interface RomBoard extends BareMetalBoard {
  /** The 64 KiB window as mapped (the image at its end). */
  rom: Uint8Array;
}

/** Build the ROM board: `image` is 1 .. 65536 bytes, `ramBytes` at least 1 MiB. */
export function buildRomBoard(
  ramBytes: number,
  image: Uint8Array,
  machineOptions: Omit<MachineOptions, "ramBytes" | "ports"> = {},
): RomBoard {
  if (ramBytes < ROM_MIN_RAM_BYTES) {
    throw new RangeError(`the ROM board needs at least ${ROM_MIN_RAM_BYTES} bytes of RAM, got ${ramBytes}`);
  }
  const rom = romWindow(image);
  const board = buildBareMetalBoard(ramBytes, (opts) => new RomMachine(opts, rom), machineOptions);
  board.machine.ram.set(rom, ROM_LOW_BASE);
  for (const core of board.machine.cores) core.setRomRange(ROM_LOW_BASE, ROM_BYTES);
  // The devices' callbacks update `board` itself (debugExit), so extend it rather than copy it.
  return Object.assign(board, { rom });
}
