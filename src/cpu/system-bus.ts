/**
 * What a core needs from the board it sits on (shared/DESIGN.md §3): physical memory outside the RAM
 * array the core reads directly (MMIO, ROM, unmapped space), I/O ports, and interrupt acknowledge.
 * The machine implements it; the core never imports devices or the VMM.
 */
export interface SystemBus {
  /** Physical read outside RAM. Unmapped space reads as all ones (open bus). */
  readPhys(pa: number, size: 1 | 2 | 4): number;
  /** Physical write outside RAM. Unmapped space ignores writes. */
  writePhys(pa: number, size: 1 | 2 | 4, value: number): void;
  /** IN from an I/O port. Unclaimed ports read as all ones. */
  portIn(port: number, size: 1 | 2 | 4): number;
  /** OUT to an I/O port. */
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
}

/** A bus with RAM only: no devices, open-bus reads, ignored writes. */
export const NULL_BUS: SystemBus = {
  readPhys: (_pa, size) => (size === 4 ? -1 : size === 2 ? 0xffff : 0xff),
  writePhys: () => {},
  portIn: (_port, size) => (size === 4 ? -1 : size === 2 ? 0xffff : 0xff),
  portOut: () => {},
};
