/**
 * The guest <-> VMM binary interface of vmxsim's embedded hypervisor: everything a guest (ours, built with
 * the assembler, or a Multiboot ELF built elsewhere) may rely on, and nothing else. It is the only part of
 * src/vmm that guests import (shared/DESIGN.md §2). Our own ABI, so this header is its specification.
 *
 * Boot state of every vCPU (the Multiboot 0.6.96 §3.2 machine state, which a VMM can give under VT-x):
 * 32-bit protected mode, CS = 08H and DS/ES/FS/GS/SS = 10H flat (base 0, limit 4 GiB; the guest loads its
 * own GDT before reloading a selector), interrupts disabled (EFLAGS = 2), EAX = MULTIBOOT_BOOT_MAGIC,
 * EBX = guest-physical address of the Multiboot information (flags: mem_lower/mem_upper, cmdline),
 * ESI = the vCPU's index in its partition (0 is the bootstrap vCPU), EDI = the partition's id,
 * ESP = BOOT_STACK_TOP. Paging is off where the CPU offers "unrestricted guest" (Sandy Bridge and later);
 * on older CPUs the VMM gives the guest identity 4 MiB pages (CR0.PG = 1, CR4.PSE = 1, CR3 =
 * IDENTITY_PD_GPA) and the guest must not reuse the first 8 KiB.
 * Every vCPU starts at the image's entry point; guest-physical memory is [0, memory size) of the partition.
 *
 * Local APIC: an xAPIC at FEE00000H. Interrupt routing is the VMM's job (as in a Jailhouse cell config):
 * the scenario gives each of the partition's devices a guest vector (devices[i].vector, default
 * DEVICE_VECTOR_BASE + i); the guest programs no IOAPIC or MSI. Device interrupts and PV completions are
 * delivered to the partition's vCPU 0; a driver on another vCPU must poll (ring USED, or the device's status). The guest's LAPIC timer (one-shot through
 * LVT timer 320H / initial count 380H / divide 3E0H, or TSC-deadline through IA32_TSC_DEADLINE 6E0H) is
 * virtual; the VMM runs it on the VMX-preemption timer. EOI is a write of 0 to FEE000B0H.
 * The TSC is the host's (TSC offset 0) and runs at the profile's core clock (HC_TSC_KHZ returns it).
 *
 * Hypercalls: VMCALL with EAX = number, arguments in EBX, ECX, EDX; the result comes back in EAX (other
 * registers are preserved). An unknown number returns HC_ERROR. VMCALL outside a VM is #UD (SDM Vol. 2C).
 *
 * Result log ("the documented channel", drained by the VMM's probe without a VM exit): a ring in guest
 * memory whose address the guest gives with HC_LOG_REGISTER (TS-built guests also name it in their image
 * metadata, so registering is optional for them). Layout below (LOG_*). The guest writes a record at
 * slot head % capacity and then increments head; the VMM advances tail as it drains. When
 * head - tail = capacity the guest drops the record and increments dropped. Writing a record is a few
 * stores, so measuring adds no exit to the measured path.
 *
 * Paravirtual devices: a ring per device in guest memory, given with HC_PV_SETUP; the doorbell is
 * HC_PV_NOTIFY; completions raise the device's guest vector (an injected virtual interrupt). Layout below
 * (PV_*). The guest fills the request slot at avail % entries, then increments avail, then rings the
 * doorbell (it may batch several requests per doorbell). The VMM may complete requests out of order (a
 * nic RX or rt-io WAIT waits for traffic while later requests finish): it writes the slot's outputs, RESULT
 * and STATUS, then advances USED over the completed prefix, then raises the vector. A driver waits on its
 * slot's STATUS; a slot is the guest's again once USED has passed it. A waiting request that would hold
 * back more than half the ring is handed back with PV_STATUS_ERROR | PvError.DEVICE << 8 (re-post it).
 */

// ---- boot ----

export const MULTIBOOT_BOOT_MAGIC = 0x2badb002;
/** Guest-physical page of the identity page directory on CPUs without unrestricted guest. */
export const IDENTITY_PD_GPA = 0x1000;
/** Guest-physical address of the Multiboot information the VMM writes (cmdline follows at + 0x100). */
export const MULTIBOOT_INFO_GPA = 0x8000;
export const BOOT_STACK_TOP = 0x9f000;
/** Where TS-built guest images are linked (the Multiboot convention of 1 MiB). */
export const GUEST_IMAGE_GPA = 0x100000;
/** The guest's local APIC page. */
export const GUEST_APIC_GPA = 0xfee00000;
/** Vector of a partition's device i when the scenario gives none. */
export const DEVICE_VECTOR_BASE = 0x40;

// ---- hypercalls (VMCALL, EAX = number) ----

export const Hypercall = {
  /** -> ABI_VERSION. */
  VERSION: 0,
  /** EBX = log ring GPA (64-byte aligned), ECX = its size in bytes -> 0, or HC_ERROR. */
  LOG_REGISTER: 1,
  /** EBX = device index in the partition, ECX = ring GPA (64-byte aligned), EDX = entries (a power of two,
   * 1 .. 256) -> 0, or HC_ERROR (not a paravirtual device, bad ring). */
  PV_SETUP: 2,
  /** EBX = device index: the doorbell (the VMM takes every request between used and avail) -> 0. */
  PV_NOTIFY: 3,
  /** -> the TSC frequency in kHz. */
  TSC_KHZ: 4,
  /** EBX = exit status: the vCPU is done (the VMM parks it; the partition's other vCPUs run on). */
  EXIT: 5,
} as const;

export const ABI_VERSION = 1;
export const HC_ERROR = 0xffffffff;

// ---- the result log ----

export const LOG_MAGIC = 0x474c5856; // "VXLG"
/** Header bytes (records start here). */
export const LOG_HEADER_BYTES = 64;
export const LOG_RECORD_BYTES = 32;
/** Header fields (u32 each). */
export const LogHeader = {
  MAGIC: 0,
  /** Records the ring holds (set by the guest at initialisation). */
  CAPACITY: 4,
  /** Records written (guest). */
  HEAD: 8,
  /** Records read (VMM). */
  TAIL: 12,
  /** Records the guest dropped because the ring was full. */
  DROPPED: 16,
  /** The guest's TSC frequency estimate in kHz (0 = unknown; its calibration result). */
  TSC_KHZ: 20,
  /** Calibrated work-loop iterations per microsecond, times 1000 (the "work" unit of tasks). */
  WORK_PER_US_X1000: 24,
} as const;

/** Record fields: u16 KIND, u16 ID, u32 V0, u64 T0, u64 T1, u32 V1, u32 V2. */
export const LogRecord = {
  KIND: 0,
  ID: 2,
  V0: 4,
  T0: 8,
  T1: 16,
  V1: 24,
  V2: 28,
} as const;

/** Record kinds and what their fields mean (TSC values are the guest's RDTSC). */
export const LogKind = {
  /** The kernel is up. T0 = TSC at boot, V0 = vCPU index. */
  BOOT: 1,
  /** A task's job finished. ID = task index, V0 = job number (1, 2, ...), T0 = release TSC (the job's
   * nominal release: period start or the ISR's TSC for a sporadic job), T1 = finish TSC, V1 = 1 if it
   * missed its deadline, V2 = the job's start TSC minus its release, saturated to 32 bits. */
  JOB: 2,
  /** A cyclictest-style wake-up. ID = thread index, V0 = loop count, T0 = the absolute TSC it slept to,
   * T1 = the TSC it read first after waking. */
  WAKE: 3,
  /** A device interrupt reached its ISR. ID = device index, V0 = the device's event sequence number (rt-io
   * SEQ; else 0), T0 = TSC at the ISR's first instruction, T1 = the device's event time in device ns when
   * the device reports one (rt-io TS), else 0. */
  IRQ: 4,
  /** An I/O operation completed as the driver saw it. ID = device index, V0 = op (PvOp value), T0 = submit
   * TSC, T1 = completion TSC (the driver saw the result), V1 = bytes, V2 = status (0 ok). */
  IO: 5,
  /** An exception the kernel did not expect. ID = vector, V0 = error code, T0 = TSC, V1 = EIP. */
  FAULT: 6,
  /** A periodic job was not started before its next release (it is skipped). ID = task, V0 = job number. */
  SKIP: 7,
} as const;

// ---- paravirtual rings ----

/** Ring header (u32 each), then `entries` request slots of PV_SLOT_BYTES. */
export const PvRingHeader = {
  /** Requests published (guest). */
  AVAIL: 0,
  /** Requests completed (VMM). */
  USED: 4,
  /** Entries (copied by the VMM from HC_PV_SETUP; informational). */
  ENTRIES: 8,
} as const;
export const PV_RING_HEADER_BYTES = 64;
export const PV_SLOT_BYTES = 32;

/** Slot fields (u32 each). */
export const PvSlot = {
  OP: 0,
  /** The guest's cookie, returned untouched. */
  ID: 4,
  /** Guest-physical buffer address (block data, packet, dsp job descriptor, console bytes). */
  ADDR: 8,
  LEN: 12,
  ARG0: 16,
  ARG1: 20,
  /** 0 while pending; PV_STATUS_OK or PV_STATUS_ERROR | code << 8 when done (VMM). */
  STATUS: 24,
  RESULT: 28,
} as const;

export const PV_STATUS_OK = 1;
export const PV_STATUS_ERROR = 2;
/** Error codes in STATUS bits 15..8. */
export const PvError = { BAD_OP: 1, BAD_RANGE: 2, DMA: 3, DEVICE: 4 } as const;

/**
 * Operations by device kind. ADDR/LEN are a guest buffer that must lie in the partition's RAM.
 * - block: READ (ARG0 = LBA, LEN = bytes, a multiple of 512), WRITE (same), FLUSH. RESULT = bytes moved.
 * - nic: TX (the packet at ADDR/LEN), RX (a receive buffer: completed when a packet is delivered into it;
 *   RESULT = packet length, ARG0 = the packet's sequence number). RX requests wait; TX completes when sent.
 * - dsp: JOB (ADDR = a dsp job descriptor, dsp.ts layout; addresses in it are guest-physical). RESULT = the
 *   job's RESULT; the descriptor's RESULT/STATUS/JOB_ID are written as the card would.
 * - uart: WRITE (LEN bytes at ADDR to the console). RESULT = bytes.
 * - rt-io: WAIT (completed at the next input event: RESULT = SEQ, ARG0/ARG1 = TS low/high in device ns,
 *   LEN = DATA), ACK (ARG0 = SEQ; the VMM acknowledges the physical event), ACTUATE (ARG0 = value).
 */
export const PvOp = {
  READ: 1,
  WRITE: 2,
  FLUSH: 3,
  TX: 4,
  RX: 5,
  JOB: 6,
  WAIT: 7,
  ACK: 8,
  ACTUATE: 9,
} as const;
