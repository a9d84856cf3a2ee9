/**
 * EPT translation of one guest-physical address (SDM Vol. 3C 28.2): the 4-level walk of 28.2.2 through
 * the EPT PML4E, PDPTE, PDE and PTE (Tables 28-1 .. 28-6), with 1-GByte pages at the PDPTE and 2-MByte
 * pages at the PDE (bit 7); the EPT-induced VM exits of 28.2.3 (misconfiguration 28.2.3.1, violation
 * 28.2.3.2) with the exit qualification of Table 27-7; and the accessed/dirty flags of 28.2.4.
 *
 * Order, as the SDM defines it: the walk goes down until it meets a not-present entry (bits 2:0 = 000: an
 * EPT violation; bits 63:3 of such an entry are ignored) or the entry that maps the page. Each present
 * entry on the way is checked for the misconfigurations of 28.2.3.1 (bits 2:0 = 010b or 110b; 100b
 * without the execute-only capability; a reserved bit, including address bits N-1 < bit <= 51; and, in
 * the leaf, memory type 2, 3 or 7), which end the walk. Only a walk without misconfiguration can end in a
 * permission violation ("An EPT violation occurs when there is no EPT misconfiguration but ..."): the
 * access is checked against the AND of bits 2:0 over every entry used.
 *
 * Exit qualification (Table 27-7): bit 0 data read, 1 data write, 2 instruction fetch; bits 5:3 the AND of
 * bits 2:0 of the entries used (0 when one of them is not present, Table 27-7 note); bit 7 the guest
 * linear-address field is valid (the caller passes `guestLinear`; it is invalid only for the PDPTE loads
 * of MOV to CR3 under PAE paging); bit 8, when bit 7 is set, the access was to the translation of the linear
 * address rather than to a guest paging-structure entry (`fromGuestPagingWalk`); bit 12 NMI unblocking
 * due to IRET (the caller knows: `nmiUnblocking`). With EPT A/D enabled (EPTP bit 6), the guest's own
 * paging-structure accesses are treated as writes (28.2.3.2) and a violation they cause sets both bits 0
 * and 1 (Table 27-7 note 1); this does not apply to the PDPTE loads (no guest linear address).
 *
 * Accessed and dirty flags (28.2.4), when EPTP bit 6 is set: bit 8 of every entry used is set, and bit 9
 * of the entry that maps the page for a write (guest paging-structure accesses count as writes). As Bochs
 * does (and as src/cpu/paging.ts does for guest paging), the flags are written only by a walk that ends in
 * a translation: a walk that exits changes no flag. Only entries whose flags change are written.
 *
 * Cost hook: `onEntryRead(hpa, level)` is called for each paging-structure read and `onEntryWrite` for each
 * A/D write-back, so the caller can charge them through the cache model; every result carries `levels`,
 * the number of entries read (4, 3 for a 2-MByte page, 2 for a 1-GByte page, fewer when the walk stops).
 * Levels are numbered as the SDM's walk: 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE.
 *
 * Leaves out: 5-level EPT; mode-based execute control (bit 10 is ignored: its control is not offered);
 * sub-page write permissions, "EPT-violation #VE" (bit 63, suppress #VE, is ignored), page-modification
 * logging, the advanced VM-exit information bits 9-11 of the qualification (not reported by these
 * processors), the shadow-stack bits 13-14 and bit 16 (asynchronous), and the combination of the EPT
 * memory type with PAT (28.2.6; the result reports the EPT memory type and the ignore-PAT bit). The walk
 * does not check the EPTP (VM entry did: see ept-pointer.ts) and caches nothing (see ept-invept.ts).
 */
import { type EptMemory, loadEntry, loaded, storeEntryLow } from "./ept-memory.ts";
import type { Eptp } from "./ept-pointer.ts";

export type EptAccess = "read" | "write" | "fetch";

export interface EptTranslateOptions {
  /** Accessed/dirty flags for EPT; defaults to EPTP bit 6 (SDM 24.6.11), which is what enables them. */
  adEnabled?: boolean;
  /** IA32_VMX_EPT_VPID_CAP bit 0: bits 2:0 = 100b is a valid (execute-only) entry. */
  executeOnlyAllowed: boolean;
  /** The guest linear address whose translation led here; absent only for PAE PDPTE loads. */
  guestLinear?: number;
  /** The access reads or updates a guest paging-structure entry (not the final translation). */
  fromGuestPagingWalk?: boolean;
  /** Qualification bit 12: the access is part of an IRET that unblocked NMIs (Table 27-7). */
  nmiUnblocking?: boolean;
  /** IA32_VMX_EPT_VPID_CAP bit 16; without it, bit 7 of an EPT PDE is reserved. Default true. */
  pages2M?: boolean;
  /** IA32_VMX_EPT_VPID_CAP bit 17; without it, bit 7 of an EPT PDPTE is reserved. Default true. */
  pages1G?: boolean;
  /** Called with the host-physical address of each EPT paging-structure entry read, and its level. */
  onEntryRead?: (hpa: number, level: number) => void;
  /** Called with the host-physical address of each entry written back to set an A or D flag. */
  onEntryWrite?: (hpa: number, level: number) => void;
}

export interface EptTranslation {
  /** Host-physical address of the access. */
  hpa: number;
  /** EPT memory type, bits 5:3 of the entry that maps the page (0 UC, 1 WC, 4 WT, 5 WP, 6 WB). */
  memType: number;
  /** Bit 6 of the entry that maps the page: ignore the guest PAT memory type. */
  ignorePat: boolean;
  /** AND of bits 2:0 (R = 1, W = 2, X = 4) over the entries used. */
  perms: number;
  /** Size in bytes of the page the entry maps: 4 KiB, 2 MiB or 1 GiB. */
  pageSize: number;
  levels: number;
}

export interface EptViolation {
  violation: { qualification: number; gpa: number; guestLinear?: number };
  levels: number;
}

export type EptMisconfigCause = "write-without-read" | "execute-only" | "reserved-bit" | "memory-type";

export interface EptMisconfig {
  misconfig: { gpa: number; level: number; cause: EptMisconfigCause };
  levels: number;
}

export type EptResult = EptTranslation | EptViolation | EptMisconfig;

/** Exit-qualification bits for EPT violations (SDM Vol. 3C Table 27-7). */
export const EptQualification = {
  DATA_READ: 1 << 0,
  DATA_WRITE: 1 << 1,
  FETCH: 1 << 2,
  READABLE: 1 << 3,
  WRITABLE: 1 << 4,
  EXECUTABLE: 1 << 5,
  LINEAR_VALID: 1 << 7,
  LINEAR_TRANSLATION: 1 << 8,
  NMI_UNBLOCKING: 1 << 12,
} as const;

// Local numeric constants (imported const enums are property loads under tsx).
const R = 1;
const W = 2;
const X = 4;
const PS = 0x80;
const IGNORE_PAT = 0x40;
const ACCESSED = 0x100;
const DIRTY = 0x200;
const TWO_POW_32 = 4294967296;
/** High-dword bits 35:32 of an address field (MAXPHYADDR 36). */
const HI_ADDRESS = 0xf;
/** High-dword bits 51:36: reserved, beyond MAXPHYADDR (Tables 28-1 .. 28-6, "51:N Reserved"). */
const HI_RESERVED = 0x000ffff0;
/** Bits 7:3 of a PML4E (Table 28-1) and of a PDPTE that references a page directory (Table 28-3). */
const LO_RESERVED_PML4E = 0xf8;
/** Bits 6:3 of a PDE that references a page table (Table 28-5); bit 7 is then 0 by definition. */
const LO_RESERVED_NONLEAF = 0x78;
/** Bits 29:12 of a PDPTE that maps a 1-GByte page (Table 28-2). */
const LO_RESERVED_1G = 0x3ffff000;
/** Bits 20:12 of a PDE that maps a 2-MByte page (Table 28-4). */
const LO_RESERVED_2M = 0x001ff000;
/** Memory types 2, 3 and 7 are reserved in a leaf (28.2.3.1). */
const RESERVED_MEMTYPES = (1 << 2) | (1 << 3) | (1 << 7);
const GPA_LIMIT = 2 ** 48;

function misconfig(gpa: number, level: number, cause: EptMisconfigCause, levels: number): EptMisconfig {
  return { misconfig: { gpa, level, cause }, levels };
}

/**
 * Translate guest-physical address `gpa` (below 2^48) for `access` through the EPT paging structures that
 * `eptp` ([bits 31:0, bits 63:32], already accepted by VM entry) points to.
 */
export function eptTranslate(
  mem: EptMemory,
  eptp: Eptp,
  gpa: number,
  access: EptAccess,
  opts: EptTranslateOptions,
): EptResult {
  if (!(gpa >= 0 && gpa < GPA_LIMIT) || gpa !== Math.floor(gpa)) {
    throw new RangeError(`guest-physical address ${gpa} is not an integer below 2^48`);
  }
  const gLo = gpa >>> 0;
  const gHi = Math.floor(gpa / TWO_POW_32);
  const ad = opts.adEnabled ?? (eptp[0] & 0x40) !== 0;
  const linearValid = opts.guestLinear !== undefined;
  const pagingWalk = opts.fromGuestPagingWalk === true;
  // 28.2.3.2: with A/D on, guest paging-structure accesses (not PDPTE loads) are writes for EPT.
  const asWrite = ad && pagingWalk && linearValid;
  let need: number;
  let qualification: number;
  if (asWrite) {
    need = W;
    qualification = 3; // Table 27-7 note 1: both bits 0 and 1
  } else if (access === "read") {
    need = R;
    qualification = 1;
  } else if (access === "write") {
    need = W;
    qualification = 2;
  } else {
    need = X;
    qualification = 4;
  }
  const isWrite = need === W;
  const onRead = opts.onEntryRead;

  let base = (eptp[1] & HI_ADDRESS) * TWO_POW_32 + ((eptp[0] & 0xfffff000) >>> 0);
  let combined = R | W | X;
  // Entries used, kept for the A/D write-back (index = level - 1).
  const entryAddr = [0, 0, 0, 0];
  const entryLo = [0, 0, 0, 0];
  let levels = 0;
  let level = 4;
  let lo = 0;
  let hi = 0;
  let pageSize = 4096;
  for (;;) {
    const index =
      level === 4 ? (gHi >>> 7) & 0x1ff
      : level === 3 ? ((gHi & 0x7f) << 2) | (gLo >>> 30)
      : level === 2 ? (gLo >>> 21) & 0x1ff
      : (gLo >>> 12) & 0x1ff;
    const pa = base + index * 8;
    loadEntry(mem, pa);
    lo = loaded.lo;
    hi = loaded.hi;
    levels++;
    entryAddr[level - 1] = pa;
    entryLo[level - 1] = lo;
    if (onRead !== undefined) onRead(pa, level);

    const rwx = lo & 7;
    combined &= rwx;
    if (rwx === 0) break; // not present: a violation, whatever the other bits say
    if ((rwx & (R | W)) === W) return misconfig(gpa, level, "write-without-read", levels);
    if (rwx === X && !opts.executeOnlyAllowed) return misconfig(gpa, level, "execute-only", levels);
    if ((hi & HI_RESERVED) !== 0) return misconfig(gpa, level, "reserved-bit", levels);

    let leaf = false;
    if (level === 4) {
      if ((lo & LO_RESERVED_PML4E) !== 0) return misconfig(gpa, level, "reserved-bit", levels);
    } else if (level === 1) {
      leaf = true;
    } else if ((lo & PS) !== 0) {
      const large = level === 3 ? opts.pages1G !== false : opts.pages2M !== false;
      const reserved = level === 3 ? LO_RESERVED_1G : LO_RESERVED_2M;
      if (!large || (lo & reserved) !== 0) return misconfig(gpa, level, "reserved-bit", levels);
      leaf = true;
      pageSize = level === 3 ? 1 << 30 : 1 << 21;
    } else if ((lo & LO_RESERVED_NONLEAF) !== 0) {
      return misconfig(gpa, level, "reserved-bit", levels);
    }

    if (leaf) {
      if (((RESERVED_MEMTYPES >>> ((lo >>> 3) & 7)) & 1) !== 0) {
        return misconfig(gpa, level, "memory-type", levels);
      }
      break;
    }
    base = (hi & HI_ADDRESS) * TWO_POW_32 + ((lo & 0xfffff000) >>> 0);
    level--;
  }

  if ((combined & need) !== need) {
    qualification |= combined << 3;
    if (linearValid) {
      qualification |= 0x80;
      if (!pagingWalk) qualification |= 0x100;
    }
    if (opts.nmiUnblocking === true) qualification |= 0x1000;
    const violation: EptViolation["violation"] = { qualification, gpa };
    if (linearValid) violation.guestLinear = opts.guestLinear;
    return { violation, levels };
  }

  if (ad) {
    const onWrite = opts.onEntryWrite;
    for (let l = 4; l >= level; l--) {
      const old = entryLo[l - 1];
      const updated = (l === level && isWrite ? old | ACCESSED | DIRTY : old | ACCESSED) >>> 0;
      if (updated !== old) {
        storeEntryLow(mem, entryAddr[l - 1], updated);
        if (onWrite !== undefined) onWrite(entryAddr[l - 1], l);
      }
    }
  }

  const offsetMask = pageSize - 1;
  const frameLo = (lo & ~offsetMask & 0xfffff000) >>> 0;
  return {
    hpa: (hi & HI_ADDRESS) * TWO_POW_32 + frameLo + ((gLo & offsetMask) >>> 0),
    memType: (lo >>> 3) & 7,
    ignorePat: (lo & IGNORE_PAT) !== 0,
    perms: combined,
    pageSize,
    levels,
  };
}

/** Narrowing helpers for callers. */
export function isEptTranslation(r: EptResult): r is EptTranslation {
  return "hpa" in r;
}
export function isEptViolation(r: EptResult): r is EptViolation {
  return "violation" in r;
}
export function isEptMisconfig(r: EptResult): r is EptMisconfig {
  return "misconfig" in r;
}
