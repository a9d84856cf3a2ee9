/**
 * The core side of the two-level L1 filters (core-cache-view.ts): what a core does with an access before
 * it calls MemoryHierarchy.access(). One copy of the logic, used by TimedCore (the array functions, on
 * its own copies of the view's arrays), by the filter tests and by the cache-model bench (the view
 * functions). Follows the MESI rule the filters rest on (SDM Vol. 3A 11.4: a read hit in M/E/S and a
 * write hit in M change no line state); a simulator device, not hardware.
 *
 * A hit in level 2 swaps the set's level-1 and level-2 entries, read and write entries together (the M
 * state travels with its line), as access() would have after touching the line; the model catches up
 * on the replacement state later (MemoryHierarchy's sync).
 *
 * Leaves out: counting (the caller counts its hits), line-crossing accesses (the caller splits them).
 */
import type { CoreCacheView } from "./core-cache-view.ts";

/** A read whose level-1 check missed: true (and the set's levels swapped) when level 2 holds `tag`. */
export function readHit2(rf: Int32Array, rf2: Int32Array, wf: Int32Array, wf2: Int32Array, s: number, tag: number): boolean {
  if (rf2[s] !== tag) return false;
  rf2[s] = rf[s];
  rf[s] = tag;
  const w = wf[s];
  wf[s] = wf2[s];
  wf2[s] = w;
  return true;
}

/** A write whose level-1 check missed: true (and the levels swapped) when level 2 holds `tag` Modified. */
export function writeHit2(rf: Int32Array, rf2: Int32Array, wf: Int32Array, wf2: Int32Array, s: number, tag: number): boolean {
  if (wf2[s] !== tag) return false;
  wf2[s] = wf[s];
  wf[s] = tag;
  const r = rf[s];
  rf[s] = rf2[s];
  rf2[s] = r;
  return true;
}

/** An instruction fetch whose level-1 check missed: true (and the levels swapped) when level 2 holds `tag`. */
export function fetchHit2(ff: Int32Array, ff2: Int32Array, s: number, tag: number): boolean {
  if (ff2[s] !== tag) return false;
  ff2[s] = ff[s];
  ff[s] = tag;
  return true;
}

/** The whole check for a data read (`write` false) or write of `pa` on `v`: true when the filters answer it. */
export function dataFilterHit(v: CoreCacheView, pa: number, write: boolean): boolean {
  const s = (pa >>> 6) & v.dSetMask;
  const tag = pa | 63;
  if (write) return v.writeFilter[s] === tag || writeHit2(v.readFilter, v.readFilter2, v.writeFilter, v.writeFilter2, s, tag);
  return v.readFilter[s] === tag || readHit2(v.readFilter, v.readFilter2, v.writeFilter, v.writeFilter2, s, tag);
}

/** The whole check for an instruction fetch of `pa` on `v`. */
export function fetchFilterHit(v: CoreCacheView, pa: number): boolean {
  const s = (pa >>> 6) & v.iSetMask;
  const tag = pa | 63;
  return v.fetchFilter[s] === tag || fetchHit2(v.fetchFilter, v.fetchFilter2, s, tag);
}
