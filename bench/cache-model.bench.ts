/**
 * Speed of the cache timing model (src/cpu/cache): MemoryHierarchy.access() calls per second of host
 * time on pre-generated random traces (seeded, so the same every run), 4 cores, two geometries:
 * - "skylake": L1I/L1D 32 KiB 8-way, private L2 256 KiB 4-way, inclusive L3 8 MiB 16-way in 4 slices;
 * - "core2": L1I/L1D 32 KiB 8-way, L2 4 MiB 16-way shared per pair, no L3.
 * Traces: (a) uniform over 256 MiB (nearly every access misses everything: the slow path, with snoops,
 * fills, evictions and back-invalidations), (b) uniform over 1 MiB per core (L1 misses that hit L2/L3),
 * (b2) uniform over 16 KiB per core (L1 hits that are not the MRU line of their set: the cheapest call),
 * (c) what a core does: the filter check first (both levels, filter-check.ts), access() only on a filter
 * miss, with 90% of accesses to the previous line or the next one, and (c2) the same on the interpreter
 * bench's loop: per core, a read of one line and a write of the line 4 KiB above it (the same L1 set),
 * in turn, 16 times per pair, walking down 64 pairs (reported as accesses per second, filter hits
 * included).
 *
 * Time is this process's CPU time (process.cpuUsage), not wall time, so other processes sharing the
 * machine inflate the figures less.
 *
 * Run: npx tsx bench/cache-model.bench.ts   (CACHE_BENCH_N=N accesses per trace; default 2,000,000)
 */
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, MemoryHierarchy, type HierarchyProfile } from "../src/cpu/cache/memory-hierarchy.ts";
import { dataFilterHit, fetchFilterHit } from "../src/cpu/cache/filter-check.ts";
import type { CacheGeometry } from "../src/cpu/profile.ts";
import { Rng } from "../src/sim/rng.ts";

const N = Number(process.env.CACHE_BENCH_N ?? 2_000_000);
const CORES = 4;

const g = (sizeBytes: number, ways: number, latencyCycles: number, sharedBy = 1, slices = 1, replacement: "lru" | "tree-plru" = "tree-plru"): CacheGeometry => ({
  sizeBytes, ways, lineBytes: 64, latencyCycles, replacement, sharedBy, slices,
});

const profiles: Record<string, HierarchyProfile> = {
  skylake: {
    caches: { l1i: g(32 << 10, 8, 4), l1d: g(32 << 10, 8, 4), l2: g(256 << 10, 4, 12), l3: g(8 << 20, 16, 42, 0, 4) },
    memoryLatencyCycles: 250,
    crossCoreTransferCycles: 70,
  },
  core2: {
    caches: { l1i: g(32 << 10, 8, 3), l1d: g(32 << 10, 8, 3), l2: g(4 << 20, 16, 14, 2, 1, "lru"), l3: null },
    memoryLatencyCycles: 230,
    crossCoreTransferCycles: 100,
  },
};

interface Trace {
  pa: Uint32Array;
  kind: Uint8Array;
  core: Uint8Array;
}

function trace(label: string, next: (rng: Rng, core: number, prev: number) => number): Trace {
  const rng = new Rng(42).fork(label);
  const t: Trace = { pa: new Uint32Array(N), kind: new Uint8Array(N), core: new Uint8Array(N) };
  const prev = new Array<number>(CORES).fill(0);
  for (let k = 0; k < N; k++) {
    const c = rng.int(0, CORES - 1);
    const pa = next(rng, c, prev[c]) >>> 0;
    prev[c] = pa;
    const r = rng.int(0, 9);
    t.pa[k] = pa;
    t.core[k] = c;
    t.kind[k] = r < 6 ? ACCESS_READ : r < 8 ? ACCESS_WRITE : ACCESS_FETCH;
  }
  return t;
}

/** (c2): core k (in turn, 64 accesses each) reads A[i] and writes A[i + 1024] (4-byte elements, i going down). */
function pairTrace(): Trace {
  const t: Trace = { pa: new Uint32Array(N), kind: new Uint8Array(N), core: new Uint8Array(N) };
  const i = new Array<number>(CORES).fill(0);
  for (let k = 0; k < N; k++) {
    const c = (k >>> 6) % CORES;
    const base = c * (1 << 20);
    const write = (k & 1) === 1;
    t.core[k] = c;
    t.kind[k] = write ? ACCESS_WRITE : ACCESS_READ;
    t.pa[k] = base + 4 * (1023 - i[c]) + (write ? 4096 : 0);
    if (write) i[c] = (i[c] + 1) & 1023;
  }
  return t;
}

const traces: Record<string, Trace> = {
  "(a) uniform over 256 MiB": trace("a", (rng) => rng.int(0, (256 << 20) - 1)),
  "(b) uniform over 1 MiB per core": trace("b", (rng, c) => c * (1 << 20) + rng.int(0, (1 << 20) - 1)),
  "(b2) uniform over 16 KiB per core (L1 hits, rarely MRU)": trace("b2", (rng, c) => c * (1 << 20) + rng.int(0, (16 << 10) - 1)),
  "(c) core-like: 90% same/next line, filter first": trace("c", (rng, c, prev) => {
    const r = rng.int(0, 9);
    if (r < 7) return prev;
    if (r < 9) return prev + 64;
    return c * (4 << 20) + rng.int(0, (4 << 20) - 1);
  }),
  "(c2) bench loop: read A[i], write A[i+1024], filter first": pairTrace(),
};

function runPlain(h: MemoryHierarchy, t: Trace): number {
  let cycles = 0;
  const { pa, kind, core } = t;
  for (let k = 0; k < N; k++) cycles += h.access(core[k], pa[k], kind[k]);
  return cycles;
}

// Module-local bindings (an imported binding is a getter call under tsx).
const dataHit = dataFilterHit, fetchHit = fetchFilterHit;

function runFiltered(h: MemoryHierarchy, t: Trace): number {
  let cycles = 0;
  const { pa, kind, core } = t;
  const views = h.views;
  for (let k = 0; k < N; k++) {
    const c = core[k], p = pa[k] | 0, kd = kind[k];
    const v = views[c];
    if (kd === 2) {
      if (fetchHit(v, p)) { v.iFilterHits++; continue; }
    } else if (dataHit(v, p, kd === 1)) { v.dFilterHits++; continue; }
    cycles += h.access(c, p >>> 0, kd);
  }
  return cycles;
}

for (const [pname, prof] of Object.entries(profiles)) {
  for (const [tname, t] of Object.entries(traces)) {
    const filtered = tname.startsWith("(c");
    const samples: number[] = [];
    let calls = 0;
    for (let rep = 0; rep < 4; rep++) {
      const h = new MemoryHierarchy(prof, CORES);
      const t0 = process.cpuUsage();
      filtered ? runFiltered(h, t) : runPlain(h, t);
      const u = process.cpuUsage(t0);
      const dt = (u.user + u.system) / 1e6;
      if (rep > 0) samples.push(N / dt); // the first run warms up the JIT
      calls = N - h.views.reduce((a, v) => a + v.dFilterHits + v.iFilterHits, 0);
    }
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const spread = (Math.max(...samples) - Math.min(...samples)) / 2 / mean;
    console.log(
      `${pname.padEnd(8)} ${tname.padEnd(50)} ${(mean / 1e6).toFixed(2).padStart(7)} M accesses/s ±${(spread * 100).toFixed(1)}%` +
        (filtered ? `  (access() called for ${((calls / N) * 100).toFixed(1)}%)` : ""),
    );
  }
}
