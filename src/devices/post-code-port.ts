/**
 * A POST-code port: the byte-wide diagnostic port that firmware writes progress codes to (0x80 on PCs,
 * 0x190 on some boards; the board decides where it sits). Writes go to a sink with the offset written,
 * so one device can cover a wider range; the last code is kept for inspection.
 *
 * Reads return 0xFF, as QEMU's port 0x80 does. Leaves out: the seven-segment display.
 */
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export class PostCodePort implements PortDevice {
  readonly name = "post-code";
  readonly maxAccessSize = 1;
  /** The last code written, or -1 if none yet. */
  lastCode = -1;

  constructor(private readonly sink?: (code: number, offset: number) => void) {}

  portRead(_offset: number, _size: PortAccessSize): number {
    return 0xff;
  }

  portWrite(offset: number, _size: PortAccessSize, value: number): void {
    this.lastCode = value & 0xff;
    this.sink?.(this.lastCode, offset);
  }
}
