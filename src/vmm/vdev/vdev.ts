/**
 * The contract between the VMM core (exit dispatch, interrupt injection, cost accounting) and its virtual
 * devices (shared/DESIGN.md §3 "Shared devices are virtual"). A shared physical device is owned by the VMM
 * and driven by a Backend; each partition that uses it gets a VirtualDevice in its mode:
 * - emulated: the guest's driver touches the device's register interface; every access exits (EPT
 *   violation on the MMIO window, or an I/O-instruction exit on the ports) and the VMM calls
 *   mmioRead/mmioWrite or portRead/portWrite here with the offset in the window;
 * - paravirtual: the guest fills a ring (abi.ts PV_*) and rings the doorbell (VMCALL PV_NOTIFY): the VMM
 *   calls notify(); completions are written into the ring and signalled with host.raise().
 * All the VMM's work is charged to the core it runs on through VdevHost (declared costs of vmm/costs.ts
 * plus its data accesses through the cache model). Leaves out: scatter-gather, several queues per device.
 */
import type { Tick } from "../../sim/event-queue.ts";
import type { Clock } from "../../sim/clock.ts";

/** What the VMM gives a virtual device (one per partition and device). */
export interface VdevHost {
  /** The partition's name (messages) and the device's index in its list. */
  readonly partition: string;
  readonly index: number;
  readonly clock: Clock;
  /** Charge a declared cost (a key of vmm/costs.ts, e.g. "vdev.blockCommand") to the core running the VMM
   * now. Outside a VMM turn (a device event callback) the cost is queued for the core that next runs the
   * VMM for this partition. */
  charge(costKey: string): void;
  /** The VMM touches its own data for this device (its state block, `bytes` from `offset`), through the
   * cache model of the core running the VMM. */
  touchState(offset: number, bytes: number, write: boolean): void;
  /** Guest memory (partition RAM only; null / false outside it: the caller reports PvError.DMA). The VMM's
   * copies are charged per 64-byte line through the cache model. */
  readGuest(gpa: number, bytes: number): Uint8Array | null;
  writeGuest(gpa: number, data: Uint8Array): boolean;
  read32(gpa: number): number | null;
  write32(gpa: number, value: number): boolean;
  /** Guest-physical -> host-physical for a range inside partition RAM that is contiguous in host memory
   * (null otherwise): a backend gives this to the physical device for zero-copy DMA. */
  gpaToHpa(gpa: number, bytes: number): number | null;
  /** Raise the device's guest vector in the partition (an edge: one interrupt). */
  raise(): void;
  /** Report a contained fault of the partition's use of the device (the health monitor acts). */
  fault(kind: string, detail: string): void;
}

/** A virtual device of one partition. Emulated devices implement the register access methods; paravirtual
 * ones setupRing and notify. Accesses are 1, 2 or 4 bytes at an offset inside the register window. */
export interface VirtualDevice {
  readonly mode: "emulated" | "paravirtual";
  mmioRead?(offset: number, size: 1 | 2 | 4): number;
  mmioWrite?(offset: number, size: 1 | 2 | 4, value: number): void;
  portRead?(offset: number, size: 1 | 2 | 4): number;
  portWrite?(offset: number, size: 1 | 2 | 4, value: number): void;
  /** HC_PV_SETUP: false if the ring is not in partition RAM or entries is not a power of two 1 .. 256. */
  setupRing?(gpa: number, entries: number): boolean;
  /** HC_PV_NOTIFY. */
  notify?(): void;
  /** Operations completed so far and their latencies (submit -> completion, ticks), for the report. */
  stats(): VdevStats;
}

export interface VdevStats {
  ops: number;
  /** Per operation: completion tick - submission tick (the VMM's view). */
  latencies: Tick[];
}
