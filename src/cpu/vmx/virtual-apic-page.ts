/**
 * The virtual-APIC page and the APIC-virtualization controls of the current VMCS (SDM Vol. 3C 29.1.1
 * "Virtualized APIC Registers", 24.6.8 "Controls for APIC Virtualization", 24.4.2 for the guest
 * interrupt-status field): where the page is, the registers the processor itself reads and writes there
 * (VTPR 080H, VPPR 0A0H, VEOI 0B0H, VISR 100H-170H, VIRR 200H-270H, VICR_LO 300H, VICR_HI 310H, and the
 * x2APIC self-IPI register 3F0H of 29.5), RVI/SVI in the VMCS, and the control bits as they apply.
 *
 * Every function here takes an ApicvContext: host-physical memory and the current VMCS. Register offsets
 * are the local APIC's own (lapic-registers.ts ApicReg, SDM Vol. 3A Table 10-1). VISR and VIRR are 256-bit
 * values kept in the low dword of eight 16-byte slots: bit x is bit (x & 1FH) of the dword at
 * base | ((x & E0H) >> 1) (29.1.1). Accesses go through PhysicalMemory32, so a byte or word of a register is
 * a read-modify-write of its aligned dword (the model runs one core at a time: nothing can come between).
 *
 * Secondary controls count only when "activate secondary controls" is 1 (24.6.2: otherwise the processor
 * acts as if they were all 0); kvm-unit-tests apic_reg_virt_test checks exactly that.
 *
 * Leaves out: the memory type of virtual-APIC accesses (IA32_VMX_BASIC[53:50]; callers with a cache model
 * charge them), and any check of the addresses (VM entry checks alignment and MAXPHYADDR, SDM 26.2.1.1).
 * The 64-bit address fields are combined as lo + hi * 2^32 (plain arithmetic, not bitwise), so a profile
 * with MAXPHYADDR above 32 still addresses the right page.
 */
import { ApicReg } from "../lapic-registers.ts";
import { readField, writeFieldAsProcessor, type PhysicalMemory32, type VmcsRegion } from "./vmcs.ts";
import { VmcsField } from "./vmcs-fields.ts";
import {
  PROC_ACTIVATE_SECONDARY_CONTROLS,
  PROC_INTERRUPT_WINDOW_EXITING,
  PROC_USE_TPR_SHADOW,
  PROC2_APIC_REGISTER_VIRTUALIZATION,
  PROC2_VIRTUAL_INTERRUPT_DELIVERY,
  PROC2_VIRTUALIZE_APIC_ACCESSES,
  PROC2_VIRTUALIZE_X2APIC_MODE,
  PIN_PROCESS_POSTED_INTERRUPTS,
} from "./vmx-controls.ts";

/** What APIC virtualization needs: host-physical memory and the current VMCS. */
export interface ApicvContext {
  mem: PhysicalMemory32;
  vmcs: VmcsRegion;
}

// ---- Register offsets on the virtual-APIC page (29.1.1; x2APIC self IPI: 29.5) ----
export const VAPIC_ID: number = ApicReg.ID;
export const VAPIC_VERSION: number = ApicReg.VERSION;
export const VAPIC_TPR: number = ApicReg.TPR;
export const VAPIC_PPR: number = ApicReg.PPR;
export const VAPIC_EOI: number = ApicReg.EOI;
export const VAPIC_ISR: number = ApicReg.ISR0;
export const VAPIC_TMR: number = ApicReg.TMR0;
export const VAPIC_IRR: number = ApicReg.IRR0;
export const VAPIC_ICR_LO: number = ApicReg.ICR_LO;
export const VAPIC_ICR_HI: number = ApicReg.ICR_HI;
export const VAPIC_SELF_IPI: number = ApicReg.SELF_IPI;

const F_PIN = VmcsField.PIN_BASED_VM_EXECUTION_CONTROLS;
const F_PROC = VmcsField.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS;
const F_PROC2 = VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS;
const F_VAPIC = VmcsField.VIRTUAL_APIC_ADDRESS;
const F_VAPIC_HIGH = VmcsField.VIRTUAL_APIC_ADDRESS_HIGH;
const F_APIC_ACCESS = VmcsField.APIC_ACCESS_ADDRESS;
const F_APIC_ACCESS_HIGH = VmcsField.APIC_ACCESS_ADDRESS_HIGH;
const F_INT_STATUS = VmcsField.GUEST_INTERRUPT_STATUS;
const F_TPR_THRESHOLD = VmcsField.TPR_THRESHOLD;
const TWO_32 = 0x100000000;

// ---- Controls (24.6.1, 24.6.2) ----

function field(vmcs: VmcsRegion, encoding: number): number {
  return readField(vmcs, encoding) ?? 0;
}

/** The primary processor-based controls. */
export function primaryControls(ctx: ApicvContext): number {
  return field(ctx.vmcs, F_PROC);
}

/** The secondary processor-based controls as they apply: 0 unless "activate secondary controls" is 1. */
export function secondaryControls(ctx: ApicvContext): number {
  return (field(ctx.vmcs, F_PROC) & PROC_ACTIVATE_SECONDARY_CONTROLS) !== 0 ? field(ctx.vmcs, F_PROC2) : 0;
}

export function useTprShadow(ctx: ApicvContext): boolean {
  return (field(ctx.vmcs, F_PROC) & PROC_USE_TPR_SHADOW) !== 0;
}

export function interruptWindowExiting(ctx: ApicvContext): boolean {
  return (field(ctx.vmcs, F_PROC) & PROC_INTERRUPT_WINDOW_EXITING) !== 0;
}

export function virtualizeApicAccesses(ctx: ApicvContext): boolean {
  return (secondaryControls(ctx) & PROC2_VIRTUALIZE_APIC_ACCESSES) !== 0;
}

export function virtualizeX2apicMode(ctx: ApicvContext): boolean {
  return (secondaryControls(ctx) & PROC2_VIRTUALIZE_X2APIC_MODE) !== 0;
}

export function apicRegisterVirtualization(ctx: ApicvContext): boolean {
  return (secondaryControls(ctx) & PROC2_APIC_REGISTER_VIRTUALIZATION) !== 0;
}

export function virtualInterruptDelivery(ctx: ApicvContext): boolean {
  return (secondaryControls(ctx) & PROC2_VIRTUAL_INTERRUPT_DELIVERY) !== 0;
}

/** The pin-based "process posted interrupts" control (24.6.1). */
export function postedInterruptsEnabled(ctx: ApicvContext): boolean {
  return (field(ctx.vmcs, F_PIN) & PIN_PROCESS_POSTED_INTERRUPTS) !== 0;
}

/** Bits 3:0 of the TPR-threshold field (24.6.8; bits 31:4 are checked at VM entry). */
export function tprThreshold(ctx: ApicvContext): number {
  return field(ctx.vmcs, F_TPR_THRESHOLD) & 0xf;
}

// ---- Addresses (24.6.8) ----

/** Host-physical address of the virtual-APIC page. */
export function virtualApicAddress(ctx: ApicvContext): number {
  return field(ctx.vmcs, F_VAPIC) + field(ctx.vmcs, F_VAPIC_HIGH) * TWO_32;
}

/** Host-physical address of the APIC-access page. */
export function apicAccessAddress(ctx: ApicvContext): number {
  return field(ctx.vmcs, F_APIC_ACCESS) + field(ctx.vmcs, F_APIC_ACCESS_HIGH) * TWO_32;
}

// ---- Guest interrupt status: RVI bits 7:0, SVI bits 15:8 (24.4.2) ----

export function readRvi(ctx: ApicvContext): number {
  return field(ctx.vmcs, F_INT_STATUS) & 0xff;
}

export function readSvi(ctx: ApicvContext): number {
  return (field(ctx.vmcs, F_INT_STATUS) >>> 8) & 0xff;
}

export function writeRvi(ctx: ApicvContext, rvi: number): void {
  writeFieldAsProcessor(ctx.vmcs, F_INT_STATUS, (field(ctx.vmcs, F_INT_STATUS) & 0xff00) | (rvi & 0xff));
}

export function writeSvi(ctx: ApicvContext, svi: number): void {
  writeFieldAsProcessor(ctx.vmcs, F_INT_STATUS, ((svi & 0xff) << 8) | (field(ctx.vmcs, F_INT_STATUS) & 0xff));
}

// ---- Dword, sub-dword and 64-bit accesses to the page ----

/** The 32-bit field at `offset` (4-byte aligned) on the virtual-APIC page. */
export function readVapic32(ctx: ApicvContext, offset: number): number {
  return ctx.mem.read32(virtualApicAddress(ctx) + offset) >>> 0;
}

export function writeVapic32(ctx: ApicvContext, offset: number, value: number): void {
  ctx.mem.write32(virtualApicAddress(ctx) + offset, value >>> 0);
}

/** `size` bytes (1-4) at `offset`, which must not cross a dword: zero-extended, little-endian. */
export function readVapicBytes(ctx: ApicvContext, offset: number, size: number): number {
  const shift = (offset & 3) * 8;
  const dword = readVapic32(ctx, offset & ~3);
  return size >= 4 ? dword : (dword >>> shift) & (2 ** (size * 8) - 1);
}

/** Writes the low `size` bytes (1-4) of `value` at `offset` (not crossing a dword), keeping the others. */
export function writeVapicBytes(ctx: ApicvContext, offset: number, size: number, value: number): void {
  if (size >= 4) {
    writeVapic32(ctx, offset & ~3, value);
    return;
  }
  const shift = (offset & 3) * 8;
  const mask = ((2 ** (size * 8) - 1) * 2 ** shift) >>> 0;
  const old = readVapic32(ctx, offset & ~3);
  writeVapic32(ctx, offset & ~3, ((old & ~mask) | ((value * 2 ** shift) & mask)) >>> 0);
}

/** The 8 bytes at `offset` (8-byte aligned) as [bits 31:0, bits 63:32] (the x2APIC MSR view, 29.5). */
export function readVapic64(ctx: ApicvContext, offset: number): [number, number] {
  return [readVapic32(ctx, offset), readVapic32(ctx, offset + 4)];
}

export function writeVapic64(ctx: ApicvContext, offset: number, lo: number, hi: number): void {
  writeVapic32(ctx, offset, lo);
  writeVapic32(ctx, offset + 4, hi);
}

// ---- The named registers ----

export function readVtpr(ctx: ApicvContext): number {
  return readVapic32(ctx, VAPIC_TPR);
}

export function writeVtpr(ctx: ApicvContext, value: number): void {
  writeVapic32(ctx, VAPIC_TPR, value);
}

export function readVppr(ctx: ApicvContext): number {
  return readVapic32(ctx, VAPIC_PPR);
}

export function writeVppr(ctx: ApicvContext, value: number): void {
  writeVapic32(ctx, VAPIC_PPR, value);
}

export function writeVeoi(ctx: ApicvContext, value: number): void {
  writeVapic32(ctx, VAPIC_EOI, value);
}

// ---- VISR / VIRR as 256-bit vector sets (29.1.1) ----

/** Offset on the page of the dword holding bit `vector` of the 256-bit register at `base` (100H or 200H). */
export function vectorDwordOffset(base: number, vector: number): number {
  return base | ((vector & 0xe0) >>> 1);
}

export function testVector(ctx: ApicvContext, base: number, vector: number): boolean {
  return ((readVapic32(ctx, vectorDwordOffset(base, vector)) >>> (vector & 31)) & 1) !== 0;
}

export function setVector(ctx: ApicvContext, base: number, vector: number): void {
  const off = vectorDwordOffset(base, vector);
  writeVapic32(ctx, off, readVapic32(ctx, off) | (1 << (vector & 31)));
}

export function clearVector(ctx: ApicvContext, base: number, vector: number): void {
  const off = vectorDwordOffset(base, vector);
  writeVapic32(ctx, off, readVapic32(ctx, off) & ~(1 << (vector & 31)));
}

/** The highest vector set in the 256-bit register at `base`, or -1 when none is. */
export function highestVector(ctx: ApicvContext, base: number): number {
  for (let i = 7; i >= 0; i--) {
    const w = readVapic32(ctx, base + i * 16);
    if (w !== 0) return (i << 5) | (31 - Math.clz32(w));
  }
  return -1;
}
