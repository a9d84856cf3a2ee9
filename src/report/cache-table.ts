/**
 * Cache hits and misses per partition and level (results.ts CacheResults: the accesses of the partition's
 * cores to L1D, L1I, L2 and, when the profile has one, L3), with the miss ratio misses / (hits + misses)
 * in percent (Hennessy & Patterson, "Computer Architecture", Appendix B: miss rate). Layout: our own
 * (text-columns.ts).
 *
 * Leaves out: occupancy, evictions by other owners, per-core split (results.ts has them per partition).
 */
import type { RunResults } from "../scenario/results.ts";
import { columnTable } from "./text-columns.ts";
import { fixed } from "./printf.ts";

/** Miss ratio in percent (0 without accesses). */
export function missPercent(hits: number, misses: number): number {
  const all = hits + misses;
  return all === 0 ? 0 : (misses / all) * 100;
}

/** Lines of the cache table over all partitions. */
export function cacheTable(r: RunResults): string[] {
  const rows: string[][] = [];
  for (const p of r.partitions) {
    const levels: [string, { hits: number; misses: number } | null][] = [
      ["L1D", p.cache.l1d],
      ["L1I", p.cache.l1i],
      ["L2", p.cache.l2],
      ["L3", p.cache.l3],
    ];
    for (const [name, c] of levels) {
      if (c === null) continue;
      rows.push([p.name, name, String(c.hits), String(c.misses), fixed(missPercent(c.hits, c.misses), 2)]);
    }
  }
  if (rows.length === 0) return ["  (no partitions)"];
  return columnTable(
      [
        { header: "Partition", align: "left" },
        { header: "Level", align: "left" },
        { header: "Hits", align: "right" },
        { header: "Misses", align: "right" },
        { header: "Miss%", align: "right" },
      ],
    rows,
  );
}
