/**
 * A machine: RAM shared by the cores, the cores, and the board logic that connects them to devices
 * (the SystemBus of system-bus.ts): port I/O goes to a PortBus on which the caller maps concrete
 * devices (shared/DESIGN.md §3: whoever assembles the machine decides where devices sit); physical
 * accesses outside RAM hit no device yet and behave as open bus (reads all ones, writes ignored).
 *
 * One core for now; the platform issue adds N cores, MMIO, the interrupt controllers and the event queue.
 */
import { Core } from "./core.ts";
import type { SystemBus } from "./system-bus.ts";
import { PortBus, type PortAccessSize } from "../devices/port-bus.ts";

export interface MachineOptions {
  /** RAM size in bytes: a positive multiple of 4 KiB, at most 3 GiB (RAM sits below the PCI hole). */
  ramBytes: number;
  /** The port bus to route I/O to (default: an empty one). */
  ports?: PortBus;
}

export const MAX_RAM_BYTES = 3 * 1024 * 1024 * 1024;

export class Machine implements SystemBus {
  readonly ram: Uint8Array;
  readonly ports: PortBus;
  readonly cores: readonly Core[];

  constructor(opts: MachineOptions) {
    const n = opts.ramBytes;
    if (!Number.isInteger(n) || n <= 0 || n % 4096 !== 0 || n > MAX_RAM_BYTES) {
      throw new RangeError(`machine: ramBytes ${n} must be a positive multiple of 4096 and at most ${MAX_RAM_BYTES}`);
    }
    this.ram = new Uint8Array(n);
    this.ports = opts.ports ?? new PortBus();
    this.cores = [new Core({ ram: this.ram, bus: this, id: 0 })];
  }

  /** The bootstrap processor. */
  get core(): Core {
    return this.cores[0];
  }

  readPhys(_pa: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  }

  writePhys(_pa: number, _size: 1 | 2 | 4, _value: number): void {}

  portIn(port: number, size: 1 | 2 | 4): number {
    return this.ports.read(port, size as PortAccessSize);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.ports.write(port, size as PortAccessSize, value);
  }
}
