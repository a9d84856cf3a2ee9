/**
 * Posted-interrupt processing and posting.
 *
 * References (not our code):
 * - SDM Vol. 3C 29.6: the descriptor (PIR bits 255:0, ON bit 256); processing on the notification vector
 *   when "process posted interrupts" is 1: clear ON leaving the rest unmodified (step 3), OR PIR into VIRR
 *   and clear PIR (step 5), RVI <- max(RVI, highest PIR index), unchanged when PIR was empty (step 6),
 *   evaluate pending virtual interrupts (step 7, 29.2.1); another vector exits as usual (step 2);
 * - shared/reference/vmx.md §1c and kvm-unit-tests x86/vmx_tests.c vmx_posted_interrupts_test: the sender
 *   sets the PIR bit and ON (post_interrupt: lock bts vector, lock bts 256), then sends PI_VECTOR (255);
 *   for TPR classes 0-15 and vectors 33-255 the guest's ISR runs once iff class(vector) > class(TPR), and
 *   otherwise the vector waits in VIRR (the spinning guest sees its VIRR bit);
 * - KVM vmx_deliver_posted_interrupt: a notification is needed only when ON was clear.
 */
import { describe, expect, it } from "vitest";
import {
  PID_ON,
  PID_ON_OFFSET,
  isPostedInterruptNotification,
  notificationVector,
  postInterrupt,
  postedInterruptDescriptorAddress,
  processPostedInterrupts,
} from "../../../src/cpu/vmx/posted-interrupts.ts";
import {
  deliverVirtualInterrupt,
  pendingVirtualInterrupt,
  vmEntryVirtualInterrupts,
} from "../../../src/cpu/vmx/virtual-interrupt-delivery.ts";
import { apicAccessWrite, apicWriteEmulation } from "../../../src/cpu/vmx/apic-access.ts";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import {
  PIN_EXTERNAL_INTERRUPT_EXITING,
  PIN_PROCESS_POSTED_INTERRUPTS,
  PROC2_VIRTUAL_INTERRUPT_DELIVERY,
  PROC2_VIRTUALIZE_APIC_ACCESSES,
} from "../../../src/cpu/vmx/vmx-controls.ts";
import { PID_PA, makeFixture, type Setup } from "./apicv-harness.ts";

const PI_VECTOR = 255;
const POSTED: Setup = {
  pin: PIN_EXTERNAL_INTERRUPT_EXITING | PIN_PROCESS_POSTED_INTERRUPTS,
  proc2: PROC2_VIRTUAL_INTERRUPT_DELIVERY | PROC2_VIRTUALIZE_APIC_ACCESSES,
  pinv: PI_VECTOR,
};

describe("the descriptor and the notification vector (SDM 29.6)", () => {
  it("reads the descriptor address and the notification vector from the VMCS", () => {
    const f = makeFixture(POSTED);
    expect(postedInterruptDescriptorAddress(f.ctx)).toBe(PID_PA);
    expect(notificationVector(f.ctx)).toBe(PI_VECTOR);
  });

  it("only the notification vector, and only with 'process posted interrupts', is processed", () => {
    const f = makeFixture(POSTED);
    expect(isPostedInterruptNotification(f.ctx, PI_VECTOR)).toBe(true);
    expect(isPostedInterruptNotification(f.ctx, 0xf0)).toBe(false);
    const g = makeFixture({ ...POSTED, pin: PIN_EXTERNAL_INTERRUPT_EXITING });
    expect(isPostedInterruptNotification(g.ctx, PI_VECTOR)).toBe(false);
  });
});

describe("posting (kvm-unit-tests post_interrupt, KVM)", () => {
  it("sets the vector's PIR bit and ON; a notification only when ON was clear", () => {
    const f = makeFixture(POSTED);
    expect(postInterrupt(f.ram, PID_PA, 0x41)).toBe(true);
    expect(f.ram.peek(PID_PA + 8)).toBe(1 << 1); // vector 41H: dword 2, bit 1
    expect(f.ram.peek(PID_PA + 32)).toBe(1); // ON = bit 256
    expect(postInterrupt(f.ram, PID_PA, 0xff)).toBe(false);
    expect(f.ram.peek(PID_PA + 28)).toBe(0x80000000);
    expect(PID_ON_OFFSET).toBe(32);
    expect(PID_ON).toBe(1);
  });

  it("keeps the bits above ON (available to software)", () => {
    const f = makeFixture(POSTED);
    f.ram.poke(PID_PA + 32, 0xabcd0000);
    f.ram.poke(PID_PA + 60, 0x12345678);
    expect(postInterrupt(f.ram, PID_PA, 0x30)).toBe(true);
    expect(f.ram.peek(PID_PA + 32)).toBe(0xabcd0001);
    expect(f.ram.peek(PID_PA + 60)).toBe(0x12345678);
  });
});

describe("posted-interrupt processing (SDM 29.6 steps 3, 5, 6, 7)", () => {
  it("clears ON only, ORs PIR into VIRR, clears PIR, raises RVI to the highest PIR bit, evaluates", () => {
    const f = makeFixture({ ...POSTED, intStatus: 0x0033 });
    f.setVapic(0x200 + 0x10 * 1, 1 << 1); // VIRR already holds 21H
    postInterrupt(f.ram, PID_PA, 0x45);
    postInterrupt(f.ram, PID_PA, 0x9a);
    f.ram.poke(PID_PA + 32, f.ram.peek(PID_PA + 32) | 0xff00);
    expect(processPostedInterrupts(f.ctx)).toEqual({ kind: "continue", pending: 0x9a });
    expect(f.ram.peek(PID_PA + 32)).toBe(0xff00);
    for (let i = 0; i < 8; i++) expect(f.ram.peek(PID_PA + 4 * i)).toBe(0);
    expect(f.vectors(0x200)).toEqual([0x21, 0x45, 0x9a]);
    expect(f.rvi()).toBe(0x9a);
  });

  it("RVI is not lowered by a lower PIR vector, and unchanged when the PIR is empty", () => {
    const f = makeFixture({ ...POSTED, intStatus: 0x0080 });
    f.ram.poke(PID_PA + 32, 1);
    expect(processPostedInterrupts(f.ctx)).toEqual({ kind: "continue", pending: 0x80 });
    expect(f.rvi()).toBe(0x80);
    postInterrupt(f.ram, PID_PA, 0x40);
    processPostedInterrupts(f.ctx);
    expect(f.rvi()).toBe(0x80);
  });

  it("step 6 takes the highest PIR bit, not VIRR's (a VIRR vector above RVI stays below it)", () => {
    const f = makeFixture({ ...POSTED, intStatus: 0x0020 });
    f.setVapic(0x200 + 0x10 * 7, 1 << 31); // VIRR FFH, not reflected in RVI by the VMM
    postInterrupt(f.ram, PID_PA, 0x50);
    processPostedInterrupts(f.ctx);
    expect(f.rvi()).toBe(0x50);
  });

  it("the recognized vector is not delivered while VPPR holds it off (evaluation, 29.2.1)", () => {
    const f = makeFixture({ ...POSTED });
    f.setVapic(0x80, 0x60);
    vmEntryVirtualInterrupts(f.ctx);
    postInterrupt(f.ram, PID_PA, 0x65);
    expect(processPostedInterrupts(f.ctx)).toEqual({ kind: "continue", pending: null });
    postInterrupt(f.ram, PID_PA, 0x70);
    expect(processPostedInterrupts(f.ctx)).toEqual({ kind: "continue", pending: 0x70 });
  });
});

describe("kvm-unit-tests vmx_posted_interrupts_test", () => {
  it("TPR classes 0-15 x vectors 33-255: delivered once iff class(vector) > class(TPR), else left in VIRR", () => {
    const f = makeFixture(POSTED);
    const wrong: string[] = [];
    for (let cls = 0; cls < 16; cls++) {
      for (let vector = 33; vector < 256; vector++) {
        // test_basic_vid with VID_OP_SPIN: GUEST_INT_STATUS 0, VTPR = class << 4, VM entry.
        f.set(VmcsField.GUEST_INTERRUPT_STATUS, 0);
        f.setVapic(0x80, cls << 4);
        vmEntryVirtualInterrupts(f.ctx);
        // The other CPU posts the vector and sends the notification, which arrives in non-root operation.
        const notify = postInterrupt(f.ram, PID_PA, vector);
        if (!notify || !isPostedInterruptNotification(f.ctx, PI_VECTOR)) wrong.push(`${vector}: no notification`);
        processPostedInterrupts(f.ctx);
        // The guest spins with IF = 1: deliver what is recognized; the ISR counts and EOIs (xAPIC page).
        let isr = 0;
        for (let v = pendingVirtualInterrupt(f.ctx); v !== null; v = pendingVirtualInterrupt(f.ctx)) {
          if (deliverVirtualInterrupt(f.ctx) !== vector) wrong.push(`${vector}: delivered another vector`);
          isr++;
          const w = apicAccessWrite(f.ctx, 0xb0, 4, 0);
          if (w.kind !== "virtualized" || apicWriteEmulation(f.ctx, 0xb0).kind !== "continue") wrong.push("EOI exited");
        }
        const want = vector >> 4 > cls ? 1 : 0;
        const virrBit = (f.vapic(0x200 | ((vector & 0xe0) >> 1)) >>> (vector & 31)) & 1;
        if (isr !== want || virrBit !== 1 - want) wrong.push(`class ${cls} vector ${vector}: isr ${isr} virr ${virrBit}`);
        // The spinning guest clears the VIRR bit it saw (clear_virr_bit), as the test does.
        f.setVapic(0x200 | ((vector & 0xe0) >> 1), 0);
        if (f.ram.peek(PID_PA + 32) !== 0) wrong.push(`${vector}: ON left set`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
