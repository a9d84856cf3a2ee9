/**
 * One level of the cache hierarchy (all its instances: one per core for L1, one per pair of cores or one
 * for the package for L2/L3) as a timing model: tags, line state, filling owner and replacement state in
 * typed arrays; the data lives in RAM. Follows the set-associative organisation of SDM Vol. 3A 11.1
 * (Table 11-1 lists the line size and associativity of Intel caches) and the profile's CacheGeometry.
 *
 * Layout: a line address (pa >>> 6) maps to a global set number
 *     set = ((instance * slices + slice) << setBits) + (line & setMask)
 * and a set's ways are the entries set * ways ... set * ways + ways - 1 of `tags`, `state`, `owner`, `rank`.
 *
 * Slices (Intel's optimization manual describes the sliced LLC of Sandy Bridge and later; Intel's hash
 * is not published): the slice is an XOR-fold of the line-address bits above the set index into
 * log2(slices) bits; for a slice count that is not a power of two, into 8 bits h, and the slice is
 * (h * slices) >> 8 (shares within 1/256 of even). The set within the slice is the ordinary index
 * bits, so page colours (the index bits above the 4 KiB page offset) keep their meaning in every slice.
 *
 * Replacement, per level:
 * - "lru": true LRU with an age per way (0 = most recently used);
 * - "tree-plru": the binary-tree pseudo-LRU of Intel caches as the Intel486 datasheet describes it
 *   (section "Cache Replacement", bits B0..B2 for 4 ways) generalised to a tree of ways - 1 bits: on an
 *   access every node on the way's path is pointed away from it; the victim is found by following the
 *   bits from the root (a bit of 1 means "go right"). For a way count that is not a power of two the tree
 *   has the next power of two of leaves and the walk never enters a subtree without an allowed way; the
 *   same rule keeps the walk inside a CAT way mask.
 * An invalid way among the allowed ones is always filled first (lowest index), before either policy.
 *
 * `mru[set]` is the way touched last (255: none). Touching it again changes no replacement state under
 * either policy, which is what the cores' fast-path filters rely on (core-cache-view.ts). `mru2[set]` is
 * the way that was `mru` before it (255: none): touch() sets it when it moves `mru` to another way. With
 * two ways x, y touched in turn, the state after "... x y x y" equals the state after "... x y" under
 * both policies (each touch sets only the ranks / tree bits of its own way relative to the other), which
 * lets the cores' second filter level defer one touch (memory-hierarchy.ts, sync). mru2 may name a way
 * that has since become invalid; the filters check the way's state.
 *
 * Leaves out: adaptive/insertion policies of newer LLCs (Ivy Bridge's DRRIP-like set dueling), victim
 * caches, sectored lines, and line sizes other than 64 bytes (every Intel cache since the Pentium 4).
 */
import type { CacheGeometry } from "../profile.ts";
import { allWaysMask } from "./way-mask.ts";

/** Line state. L1D uses the MESI states; the other levels use INVALID, CLEAN (= SHARED) and DIRTY (= MODIFIED). */
export const INVALID = 0, SHARED = 1, EXCLUSIVE = 2, MODIFIED = 3;

/** Replacement policy numbers. */
export const POLICY_LRU = 0, POLICY_PLRU = 1;

export const LINE_BYTES = 64;
export const LINE_SHIFT = 6;
const NO_WAY = 255;

function log2Exact(n: number): number {
  const b = 31 - Math.clz32(n);
  return (1 << b) === n ? b : -1;
}

export class CacheLevel {
  readonly ways: number;
  readonly instances: number;
  readonly slices: number;
  readonly setsPerSlice: number;
  readonly setBits: number;
  readonly setMask: number;
  readonly latencyCycles: number;
  readonly policy: number;
  /** All ways of a set, as a mask. */
  readonly allWays: number;
  /** Sets per instance (all slices). */
  readonly setsPerInstance: number;
  readonly totalSets: number;
  /** Line address (pa >>> 6) per entry, -1 when invalid. */
  readonly tags: Int32Array;
  readonly state: Uint8Array;
  /** Owner id of the core that filled the line. */
  readonly owner: Uint8Array;
  /** LRU age per entry (LRU levels only; a permutation of 0..ways-1 in every set). */
  readonly rank: Uint8Array;
  /** Tree-PLRU bits per set: bit k is node k of the heap-numbered tree (root 1). */
  readonly plru: Int32Array;
  /** Way touched last, per set (255 = none). */
  readonly mru: Uint8Array;
  /** The way that was `mru` before the current one, per set (255 = none). */
  readonly mru2: Uint8Array;
  private readonly treeDepth: number;
  /** Ways below each tree node, as a mask (heap-numbered, leaves at leafBase + way). */
  private readonly subtree: Int32Array;
  private readonly sliceFoldBits: number;
  private readonly sliceFoldMask: number;
  private readonly slicesPow2: boolean;

  constructor(
    readonly name: string,
    g: CacheGeometry,
    instances: number,
  ) {
    const where = `cache ${name}`;
    if (g.lineBytes !== LINE_BYTES) throw new RangeError(`${where}: line size ${g.lineBytes} B, the model needs 64 B lines`);
    if (!Number.isInteger(g.ways) || g.ways < 1 || g.ways > 32) throw new RangeError(`${where}: ${g.ways} ways (1..32)`);
    const slices = g.slices ?? 1;
    if (!Number.isInteger(slices) || slices < 1) throw new RangeError(`${where}: ${slices} slices`);
    const sets = g.sizeBytes / (g.ways * LINE_BYTES);
    if (!Number.isInteger(sets) || sets < 1) throw new RangeError(`${where}: ${g.sizeBytes} B is not a whole number of ${g.ways}-way sets of 64 B`);
    const setsPerSlice = sets / slices;
    const setBits = log2Exact(setsPerSlice);
    if (!Number.isInteger(setsPerSlice) || setBits < 0) {
      throw new RangeError(`${where}: ${sets} sets in ${slices} slices: sets per slice must be a power of two`);
    }
    if (g.replacement !== "lru" && g.replacement !== "tree-plru") throw new RangeError(`${where}: replacement '${g.replacement as string}'`);
    this.ways = g.ways;
    this.instances = instances;
    this.slices = slices;
    this.setsPerSlice = setsPerSlice;
    this.setBits = setBits;
    this.setMask = setsPerSlice - 1;
    this.latencyCycles = g.latencyCycles;
    this.policy = g.replacement === "lru" ? POLICY_LRU : POLICY_PLRU;
    this.allWays = allWaysMask(g.ways) | 0;
    this.setsPerInstance = sets;
    this.totalSets = sets * instances;
    const entries = this.totalSets * g.ways;
    this.tags = new Int32Array(entries).fill(-1);
    this.state = new Uint8Array(entries);
    this.owner = new Uint8Array(entries);
    this.rank = new Uint8Array(this.policy === POLICY_LRU ? entries : 0);
    for (let e = 0; e < this.rank.length; e++) this.rank[e] = e % g.ways;
    this.plru = new Int32Array(this.policy === POLICY_PLRU ? this.totalSets : 0);
    this.mru = new Uint8Array(this.totalSets).fill(NO_WAY);
    this.mru2 = new Uint8Array(this.totalSets).fill(NO_WAY);
    let depth = 0;
    while (1 << depth < g.ways) depth++;
    this.treeDepth = depth;
    const leafBase = 1 << depth;
    this.subtree = new Int32Array(2 * leafBase);
    for (let w = 0; w < leafBase; w++) this.subtree[leafBase + w] = w < g.ways ? 1 << w : 0;
    for (let n = leafBase - 1; n >= 1; n--) this.subtree[n] = this.subtree[2 * n] | this.subtree[2 * n + 1];
    let fold = 0;
    while (1 << fold < slices) fold++;
    this.slicesPow2 = 1 << fold === slices;
    // A slice count that is not a power of two: fold into 8 bits and scale to the count.
    if (!this.slicesPow2) fold = 8;
    this.sliceFoldBits = fold;
    this.sliceFoldMask = (1 << fold) - 1;
  }

  /** The slice of a line (XOR-fold of the bits above the set index; see the header). */
  sliceOf(line: number): number {
    if (this.slices === 1) return 0;
    let x = line >>> this.setBits;
    const bits = this.sliceFoldBits, mask = this.sliceFoldMask;
    let h = 0;
    if ((bits & (bits - 1)) === 0) {
      // The XOR of all aligned `bits`-wide chunks, by halving (chunk widths that divide 32).
      if (bits < 32) x ^= x >>> 16;
      if (bits < 16) x ^= x >>> 8;
      if (bits < 8) x ^= x >>> 4;
      if (bits < 4) x ^= x >>> 2;
      if (bits < 2) x ^= x >>> 1;
      h = x & mask;
    } else {
      while (x !== 0) {
        h ^= x & mask;
        x >>>= bits;
      }
    }
    return this.slicesPow2 ? h : (h * this.slices) >>> 8;
  }

  /** Global set number of `line` in instance `inst`. */
  setOf(inst: number, line: number): number {
    const slice = this.slices === 1 ? 0 : this.sliceOf(line);
    return ((inst * this.slices + slice) << this.setBits) + (line & this.setMask);
  }

  /** The way of `set` holding `line`, or -1. */
  find(set: number, line: number): number {
    const tags = this.tags;
    const base = set * this.ways;
    for (let w = 0; w < this.ways; w++) if (tags[base + w] === line) return w;
    return -1;
  }

  /** Record an access to `way` of `set` in the replacement state. */
  touch(set: number, way: number): void {
    const m = this.mru[set];
    if (m !== way) {
      this.mru2[set] = m;
      this.mru[set] = way;
    }
    if (this.policy === POLICY_LRU) {
      const rank = this.rank;
      const base = set * this.ways;
      const r = rank[base + way];
      if (r === 0) return;
      for (let w = 0; w < this.ways; w++) if (rank[base + w] < r) rank[base + w]++;
      rank[base + way] = 0;
    } else {
      let bits = this.plru[set];
      let node = 1;
      for (let d = this.treeDepth - 1; d >= 0; d--) {
        const dir = (way >>> d) & 1;
        // Point the node away from the accessed side: 1 = the victim is on the right.
        if (dir === 0) bits |= 1 << node;
        else bits &= ~(1 << node);
        node = 2 * node + dir;
      }
      this.plru[set] = bits;
    }
  }

  /** The way to fill in `set` among the ways of `allowed` (a non-empty subset of allWays). */
  victim(set: number, allowed: number): number {
    const base = set * this.ways;
    const state = this.state;
    for (let w = 0; w < this.ways; w++) if ((allowed & (1 << w)) !== 0 && state[base + w] === INVALID) return w;
    if (this.policy === POLICY_LRU) {
      const rank = this.rank;
      let best = -1, bestRank = -1;
      for (let w = 0; w < this.ways; w++) {
        if ((allowed & (1 << w)) !== 0 && rank[base + w] > bestRank) {
          bestRank = rank[base + w];
          best = w;
        }
      }
      return best;
    }
    const bits = this.plru[set];
    const subtree = this.subtree;
    let node = 1;
    for (let d = 0; d < this.treeDepth; d++) {
      let dir = (bits >>> node) & 1;
      if ((subtree[2 * node + dir] & allowed) === 0) dir ^= 1;
      node = 2 * node + dir;
    }
    return node - (1 << this.treeDepth);
  }

  /** Whether `way` of `set` is the one touched last. */
  isMru(set: number, way: number): boolean {
    return this.mru[set] === way;
  }
}
