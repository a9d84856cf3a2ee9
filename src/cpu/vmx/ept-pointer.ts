/**
 * The extended-page-table pointer (EPTP, SDM Vol. 3C 24.6.11, Table 24-8) and the VM-entry checks on it
 * (26.2.1.1, "VM-Execution Control Fields": when "enable EPT" is 1, the EPTP must have a supported
 * paging-structure memory type, bits 5:3 = 3 (a page-walk length of 4), bit 6 = 0 unless the processor
 * supports EPT accessed/dirty flags, and reserved bits 11:7 and 63:N clear). A failing check makes VM entry
 * fail with VMfailValid(7), "VM entry with invalid control field(s)"; `checkEptp` says which rule failed.
 * The same test decides INVEPT single-context's "invalid operand" (30.3, INVEPT operation).
 *
 * Also the EPT bits of IA32_VMX_EPT_VPID_CAP (MSR 48CH, Appendix A.10), all in its low dword, as the
 * capability input of these checks and of the walk.
 *
 * The model's physical-address width N (MAXPHYADDR) is 36, as on the Core 2 / Nehalem-era parts the
 * profiles describe; EPTP bits 63:36 are therefore reserved.
 *
 * Leaves out: 5-level EPT (bits 5:3 = 4) and the later EPTP bits (7: supervisor shadow-stack control),
 * which this generation of processors does not have: bit 7 is reserved here, as in Table 24-8.
 */

/** Physical-address width (MAXPHYADDR) of the modelled processors. */
export const EPT_MAXPHYADDR = 36;

/** IA32_VMX_EPT_VPID_CAP (48CH) bits 31:0 that concern EPT (SDM Vol. 3C Appendix A.10). */
export const EptVpidCap = {
  /** Bit 0: EPT entries may be execute-only (bits 2:0 = 100b). */
  EXECUTE_ONLY: 1 << 0,
  /** Bit 6: a page-walk length of 4 is supported. */
  WALK_LENGTH_4: 1 << 6,
  /** Bit 8: the EPT paging-structure memory type may be UC. */
  MEMTYPE_UC: 1 << 8,
  /** Bit 14: the EPT paging-structure memory type may be WB. */
  MEMTYPE_WB: 1 << 14,
  /** Bit 16: an EPT PDE may map a 2-MByte page. */
  PAGE_2M: 1 << 16,
  /** Bit 17: an EPT PDPTE may map a 1-GByte page. */
  PAGE_1G: 1 << 17,
  /** Bit 20: INVEPT is supported. */
  INVEPT: 1 << 20,
  /** Bit 21: accessed and dirty flags for EPT are supported. */
  ACCESSED_DIRTY: 1 << 21,
  /** Bit 25: single-context INVEPT is supported. */
  INVEPT_SINGLE_CONTEXT: 1 << 25,
  /** Bit 26: all-context INVEPT is supported. */
  INVEPT_ALL_CONTEXT: 1 << 26,
} as const;

/** An EPTP as two dwords: [bits 31:0, bits 63:32]. */
export type Eptp = readonly [number, number];

export interface DecodedEptp {
  /** Bits 2:0: memory type used for the EPT paging structures (0 UC, 6 WB). */
  memType: number;
  /** Bits 5:3 plus one. */
  walkLength: number;
  /** Bit 6: accessed and dirty flags for EPT enabled. */
  adEnabled: boolean;
  /** Bits N-1:12: host-physical address of the EPT PML4 table. */
  pml4Address: number;
}

const TWO_POW_32 = 4294967296;
/** EPTP bits 11:7. */
const RESERVED_LOW = 0xf80;
/** EPTP bits 63:36 as a mask of the high dword (bits 31:4). */
const RESERVED_HIGH = (~((1 << (EPT_MAXPHYADDR - 32)) - 1)) >>> 0;

export function decodeEptp(eptp: Eptp): DecodedEptp {
  const lo = eptp[0] >>> 0;
  const hi = eptp[1] >>> 0;
  return {
    memType: lo & 7,
    walkLength: ((lo >>> 3) & 7) + 1,
    adEnabled: (lo & 0x40) !== 0,
    pml4Address: (hi & ~RESERVED_HIGH) * TWO_POW_32 + ((lo & 0xfffff000) >>> 0),
  };
}

/** The EP4TA (SDM 28.3.1): EPTP bits 51:12, the tag of guest-physical mappings, as a page-aligned address. */
export function ep4ta(eptp: Eptp): number {
  return (eptp[1] & 0xfffff) * TWO_POW_32 + ((eptp[0] & 0xfffff000) >>> 0);
}

export type EptpRule = "memory-type" | "walk-length" | "accessed-dirty" | "reserved-11-7" | "reserved-above-maxphyaddr";

export interface EptpProblem {
  rule: EptpRule;
  /** What was found, in the SDM's terms. */
  detail: string;
}

/**
 * The VM-entry checks of SDM 26.2.1.1 on an EPTP, in the order the SDM lists them. Returns every rule the
 * value breaks (empty: the EPTP is valid). `eptVpidCap` is IA32_VMX_EPT_VPID_CAP bits 31:0.
 */
export function checkEptp(eptp: Eptp, eptVpidCap: number): EptpProblem[] {
  const lo = eptp[0] >>> 0;
  const hi = eptp[1] >>> 0;
  const problems: EptpProblem[] = [];
  const memType = lo & 7;
  const memTypeOk =
    (memType === 0 && (eptVpidCap & EptVpidCap.MEMTYPE_UC) !== 0) ||
    (memType === 6 && (eptVpidCap & EptVpidCap.MEMTYPE_WB) !== 0);
  if (!memTypeOk) {
    problems.push({ rule: "memory-type", detail: `paging-structure memory type ${memType} is not supported` });
  }
  const walkLength = ((lo >>> 3) & 7) + 1;
  if (walkLength !== 4 || (eptVpidCap & EptVpidCap.WALK_LENGTH_4) === 0) {
    problems.push({ rule: "walk-length", detail: `page-walk length ${walkLength} (bits 5:3 = ${walkLength - 1}); only 4 is supported` });
  }
  if ((lo & 0x40) !== 0 && (eptVpidCap & EptVpidCap.ACCESSED_DIRTY) === 0) {
    problems.push({ rule: "accessed-dirty", detail: "bit 6 (accessed/dirty flags) set but not supported" });
  }
  if ((lo & RESERVED_LOW) !== 0) {
    problems.push({ rule: "reserved-11-7", detail: `reserved bits 11:7 = 0x${((lo & RESERVED_LOW) >>> 7).toString(16)}` });
  }
  if ((hi & RESERVED_HIGH) !== 0) {
    problems.push({
      rule: "reserved-above-maxphyaddr",
      detail: `bits 63:${EPT_MAXPHYADDR} not zero (high dword 0x${hi.toString(16)})`,
    });
  }
  return problems;
}
