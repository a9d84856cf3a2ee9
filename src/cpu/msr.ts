/**
 * Model-specific registers: a registry of MSR definitions and a per-core store (SDM Vol. 4 chapter 2,
 * "Model-Specific Registers", Table 2-2 architectural MSRs; RDMSR/WRMSR in Vol. 2).
 *
 * An MSR exists only if it is defined here; RDMSR/WRMSR of any other index raise #GP(0). A definition
 * gives the reset value and, where the MSR is more than storage, how it reads (IA32_TSC reads the core's
 * time-stamp counter) and which writes are legal (reserved bits, read-only bits, lock bits raise #GP(0)).
 * Later issues add MSRs with defineMsr() (the VMX capability MSRs, the local APIC, ...).
 *
 * Values are [lo, hi] pairs of unsigned 32-bit numbers (EAX, EDX of RDMSR/WRMSR). IA32_TSC goes through
 * a double, so a TSC above 2^53 cycles loses low bits.
 *
 * Leaves out: MTRRs, machine-check banks, performance counters. IA32_APIC_BASE, the x2APIC MSRs and
 * IA32_TSC_DEADLINE are defined by x2apic-msrs.ts, the CAT MSRs by cache/cat-msrs.ts.
 */
import type { CoreState } from "./core-state.ts";
import { fault, Vector } from "./exceptions.ts";

export type MsrValue = [lo: number, hi: number];

/** Architectural MSR indices (SDM Vol. 4 Table 2-2). */
export const enum Msr {
  IA32_TSC = 0x10,
  IA32_APIC_BASE = 0x1b,
  IA32_FEATURE_CONTROL = 0x3a,
  IA32_SYSENTER_CS = 0x174,
  IA32_SYSENTER_ESP = 0x175,
  IA32_SYSENTER_EIP = 0x176,
  IA32_MISC_ENABLE = 0x1a0,
  IA32_TSC_AUX = 0xc0000103,
}

export interface MsrDefinition {
  readonly index: number;
  /** The SDM's name (IA32_TSC ...). */
  readonly name: string;
  /** Value after reset. Default [0, 0]. */
  readonly reset?: (c: CoreState) => MsrValue;
  /**
   * A computed read: fill `out` from the core (and the stored value). Default: the stored value.
   * `cyclesBefore` is the executing instruction's offset in time within its block (Insn.cyclesBefore):
   * c.cycles + cyclesBefore is the exact current cycle.
   */
  readonly read?: (c: CoreState, stored: MsrValue, out: MsrValue, cyclesBefore: number) => void;
  /**
   * Check and apply a write; raise #GP(0) with fault() for an illegal value. Default: store [lo, hi].
   * The definition updates `stored` itself (it may keep read-only bits).
   */
  readonly write?: (c: CoreState, lo: number, hi: number, stored: MsrValue, cyclesBefore: number) => void;
}

const registry = new Map<number, MsrDefinition>();

/** Add an MSR to the model (at module load). Defining an index twice is a programming error. */
export function defineMsr(def: MsrDefinition): void {
  const idx = def.index >>> 0;
  if (registry.has(idx)) throw new Error(`msr: ${def.name} (${idx.toString(16)}H) defined twice`);
  registry.set(idx, def);
}

export function isMsrDefined(index: number): boolean {
  return registry.has(index >>> 0);
}

export function msrDefinitions(): readonly MsrDefinition[] {
  return [...registry.values()];
}

/** Per-core MSR values, created with reset values on first use. */
const stores = new WeakMap<CoreState, Map<number, MsrValue>>();

function storedValue(c: CoreState, def: MsrDefinition): MsrValue {
  let s = stores.get(c);
  if (s === undefined) stores.set(c, (s = new Map()));
  let v = s.get(def.index >>> 0);
  if (v === undefined) {
    const r = def.reset ? def.reset(c) : ([0, 0] as MsrValue);
    v = [r[0] >>> 0, r[1] >>> 0];
    s.set(def.index >>> 0, v);
  }
  return v;
}

function definition(index: number): MsrDefinition {
  const def = registry.get(index >>> 0);
  if (def === undefined) fault(Vector.GP, 0);
  return def;
}

const readOut: MsrValue = [0, 0];

/**
 * RDMSR semantics: the value of MSR `index`, or #GP(0) if the model has no such MSR. The returned pair
 * is only valid until the next readMsr call (no allocation per read); copy it to keep it.
 * `cyclesBefore`: see MsrDefinition.read (an instruction passes its Insn.cyclesBefore).
 */
export function readMsr(c: CoreState, index: number, cyclesBefore = 0): Readonly<MsrValue> {
  const def = definition(index);
  const stored = storedValue(c, def);
  if (def.read === undefined) return stored;
  def.read(c, stored, readOut, cyclesBefore);
  readOut[0] >>>= 0;
  readOut[1] >>>= 0;
  return readOut;
}

/** WRMSR semantics: #GP(0) for an unknown MSR or a value the MSR refuses. */
export function writeMsr(c: CoreState, index: number, value: readonly [number, number], cyclesBefore = 0): void {
  const def = definition(index);
  const stored = storedValue(c, def);
  const lo = value[0] >>> 0;
  const hi = value[1] >>> 0;
  if (def.write === undefined) {
    stored[0] = lo;
    stored[1] = hi;
  } else {
    def.write(c, lo, hi, stored, cyclesBefore);
  }
}

/** Forget a core's MSR values (reset / INIT): the next access sees reset values again. */
export function resetMsrs(c: CoreState): void {
  stores.delete(c);
}

// ---- the architectural MSRs of this model ----

const TWO32 = 4294967296;

/** Raise #GP(0) unless every set bit of [lo, hi] is within the writable masks. */
function reserved(lo: number, hi: number, loMask: number, hiMask: number): void {
  if ((lo & ~loMask) !== 0 || (hi & ~hiMask) !== 0) fault(Vector.GP, 0);
}

defineMsr({
  index: Msr.IA32_TSC,
  name: "IA32_TSC",
  // SDM Vol. 3B 18.17: the TSC as RDTSC reads it; a write sets it, i.e. moves the core's TSC offset.
  read: (c, _s, out, cyclesBefore) => {
    const t = c.tsc + cyclesBefore;
    out[0] = t >>> 0;
    out[1] = Math.floor(t / TWO32) >>> 0;
  },
  write: (c, lo, hi, _s, cyclesBefore) => {
    c.tscOffset = hi * TWO32 + lo - (c.cycles + cyclesBefore);
    c.lapic?.tscChanged(); // an armed TSC deadline moves with the TSC (SDM Vol. 3A 10.5.4.1)
  },
});


/** IA32_FEATURE_CONTROL: lock (0) and VMX outside SMX (2); no SMX, so bit 1 is reserved. */
defineMsr({
  index: Msr.IA32_FEATURE_CONTROL,
  name: "IA32_FEATURE_CONTROL",
  // SDM Vol. 3C 23.7: once the lock bit is set, any write raises #GP(0) until reset.
  write: (_c, lo, hi, s) => {
    if ((s[0] & 1) !== 0) fault(Vector.GP, 0);
    reserved(lo, hi, 0x5, 0);
    s[0] = lo;
  },
});

defineMsr({ index: Msr.IA32_SYSENTER_CS, name: "IA32_SYSENTER_CS" });
defineMsr({ index: Msr.IA32_SYSENTER_ESP, name: "IA32_SYSENTER_ESP" });
defineMsr({ index: Msr.IA32_SYSENTER_EIP, name: "IA32_SYSENTER_EIP" });

/**
 * IA32_MISC_ENABLE: fast strings (0) set at reset; "BTS unavailable" (11) and "PEBS unavailable" (12)
 * are read-only ones since the model has neither. Other bits are stored as written.
 */
const MISC_RO = (1 << 11) | (1 << 12);
defineMsr({
  index: Msr.IA32_MISC_ENABLE,
  name: "IA32_MISC_ENABLE",
  reset: () => [1 | MISC_RO, 0],
  write: (_c, lo, hi, s) => {
    s[0] = (lo | MISC_RO) >>> 0;
    s[1] = hi;
  },
});

/** IA32_TSC_AUX: 32 bits read by RDTSCP into ECX; bits 63:32 are reserved (SDM Vol. 4 Table 2-2). */
defineMsr({
  index: Msr.IA32_TSC_AUX,
  name: "IA32_TSC_AUX",
  write: (_c, lo, hi, s) => {
    reserved(lo, hi, 0xffffffff, 0);
    s[0] = lo;
  },
});

/**
 * IA32_PAT (277H, SDM Vol. 3A 11.12.2): eight 3-bit memory types, one per byte; a byte whose value is not
 * 0, 1, 4, 5, 6 or 7 (or with bits 7:3 set) raises #GP(0). Reset value 0007040600070406H. The core stores it
 * (memory types are not modelled); VM entry and exit load and save it (SDM Vol. 3C 24.4, 24.5).
 */
const PAT_VALID_TYPES = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);

export function patValid(lo: number, hi: number): boolean {
  for (let k = 0; k < 8; k++) {
    const b = ((k < 4 ? lo : hi) >>> ((k & 3) * 8)) & 0xff;
    if (b > 7 || ((PAT_VALID_TYPES >>> b) & 1) === 0) return false;
  }
  return true;
}

defineMsr({
  index: 0x277,
  name: "IA32_PAT",
  reset: () => [0x00070406, 0x00070406],
  write: (_c, lo, hi, s) => {
    if (!patValid(lo, hi)) fault(Vector.GP, 0);
    s[0] = lo;
    s[1] = hi;
  },
});

/**
 * IA32_EFER (C0000080H): the model is IA-32 without Intel 64 or execute-disable, so every bit is reserved
 * (reads 0, a write of anything else raises #GP(0)). It exists so that VM entry and exit can load and save it
 * (the "load/save IA32_EFER" controls; SDM Vol. 3C 26.3.1.1 then requires the loaded value to be 0).
 */
defineMsr({
  index: 0xc0000080,
  name: "IA32_EFER",
  write: (_c, lo, hi) => reserved(lo, hi, 0, 0),
});
