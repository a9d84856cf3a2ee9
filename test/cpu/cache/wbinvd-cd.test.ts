/**
 * WBINVD, INVD and CR0.CD.
 *
 * References: SDM Vol. 2 WBINVD ("writes back all modified cache lines in the processor's internal cache
 * to main memory and invalidates the internal caches", shared caches included) and INVD ("invalidates
 * ... without writing back modified lines": the data would be lost on hardware; here RAM already has it),
 * SDM Vol. 3A 11.5.3 Table 11-5 (CD = 1, NW = 0, "no-fill cache mode": read hits access the cache, read
 * misses do not cause replacement, write hits update the cache, write misses access memory).
 * Costs per the hierarchy's documented defaults: WBINVD 2000 + 16 per dirty line, INVD 2000.
 * Latencies (geometry.ts): L1 4, L2 12, L3 40, memory 200.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_READ, ACCESS_WRITE, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { MODIFIED } from "../../../src/cpu/cache/cache-level.ts";
import { cache, LAT, profile } from "./geometry.ts";

const MEM = LAT.mem - LAT.l1;
const L2 = LAT.l2 - LAT.l1;
const [A, B, C, D] = [0x1000, 0x2040, 0x3080, 0x40c0];

const pair = () => new MemoryHierarchy(profile({ l1d: cache(4096, 2, LAT.l1), l2: cache(64 * 1024, 8, LAT.l2, { sharedBy: 2 }) }), 2);
const inclusive = () =>
  new MemoryHierarchy(profile({ l1d: cache(4096, 2, LAT.l1), l2: cache(16 * 1024, 4, LAT.l2), l3: cache(128 * 1024, 8, LAT.l3, { sharedBy: 0 }) }), 2);

describe("WBINVD", () => {
  it("writes back the dirty lines, invalidates, and costs 2000 + 16 per dirty line", () => {
    const h = pair();
    h.access(0, A, ACCESS_WRITE);
    h.access(0, B, ACCESS_WRITE);
    h.access(0, C, ACCESS_WRITE);
    h.access(0, D, ACCESS_READ);
    expect(h.wbinvd(0)).toBe(2000 + 3 * 16);
    for (const pa of [A, B, C, D]) for (const lv of ["l1d", "l2"] as const) expect(h.probe(0, lv, pa)).toBeNull();
    expect(h.stats().cores[0].l1d.writebacks).toBe(3);
    // Everything comes from memory again.
    expect(h.access(0, A, ACCESS_READ)).toBe(MEM);
    // Nothing dirty left: a second WBINVD costs the fixed part only.
    expect(h.wbinvd(0)).toBe(2000);
  });

  it("a dirty line in the L2 counts once", () => {
    const h = pair();
    h.access(0, A, ACCESS_WRITE);
    h.access(0, A + 2048, ACCESS_READ);
    h.access(0, A + 4096, ACCESS_READ); // A leaves the 2-way L1D set, dirty into the L2
    expect(h.probe(0, "l2", A)?.state).toBe(MODIFIED);
    expect(h.wbinvd(0)).toBe(2000 + 16);
  });

  it("under a shared non-inclusive L2, another core's L1 keeps its lines", () => {
    const h = pair();
    h.access(1, B, ACCESS_WRITE);
    h.access(0, A, ACCESS_WRITE);
    expect(h.wbinvd(0)).toBe(2000 + 16);
    expect(h.probe(1, "l1d", B)?.state).toBe(MODIFIED);
    expect(h.probe(1, "l2", B)).toBeNull(); // the shared L2 instance was flushed
  });

  it("an inclusive L3 takes every sharing core's private caches along", () => {
    const h = inclusive();
    h.access(1, B, ACCESS_WRITE);
    h.access(0, A, ACCESS_WRITE);
    expect(h.wbinvd(0)).toBe(2000 + 2 * 16);
    expect(h.probe(1, "l1d", B)).toBeNull();
    expect(h.probe(0, "l3", A)).toBeNull();
    expect(h.views[1].dFilter.every((x) => x === 0)).toBe(true);
  });
});

describe("INVD", () => {
  it("invalidates the same caches without writing back; costs 2000 whatever is dirty", () => {
    const h = pair();
    h.access(0, A, ACCESS_WRITE);
    h.access(0, B, ACCESS_WRITE);
    expect(h.invd(0)).toBe(2000);
    expect(h.probe(0, "l1d", A)).toBeNull();
    expect(h.probe(0, "l2", B)).toBeNull();
    expect(h.stats().cores[0].l1d.writebacks).toBe(0);
    expect(h.access(0, A, ACCESS_READ)).toBe(MEM);
  });
});

describe("CR0.CD = 1 (no-fill mode, SDM Table 11-5)", () => {
  it("serves hits, does not allocate on misses, and fills again once CD is clear", () => {
    const h = pair();
    h.access(0, A, ACCESS_READ); // cached before CD
    h.access(0, B, ACCESS_READ);
    h.access(0, B + 2048, ACCESS_READ);
    h.access(0, B + 4096, ACCESS_READ); // B now only in the L2
    h.setCacheDisabled(0, true);
    expect(h.access(0, A, ACCESS_READ)).toBe(0); // L1 hit
    expect(h.access(0, B, ACCESS_READ)).toBe(L2); // L2 hit, no L1 fill
    expect(h.probe(0, "l1d", B)).toBeNull();
    expect(h.access(0, C, ACCESS_READ)).toBe(MEM); // miss: memory, no allocation anywhere
    expect(h.access(0, C, ACCESS_READ)).toBe(MEM);
    expect(h.probe(0, "l1d", C)).toBeNull();
    expect(h.probe(0, "l2", C)).toBeNull();
    expect(h.access(0, D, ACCESS_WRITE)).toBe(MEM); // write miss: to memory, no allocation
    expect(h.probe(0, "l1d", D)).toBeNull();
    // A write that misses L1 but hits the L2 updates the L2 line.
    expect(h.access(0, B, ACCESS_WRITE)).toBe(L2);
    expect(h.probe(0, "l2", B)?.state).toBe(MODIFIED);
    // Another core is not affected.
    h.access(1, C, ACCESS_READ);
    expect(h.probe(1, "l1d", C)).not.toBeNull();
    h.setCacheDisabled(0, false);
    h.access(0, D, ACCESS_READ);
    expect(h.access(0, D, ACCESS_READ)).toBe(0);
  });

  it("still keeps coherence: a no-fill write invalidates the other cores' copies", () => {
    const h = pair();
    h.access(1, A, ACCESS_READ);
    h.setCacheDisabled(0, true);
    h.access(0, A, ACCESS_WRITE);
    expect(h.probe(1, "l1d", A)).toBeNull();
  });
});
