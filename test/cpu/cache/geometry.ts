/**
 * Test helper: small cache geometries and hierarchy profiles whose set counts, latencies and page
 * colours are easy to compute by hand in the tests' comments. Not a reference itself.
 */
import type { CacheGeometry, Replacement } from "../../../src/cpu/profile.ts";
import type { HierarchyProfile } from "../../../src/cpu/cache/memory-hierarchy.ts";

export function cache(
  sizeBytes: number,
  ways: number,
  latencyCycles: number,
  opts: { replacement?: Replacement; sharedBy?: number; slices?: number } = {},
): CacheGeometry {
  return {
    sizeBytes,
    ways,
    lineBytes: 64,
    latencyCycles,
    replacement: opts.replacement ?? "lru",
    sharedBy: opts.sharedBy ?? 1,
    slices: opts.slices ?? 1,
  };
}

export interface Shape {
  l1i?: CacheGeometry;
  l1d?: CacheGeometry;
  l2?: CacheGeometry;
  l3?: CacheGeometry | null;
  memoryLatencyCycles?: number;
  crossCoreTransferCycles?: number;
}

/** Latencies used throughout: L1 4, L2 12, L3 40, memory 200, transfer 60 cycles. */
export const LAT = { l1: 4, l2: 12, l3: 40, mem: 200, transfer: 60 } as const;

export function profile(s: Shape = {}): HierarchyProfile {
  return {
    caches: {
      l1i: s.l1i ?? cache(1024, 2, LAT.l1),
      l1d: s.l1d ?? cache(1024, 2, LAT.l1),
      l2: s.l2 ?? cache(64 * 1024, 8, LAT.l2, { sharedBy: 0 }),
      l3: s.l3 === undefined ? null : s.l3,
    },
    memoryLatencyCycles: s.memoryLatencyCycles ?? LAT.mem,
    crossCoreTransferCycles: s.crossCoreTransferCycles ?? LAT.transfer,
  };
}

/** Physical address of line number `line`. */
export const lineAddr = (line: number): number => line * 64;
