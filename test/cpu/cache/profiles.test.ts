/**
 * The hierarchy and TLB model accept every CPU profile of the catalogue (src/cpu/profiles) and derive the
 * figures the SDM and the vendors' data give for them. References: the geometries as the profiles cite
 * them (Core 2 Quad Q6600: two 4 MiB 16-way L2s, one per pair of cores; Skylake client: 256 KiB 4-way L2,
 * 8 MiB 16-way L3 in 4 slices), colours = sets per slice x 64 B / 4 KiB (Kessler & Hill, ACM TOCS 1992),
 * and the cost rule of the issue (level latency minus L1 latency, memory latency minus L1 latency).
 */
import { describe, expect, it } from "vitest";
import { ACCESS_READ, MemoryHierarchy } from "../../../src/cpu/cache/memory-hierarchy.ts";
import { TlbModel } from "../../../src/cpu/cache/tlb-model.ts";
import { CORE2_Q6600, PROFILES, SKYLAKE } from "../../../src/cpu/profiles/index.ts";

describe("every catalogue profile", () => {
  it.each(Object.keys(PROFILES))("%s: a 4-core hierarchy and its TLBs build, and a cold read costs memory - L1", (id) => {
    const p = PROFILES[id];
    const h = new MemoryHierarchy(p, 4);
    expect(h.access(0, 0x100000, ACCESS_READ)).toBe(p.memoryLatencyCycles - p.caches.l1d.latencyCycles);
    expect(h.access(0, 0x100000, ACCESS_READ)).toBe(0);
    new TlbModel(p.tlb.itlb);
    new TlbModel(p.tlb.dtlb);
  });
});

describe("derived figures", () => {
  it("Core 2 Quad Q6600: L2 shared per pair, 64 colours; a read by the partner core hits the L2", () => {
    const h = new MemoryHierarchy(CORE2_Q6600, 4);
    expect(h.colours("l2")).toBe(64);
    h.access(0, 0x200000, ACCESS_READ);
    expect(h.access(1, 0x200000, ACCESS_READ)).toBe(CORE2_Q6600.caches.l2.latencyCycles - CORE2_Q6600.caches.l1d.latencyCycles);
    expect(h.access(2, 0x200000, ACCESS_READ)).toBe(CORE2_Q6600.memoryLatencyCycles - CORE2_Q6600.caches.l1d.latencyCycles);
  });

  it("Skylake: L2 16 colours, L3 8 MiB / 4 slices / 16 ways -> 32 colours; another core's read hits the L3", () => {
    const h = new MemoryHierarchy(SKYLAKE, 4);
    expect(h.colours("l2")).toBe(16);
    expect(h.colours("l3")).toBe(32);
    h.access(0, 0x200000, ACCESS_READ);
    expect(h.access(3, 0x200000, ACCESS_READ)).toBe(SKYLAKE.caches.l3!.latencyCycles - SKYLAKE.caches.l1d.latencyCycles);
  });
});
