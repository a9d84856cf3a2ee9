/**
 * A core's fast-path filters over its L1 caches, two levels per L1 set: level 1 names the set's most
 * recently used line, level 2 the line that was MRU before it, so that the core can recognise an L1 hit
 * that changes no coherence state with one or two typed-array loads and skip MemoryHierarchy.access().
 * This is a simulator device, not hardware; the hierarchy keeps the entries exact (memory-hierarchy.ts),
 * following the MESI rule that a read hit in M, E or S and a write hit in M change no line state
 * (SDM Vol. 3A 11.4; a write hit to E or S does change it).
 *
 * Layout (one array per L1 and two adjacent entries per set, so a check and a swap touch one object
 * and one host cache line):
 * - dFilter[2 * set + level - 1] = (lineAddress << 6) | 63 while the line is valid in this core's L1D,
 *   Modified, and the set's MRU (level 1) / second-MRU (level 2) line; (lineAddress << 6) | 62 while it
 *   is valid but not Modified; 0 otherwise. So for an access at pa, a read hits a level when
 *   (entry | 1) === (pa | 63) and a write when entry === (pa | 63) (filter-check.ts).
 * - fetchFilter[2 * set + level - 1] = (lineAddress << 6) | 63 likewise for the L1I (no M state there).
 * An empty entry is 0, which never matches pa | 63.
 *
 * A hit in level 1 changes no replacement state (touching the MRU way again is a no-op under LRU and
 * tree-PLRU). A hit in level 2 does: the core swaps the set's two entries (the M state travels with its
 * line; filter-check.ts) and the model applies the one touch it missed only when it next looks at that
 * set (MemoryHierarchy's sync). So the true MRU line of a set is always the one in level 1.
 *
 * The core counts its filter hits in dFilterHits / iFilterHits; the statistics report them as L1 hits.
 *
 * Leaves out: a page-walk (ACCESS_WALK) filter; a walk that the core answers from the filters is counted
 * as an L1D hit but not as a walk access. More than two lines per set (a third hot line in a set goes
 * through access(), an L1 hit there).
 */
export class CoreCacheView {
  /** Two entries per L1D set (see the header). */
  readonly dFilter: Int32Array;
  /** Two entries per L1I set. */
  readonly fetchFilter: Int32Array;
  readonly dSetMask: number;
  readonly iSetMask: number;
  dFilterHits = 0;
  iFilterHits = 0;

  /** `dFilter` / `fetchFilter`: two entries per L1D / L1I set of this core (the hierarchy passes views
   * of its own arrays, which hold every core's entries at 2 * global set). */
  constructor(
    readonly core: number,
    dFilter: Int32Array,
    fetchFilter: Int32Array,
  ) {
    const dSets = dFilter.length >>> 1, iSets = fetchFilter.length >>> 1;
    if (dSets < 1 || iSets < 1 || (dSets & (dSets - 1)) !== 0 || (iSets & (iSets - 1)) !== 0 || (dFilter.length & 1) !== 0 || (fetchFilter.length & 1) !== 0) {
      throw new RangeError(`core ${core}: L1 set counts ${dSets}/${iSets} must be powers of two`);
    }
    this.dFilter = dFilter;
    this.fetchFilter = fetchFilter;
    this.dSetMask = dSets - 1;
    this.iSetMask = iSets - 1;
  }

  clear(): void {
    this.dFilter.fill(0);
    this.fetchFilter.fill(0);
  }
}
