/**
 * The debug console of QEMU (`-debugcon`, hw/char/debugcon.c) and Bochs (port_e9_hack): a one-byte
 * port (0xE9 by convention; the board decides) whose writes go straight to a character sink. Reads
 * return the "readback" byte, 0xE9 by default, which guests use to detect the port.
 *
 * Accesses are one byte wide, as in QEMU (valid.max_access_size = 1): a 16/32-bit IN or OUT at the
 * port is dropped by the port bus (no output; reads 0), exactly what qemu-system-i386 does.
 * Leaves out: nothing that a guest can observe.
 */
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export class Debugcon implements PortDevice {
  readonly name = "debugcon";
  readonly maxAccessSize = 1;

  constructor(
    /** Receives each byte written. */
    private readonly sink: (byte: number) => void,
    private readonly readback = 0xe9,
  ) {}

  portRead(_offset: number, _size: PortAccessSize): number {
    return this.readback;
  }

  portWrite(_offset: number, _size: PortAccessSize, value: number): void {
    this.sink(value & 0xff);
  }
}
