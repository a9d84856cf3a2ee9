/**
 * A core's fast-path filters over its L1 caches, two levels per L1 set: level 1 holds
 * (lineAddress << 6) | 63 of the set's most recently used line, level 2 that of the line that was MRU
 * before it, so that the core can recognise an L1 hit that changes no coherence state with one or two
 * typed-array loads and skip MemoryHierarchy.access(). This is a simulator device, not hardware; the
 * hierarchy keeps the entries exact (memory-hierarchy.ts), following the MESI rule that a read hit in
 * M, E or S and a write hit in M change no line state (SDM Vol. 3A 11.4):
 *
 * - readFilter[set] / readFilter2[set] === pa | 63 only while the line is valid in this core's L1D and is
 *   the set's MRU / second-MRU line;
 * - writeFilter[set] / writeFilter2[set] only while that line is also Modified (a write hit to E or S
 *   changes its state: the MESI transitions of SDM Vol. 3A 11.4);
 * - fetchFilter[set] / fetchFilter2[set] likewise for the L1I.
 *
 * A hit in level 1 changes no replacement state (touching the MRU way again is a no-op under LRU and
 * tree-PLRU). A hit in level 2 does: the core swaps the set's two levels (read and write entries
 * together: the M state travels with its line; filter-check.ts) and the model applies the one touch it
 * missed only when it next looks at that set (MemoryHierarchy's sync). So the true MRU line of a set is
 * always the one in level 1.
 *
 * An empty entry is 0, which never equals pa | 63. The core counts its filter hits in dFilterHits /
 * iFilterHits; the statistics report them as L1 hits.
 *
 * Leaves out: a page-walk (ACCESS_WALK) filter; a walk that the core answers from the read filters is
 * counted as an L1D hit but not as a walk access. More than two lines per set (a third hot line in a set
 * goes through access(), an L1 hit there).
 */
export class CoreCacheView {
  readonly readFilter: Int32Array;
  readonly writeFilter: Int32Array;
  readonly fetchFilter: Int32Array;
  readonly readFilter2: Int32Array;
  readonly writeFilter2: Int32Array;
  readonly fetchFilter2: Int32Array;
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
    this.readFilter2 = new Int32Array(dSets);
    this.writeFilter2 = new Int32Array(dSets);
    this.fetchFilter2 = new Int32Array(iSets);
    this.dSetMask = dSets - 1;
    this.iSetMask = iSets - 1;
  }

  clear(): void {
    this.readFilter.fill(0);
    this.writeFilter.fill(0);
    this.fetchFilter.fill(0);
    this.readFilter2.fill(0);
    this.writeFilter2.fill(0);
    this.fetchFilter2.fill(0);
  }
}
