/**
 * A partition (AMP: shared/DESIGN.md §1, issue 6 "Partitions"): its cores (one pinned vCPU each),
 * guest-physical RAM [0, memoryBytes) backed by host pages (contiguous, or page-by-page from its colours),
 * the EPT that maps them (SDM Vol. 3C 28.2), its I/O and MSR bitmaps (24.6.4, 24.6.9), its devices with how
 * each is given (exclusive = passthrough, emulated, paravirtual), the guest image to (re)load, and what the
 * health monitor did to it. Guest-memory helpers translate through the page map (the VMM's own view, no
 * EPT walk: the VMM built the EPT from this map).
 */
import type { EptBuilder } from "./ept-builder.ts";
import type { Vcpu } from "./vcpu.ts";
import type { VirtualDevice } from "./vdev/vdev.ts";
import type { ExitRecorder } from "./exit-recorder.ts";
import { PAGE } from "./host-memory.ts";

export type PartitionDeviceMode = "exclusive" | "emulated" | "paravirtual";
export type FaultAction = "log" | "restart" | "halt";
export type IrqDeliveryMode = "posted" | "exit-and-inject";

export interface PartitionDevice {
  index: number;
  name: string;
  type: string;
  mode: PartitionDeviceMode;
  /** Guest vector of its interrupts. */
  vector: number;
  /** Guest-physical register window (cards), or null. */
  mmioGpa: number | null;
  mmioBytes: number;
  /** Port window (uart), or null. */
  port: number | null;
  portCount: number;
  /** Shared devices: the VMM's device model for this partition. */
  vdev: VirtualDevice | null;
  /** Exclusive devices with exit-and-inject delivery: the physical vector the VMM routes them to. */
  physicalVector: number | null;
}

export interface GuestImageSpec {
  bytes: Uint8Array;
  loadGpa: number;
  entry: number;
  cmdline: string;
}

export class Partition {
  readonly vcpus: Vcpu[] = [];
  readonly devices: PartitionDevice[] = [];
  state: "running" | "halted" = "running";
  restarts = 0;
  image: GuestImageSpec | null = null;
  /** Guest-physical address of the first log ring (HC_LOG_REGISTER or the image's metadata), and its bytes. */
  logGpa: number | null = null;
  logBytes = 0;
  /** Bytes the guest wrote to the debug port E9H (kept for messages). */
  debugOutput = "";

  constructor(
    readonly id: number,
    readonly name: string,
    readonly memoryBytes: number,
    /** Host page of each guest page. */
    readonly pages: readonly number[],
    readonly ept: EptBuilder,
    readonly ioBitmapA: number,
    readonly ioBitmapB: number,
    readonly msrBitmap: number,
    readonly irqDelivery: IrqDeliveryMode,
    readonly onFault: FaultAction,
    readonly exits: ExitRecorder,
    private readonly ram: Uint8Array,
  ) {}

  /** Host-physical address of guest-physical `gpa` in partition RAM, or null. */
  hpa(gpa: number): number | null {
    if (!Number.isInteger(gpa) || gpa < 0 || gpa >= this.memoryBytes) return null;
    return this.pages[Math.floor(gpa / PAGE)] + (gpa % PAGE);
  }

  /** Host-physical start of [gpa, gpa + bytes) if it lies in RAM and is contiguous in host memory. */
  contiguousHpa(gpa: number, bytes: number): number | null {
    if (bytes <= 0) return this.hpa(gpa);
    const first = this.hpa(gpa);
    const last = this.hpa(gpa + bytes - 1);
    if (first === null || last === null) return null;
    for (let p = Math.floor(gpa / PAGE) + 1; p <= Math.floor((gpa + bytes - 1) / PAGE); p++) {
      if (this.pages[p] !== this.pages[p - 1] + PAGE) return null;
    }
    return first;
  }

  read(gpa: number, bytes: number): Uint8Array | null {
    if (this.hpa(gpa) === null || (bytes > 0 && this.hpa(gpa + bytes - 1) === null)) return null;
    const out = new Uint8Array(bytes);
    for (let k = 0; k < bytes; ) {
      const h = this.hpa(gpa + k)!;
      const n = Math.min(bytes - k, PAGE - (h % PAGE));
      out.set(this.ram.subarray(h, h + n), k);
      k += n;
    }
    return out;
  }

  write(gpa: number, data: Uint8Array): boolean {
    if (this.hpa(gpa) === null || (data.length > 0 && this.hpa(gpa + data.length - 1) === null)) return false;
    for (let k = 0; k < data.length; ) {
      const h = this.hpa(gpa + k)!;
      const n = Math.min(data.length - k, PAGE - (h % PAGE));
      this.ram.set(data.subarray(k, k + n), h);
      k += n;
    }
    return true;
  }

  read32(gpa: number): number | null {
    const b = this.read(gpa, 4);
    return b === null ? null : (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  write32(gpa: number, value: number): boolean {
    return this.write(gpa, new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]));
  }

  /** The device whose emulated MMIO window holds `gpa`. */
  mmioDeviceAt(gpa: number): PartitionDevice | null {
    for (const d of this.devices) {
      if (d.mode === "emulated" && d.mmioGpa !== null && gpa >= d.mmioGpa && gpa < d.mmioGpa + d.mmioBytes) return d;
    }
    return null;
  }

  /** The device whose emulated port window holds `port`. */
  portDeviceAt(port: number): PartitionDevice | null {
    for (const d of this.devices) {
      if (d.mode === "emulated" && d.port !== null && port >= d.port && port < d.port + d.portCount) return d;
    }
    return null;
  }
}
