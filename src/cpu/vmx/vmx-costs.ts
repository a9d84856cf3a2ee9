/**
 * The VT-x cost figures of the CPU profiles (CpuProfile.vmx, profile.ts VmxCosts), per generation.
 *
 * Round trip. shared/reference/vmx.md 1a gives, per microarchitecture, the TSC cycles of one iteration of
 * "host VMRESUME -> guest CPUID -> VM exit -> minimal host stub" (the vmlatency loop). The model charges
 * that iteration as vmExitCycles + vmEntryCycles + the stub's own instructions (a decrement, a branch not
 * taken, and VMRESUME's retirement: 3 cycles) + the memory traffic of the transition (the VMCS region's guest- and host-state
 * lines; warm in the L1 in that loop, so nothing extra) + the TLB refills after the flushes (see
 * vmxCostsFor). The fixed part is therefore the published best case minus those, split between exit and entry. The split itself is an estimate: no public
 * measurement separates the two halves; 55 % exit / 45 % entry follows the common observation that the
 * exit (which saves more state and records the exit information) is the slower half.
 *
 * The VMX instructions (VMREAD, VMWRITE, VMPTRLD, ...) have no published per-generation latencies in the
 * references; the values are estimates that keep their order of magnitude (a VMREAD is tens of cycles,
 * a VMPTRLD of another VMCS hundreds, VMXON about a thousand) and shrink with the generation as the round
 * trip does. Each profile cites these as [estimate].
 */
import type { VmxCosts } from "../profile.ts";

/** The host stub of the vmlatency loop in the model's cost table: DEC, a JZ not taken, and VMRESUME's own
 * class cost ("vmx": 1 cycle of retirement; the entry is vmEntryCycles). */
export const STUB_CYCLES = 3;

/** Share of the fixed round-trip cost charged at the VM exit (the rest at VM entry). */
export const EXIT_SHARE = 0.55;

/** VmxCosts whose exit + entry reproduce a published round trip of `roundTripCycles`, with per-instruction
 * costs scaled by `instructionScale` from the Skylake-era estimates (1.0). `refillCycles` is what the model
 * charges for the TLB refills of one round trip: the vmlatency hosts did not use VPID, so every entry and
 * exit flushed the TLB and the published figure includes the two page walks that follow (the guest's code
 * page after the entry, the host's after the exit): 2 x the profile's pageWalkCycles (the walks' cache
 * accesses hit in the L1 in that loop). */
export function vmxCostsFor(roundTripCycles: number, instructionScale: number, refillCycles: number): VmxCosts {
  const fixed = roundTripCycles - STUB_CYCLES - refillCycles;
  const exit = Math.round(fixed * EXIT_SHARE);
  const s = (n: number) => Math.round(n * instructionScale);
  return {
    vmExitCycles: exit,
    vmEntryCycles: fixed - exit,
    vmreadCycles: s(20),
    vmwriteCycles: s(20),
    vmptrldCycles: s(250),
    vmclearCycles: s(300),
    vmxonCycles: s(1000),
    vmxoffCycles: s(500),
    inveptCycles: s(200),
    invvpidCycles: s(120),
    msrListEntryCycles: s(30),
  };
}

/** Published best-case round trips (vmx.md 1a) for the profiles' parts. */
export const ROUND_TRIP_CYCLES = {
  /** Merom T5600/T7400: 1681 (the Q6600 is the same 65 nm core). */
  merom: 1681,
  /** Nehalem (Lynnfield) i5-760: 933. */
  nehalem: 933,
  /** Sandy Bridge i7-2600: 785 (band 610-790). */
  sandybridge: 785,
  /** Haswell i7-4770: 530 (band 435-600). */
  haswell: 530,
  /** Skylake client E3-1270 v5: 590 (band 590-630; the E3-1220 v5 is the same die). */
  skylake: 590,
} as const;
