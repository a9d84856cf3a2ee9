/**
 * Guest accesses to the APIC-access page (SDM Vol. 3C 29.4 "Virtualizing Memory-Mapped APIC Accesses":
 * 29.4.2 reads, 29.4.3.1 which writes are virtualized, 29.4.3.2 APIC-write emulation, 29.4.3.3 APIC-write
 * VM exits; 27.2.1 Table 27-6 for the APIC-access exit qualification).
 *
 * The core, on a linear access whose physical address lies on the APIC-access page while "virtualize APIC
 * accesses" is 1 (`isApicAccessPage`), after the access's own paging and segmentation checks (29.4.1: an
 * APIC-access VM exit is fault-like and comes after the faults the access could cause), calls
 * - `apicAccessRead(ctx, offset, size, "data" | "fetch")`: an APIC-access VM exit (reason 44) or the value
 *   read from the same offset on the virtual-APIC page;
 * - `apicAccessWrite(ctx, offset, size, value)`: an APIC-access VM exit, or the write is done on the
 *   virtual-APIC page and the result says which APIC-write emulation follows. The core then calls
 *   `apicWriteEmulation(ctx, offset)` once the instruction (the "operation" of 29.4.3.2) has completed, and
 *   takes the trap-like VM exit it may return (43 TPR below threshold, 45 virtualized EOI, 56 APIC write
 *   with the page offset as qualification) with RIP already past the instruction. If the instruction faults
 *   after the write, no emulation happens.
 * Within one instruction the core passes `priorWrite` (offset and size of a write already virtualized by the
 * same operation): a read then exits, and so does a write with another offset or size (29.4.2, 29.4.3.1);
 * `duringEventDelivery` gives access type 3 in the qualification.
 *
 * Which accesses are virtualized, once "use TPR shadow" is 1 and the access is at most 32 bits, not an
 * instruction fetch and entirely within the low 4 bytes of a 16-byte-aligned slot:
 *   reads   APIC-register virtualization 0: offset 080H only;
 *           1: within ID, version, TPR, EOI, LDR, DFR, SVR, ISR0-7, TMR0-7, IRR0-7, ESR, ICR low/high,
 *              the six LVTs, initial count, divide configuration (not PPR, APR, RRD, current count);
 *   writes  register virtualization 0 and virtual-interrupt delivery 0: offset 080H only;
 *           register virtualization 0, delivery 1: offsets 080H, 0B0H, 300H;
 *           register virtualization 1: within ID, TPR, EOI, LDR, DFR, SVR, ESR, ICR low/high, the LVTs,
 *              initial count, divide configuration.
 * APIC-write emulation by page offset: 080H clears VTPR bytes 3:1, then TPR virtualization; 0B0H with
 * virtual-interrupt delivery clears VEOI, then EOI virtualization; 300H with delivery and a VICR_LO that is a
 * fixed, edge, self-shorthand IPI with reserved bits, delivery status and vector bits 7:4 not zero: self-IPI
 * virtualization; 310H (310H-313H) clears VICR_HI bytes 2:0 and nothing else; any other offset (including
 * 081H-083H, 0B1H-0B3H): an APIC-write VM exit. The VICR_LO rule and the 310H rule as Bochs vapic.cc has them.
 *
 * Leaves out: guest-physical accesses to the page without a linear address (29.4.6; access types 10 and 15
 * exist as constants for the core), physical accesses by the processor itself (29.4.6.2), large-page
 * translations of the page (29.4.5: the model treats every translation as a 4-KiB one), and accesses that
 * straddle the page (the core splits them).
 */
import { ApicReg } from "../lapic-registers.ts";
import { ExitReason } from "./exit-reasons.ts";
import {
  VAPIC_EOI,
  VAPIC_ICR_HI,
  VAPIC_ICR_LO,
  VAPIC_TPR,
  apicAccessAddress,
  apicRegisterVirtualization,
  readVapic32,
  readVapicBytes,
  readVtpr,
  useTprShadow,
  virtualInterruptDelivery,
  virtualizeApicAccesses,
  writeVapic32,
  writeVapicBytes,
  writeVeoi,
  writeVtpr,
  type ApicvContext,
} from "./virtual-apic-page.ts";
import {
  apicvExit,
  eoiVirtualization,
  selfIpiVirtualization,
  tprVirtualization,
  type ApicvExit,
  type ApicvOutcome,
} from "./virtual-interrupt-delivery.ts";

/** Bits 15:12 of the APIC-access exit qualification (Table 27-6). */
export const ApicAccessType = {
  /** Linear access for a data read during instruction execution. */
  LINEAR_READ: 0,
  /** Linear access for a data write during instruction execution. */
  LINEAR_WRITE: 1,
  /** Linear access for an instruction fetch. */
  LINEAR_FETCH: 2,
  /** Linear access (read or write) during event delivery. */
  LINEAR_EVENT_DELIVERY: 3,
  /** Guest-physical access during event delivery. */
  GUEST_PHYSICAL_EVENT_DELIVERY: 10,
  /** Guest-physical access for an instruction fetch or during instruction execution. */
  GUEST_PHYSICAL_INSTRUCTION: 15,
} as const;

/** The exit qualification of an APIC-access VM exit: page offset in bits 11:0, access type in 15:12. */
export function apicAccessQualification(offset: number, accessType: number): number {
  return ((offset & 0xfff) | ((accessType & 0xf) << 12)) >>> 0;
}

const APIC_ACCESS = ExitReason.APIC_ACCESS;
const APIC_WRITE = ExitReason.APIC_WRITE;
const T_READ = ApicAccessType.LINEAR_READ;
const T_WRITE = ApicAccessType.LINEAR_WRITE;
const T_FETCH = ApicAccessType.LINEAR_FETCH;
const T_EVENT = ApicAccessType.LINEAR_EVENT_DELIVERY;

const R_READ = 1;
const R_WRITE = 2;
/** Per 16-byte slot below 400H: whether APIC-register virtualization virtualizes reads / writes (29.4.2,
 * 29.4.3.1). */
const REGISTER_ACCESS = new Uint8Array(0x40);
function allow(offset: number, how: number): void {
  REGISTER_ACCESS[offset >>> 4] |= how;
}
allow(ApicReg.ID, R_READ | R_WRITE);
allow(ApicReg.VERSION, R_READ);
allow(ApicReg.TPR, R_READ | R_WRITE);
allow(ApicReg.EOI, R_READ | R_WRITE);
allow(ApicReg.LDR, R_READ | R_WRITE);
allow(ApicReg.DFR, R_READ | R_WRITE);
allow(ApicReg.SVR, R_READ | R_WRITE);
for (let i = 0; i < 8; i++) {
  allow(ApicReg.ISR0 + 16 * i, R_READ);
  allow(ApicReg.TMR0 + 16 * i, R_READ);
  allow(ApicReg.IRR0 + 16 * i, R_READ);
}
allow(ApicReg.ESR, R_READ | R_WRITE);
allow(ApicReg.ICR_LO, R_READ | R_WRITE);
allow(ApicReg.ICR_HI, R_READ | R_WRITE);
for (let i = 0; i < 6; i++) allow(ApicReg.LVT_TIMER + 16 * i, R_READ | R_WRITE);
allow(ApicReg.TIMER_INITIAL, R_READ | R_WRITE);
allow(ApicReg.TIMER_DCR, R_READ | R_WRITE);

/** Whether the register-virtualization lists allow this access (`how` = R_READ or R_WRITE). */
function registerListed(offset: number, how: number): boolean {
  return offset < 0x400 && (REGISTER_ACCESS[offset >>> 4] & how) !== 0;
}

/** Whether the host-physical address `pa` is on the APIC-access page and "virtualize APIC accesses" is 1. */
export function isApicAccessPage(ctx: ApicvContext, pa: number): boolean {
  return virtualizeApicAccesses(ctx) && Math.floor(pa / 4096) === Math.floor(apicAccessAddress(ctx) / 4096);
}

export interface ApicAccessOptions {
  /** The access is part of event delivery (Table 27-6 access type 3). */
  duringEventDelivery?: boolean;
  /** The same operation already virtualized a write to the APIC-access page, at this offset and size. */
  priorWrite?: { offset: number; size: number };
}

/** A virtualized read: the bytes from the virtual-APIC page, zero-extended. */
export interface ApicReadVirtualized {
  kind: "virtualized";
  value: number;
}

/** What APIC-write emulation will do for a virtualized write (decided by its offset and the controls; for
 * "icr-lo" whether it is a self-IPI or an APIC-write exit depends on VICR_LO at emulation time). */
export type ApicWriteEmulationKind = "tpr" | "eoi" | "icr-lo" | "icr-hi" | "apic-write";

/** A virtualized write: done on the virtual-APIC page; `apicWriteEmulation(ctx, offset)` is due after the
 * instruction completes. */
export interface ApicWriteVirtualized {
  kind: "virtualized";
  offset: number;
  emulation: ApicWriteEmulationKind;
}

/** The checks common to reads and writes (29.4.2, 29.4.3.1): true when the access must exit. */
function alwaysExits(ctx: ApicvContext, offset: number, size: number): boolean {
  if (!useTprShadow(ctx)) return true;
  if (size > 4 || size < 1) return true;
  // Entirely within the low 4 bytes of a naturally aligned 16-byte region.
  return (offset & 0xf) + size > 4;
}

/**
 * A read from the APIC-access page at page offset `offset` (0-FFFH) of `size` bytes (29.4.2).
 */
export function apicAccessRead(
  ctx: ApicvContext,
  offset: number,
  size: number,
  kind: "data" | "fetch",
  opts: ApicAccessOptions = {},
): ApicvExit | ApicReadVirtualized {
  const type = opts.duringEventDelivery ? T_EVENT : kind === "fetch" ? T_FETCH : T_READ;
  const exits =
    kind === "fetch" ||
    opts.priorWrite !== undefined ||
    alwaysExits(ctx, offset, size) ||
    (apicRegisterVirtualization(ctx) ? !registerListed(offset, R_READ) : offset !== VAPIC_TPR);
  if (exits) return apicvExit(APIC_ACCESS, apicAccessQualification(offset, type));
  return { kind: "virtualized", value: readVapicBytes(ctx, offset, size) };
}

/** Whether a write at `offset` is virtualized under the current controls (29.4.3.1), given it passed the
 * common checks. */
function writeVirtualized(ctx: ApicvContext, offset: number): boolean {
  if (apicRegisterVirtualization(ctx)) return registerListed(offset, R_WRITE);
  if (virtualInterruptDelivery(ctx)) return offset === VAPIC_TPR || offset === VAPIC_EOI || offset === VAPIC_ICR_LO;
  return offset === VAPIC_TPR;
}

/** Which APIC-write emulation a virtualized write at `offset` leads to (29.4.3.2). */
export function apicWriteEmulationKind(ctx: ApicvContext, offset: number): ApicWriteEmulationKind {
  if (offset === VAPIC_TPR) return "tpr";
  if ((offset & ~3) === VAPIC_ICR_HI) return "icr-hi";
  if (virtualInterruptDelivery(ctx)) {
    if (offset === VAPIC_EOI) return "eoi";
    if (offset === VAPIC_ICR_LO) return "icr-lo";
  }
  return "apic-write";
}

/**
 * A write of the low `size` bytes of `value` to the APIC-access page at page offset `offset` (29.4.3.1).
 */
export function apicAccessWrite(
  ctx: ApicvContext,
  offset: number,
  size: number,
  value: number,
  opts: ApicAccessOptions = {},
): ApicvExit | ApicWriteVirtualized {
  const prior = opts.priorWrite;
  const exits =
    (prior !== undefined && (prior.offset !== offset || prior.size !== size)) ||
    alwaysExits(ctx, offset, size) ||
    !writeVirtualized(ctx, offset);
  if (exits) {
    return apicvExit(APIC_ACCESS, apicAccessQualification(offset, opts.duringEventDelivery ? T_EVENT : T_WRITE));
  }
  writeVapicBytes(ctx, offset, size, value);
  return { kind: "virtualized", offset, emulation: apicWriteEmulationKind(ctx, offset) };
}

/**
 * Whether VICR_LO asks for a virtualizable self IPI (29.4.3.2): bits 31:20, 17:16, 15 (trigger), 13, 12
 * (delivery status) and 10:8 (delivery mode) zero, destination shorthand 01B (self), vector >= 16.
 */
export function isVirtualizableSelfIpi(vicrLo: number): boolean {
  return (vicrLo & 0xfff3b700) === 0 && ((vicrLo >>> 18) & 3) === 1 && (vicrLo & 0xf0) !== 0;
}

/**
 * APIC-write emulation (29.4.3.2) for a write virtualized at `offset`, after the instruction that made it
 * completes: the trap-like VM exit to take, or "continue" with the virtual interrupt now recognized.
 */
export function apicWriteEmulation(ctx: ApicvContext, offset: number): ApicvOutcome {
  switch (apicWriteEmulationKind(ctx, offset)) {
    case "tpr":
      writeVtpr(ctx, readVtpr(ctx) & 0xff);
      return tprVirtualization(ctx);
    case "eoi":
      writeVeoi(ctx, 0);
      return eoiVirtualization(ctx);
    case "icr-lo": {
      const vicr = readVapic32(ctx, VAPIC_ICR_LO);
      if (isVirtualizableSelfIpi(vicr)) return selfIpiVirtualization(ctx, vicr & 0xff);
      return apicvExit(APIC_WRITE, offset);
    }
    case "icr-hi":
      writeVapic32(ctx, VAPIC_ICR_HI, readVapic32(ctx, VAPIC_ICR_HI) & 0xff000000);
      return { kind: "continue", pending: null };
    case "apic-write":
      return apicvExit(APIC_WRITE, offset);
  }
}
