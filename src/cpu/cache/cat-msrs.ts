/**
 * The MSRs of Intel Cache Allocation Technology (SDM Vol. 3B 17.19.4-17.19.5; Vol. 4 Table 2-2 and the
 * Xeon tables of chapter 2):
 * - IA32_PQR_ASSOC (C8FH): RMID in bits 9:0 (stored; monitoring is not modelled), CLOS in bits 63:32;
 *   a CLOS beyond COS_MAX or a reserved bit set raises #GP(0). One per logical processor.
 * - IA32_L3_QOS_MASK_n (C90H + n) and IA32_L2_QOS_MASK_n (D10H + n), n = 0..15: the capacity bit mask of
 *   CLOS n in bits 31:0, bits 63:32 reserved. A zero or non-contiguous mask, or one wider than the CBM
 *   length (the level's ways), raises #GP(0) (17.19.4.2). The masks belong to the package (the hierarchy),
 *   so a write on one core is read back on every core; reset value: all ways.
 *
 * The handlers find the core's MemoryHierarchy through attachHierarchy(); with none attached (caches off,
 * or a CPU without CAT), with no such level (no L3) or with n beyond the hierarchy's classes of service,
 * every access raises #GP(0), as for an MSR the processor does not have.
 *
 * Leaves out: code/data prioritisation (CDP, IA32_L3_QOS_CFG), memory bandwidth allocation, cache
 * monitoring (IA32_QM_EVTSEL / IA32_QM_CTR). CPUID leaf 0x10 is reported by cpuid.ts, not here.
 */
import type { CoreState } from "../core-state.ts";
import { fault } from "../exceptions.ts";
import { defineMsr } from "../msr.ts";
import type { MemoryHierarchy } from "./memory-hierarchy.ts";

export const IA32_PQR_ASSOC = 0xc8f;
export const IA32_L3_QOS_MASK_0 = 0xc90;
export const IA32_L2_QOS_MASK_0 = 0xd10;
/** Mask MSRs defined per level (CLOS 0..15). */
export const CAT_MASK_MSRS = 16;

const GP = 13;
const RMID_MASK = 0x3ff;

interface Attachment {
  readonly h: MemoryHierarchy;
  readonly id: number;
}

const attached = new WeakMap<CoreState, Attachment>();

/** Let the CAT MSRs of `core` reach hierarchy `h`, in which the core is number `id`. */
export function attachHierarchy(core: CoreState, h: MemoryHierarchy, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= h.coreCount) throw new RangeError(`attachHierarchy: core ${id} (0..${h.coreCount - 1})`);
  attached.set(core, { h, id });
}

export function detachHierarchy(core: CoreState): void {
  attached.delete(core);
}

function attachment(c: CoreState): Attachment {
  const a = attached.get(c);
  if (a === undefined) fault(GP, 0);
  return a;
}

defineMsr({
  index: IA32_PQR_ASSOC,
  name: "IA32_PQR_ASSOC",
  read: (c, stored, out) => {
    const a = attachment(c);
    out[0] = stored[0];
    out[1] = a.h.closOfCore(a.id);
  },
  write: (c, lo, hi, stored) => {
    const a = attachment(c);
    if ((lo & ~RMID_MASK) !== 0 || hi >= a.h.closCount) fault(GP, 0);
    a.h.setClos(a.id, hi);
    stored[0] = lo;
    stored[1] = hi;
  },
});

function defineMasks(level: "l2" | "l3", base: number): void {
  const prefix = level === "l2" ? "IA32_L2_QOS_MASK_" : "IA32_L3_QOS_MASK_";
  for (let n = 0; n < CAT_MASK_MSRS; n++) {
    const usable = (c: CoreState): Attachment => {
      const a = attachment(c);
      if (!a.h.hasLevel(level) || n >= a.h.closCount) fault(GP, 0);
      return a;
    };
    defineMsr({
      index: base + n,
      name: prefix + n,
      read: (c, _stored, out) => {
        const a = usable(c);
        out[0] = a.h.wayMask(level, n);
        out[1] = 0;
      },
      write: (c, lo, hi) => {
        const a = usable(c);
        if (hi !== 0 || !a.h.setWayMask(level, n, lo)) fault(GP, 0);
      },
    });
  }
}

defineMasks("l3", IA32_L3_QOS_MASK_0);
defineMasks("l2", IA32_L2_QOS_MASK_0);
