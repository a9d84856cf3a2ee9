/**
 * What INVEPT invalidates (SDM Vol. 3C 30.3 "INVEPT", 28.3.3.1 "Operations that Invalidate Cached
 * Mappings"), over a cache of guest-physical mappings (28.3.1) that the model keeps per EP4TA.
 *
 * A processor with EPT caches guest-physical mappings (guest-physical page -> host-physical page, with
 * the EPT permissions and memory type) tagged with the EP4TA, bits 51:12 of the EPTP that produced them
 * (28.3.1). INVEPT type 1 (single-context) invalidates the mappings tagged with bits 51:12 of the
 * descriptor's EPTP, whatever its low bits (memory type, walk length, A/D enable) say; type 2 (global, or
 * all-context) invalidates the mappings of every EP4TA. Before invalidating, INVEPT fails with VMfailValid
 * (28, "invalid operand to INVEPT/INVVPID") when IA32_VMX_EPT_VPID_CAP does not report the type (bit 25 for
 * type 1, bit 26 for type 2; other types are never supported) and, for type 1, when VM entry would reject
 * the EPTP (ept-pointer.ts `checkEptp`). Nothing else invalidates guest-physical mappings here: VM entry,
 * VM exit, MOV to CR3 and INVVPID leave them alone (28.3.3.1), which is why a VMM that edits its EPT must
 * issue INVEPT, and why a stale entry in this cache is the architecturally expected outcome when it does not.
 *
 * The cache keeps 4-KByte fragments: a translation through a 2-MByte or 1-GByte page is stored for the
 * 4-KByte page looked up (a TLB may hold a large page as smaller pages, SDM Vol. 3A 4.10.2.3).
 *
 * Leaves out: combined mappings (linear -> host-physical, tagged with VPID, PCID and EP4TA) that a core
 * TLB with EPT will hold; when the core is wired, INVEPT must also drop those of the same EP4TA (type 1)
 * or all of them (type 2). The #UD and #GP cases of INVEPT, its VM exit in non-root operation, and reading
 * the 128-bit descriptor from memory (its bits 127:64 are reserved but not checked by the SDM's operation
 * section) belong to the instruction's handler. Replacement: the cache never evicts by itself.
 */
import type { EptTranslation } from "./ept.ts";
import { checkEptp, ep4ta, type Eptp, EptVpidCap } from "./ept-pointer.ts";

/** A cached guest-physical mapping of one 4-KByte guest-physical page. */
export interface EptCachedMapping {
  /** Host-physical address of the 4-KByte frame. */
  hpaPage: number;
  /** AND of bits 2:0 over the EPT entries used (R = 1, W = 2, X = 4). */
  perms: number;
  memType: number;
  ignorePat: boolean;
  /** Size of the EPT page the fragment came from. */
  pageSize: number;
}

const PAGE = 4096;

export class EptMappingCache {
  /** EP4TA (a page-aligned host-physical address) -> guest-physical page number -> mapping. */
  private readonly contexts = new Map<number, Map<number, EptCachedMapping>>();

  /** Record the translation `t` of `gpa` made through `eptp`. */
  insert(eptp: Eptp, gpa: number, t: EptTranslation): void {
    const key = ep4ta(eptp);
    let pages = this.contexts.get(key);
    if (pages === undefined) {
      pages = new Map();
      this.contexts.set(key, pages);
    }
    const offset = gpa % PAGE;
    pages.set(Math.floor(gpa / PAGE), {
      hpaPage: t.hpa - offset,
      perms: t.perms,
      memType: t.memType,
      ignorePat: t.ignorePat,
      pageSize: t.pageSize,
    });
  }

  lookup(eptp: Eptp, gpa: number): EptCachedMapping | undefined {
    return this.contexts.get(ep4ta(eptp))?.get(Math.floor(gpa / PAGE));
  }

  /** Number of cached mappings, over all EP4TAs. */
  get size(): number {
    let n = 0;
    for (const pages of this.contexts.values()) n += pages.size;
    return n;
  }

  /** Drop the mappings tagged with `eptp`'s EP4TA; returns how many there were. */
  invalidateContext(eptp: Eptp): number {
    const key = ep4ta(eptp);
    const n = this.contexts.get(key)?.size ?? 0;
    this.contexts.delete(key);
    return n;
  }

  /** Drop every mapping; returns how many there were. */
  invalidateAll(): number {
    const n = this.size;
    this.contexts.clear();
    return n;
  }
}

export const INVEPT_SINGLE_CONTEXT = 1;
export const INVEPT_ALL_CONTEXT = 2;
/** VM-instruction error number 28: invalid operand to INVEPT/INVVPID (SDM Vol. 3C 30.4). */
export const VMERR_INVALID_INVEPT_OPERAND = 28;

export type InveptOutcome =
  | { ok: true; invalidated: number }
  | { ok: false; vmInstructionError: number; reason: string };

/**
 * The effect of INVEPT of `type` with descriptor EPTP `eptp` on `cache` (SDM 30.3 operation section), for a
 * processor whose IA32_VMX_EPT_VPID_CAP bits 31:0 are `eptVpidCap`. Returns VMsucceed with the number of
 * mappings dropped, or the VMfailValid error number and why.
 */
export function invept(cache: EptMappingCache, type: number, eptp: Eptp, eptVpidCap: number): InveptOutcome {
  const supported =
    (type === INVEPT_SINGLE_CONTEXT && (eptVpidCap & EptVpidCap.INVEPT_SINGLE_CONTEXT) !== 0) ||
    (type === INVEPT_ALL_CONTEXT && (eptVpidCap & EptVpidCap.INVEPT_ALL_CONTEXT) !== 0);
  if (!supported) {
    return { ok: false, vmInstructionError: VMERR_INVALID_INVEPT_OPERAND, reason: `INVEPT type ${type} is not supported` };
  }
  if (type === INVEPT_ALL_CONTEXT) return { ok: true, invalidated: cache.invalidateAll() };
  const problems = checkEptp(eptp, eptVpidCap);
  if (problems.length > 0) {
    return {
      ok: false,
      vmInstructionError: VMERR_INVALID_INVEPT_OPERAND,
      reason: `EPTP would fail VM entry: ${problems.map((p) => p.detail).join("; ")}`,
    };
  }
  return { ok: true, invalidated: cache.invalidateContext(eptp) };
}
