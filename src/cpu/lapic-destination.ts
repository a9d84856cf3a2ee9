/**
 * Destination matching of interrupt messages at a local APIC (SDM Vol. 3A 10.6.2.1 physical,
 * 10.6.2.2 logical: flat and cluster models of the DFR, 10.12.10.1-2 x2APIC physical and logical, and
 * the x2APIC LDR derived from the x2APIC ID, 10.12.10.2 Figure 10-30).
 *
 * Cluster model: an 8-bit MDA of all ones selects every APIC in every cluster (10.6.2.2, "Broadcast to
 * all local APICs is achieved by setting all destination bits to one"); flat model: the MDA and the
 * logical ID are ANDed, so an APIC whose logical ID is 0 is never selected.
 *
 * Leaves out: the hierarchical cluster model's cluster managers (10.6.2.2: it needs external hardware);
 * a DFR model other than flat (1111B) or cluster (0000B) selects nothing.
 */
import { BROADCAST } from "./lapic-registers.ts";

/** Logical match in xAPIC mode: `dest` is the 8-bit MDA, `ldr` and `dfr` the registers as read. */
export function matchesLogicalXapic(dest: number, ldr: number, dfr: number): boolean {
  const mda = dest & 0xff;
  const logicalId = (ldr >>> 24) & 0xff;
  const model = dfr >>> 28;
  if (model === 0xf) return (mda & logicalId) !== 0;
  if (model === 0x0) {
    if (mda === 0xff) return true;
    return mda >>> 4 === logicalId >>> 4 && (mda & logicalId & 0xf) !== 0;
  }
  return false;
}

/** Logical match in x2APIC mode (cluster ID in bits 31:16, member bitmap in 15:0). */
export function matchesLogicalX2apic(dest: number, ldr: number): boolean {
  dest >>>= 0;
  if (dest === BROADCAST) return true;
  return dest >>> 16 === ldr >>> 16 && (dest & ldr & 0xffff) !== 0;
}

/** The x2APIC LDR: cluster = x2APIC ID[19:4], member bit = 1 << x2APIC ID[3:0] (10.12.10.2). */
export function x2apicLdr(x2apicId: number): number {
  return ((((x2apicId >>> 4) & 0xffff) << 16) | (1 << (x2apicId & 0xf))) >>> 0;
}
