/**
 * CPUID: what the processor says it is and what it implements (SDM Vol. 2A CPUID, Tables 3-8 and
 * 3-10/3-11 for leaf 1; Vol. 3A 18.7.3 for the TSC frequency leaves 15H/16H).
 *
 * The identity is a Core 2 Quad Q6600-like part (family 6, model 0FH, stepping 0BH) whose feature flags
 * tell the truth about what this model implements now: DE (CR4.DE), PSE (4 MiB pages), TSC, MSR
 * (RDMSR/WRMSR), CX8, SEP (SYSENTER/SYSEXIT), PGE (global pages) and CMOV - no FPU, VME, MCE, MMX, SSE,
 * PAE, PSE-36 or local APIC yet. Whoever adds one of those sets its bit here in the same change. The maximum
 * basic leaf is 16H so that software can read the TSC frequency from leaves 15H/16H.
 *
 * The identity is data (CpuIdentity); a CPU profile replaces it per core with setCpuIdentity() without
 * touching the instruction handler.
 *
 * Leaves out: cache and TLB descriptors (leaf 2 returns only null descriptors; leaf 4 reports no cache
 * levels), topology (leaf 0BH), the brand string and all extended leaves above 80000000H, VMX (the VT-x
 * issue sets CPUID.1:ECX.VMX[bit 5]).
 */
import type { CoreState } from "./core-state.ts";

export interface CpuIdentity {
  /** 12-character vendor string of leaf 0 (EBX, EDX, ECX in that order). */
  readonly vendor: string;
  /** Highest basic leaf (CPUID.0:EAX). */
  readonly maxBasicLeaf: number;
  /** CPUID.1:EAX: stepping 3:0, model 7:4, family 11:8, type 13:12, extended model 19:16, extended family 27:20. */
  readonly signature: number;
  /** CPUID.1:ECX and EDX feature flags (SDM Vol. 2A Tables 3-10 and 3-11). */
  readonly featuresEcx: number;
  readonly featuresEdx: number;
  /** Leaf 15H: TSC frequency = crystalHz * tscRatioNumerator / tscRatioDenominator. */
  readonly tscRatioDenominator: number;
  readonly tscRatioNumerator: number;
  readonly crystalHz: number;
  /** Leaf 16H: processor base, maximum and bus (reference) frequencies in MHz. */
  readonly baseMhz: number;
  readonly maxMhz: number;
  readonly busMhz: number;
}

/** CPUID.1:EDX feature bits (SDM Vol. 2A Table 3-11). */
export const enum CpuidEdx {
  FPU = 1 << 0, DE = 1 << 2, PSE = 1 << 3, TSC = 1 << 4, MSR = 1 << 5, CX8 = 1 << 8, APIC = 1 << 9,
  SEP = 1 << 11, PGE = 1 << 13, CMOV = 1 << 15,
  HTT = 1 << 28,
}

export const DEFAULT_CPU_IDENTITY: CpuIdentity = {
  vendor: "GenuineIntel",
  maxBasicLeaf: 0x16,
  signature: 0x000006fb,
  featuresEcx: 0,
  featuresEdx: CpuidEdx.DE | CpuidEdx.PSE | CpuidEdx.TSC | CpuidEdx.MSR | CpuidEdx.CX8 | CpuidEdx.SEP |
    CpuidEdx.PGE | CpuidEdx.CMOV,
  tscRatioDenominator: 1,
  tscRatioNumerator: 100,
  crystalHz: 24_000_000,
  baseMhz: 2400,
  maxMhz: 2400,
  busMhz: 100,
};

/** Per-core identity; cores that were never given one use DEFAULT_CPU_IDENTITY. */
const identities = new WeakMap<CoreState, CpuIdentity>();

export function setCpuIdentity(c: CoreState, id: CpuIdentity): void {
  identities.set(c, id);
}

export function cpuIdentityOf(c: CoreState): CpuIdentity {
  return identities.get(c) ?? DEFAULT_CPU_IDENTITY;
}

/** Four little-endian characters of s starting at k, as a register value. */
function chars4(s: string, k: number): number {
  return s.charCodeAt(k) | (s.charCodeAt(k + 1) << 8) | (s.charCodeAt(k + 2) << 16) | (s.charCodeAt(k + 3) << 24);
}

/** The highest extended leaf this model answers: 80000008H (address sizes); 80000001H-80000007H report
 * nothing (no extended features, no brand string). */
const MAX_EXTENDED_LEAF = 0x80000008;

/** CPUID.80000008H:EAX: physical-address bits 7:0 = 36 (MAXPHYADDR, SDM Vol. 3A 4.1.4: the VMX pointer
 * and EPT checks use it, vmx/ept-pointer.ts), linear-address bits 15:8 = 32 (no Intel 64). */
const ADDRESS_SIZES = 36 | (32 << 8);

/**
 * Fill out[0..3] = EAX, EBX, ECX, EDX for CPUID with EAX = leaf, ECX = subleaf on the core with
 * APIC ID apicId. The subleaf matters only to leaves 4, 7, 0BH ..., which all report zeros yet.
 * A leaf above the maximum basic or extended leaf returns the data of the highest basic leaf, as
 * Intel processors do (SDM Vol. 2A CPUID: "If a value entered for CPUID.EAX is higher than the
 * maximum input value for basic or extended function ...").
 */
export function cpuidLeaf(id: CpuIdentity, apicId: number, leaf: number, subleaf: number, out: Int32Array): void {
  let l = leaf >>> 0;
  if (l >= 0x80000000 ? l > MAX_EXTENDED_LEAF : l > id.maxBasicLeaf) l = id.maxBasicLeaf;
  out[0] = out[1] = out[2] = out[3] = 0;
  switch (l) {
    case 0:
      out[0] = id.maxBasicLeaf;
      out[1] = chars4(id.vendor, 0);
      out[3] = chars4(id.vendor, 4);
      out[2] = chars4(id.vendor, 8);
      return;
    case 1:
      out[0] = id.signature;
      // EBX: brand index 0, CLFLUSH line size 0 (no CLFLUSH), one logical processor, initial APIC ID.
      out[1] = (1 << 16) | ((apicId & 0xff) << 24);
      out[2] = id.featuresEcx;
      out[3] = id.featuresEdx;
      return;
    case 2:
      // AL = 01H is architecturally fixed; every other descriptor byte is the null descriptor.
      out[0] = 1;
      return;
    case 5:
      // MONITOR/MWAIT leaf (only with CPUID.1:ECX.MONITOR): 64-byte monitor line; ECX bit 0 enumeration of
      // MWAIT extensions, bit 1 interrupts as break events even when masked.
      if ((id.featuresEcx & ECX_MONITOR) !== 0) {
        out[0] = 64;
        out[1] = 64;
        out[2] = 3;
      }
      return;
    case 0x15:
      out[0] = id.tscRatioDenominator;
      out[1] = id.tscRatioNumerator;
      out[2] = id.crystalHz;
      return;
    case 0x16:
      out[0] = id.baseMhz & 0xffff;
      out[1] = id.maxMhz & 0xffff;
      out[2] = id.busMhz & 0xffff;
      return;
    case 0x80000000:
      out[0] = MAX_EXTENDED_LEAF;
      return;
    case 0x80000008:
      out[0] = ADDRESS_SIZES;
      return;
    default:
      return;
  }
}

/** CPUID.1:ECX bits the platform adds (SDM Vol. 2A Table 3-10). */
const ECX_X2APIC = 1 << 21;
const ECX_TSC_DEADLINE = 1 << 24;
/** CPUID.1:ECX.MONITOR[3]: MONITOR/MWAIT (every profile's processor has them; execute/monitor-mwait.ts). */
const ECX_MONITOR = 1 << 3;

/** The identity a CPU profile gives: its signature; leaf 15H/16H with its crystal, TSC and core clock (only
 * on profiles whose CPU has leaf 15H: Skylake and later, SDM Vol. 2A CPUID leaf 15H); the local APIC
 * (CPUID.1:EDX.APIC) when the machine attaches one; x2APIC and the TSC-deadline timer from Sandy Bridge
 * (family 6 model 2AH) on, as those parts report them. */
export function identityForProfile(p: {
  cpuidSignature: number; coreHz: number; tscHz: number; crystalHz: number | null; apicTimerHz: number;
}, withApic: boolean): CpuIdentity {
  const family = (p.cpuidSignature >>> 8) & 0xf;
  const model = ((p.cpuidSignature >>> 4) & 0xf) | (((p.cpuidSignature >>> 16) & 0xf) << 4);
  const sandyOrLater = family === 6 && model >= 0x2a;
  const crystal = p.crystalHz;
  return {
    ...DEFAULT_CPU_IDENTITY,
    signature: p.cpuidSignature,
    maxBasicLeaf: crystal !== null ? 0x16 : 0x0a,
    featuresEcx: DEFAULT_CPU_IDENTITY.featuresEcx | ECX_MONITOR | (withApic && sandyOrLater ? ECX_X2APIC | ECX_TSC_DEADLINE : 0),
    featuresEdx: DEFAULT_CPU_IDENTITY.featuresEdx | (withApic ? CpuidEdx.APIC : 0),
    tscRatioDenominator: crystal !== null ? 1 : 0,
    tscRatioNumerator: crystal !== null ? Math.round(p.tscHz / crystal) : 0,
    crystalHz: crystal ?? 0,
    baseMhz: Math.round(p.coreHz / 1e6),
    maxMhz: Math.round(p.coreHz / 1e6),
    busMhz: Math.round(p.apicTimerHz / 1e6),
  };
}
