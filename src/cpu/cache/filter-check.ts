/**
 * The core side of the two-level L1 filters (core-cache-view.ts): what a core does with an access before
 * it calls MemoryHierarchy.access(). The level-2 hit with its swap is here once, used by TimedCore (which
 * writes the one-line level-1 comparison inline in its fast paths, on its own reference to the view's
 * arrays), by the filter tests and by the cache-model bench (the view functions, level 1 included).
 * Follows the MESI rule the filters rest on (SDM Vol. 3A 11.4: a read hit in M/E/S and a write hit in M
 * change no line state); a simulator device, not hardware.
 *
 * `i` is the index of a set's level-1 entry: 2 * set, i.e. (pa >>> 5) & (setMask << 1); `tag` is pa | 63.
 * A level-1 hit is (f[i] | 1) === tag for a data read, f[i] === tag for a data write or a fetch; the
 * caller tests it inline. A hit in level 2 swaps the set's two entries (the M state travels with its
 * line), as access() would have after touching the line; the model catches up on the replacement
 * state later (MemoryHierarchy's sync).
 *
 * Leaves out: counting (the caller counts its hits), line-crossing accesses (the caller splits them).
 */
import type { CoreCacheView } from "./core-cache-view.ts";

/** A data read whose level-1 check missed: true, and the levels swapped, when level 2 holds the line. */
export function readHit2(f: Int32Array, i: number, tag: number): boolean {
  const e = f[i + 1];
  if ((e | 1) !== tag) return false;
  f[i + 1] = f[i];
  f[i] = e;
  return true;
}

/** A data write or a fetch whose level-1 check missed: true, and the levels swapped, when level 2 holds
 * the line (for a data write: Modified). */
export function writeHit2(f: Int32Array, i: number, tag: number): boolean {
  if (f[i + 1] !== tag) return false;
  f[i + 1] = f[i];
  f[i] = tag;
  return true;
}

/** The whole check for a data read (`write` false) or write of `pa` on `v`: true when the filters answer it. */
export function dataFilterHit(v: CoreCacheView, pa: number, write: boolean): boolean {
  const f = v.dFilter;
  const i = (pa >>> 5) & (v.dSetMask << 1);
  const tag = pa | 63;
  if (write) return f[i] === tag || writeHit2(f, i, tag);
  return (f[i] | 1) === tag || readHit2(f, i, tag);
}

/** The whole check for an instruction fetch of `pa` on `v`. */
export function fetchFilterHit(v: CoreCacheView, pa: number): boolean {
  const f = v.fetchFilter;
  const i = (pa >>> 5) & (v.iSetMask << 1);
  const tag = pa | 63;
  return f[i] === tag || writeHit2(f, i, tag);
}
