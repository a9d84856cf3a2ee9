/**
 * Posted-interrupt processing (SDM Vol. 3C 29.6) and the posting side that feeds it.
 *
 * The posted-interrupt descriptor (29.6, Table 29-1) is 64 bytes at the host-physical address in the VMCS
 * field POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: bits 255:0 the posted-interrupt requests (PIR, one bit per
 * vector, dword i holding vectors 32i..32i+31), bit 256 the outstanding-notification bit (ON); bits 511:257
 * are available to software (VT-d puts SN, NV and NDST there; the processor ignores them).
 *
 * Receiving. When an external interrupt arrives in VMX non-root operation with "external-interrupt exiting"
 * and "process posted interrupts" both 1, the core:
 *   1. acknowledges the local APIC, which gives the physical vector;
 *   2. if it is not the notification vector (`isPostedInterruptNotification`), takes the ordinary
 *      external-interrupt VM exit (reason 1, the vector in the exit interruption information);
 *   then `processPostedInterrupts(ctx)` does step 3 (clear ON), step 5 (OR the PIR into VIRR and clear the
 *   PIR), step 6 (RVI <- max(RVI, highest PIR bit) when a PIR bit was set) and step 7 (evaluate pending
 *   virtual interrupts, 29.2.1). Step 4, the write of 0 to the local APIC's EOI register that dismisses the
 *   notification vector, is the CALLER's: this module has no local APIC. The virtual interrupt itself is
 *   then delivered at an instruction boundary (virtual-interrupt-delivery.ts), without a VM exit.
 * Step 6 follows the SDM (the highest PIR bit); Bochs vapic.cc uses the highest VIRR bit after the OR, which
 * differs only when VIRR held a vector above RVI beforehand.
 *
 * Posting. The SDM does not define the sender; `postInterrupt` is the protocol of kvm-unit-tests
 * post_interrupt and KVM's vmx_deliver_posted_interrupt: set the vector's PIR bit, then set ON; a
 * notification (an IPI with the notification vector to the target) is needed only if ON was 0 (else one is
 * already on its way and the processing it triggers will pick this vector up).
 *
 * Atomicity: 29.6 requires the ON clear and the PIR read-and-clear to be atomic against other agents; the
 * model runs one agent at a time, so plain read-modify-writes are atomic here.
 *
 * Leaves out: VT-d's suppress-notification bit and its NV/NDST fields (interrupt remapping is the
 * platform's business), and the descriptor's memory type.
 */
import { readField, type PhysicalMemory32 } from "./vmcs.ts";
import { VmcsField } from "./vmcs-fields.ts";
import {
  VAPIC_IRR,
  postedInterruptsEnabled,
  readRvi,
  readVapic32,
  writeRvi,
  writeVapic32,
  type ApicvContext,
} from "./virtual-apic-page.ts";
import { pendingVirtualInterrupt, type ApicvContinue } from "./virtual-interrupt-delivery.ts";

/** Size and alignment of the descriptor (VM entry checks bits 5:0 of its address, SDM 26.2.1.1). */
export const PID_BYTES = 64;
/** Byte offset of the dword holding ON (bit 256 of the descriptor). */
export const PID_ON_OFFSET = 32;
/** ON within that dword. */
export const PID_ON = 1;

const F_PINV = VmcsField.POSTED_INTERRUPT_NOTIFICATION_VECTOR;
const F_PID = VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS;
const F_PID_HIGH = VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS_HIGH;
const TWO_32 = 0x100000000;

/** Host-physical address of the posted-interrupt descriptor. */
export function postedInterruptDescriptorAddress(ctx: ApicvContext): number {
  return (readField(ctx.vmcs, F_PID) ?? 0) + (readField(ctx.vmcs, F_PID_HIGH) ?? 0) * TWO_32;
}

/** The posted-interrupt notification vector (the VMCS field's low byte; VM entry checks bits 15:8). */
export function notificationVector(ctx: ApicvContext): number {
  return (readField(ctx.vmcs, F_PINV) ?? 0) & 0xff;
}

/** Step 2 of 29.6: "process posted interrupts" is 1 and the acknowledged vector is the notification vector. */
export function isPostedInterruptNotification(ctx: ApicvContext, physicalVector: number): boolean {
  return postedInterruptsEnabled(ctx) && (physicalVector & 0xff) === notificationVector(ctx);
}

/**
 * Steps 3, 5, 6 and 7 of posted-interrupt processing (29.6); the caller has acknowledged the local APIC
 * (step 1), checked the vector (step 2) and does the local APIC EOI (step 4). Returns the evaluation.
 */
export function processPostedInterrupts(ctx: ApicvContext): ApicvContinue {
  const mem = ctx.mem;
  const pid = postedInterruptDescriptorAddress(ctx);
  // Step 3: clear ON, leaving the rest of the descriptor as it is.
  mem.write32(pid + PID_ON_OFFSET, (mem.read32(pid + PID_ON_OFFSET) & ~PID_ON) >>> 0);
  // Step 5: VIRR |= PIR; PIR <- 0.
  let highest = -1;
  for (let i = 0; i < 8; i++) {
    const pir = mem.read32(pid + 4 * i) >>> 0;
    if (pir === 0) continue;
    mem.write32(pid + 4 * i, 0);
    const off = VAPIC_IRR + 16 * i;
    writeVapic32(ctx, off, readVapic32(ctx, off) | pir);
    highest = (i << 5) | (31 - Math.clz32(pir));
  }
  // Step 6: RVI <- max(RVI, highest PIR bit), unchanged when the PIR was empty.
  if (highest > readRvi(ctx)) writeRvi(ctx, highest);
  // Step 7.
  return { kind: "continue", pending: pendingVirtualInterrupt(ctx) };
}

/**
 * Posts `vector` in the descriptor at `descPa`: sets its PIR bit, then ON. Returns whether the sender must
 * send the notification vector to the target (ON was 0).
 */
export function postInterrupt(mem: PhysicalMemory32, descPa: number, vector: number): boolean {
  const v = vector & 0xff;
  const pirPa = descPa + 4 * (v >>> 5);
  mem.write32(pirPa, (mem.read32(pirPa) | (1 << (v & 31))) >>> 0);
  const on = mem.read32(descPa + PID_ON_OFFSET) >>> 0;
  if ((on & PID_ON) !== 0) return false;
  mem.write32(descPa + PID_ON_OFFSET, (on | PID_ON) >>> 0);
  return true;
}
