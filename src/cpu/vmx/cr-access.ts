/**
 * Control-register accesses in VMX non-root operation: which ones exit (SDM Vol. 3C 25.1.3 "Instructions
 * That Cause VM Exits Conditionally": CLTS, LMSW, MOV from CR3, MOV to CR0/CR3/CR4) and what the ones that
 * do not exit read and write (25.3 "Changes to Instruction Behavior in VMX Non-Root Operation": CLTS,
 * LMSW, MOV from CR0/CR4, MOV to CR0/CR4, SMSW), with the CR0/CR4 guest/host masks and read shadows
 * (24.6.6) and the CR3-target controls (24.6.7).
 *
 * Rules, per register bit b set in the guest/host mask ("owned by the host"):
 * - MOV to CR0/CR4 exits unless the source matches the read shadow in every masked bit. When it does not
 *   exit, masked bits of the real register keep their value and the others take the source's.
 * - MOV from CR0/CR4 (and SMSW, which reads CR0) returns the read shadow in masked bits, the real register
 *   elsewhere.
 * - CLTS exits if CR0.TS (bit 3) is set in both the mask and the shadow; with TS masked and the shadow's TS
 *   clear it completes without changing CR0.TS; with TS not masked it clears CR0.TS as usual.
 * - LMSW writes only CR0[3:0] and never clears PE, so it exits if (a) PE is masked, set in the source and
 *   clear in the shadow, or (b) a masked bit among 3:1 differs between the source and the shadow. When it
 *   does not exit, masked bits of CR0[3:0] keep their value, the others take the source's, except that a set
 *   PE stays set (an attempt to clear it is ignored without fault).
 * - MOV to CR3 exits when "CR3-load exiting" is 1, unless the source equals one of the first n CR3-target
 *   values, n being the CR3-target count (count 0: every MOV to CR3 exits). VM entry fails with a count
 *   above 4 (26.2.1.1), so at most 4 values are compared.
 * - MOV from CR3 exits when "CR3-store exiting" is 1.
 *
 * The values computed here are what the instruction would load; the #GP checks of a load that does not
 * exit (CR0/CR4 fixed bits in VMX operation, 23.8, and the ordinary checks such as PG without PE) are the
 * core's, applied to the result. The exit qualification of an access that exits is built by
 * exit-qualification.ts.
 *
 * Leaves out: MOV to/from CR8 (64-bit mode only; the model's guests are 32-bit) and the TPR-shadow
 * behaviour that goes with it, and the EPT interpretation of the CR3 value (guest-physical, 25.3).
 */
import { PROC_CR3_LOAD_EXITING, PROC_CR3_STORE_EXITING } from "./vmx-controls.ts";

// CR0 bits used here (SDM Vol. 3A 2.5); local constants, not the core's const enum (see the common notes).
const CR0_PE = 1 << 0;
const CR0_TS = 1 << 3;
/** The CR0 bits LMSW can write: PE, MP, EM, TS. */
const LMSW_BITS = 0xf;

/** Whether MOV to CR0 or CR4 with `value` exits, given that register's guest/host mask and read shadow. */
export function crWriteExits(mask: number, shadow: number, value: number): boolean {
  return ((value ^ shadow) & mask) !== 0;
}

/** The CR0 or CR4 value a MOV to CR that does not exit loads: masked bits keep `current`'s value. */
export function crAfterWrite(current: number, mask: number, value: number): number {
  return ((current & mask) | (value & ~mask)) >>> 0;
}

/** What MOV from CR0/CR4 (and SMSW, for CR0) returns: the read shadow in masked bits, `real` elsewhere. */
export function crReadValue(real: number, mask: number, shadow: number): number {
  return ((real & ~mask) | (shadow & mask)) >>> 0;
}

/** Whether CLTS exits: CR0.TS set in both the CR0 guest/host mask and the CR0 read shadow. */
export function cltsExits(cr0Mask: number, cr0Shadow: number): boolean {
  return (cr0Mask & cr0Shadow & CR0_TS) !== 0;
}

/** CR0 after a CLTS that does not exit: TS cleared unless TS is masked (then CR0 is unchanged). */
export function cr0AfterClts(cr0: number, cr0Mask: number): number {
  return ((cr0Mask & CR0_TS) !== 0 ? cr0 : cr0 & ~CR0_TS) >>> 0;
}

/** Whether LMSW with source operand `source` (16 bits; only bits 3:0 count) exits. */
export function lmswExits(cr0Mask: number, cr0Shadow: number, source: number): boolean {
  const m = cr0Mask & LMSW_BITS;
  if ((m & source & CR0_PE) !== 0 && (cr0Shadow & CR0_PE) === 0) return true;
  return ((source ^ cr0Shadow) & m & 0xe) !== 0;
}

/** CR0 after an LMSW that does not exit: bits 3:0 not masked take the source's (a set PE stays set); masked
 * bits and bits 31:4 keep their value. */
export function cr0AfterLmsw(cr0: number, cr0Mask: number, source: number): number {
  const writable = ~cr0Mask & LMSW_BITS;
  return ((cr0 & ~writable) | (source & writable) | (cr0 & writable & CR0_PE)) >>> 0;
}

/**
 * Whether MOV to CR3 with `value` exits: "CR3-load exiting" set and `value` none of the first `targetCount`
 * CR3-target values (`targets` holds CR3-target values 0-3, as 32-bit numbers).
 */
export function movToCr3Exits(
  procControls: number,
  targetCount: number,
  targets: ArrayLike<number>,
  value: number,
): boolean {
  if ((procControls & PROC_CR3_LOAD_EXITING) === 0) return false;
  const n = Math.min(targetCount >>> 0, 4, targets.length);
  const v = value >>> 0;
  for (let k = 0; k < n; k++) if (targets[k] >>> 0 === v) return false;
  return true;
}

/** Whether MOV from CR3 exits ("CR3-store exiting"). */
export function movFromCr3Exits(procControls: number): boolean {
  return (procControls & PROC_CR3_STORE_EXITING) !== 0;
}
