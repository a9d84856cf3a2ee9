/**
 * The backend's access to a physical device's registers, each one charged at the CPU profile's bus cost
 * (BackendHost.busAccess: an uncached MMIO read is a PCIe round trip, a write is posted; a port access is an
 * LPC cycle). Cards are 32-bit register blocks (reg32-device.ts) reached through MMIO; the UART is a byte
 * port device. Set-up at creation (build time, before any guest runs: "firmware") is not charged.
 * No Intel SDM section applies. Leaves out: access ordering effects (posted writes are complete at once).
 */
import type { MmioDevice } from "../../devices/mmio-bus.ts";
import type { PortDevice } from "../../devices/port-bus.ts";
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import type { BackendHost } from "./backend-host.ts";

export class PhysicalRegs {
  private readonly mmio: MmioDevice | null;
  private readonly port: PortDevice | null;

  constructor(physical: DeviceInstance, private readonly host: BackendHost) {
    this.mmio = physical.mmio ?? null;
    this.port = this.mmio === null ? (physical.port ?? null) : null;
    if (this.mmio === null && this.port === null) {
      throw new RangeError(`shared device: physical ${physical.kind} has neither MMIO nor port registers`);
    }
  }

  read(off: number): number {
    if (this.mmio !== null) {
      this.host.busAccess("mmioRead");
      return this.mmio.mmioRead(off, 4) >>> 0;
    }
    this.host.busAccess("portIo");
    return this.port!.portRead(off, 1);
  }

  write(off: number, v: number): void {
    if (this.mmio !== null) {
      this.host.busAccess("mmioWrite");
      this.mmio.mmioWrite(off, 4, v >>> 0);
      return;
    }
    this.host.busAccess("portIo");
    this.port!.portWrite(off, 1, v & 0xff);
  }

  /** Uncharged: set-up at creation only. */
  setupRead(off: number): number {
    return this.mmio !== null ? this.mmio.mmioRead(off, 4) >>> 0 : this.port!.portRead(off, 1);
  }

  setupWrite(off: number, v: number): void {
    if (this.mmio !== null) this.mmio.mmioWrite(off, 4, v >>> 0);
    else this.port!.portWrite(off, 1, v & 0xff);
  }
}
