/**
 * A core's fast-path filters over its L1 caches: one entry per L1 set holding (lineAddress << 6) | 63 of
 * the set's most recently used line, so that the core can recognise an L1 hit that changes nothing (no
 * replacement state, no coherence state) with one typed-array load and skip MemoryHierarchy.access().
 * This is a simulator device, not hardware; the hierarchy keeps the entries exact (memory-hierarchy.ts):
 *
 * - readFilter[set] === pa | 63 only while the line is valid in this core's L1D and is the MRU way of its
 *   set (SDM Vol. 3A 11.4: a read hit in any MESI state other than I changes no state);
 * - writeFilter[set] only while the line is also Modified (a write hit to M changes no state; to E or S it
 *   does: the MESI transitions of SDM Vol. 3A 11.4);
 * - fetchFilter[set] likewise for the L1I.
 *
 * An empty entry is 0, which never equals pa | 63. The core counts its filter hits in dFilterHits /
 * iFilterHits; the statistics report them as L1 hits.
 *
 * Leaves out: a page-walk (ACCESS_WALK) filter; a walk that the core answers from readFilter is counted
 * as an L1D hit but not as a walk access.
 */
export class CoreCacheView {
  readonly readFilter: Int32Array;
  readonly writeFilter: Int32Array;
  readonly fetchFilter: Int32Array;
  readonly dSetMask: number;
  readonly iSetMask: number;
  dFilterHits = 0;
  iFilterHits = 0;

  constructor(
    readonly core: number,
    dSets: number,
    iSets: number,
  ) {
    if ((dSets & (dSets - 1)) !== 0 || (iSets & (iSets - 1)) !== 0) {
      throw new RangeError(`core ${core}: L1 set counts ${dSets}/${iSets} must be powers of two`);
    }
    this.readFilter = new Int32Array(dSets);
    this.writeFilter = new Int32Array(dSets);
    this.fetchFilter = new Int32Array(iSets);
    this.dSetMask = dSets - 1;
    this.iSetMask = iSets - 1;
  }

  clear(): void {
    this.readFilter.fill(0);
    this.writeFilter.fill(0);
    this.fetchFilter.fill(0);
  }
}
