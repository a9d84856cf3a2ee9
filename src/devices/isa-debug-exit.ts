/**
 * QEMU's isa-debug-exit device (hw/misc/debugexit.c): any write of value v to its range ends the
 * emulator with exit status (v << 1) | 1, so a guest can never report status 0 through it. QEMU maps
 * it at iobase (0x501 by default; 0xF4 is the common test convention) with iosize 2 by default and
 * accepts accesses of 1, 2 or 4 bytes; the value is the access's value whatever the offset written.
 *
 * Here the device only reports the request through a callback that the board wires (e.g. to
 * core.requestExit); ending the run is the board's business. Reads return 0 (QEMU's device has no
 * read handler, and its memory core then returns 0).
 */
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

/** The exit status QEMU gives for a write of `value`, as the host sees it (8 bits). */
export function debugExitStatus(value: number): number {
  return ((value << 1) | 1) & 0xff;
}

export class IsaDebugExit implements PortDevice {
  readonly name = "isa-debug-exit";
  readonly maxAccessSize = 4;

  constructor(
    /** Called on each write with the host exit status and the raw value written. */
    private readonly onExit: (status: number, value: number) => void,
  ) {}

  portRead(_offset: number, _size: PortAccessSize): number {
    return 0;
  }

  portWrite(_offset: number, size: PortAccessSize, value: number): void {
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    this.onExit(debugExitStatus(v), v);
  }
}
