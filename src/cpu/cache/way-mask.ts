/**
 * Capacity bit masks (way masks) of Intel Cache Allocation Technology: which ways of a shared cache a
 * class of service may fill. SDM Vol. 3B 17.19.4.2 (Cache Mask Configuration): a mask must have only
 * contiguous 1 bits and at least one of them, within the CBM length (CPUID.(EAX=10H,ECX=ResID):EAX[4:0]+1,
 * here the number of ways of the level); any other value written to IA32_L3_QOS_MASK_n or
 * IA32_L2_QOS_MASK_n raises #GP(0).
 *
 * Leaves out: processors that require a minimum number of set bits (some Haswell server parts need 2);
 * this model accepts a single way.
 */

/** The all-ways mask of a level with `ways` ways (1..32), as an unsigned 32-bit number. */
export function allWaysMask(ways: number): number {
  return ways >= 32 ? 0xffffffff : ((1 << ways) - 1) >>> 0;
}

/** Whether `mask` is a legal capacity bit mask for a level with `ways` ways (non-zero, contiguous, in range). */
export function isLegalWayMask(mask: number, ways: number): boolean {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) return false;
  const m = mask >>> 0;
  if (m === 0) return false;
  if ((m & ~allWaysMask(ways)) !== 0) return false;
  // Strip the trailing zeros; what is left must be of the form 0...01...1.
  const low = (m & -m) >>> 0;
  const shifted = m / low; // exact: low is a power of two dividing m
  return ((shifted + 1) & shifted) === 0 || shifted === 0xffffffff;
}
