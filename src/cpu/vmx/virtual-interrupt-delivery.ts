/**
 * The virtual-interrupt state machine of APIC virtualization (SDM Vol. 3C 29.1.2 "TPR Virtualization",
 * 29.1.3 "PPR Virtualization", 29.1.4 "EOI Virtualization", 29.1.5 "Self-IPI Virtualization", 29.2.1
 * "Evaluation of Pending Virtual Interrupts", 29.2.2 "Virtual-Interrupt Delivery"), each operation written
 * after the SDM's pseudo-code over the virtual-APIC page (VTPR, VPPR, VISR, VIRR) and the guest
 * interrupt-status field (RVI, SVI) of the current VMCS.
 *
 * Who calls what (the core, which owns the instruction boundary and the guest IDT):
 * - VM entry with "virtual-interrupt delivery" = 1: `vmEntryVirtualInterrupts` (PPR virtualization, then
 *   evaluation; the VM-entry step of SDM 26.3 that follows loading the guest interrupt status);
 * - each instruction boundary in VMX non-root operation: `pendingVirtualInterrupt`; when it gives a vector,
 *   RFLAGS.IF = 1 and there is no blocking by STI or MOV SS (29.2.2), `deliverVirtualInterrupt`, and the
 *   core delivers the vector it returns through the guest IDT as an external interrupt (this also wakes the
 *   guest from HLT, 29.2.2; kvm-unit-tests vmx_hlt_with_rvi_test);
 * - TPR/EOI/self-IPI virtualization come from APIC-write emulation (apic-access.ts) and the x2APIC MSR
 *   virtualization (apic-msr-virtualization.ts), or posted-interrupt processing (posted-interrupts.ts).
 * An operation returns an ApicvOutcome: a trap-like VM exit the core takes after the instruction that
 * caused it completes (reason 43 TPR below threshold with qualification 0; reason 45 virtualized EOI with
 * the vector as qualification), or "continue" with the vector evaluation now recognizes, if any.
 *
 * Recognition (29.2.1). The SDM evaluates at VM entry and after TPR, EOI and self-IPI virtualization and
 * posted-interrupt processing, and stops recognizing at delivery. Here `pendingVirtualInterrupt` evaluates
 * afresh whenever it is called. The two agree because RVI and VPPR change only through those operations in
 * non-root operation and "interrupt-window exiting" cannot change there; they can differ only if guest
 * software writes VPPR on the virtual-APIC page through some other mapping of it, or the VMM leaves VIRR
 * holding a vector above RVI (after a delivery RVI becomes that vector, and it is recognized at once here
 * instead of at the next evaluation).
 *
 * Leaves out: MOV to/from CR8 (IA-32 has no CR8, 29.3), user interrupts (UINTR) and the priority of
 * virtual-interrupt delivery against other events (the core's ordering, SDM 6.9 and 29.2.2).
 */
import {
  VAPIC_IRR,
  VAPIC_ISR,
  clearVector,
  highestVector,
  interruptWindowExiting,
  readRvi,
  readSvi,
  readVppr,
  readVtpr,
  setVector,
  tprThreshold,
  virtualInterruptDelivery,
  writeRvi,
  writeSvi,
  writeVppr,
  type ApicvContext,
} from "./virtual-apic-page.ts";
import { readField } from "./vmcs.ts";
import { VmcsField } from "./vmcs-fields.ts";
import { ExitReason } from "./exit-reasons.ts";

/** A VM exit caused by APIC virtualization: basic exit reason and exit qualification. */
export interface ApicvExit {
  kind: "exit";
  reason: number;
  qualification: number;
}

/** No VM exit. `pending` is what the evaluation this step ran recognizes (29.2.1): a vector, or null when
 * nothing is recognized or the step runs no evaluation (TPR virtualization without virtual-interrupt
 * delivery, the VICR_HI write). The core's check at the instruction boundary is the authority. */
export interface ApicvContinue {
  kind: "continue";
  pending: number | null;
}

export type ApicvOutcome = ApicvExit | ApicvContinue;

const TPR_BELOW_THRESHOLD = ExitReason.TPR_BELOW_THRESHOLD;
const VIRTUALIZED_EOI = ExitReason.VIRTUALIZED_EOI;
const EOI_EXIT_BITMAP_0 = VmcsField.EOI_EXIT_BITMAP_0;

export function apicvExit(reason: number, qualification: number): ApicvExit {
  return { kind: "exit", reason, qualification };
}

function continueWith(pending: number | null): ApicvContinue {
  return { kind: "continue", pending };
}

/**
 * PPR virtualization (29.1.3): VPPR <- VTPR & FFH if VTPR[7:4] >= SVI[7:4], else SVI & F0H (the whole
 * 32-bit field is written). Returns the new VPPR.
 */
export function pprVirtualization(ctx: ApicvContext): number {
  const vtpr = readVtpr(ctx) & 0xff;
  const svi = readSvi(ctx);
  const vppr = vtpr >>> 4 >= svi >>> 4 ? vtpr : svi & 0xf0;
  writeVppr(ctx, vppr);
  return vppr;
}

/**
 * Evaluation of pending virtual interrupts (29.2.1): with "virtual-interrupt delivery" = 1, a virtual
 * interrupt is recognized when "interrupt-window exiting" is 0 and RVI[7:4] > VPPR[7:4]. Returns RVI then,
 * else null. Reads only (see the header on recognition).
 */
export function pendingVirtualInterrupt(ctx: ApicvContext): number | null {
  if (!virtualInterruptDelivery(ctx) || interruptWindowExiting(ctx)) return null;
  const rvi = readRvi(ctx);
  return rvi >>> 4 > (readVppr(ctx) & 0xff) >>> 4 ? rvi : null;
}

/** VM entry with "virtual-interrupt delivery" = 1: PPR virtualization, then evaluation. Null otherwise. */
export function vmEntryVirtualInterrupts(ctx: ApicvContext): number | null {
  if (!virtualInterruptDelivery(ctx)) return null;
  pprVirtualization(ctx);
  return pendingVirtualInterrupt(ctx);
}

/**
 * TPR virtualization (29.1.2): without virtual-interrupt delivery, a TPR-below-threshold VM exit (reason
 * 43, qualification 0) when VTPR[7:4] < TPR threshold[3:0]; with it, PPR virtualization and evaluation.
 */
export function tprVirtualization(ctx: ApicvContext): ApicvOutcome {
  if (!virtualInterruptDelivery(ctx)) {
    const below = (readVtpr(ctx) & 0xff) >>> 4 < tprThreshold(ctx);
    return below ? apicvExit(TPR_BELOW_THRESHOLD, 0) : continueWith(null);
  }
  pprVirtualization(ctx);
  return continueWith(pendingVirtualInterrupt(ctx));
}

/** Bit `vector` of the 256-bit EOI-exit bitmap (24.6.8: bitmap n holds vectors 64n..64n+63). */
export function eoiExitBitmapBit(ctx: ApicvContext, vector: number): boolean {
  const v = vector & 0xff;
  const encoding = EOI_EXIT_BITMAP_0 + 2 * (v >>> 6) + ((v & 32) !== 0 ? 1 : 0);
  return (((readField(ctx.vmcs, encoding) ?? 0) >>> (v & 31)) & 1) !== 0;
}

/**
 * EOI virtualization (29.1.4), performed only with "virtual-interrupt delivery" = 1 (callers check):
 * Vector <- SVI; VISR[Vector] <- 0; SVI <- highest VISR bit or 0; PPR virtualization; then an EOI-induced
 * VM exit (reason 45, qualification = Vector) if EOI_exit_bitmap[Vector] = 1, else evaluation.
 */
export function eoiVirtualization(ctx: ApicvContext): ApicvOutcome {
  const vector = readSvi(ctx);
  clearVector(ctx, VAPIC_ISR, vector);
  const next = highestVector(ctx, VAPIC_ISR);
  writeSvi(ctx, next < 0 ? 0 : next);
  pprVirtualization(ctx);
  if (eoiExitBitmapBit(ctx, vector)) return apicvExit(VIRTUALIZED_EOI, vector);
  return continueWith(pendingVirtualInterrupt(ctx));
}

/** Self-IPI virtualization (29.1.5): VIRR[Vector] <- 1; RVI <- max(RVI, Vector); evaluation. */
export function selfIpiVirtualization(ctx: ApicvContext, vector: number): ApicvOutcome {
  const v = vector & 0xff;
  setVector(ctx, VAPIC_IRR, v);
  if (v > readRvi(ctx)) writeRvi(ctx, v);
  return continueWith(pendingVirtualInterrupt(ctx));
}

/**
 * Virtual-interrupt delivery (29.2.2): Vector <- RVI; VISR[Vector] <- 1; SVI <- Vector;
 * VPPR <- Vector & F0H; VIRR[Vector] <- 0; RVI <- highest VIRR bit or 0. Returns Vector, which the core
 * delivers through the guest IDT. Call only when `pendingVirtualInterrupt` gave a vector and the guest is
 * interruptible.
 */
export function deliverVirtualInterrupt(ctx: ApicvContext): number {
  const vector = readRvi(ctx);
  setVector(ctx, VAPIC_ISR, vector);
  writeSvi(ctx, vector);
  writeVppr(ctx, vector & 0xf0);
  clearVector(ctx, VAPIC_IRR, vector);
  const next = highestVector(ctx, VAPIC_IRR);
  writeRvi(ctx, next < 0 ? 0 : next);
  return vector;
}
