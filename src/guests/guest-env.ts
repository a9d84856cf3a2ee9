/**
 * What a TS-built guest is told about its partition when it is assembled (the way a statically configured
 * RTOS is built for its cell, as with Jailhouse inmates or an AUTOSAR ECU extract), and what a built guest
 * gives back. The boot-time contract with the VMM is src/vmm/abi.ts; this is the build-time one.
 * Every guest program (src/guests/programs/*) has the shape `(config, env) => GuestImage`.
 */

/** One of the partition's devices, as its driver reaches it. */
export interface GuestDevice {
  /** Index in the partition's device list (the PV_SETUP / PV_NOTIFY argument, the log records' ID). */
  index: number;
  /** Scenario name (for symbols and messages). */
  name: string;
  type: "rt-io" | "block" | "nic" | "dsp" | "uart";
  /** exclusive (passthrough) and emulated are reached through the same registers; paravirtual through a
   * ring (abi.ts PV_*) and VMCALL. */
  mode: "exclusive" | "emulated" | "paravirtual";
  /** The guest vector its interrupts (and PV completions) arrive on. */
  vector: number;
  /** Guest-physical base of its 32-bit register window (cards), or null. */
  mmioGpa: number | null;
  /** I/O port base (uart), or null. */
  port: number | null;
}

export interface GuestEnv {
  /** vCPUs of the partition (each starts at the entry with ESI = its index). */
  vcpus: number;
  /** Guest-physical memory size in bytes. */
  memoryBytes: number;
  /** The TSC frequency (Hz) the guest may bake in (also HC_TSC_KHZ at run time). */
  tscHz: number;
  /** The local APIC timer's input clock (Hz) before the divide configuration (one-shot mode). */
  apicTimerHz: number;
  devices: GuestDevice[];
}

export interface GuestImage {
  /** The bytes to load at loadGpa. */
  bytes: Uint8Array;
  loadGpa: number;
  entry: number;
  /** Label -> guest-physical address (for probes and debugging). */
  symbols: Record<string, number>;
  /** The result log ring (abi.ts LOG_*), or null when the guest writes none. */
  logGpa: number | null;
  logBytes: number;
  /** Task names in log-record ID order (rtos), for the report. */
  tasks: string[];
}
