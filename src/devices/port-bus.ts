/**
 * The I/O port space of a PC (64 Ki byte-wide ports, SDM Vol. 1 18.2-18.3) as a dispatcher: whoever
 * assembles the machine maps each device on a port range; the device sees offsets into its range only
 * (shared/DESIGN.md §3).
 *
 * An access goes whole to the device that claims its first port, as in QEMU (the x86 IN/OUT helpers
 * dispatch one access to the region at the port; they never split it). An access the device does not
 * accept (wider than its widest access, not aligned to its size, or running past the end of its range)
 * is dropped: a read returns 0, a write does nothing; QEMU's memory core does the same for accesses
 * outside a region's valid sizes. Unclaimed ports read as all ones and ignore writes (open bus).
 * Checked against qemu-system-i386 7.2 (test/devices/port-bus.test.ts cites the observations).
 *
 * Leaves out: I/O permission checks (the core's job), access timing, the byte-splitting a real ISA
 * bridge does for 16-bit cycles to 8-bit devices (QEMU, the reference for our images, does not).
 */

export type PortAccessSize = 1 | 2 | 4;

/** A device on the port bus. Offsets are relative to the start of the range it is mapped at. */
export interface PortDevice {
  /** Short name for diagnostics ("debugcon", "isa-debug-exit"). */
  readonly name: string;
  /** Widest access the device accepts (default 4); wider ones are dropped. */
  readonly maxAccessSize?: PortAccessSize;
  /** Accept accesses not aligned to their size (default false, as QEMU's `valid.unaligned`). */
  readonly unalignedAccess?: boolean;
  /** Returns the value read: size 1 and 2 unsigned, size 4 any 32-bit pattern. */
  portRead(offset: number, size: PortAccessSize): number;
  portWrite(offset: number, size: PortAccessSize, value: number): void;
}

export interface PortMapping {
  readonly base: number;
  readonly length: number;
  readonly device: PortDevice;
}

const hex = (v: number) => "0x" + v.toString(16);

export class PortBus {
  /** For each port, 1 + index into `mappings`, or 0 when unclaimed. */
  private readonly owner = new Uint16Array(0x10000);
  private readonly list: PortMapping[] = [];

  /** Map `device` on ports base .. base + length - 1. Throws if the range is invalid or taken. */
  map(base: number, length: number, device: PortDevice): void {
    if (!Number.isInteger(base) || base < 0 || base > 0xffff) {
      throw new RangeError(`port bus: ${device.name}: base ${base} is not a port number (0 .. 0xffff)`);
    }
    if (!Number.isInteger(length) || length < 1 || base + length > 0x10000) {
      throw new RangeError(`port bus: ${device.name}: length ${length} at ${hex(base)} leaves the port space`);
    }
    for (let p = base; p < base + length; p++) {
      const o = this.owner[p];
      if (o !== 0) {
        const m = this.list[o - 1];
        throw new RangeError(
          `port bus: ${device.name} at ${hex(base)}-${hex(base + length - 1)} overlaps ` +
            `${m.device.name} at ${hex(m.base)}-${hex(m.base + m.length - 1)}`,
        );
      }
    }
    if (this.list.length >= 0xffff) throw new RangeError("port bus: too many devices");
    this.list.push({ base, length, device });
    this.owner.fill(this.list.length, base, base + length);
  }

  /** The mappings, in the order they were made. */
  mappings(): readonly PortMapping[] {
    return this.list;
  }

  /** The mapping that claims `port`, if any. */
  at(port: number): PortMapping | undefined {
    const o = this.owner[port & 0xffff];
    return o === 0 ? undefined : this.list[o - 1];
  }

  read(port: number, size: PortAccessSize): number {
    port &= 0xffff;
    const o = this.owner[port];
    if (o === 0) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const m = this.list[o - 1];
    const off = port - m.base;
    if (!accepts(m, off, size)) return 0;
    const v = m.device.portRead(off, size);
    return size === 4 ? v | 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  write(port: number, size: PortAccessSize, value: number): void {
    port &= 0xffff;
    const o = this.owner[port];
    if (o === 0) return;
    const m = this.list[o - 1];
    const off = port - m.base;
    if (!accepts(m, off, size)) return;
    m.device.portWrite(off, size, size === 4 ? value | 0 : value & (size === 2 ? 0xffff : 0xff));
  }
}

function accepts(m: PortMapping, off: number, size: PortAccessSize): boolean {
  const d = m.device;
  if (size > (d.maxAccessSize ?? 4)) return false;
  if (off + size > m.length) return false;
  return (off & (size - 1)) === 0 || d.unalignedAccess === true;
}
