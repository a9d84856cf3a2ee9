/**
 * What the VMM core gives the backend of a shared physical device, and what a shared device gives back
 * (shared/DESIGN.md §3 "Shared devices are virtual"; issue 6 "Shared devices (virtual)"). The backend owns
 * the physical device: it programs its registers with host-physical buffers, takes its interrupt on the
 * VMM's service core, and multiplexes it between the partitions attached to it (vdev.ts VirtualDevice,
 * one per partition, emulated or paravirtual). All of its work is charged to the core the VMM runs on:
 * declared costs (vmm/costs.ts backend.*), bus accesses at the CPU profile's bus cost, and its own data
 * (state block, rings and bounce buffers in VMM memory) through the cache model.
 * No Intel SDM section applies (this is our own VMM's structure). Leaves out: several physical queues per
 * device, an IOMMU of our own (the VMM checks guest buffers against partition RAM before programming DMA).
 */
import type { Clock } from "../../sim/clock.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";

/** A block of VMM memory reserved for one backend: host-physical, reachable by the physical device's DMA
 * (its rings, descriptors and bounce buffers live here). */
export interface BackendMemory {
  /** Host-physical address of offset 0. */
  readonly hpa: number;
  readonly bytes: number;
  /** The VMM reads / writes it (charged per 64-byte line through the cache model of the VMM's core). */
  read(offset: number, bytes: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

/** Given by the VMM core, one per shared physical device. */
export interface BackendHost {
  readonly clock: Clock;
  /** Charge a declared cost (vmm/costs.ts key, "backend.*") to the core running the VMM now (the core handling
   * the physical interrupt, or the exit that started the work). */
  charge(costKey: string): void;
  /** The backend touches its own state block (`bytes` from `offset`, within BACKEND_STATE_BYTES). */
  touchState(offset: number, bytes: number, write: boolean): void;
  /** One access of the VMM's core to the physical device's registers: the CPU profile's bus cost
   * (CpuProfile.bus: mmioReadCycles, mmioWriteCycles, or portIoCycles for a port device). */
  busAccess(kind: "mmioRead" | "mmioWrite" | "portIo"): void;
  /** sharedDeviceMemoryBytes(type, physical) bytes of VMM memory for the backend's DMA structures. */
  readonly memory: BackendMemory;
}

/** The backend's view for the report. */
export interface SharedDeviceReport {
  type: SharedDeviceType;
  /** Operations the physical device performed for the partitions (commands, jobs, packets, byte bursts). */
  physicalOps: number;
  /** Physical interrupts handled. */
  interrupts: number;
  /** Most requests waiting in the backend's FIFO at once (the contention between partitions). */
  maxQueued: number;
  /** Guest buffers that were not contiguous in host memory and went through a bounce buffer. */
  bounced: number;
  /** Type-specific counters (nic: rxDelivered, rxNoReceiver, ...; uart: consoleDropped; ...). */
  counters: Record<string, number>;
}

export type SharedDeviceType = "rt-io" | "block" | "nic" | "dsp" | "uart";
export type SharedMode = "emulated" | "paravirtual";

export interface SharedDevice {
  readonly type: SharedDeviceType;
  /** The VMM took the physical device's interrupt (on its service core). The VMM programs the IOAPIC pin
   * edge-triggered, so this clears the causes it handled (W1C INT_STATUS; rt-io masks INT_ENABLE until the
   * event is acknowledged; the UART's IIR read) to re-arm the line. */
  onInterrupt(): void;
  /** A partition's view in its mode. All partitions attach at build time, before any guest runs. */
  attach(host: VdevHost, mode: SharedMode): VirtualDevice;
  report(): SharedDeviceReport;
  /** uart only: what each partition wrote to the console, by partition name. */
  transcript?(): Record<string, string>;
}

/** Size of the state block a VdevHost's touchState addresses: the register file in [0, 128), or the ring's
 * bookkeeping in [0, 64) and request records of 16 bytes from 64 (slot mod 28: a small hashed table). */
export const VDEV_STATE_BYTES = 512;
/** Size of the state block a BackendHost's touchState addresses: queue control in [0, 64), queue entries
 * of 32 bytes from 64 (position mod 14). */
export const BACKEND_STATE_BYTES = 512;
/** Offset of queue entry `n` in the backend's state block. */
export function backendQueueEntry(n: number): number {
  return 64 + (n % 14) * 32;
}
