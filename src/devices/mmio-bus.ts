/**
 * Memory-mapped I/O space outside RAM: a dispatcher from physical address ranges to devices, which see
 * offsets into their range only (shared/DESIGN.md §3). Accesses are 1, 2 or 4 bytes and naturally
 * aligned (the core splits anything else into bytes, as the bus would into several cycles).
 * Unclaimed addresses read as all ones and ignore writes (open bus).
 *
 * Ranges are few (LAPIC page, IOAPIC, HPET, device BARs), so lookup is a short sorted list scan with a
 * one-entry cache of the last range hit.
 */

export type MmioAccessSize = 1 | 2 | 4;

export interface MmioDevice {
  readonly name: string;
  /** Returns the value read (size 1 and 2 unsigned, size 4 any 32-bit pattern). */
  mmioRead(offset: number, size: MmioAccessSize): number;
  mmioWrite(offset: number, size: MmioAccessSize, value: number): void;
}

export interface MmioMapping {
  readonly base: number;
  readonly length: number;
  readonly device: MmioDevice;
}

const hex = (v: number) => "0x" + (v >>> 0).toString(16);

export class MmioBus {
  private list: MmioMapping[] = [];
  private last: MmioMapping | null = null;

  /** Map `device` at physical [base, base + length). Throws if the range is invalid or overlaps. */
  map(base: number, length: number, device: MmioDevice): void {
    if (!Number.isInteger(base) || base < 0 || base > 0xffffffff || !Number.isInteger(length) || length < 1 ||
        base + length > 0x100000000) {
      throw new RangeError(`mmio bus: ${device.name}: range ${hex(base)} + ${length} is not in the 4 GiB space`);
    }
    for (const m of this.list) {
      if (base < m.base + m.length && m.base < base + length) {
        throw new RangeError(
          `mmio bus: ${device.name} at ${hex(base)}-${hex(base + length - 1)} overlaps ` +
            `${m.device.name} at ${hex(m.base)}-${hex(m.base + m.length - 1)}`,
        );
      }
    }
    this.list = [...this.list, { base, length, device }].sort((a, b) => a.base - b.base);
  }

  /** Remove the mapping of `device` (a BAR being moved). */
  unmap(device: MmioDevice): void {
    this.list = this.list.filter((m) => m.device !== device);
    this.last = null;
  }

  mappings(): readonly MmioMapping[] {
    return this.list;
  }

  /** The mapping that claims physical address `pa`, if any. */
  at(pa: number): MmioMapping | undefined {
    pa >>>= 0;
    const l = this.last;
    if (l !== null && pa >= l.base && pa < l.base + l.length) return l;
    for (const m of this.list) {
      if (pa >= m.base && pa < m.base + m.length) return (this.last = m);
    }
    return undefined;
  }

  read(pa: number, size: MmioAccessSize): number {
    const m = this.at(pa);
    if (m === undefined) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const v = m.device.mmioRead((pa >>> 0) - m.base, size);
    return size === 4 ? v | 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  write(pa: number, size: MmioAccessSize, value: number): void {
    const m = this.at(pa);
    if (m === undefined) return;
    m.device.mmioWrite((pa >>> 0) - m.base, size, size === 4 ? value | 0 : value & (size === 2 ? 0xffff : 0xff));
  }
}
