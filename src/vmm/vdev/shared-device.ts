/**
 * Shared physical devices: the entry point the VMM core uses (issue 6 "Shared devices (virtual)",
 * shared/DESIGN.md §3). A physical device the scenario shares is owned by the VMM and driven by a backend
 * (one file per type); each partition that uses it attaches in its mode and gets a VirtualDevice (vdev.ts).
 *
 *   type   | physical registers | backend memory (sharedDeviceMemoryBytes)     | emulated / paravirtual
 *   block  | MMIO card          | one bounce buffer of MAX_SECTORS sectors      | shared-block.ts
 *   dsp    | MMIO card          | a job descriptor + input/output bounce        | shared-dsp.ts
 *   nic    | MMIO card          | VMM-owned RX/TX rings, RX buffers, TX bounce  | shared-nic.ts
 *   uart   | 16550 ports        | none (bytes go through THR)                   | shared-uart.ts
 *   rt-io  | MMIO card          | none (register-only card)                     | shared-rt-io.ts
 *
 * The VMM core must: create the physical device with its DMA port on host-physical RAM, reserve
 * sharedDeviceMemoryBytes(type, physical) bytes of VMM memory for BackendHost.memory, program the device's
 * IOAPIC pin edge-triggered to the service core and call onInterrupt() when it takes that interrupt, and
 * attach every partition at build time (the block LBA windows and the nic demultiplexing count them).
 * Bad guest input never throws: it completes the request with an error or sets the device's error
 * register, and a DMA buffer outside the partition is also reported with VdevHost.fault("dma", ...).
 * No Intel SDM section applies. Leaves out: hot-plug (attaching after the run started), device reset.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import type { BackendHost, SharedDevice, SharedDeviceType } from "./backend-host.ts";
import { blockMemoryBytes } from "./block-backend.ts";
import { createSharedBlock } from "./shared-block.ts";
import { dspMemoryBytes } from "./dsp-backend.ts";
import { createSharedDsp } from "./shared-dsp.ts";
import { createSharedUart } from "./shared-uart.ts";
import { createSharedRtIo } from "./shared-rt-io.ts";
import { createSharedNic } from "./shared-nic.ts";
import { nicMemoryBytes } from "./nic-backend.ts";

export type {
  BackendHost, BackendMemory, SharedDevice, SharedDeviceReport, SharedDeviceType, SharedMode,
} from "./backend-host.ts";
export { BACKEND_STATE_BYTES, VDEV_STATE_BYTES, backendQueueEntry } from "./backend-host.ts";

export function createSharedDevice(type: SharedDeviceType, physical: DeviceInstance, host: BackendHost): SharedDevice {
  switch (type) {
    case "block": return createSharedBlock(physical, host);
    case "dsp": return createSharedDsp(physical, host);
    case "uart": return createSharedUart(physical, host);
    case "rt-io": return createSharedRtIo(physical, host);
    case "nic": return createSharedNic(physical, host);
    default: throw new RangeError(`shared device: unknown type '${String(type)}'`);
  }
}

/** Bytes of VMM memory (BackendHost.memory) the backend of `type` needs for `physical`. */
export function sharedDeviceMemoryBytes(type: SharedDeviceType, physical: DeviceInstance): number {
  switch (type) {
    case "block": return blockMemoryBytes(physical);
    case "dsp": return dspMemoryBytes(physical);
    case "nic": return nicMemoryBytes(physical);
    default: return 0;
  }
}
