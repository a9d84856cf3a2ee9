/**
 * The CPU profiles (src/cpu/profiles) checked against references that are not the profiles themselves:
 * - the CPUID signature layout of Intel SDM Vol. 2A (CPUID leaf 01H, Figure 3-6: stepping 3:0, model 7:4,
 *   family 11:8, type 13:12, extended model 19:16, extended family 27:20) decoded by hand below, and the
 *   family-6 model numbers of Linux arch/x86/include/asm/intel-family.h;
 * - the VT-x generations of shared/reference/vmx.md 1a (Merom, Nehalem, Sandy Bridge, Haswell, Skylake);
 * - cache geometry arithmetic (size = sets x ways x line, sets a power of two: the set index is a bit field);
 * - the clock relations of SDM Vol. 3A 10.5.4 (APIC timer at the bus clock, or the crystal with leaf 15H)
 *   and the published multipliers (Q6600 9 x 266.67 MHz, i7-920 20 x 133.33 MHz, i7-2600/i7-4770 34 x 100
 *   MHz, TSC = crystal x CPUID.15H ratio);
 * - published ranges: DIV r32 17-42 cycles and CPUID ~100+ cycles (Agner Fog's tables, uops.info),
 *   port I/O ~1 us (Linux io_delay.c: 2 us is an upper bound), DRAM 50-120 ns.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PROFILE_ID, getProfile, PROFILES } from "../../../src/cpu/profiles/index.ts";
import { instructionCost, overrideProfile, type CacheGeometry, type CpuProfile } from "../../../src/cpu/profile.ts";
import { ISA } from "../../../src/cpu/isa/index.ts";

const ALL = Object.values(PROFILES);

/** SDM Vol. 2A Figure 3-6 and the DisplayFamily/DisplayModel rule under it. */
function decodeSignature(eax: number) {
  const stepping = eax & 0xf;
  const model = (eax >>> 4) & 0xf;
  const family = (eax >>> 8) & 0xf;
  const type = (eax >>> 12) & 0x3;
  const extModel = (eax >>> 16) & 0xf;
  const extFamily = (eax >>> 20) & 0xff;
  const displayFamily = family === 0xf ? family + extFamily : family;
  const displayModel = family === 0x6 || family === 0xf ? (extModel << 4) + model : model;
  const reserved = eax & 0xf000c000;
  return { stepping, displayFamily, displayModel, type, reserved };
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

describe("catalogue", () => {
  it("holds the five profiles under their own ids, the default first", () => {
    expect(Object.keys(PROFILES)).toEqual(["core2-q6600", "nehalem", "sandybridge", "haswell", "skylake"]);
    for (const [id, p] of Object.entries(PROFILES)) expect(p.id).toBe(id);
    expect(DEFAULT_PROFILE_ID).toBe("core2-q6600");
    expect(getProfile(DEFAULT_PROFILE_ID)).toBe(PROFILES["core2-q6600"]);
  });

  it("getProfile of an unknown id throws a RangeError that lists the known ids", () => {
    expect(() => getProfile("pentium4")).toThrow(RangeError);
    try {
      getProfile("pentium4");
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain("pentium4");
      for (const id of Object.keys(PROFILES)) expect(msg).toContain(id);
    }
    // Object.prototype members are not profiles.
    expect(() => getProfile("toString")).toThrow(RangeError);
    expect(() => getProfile("__proto__")).toThrow(RangeError);
  });

  it("profiles are frozen; overrideProfile gives a changed copy and leaves the catalogue alone", () => {
    const sky = getProfile("skylake");
    expect(() => {
      (sky as { coreHz: number }).coreHz = 1;
    }).toThrow(TypeError);
    expect(() => {
      (sky.caches.l2 as { ways: number }).ways = 1;
    }).toThrow(TypeError);
    // The i7-6700 example of docs/cpu-profiles.md: same die at 3.4 GHz.
    const i7 = overrideProfile(sky, { id: "skylake-i7-6700", coreHz: 3_400_000_000, tscHz: 3_400_000_000, caches: { l2: { latencyCycles: 13 } } });
    expect(i7.coreHz).toBe(3_400_000_000);
    expect(i7.caches.l2.latencyCycles).toBe(13);
    expect(i7.caches.l2.ways).toBe(4);
    expect(i7.crystalHz).toBe(24_000_000);
    expect(sky.coreHz).toBe(3_000_000_000);
    expect(sky.caches.l2.latencyCycles).toBe(12);
  });
});

describe("CPUID signature decodes to the family/model the name claims (SDM Vol. 2A CPUID 01H; Linux intel-family.h)", () => {
  const rows: { id: string; family: number; model: number; stepping: number }[] = [
    { id: "core2-q6600", family: 6, model: 0x0f, stepping: 0xb }, // INTEL_FAM6_CORE2_MEROM, Kentsfield G0 (06FBH)
    { id: "nehalem", family: 6, model: 0x1a, stepping: 5 }, // INTEL_FAM6_NEHALEM_EP (Bloomfield i7-9xx), D0
    { id: "sandybridge", family: 6, model: 0x2a, stepping: 7 }, // INTEL_FAM6_SANDYBRIDGE, D2
    { id: "haswell", family: 6, model: 0x3c, stepping: 3 }, // INTEL_FAM6_HASWELL, C0 (CPU-Z "6.C.3 / 6.3C")
    { id: "skylake", family: 6, model: 0x5e, stepping: 3 }, // INTEL_FAM6_SKYLAKE (desktop/DT), R0
  ];
  for (const r of rows) {
    it(`${r.id}: family ${r.family}, model ${r.model.toString(16)}H, stepping ${r.stepping}`, () => {
      const d = decodeSignature(getProfile(r.id).cpuidSignature);
      expect(d).toEqual({ stepping: r.stepping, displayFamily: r.family, displayModel: r.model, type: 0, reserved: 0 });
    });
  }
});

describe("the VT-x generations of shared/reference/vmx.md 1a are all present", () => {
  // Family-6 model numbers per generation from Linux intel-family.h.
  const generations: { row: string; models: number[] }[] = [
    { row: "Merom (Core 2, 65 nm)", models: [0x0f, 0x16] },
    { row: "Nehalem", models: [0x1a, 0x1e, 0x1f, 0x2e] },
    { row: "Sandy Bridge", models: [0x2a, 0x2d] },
    { row: "Haswell", models: [0x3c, 0x3f, 0x45, 0x46] },
    { row: "Skylake (client)", models: [0x4e, 0x5e] },
  ];
  for (const g of generations) {
    it(`exactly one profile is a ${g.row} part`, () => {
      const hits = ALL.filter((p) => g.models.includes(decodeSignature(p.cpuidSignature).displayModel));
      expect(hits.map((p) => p.id)).toHaveLength(1);
    });
  }
});

describe.each(ALL.map((p) => [p.id, p] as const))("%s", (_id, p: CpuProfile) => {
  const levels = (["l1i", "l1d", "l2", "l3"] as const)
    .map((k) => [k, p.caches[k]] as const)
    .filter((e): e is readonly [typeof e[0], CacheGeometry] => e[1] !== null);

  it("every cache level: 64-byte lines, size = sets x ways x line with sets (and sets per slice) a power of two", () => {
    for (const [name, g] of levels) {
      expect(g.lineBytes, name).toBe(64);
      const sets = g.sizeBytes / (g.ways * g.lineBytes);
      expect(isPow2(sets), `${name}: ${sets} sets`).toBe(true);
      expect(sets * g.ways * g.lineBytes, name).toBe(g.sizeBytes);
      expect(isPow2(sets / g.slices), `${name}: ${sets / g.slices} sets per slice`).toBe(true);
      expect(Number.isInteger(g.sharedBy) && g.sharedBy >= 0, name).toBe(true);
    }
  });

  it("L1 caches are private and unsliced; the last level is shared", () => {
    for (const g of [p.caches.l1i, p.caches.l1d]) {
      expect(g.sharedBy).toBe(1);
      expect(g.slices).toBe(1);
      expect(g.sizeBytes).toBe(32 * 1024); // 32 KiB L1I and L1D on every generation from Core 2 to Skylake
    }
    const llc = p.caches.l3 ?? p.caches.l2;
    expect(llc.sharedBy === 0 || llc.sharedBy >= 2).toBe(true);
  });

  it("latencies increase L1 < L2 < L3 < memory", () => {
    const chain = [p.caches.l1d.latencyCycles, p.caches.l2.latencyCycles];
    if (p.caches.l3 !== null) chain.push(p.caches.l3.latencyCycles);
    chain.push(p.memoryLatencyCycles);
    for (let k = 1; k < chain.length; k++) expect(chain[k], `level ${k + 1} vs ${k}`).toBeGreaterThan(chain[k - 1]);
    expect(p.caches.l1i.latencyCycles).toBeLessThan(p.caches.l2.latencyCycles);
    // Published DRAM latencies of these platforms are 60-90 ns; allow 50-120 ns.
    const ns = (p.memoryLatencyCycles * 1e9) / p.coreHz;
    expect(ns).toBeGreaterThan(50);
    expect(ns).toBeLessThan(120);
    expect(p.crossCoreTransferCycles).toBeGreaterThan(0);
    expect(p.crossCoreTransferCycles).toBeLessThan(p.memoryLatencyCycles);
  });

  it("TLBs: entries divisible into power-of-two sets, large-page entries present, a page-walk cost", () => {
    for (const t of [p.tlb.itlb, p.tlb.dtlb]) {
      expect(t.entries % t.ways).toBe(0);
      expect(isPow2(t.entries / t.ways)).toBe(true);
      expect(t.largeEntries).toBeGreaterThan(0);
    }
    expect(p.tlb.pageWalkCycles).toBeGreaterThan(0);
  });

  it("clocks: invariant TSC at the nominal core clock; the APIC timer at the bus clock or the crystal (SDM 10.5.4)", () => {
    expect(p.tscHz).toBe(p.coreHz);
    if (p.crystalHz === null) {
      // No leaf 15H: bus clock; the core clock is an integer multiple of it (the multiplier).
      const ratio = p.coreHz / p.apicTimerHz;
      expect(Math.abs(ratio - Math.round(ratio))).toBeLessThan(1e-6);
    } else {
      expect(p.apicTimerHz).toBe(p.crystalHz);
      // CPUID.15H reports TSC = crystal x EBX/EAX: the ratio must be representable.
      expect(Number.isInteger(p.tscHz / p.crystalHz)).toBe(true);
    }
  });

  it("every timing class of the opcode table has a positive integer cost", () => {
    const classes = new Set(ISA.map((r) => r.cls));
    expect(classes.size).toBeGreaterThan(20);
    for (const cls of classes) {
      const c = p.costs.classes[cls];
      expect(Number.isInteger(c) && c > 0, `${cls}: ${c}`).toBe(true);
    }
    for (const size of [1, 2, 4] as const) {
      expect(Number.isInteger(p.costs.divBySize[size]) && p.costs.divBySize[size] > 0).toBe(true);
      expect(Number.isInteger(p.costs.mulBySize[size]) && p.costs.mulBySize[size] > 0).toBe(true);
      expect(instructionCost(p.costs, "div", size)).toBe(p.costs.divBySize[size]);
      expect(instructionCost(p.costs, "mul", size)).toBe(p.costs.mulBySize[size]);
    }
    for (const k of ["branchTakenExtra", "repStartup", "repPerElement", "interruptDelivery", "privilegeChangeExtra"] as const) {
      expect(Number.isInteger(p.costs[k]) && p.costs[k] >= 0, k).toBe(true);
    }
  });

  it("costs sit in the published ranges (Agner Fog, uops.info)", () => {
    // DIV r32: 17-42 cycles of latency on every Intel core from Merom to Skylake.
    expect(p.costs.divBySize[4]).toBeGreaterThanOrEqual(17);
    expect(p.costs.divBySize[4]).toBeLessThanOrEqual(42);
    // MUL: 3-5 cycles.
    for (const s of [1, 2, 4] as const) {
      expect(p.costs.mulBySize[s]).toBeGreaterThanOrEqual(3);
      expect(p.costs.mulBySize[s]).toBeLessThanOrEqual(5);
    }
    // CPUID ~100 cycles or more; locked read-modify-write 15-25; the L1 hit inside a load.
    expect(p.costs.classes.serialize).toBeGreaterThanOrEqual(90);
    expect(p.costs.classes.atomic).toBeGreaterThanOrEqual(15);
    expect(p.costs.classes.atomic).toBeLessThanOrEqual(25);
    expect(p.costs.classes.load).toBe(p.caches.l1d.latencyCycles);
    expect(p.costs.classes.alu).toBe(1);
  });

  it("bus: port I/O ~1 us (0.5-2 us), uncached MMIO read 0.1-3 us, LAPIC access tens of cycles", () => {
    const us = (cycles: number) => (cycles * 1e6) / p.coreHz;
    expect(us(p.bus.portIoCycles)).toBeGreaterThanOrEqual(0.5);
    expect(us(p.bus.portIoCycles)).toBeLessThanOrEqual(2);
    expect(us(p.bus.mmioReadCycles)).toBeGreaterThanOrEqual(0.1);
    expect(us(p.bus.mmioReadCycles)).toBeLessThanOrEqual(3);
    expect(p.bus.mmioWriteCycles).toBeLessThan(p.bus.mmioReadCycles);
    expect(p.bus.lapicAccessCycles).toBeGreaterThanOrEqual(10);
    expect(p.bus.lapicAccessCycles).toBeLessThan(100);
    expect(p.ipiLatencyCycles).toBeGreaterThan(p.bus.lapicAccessCycles);
  });

  it("names its sources", () => {
    expect(p.sources.length).toBeGreaterThanOrEqual(5);
    for (const s of p.sources) expect(s.trim().length).toBeGreaterThan(10);
    expect(new Set(p.sources).size).toBe(p.sources.length);
  });
});

describe("generation-specific facts", () => {
  it("Core 2 Quad: one 4 MiB L2 per pair of cores, no L3, bus clock 266.67 MHz (FSB 1066 / 4), no crystal", () => {
    const p = getProfile("core2-q6600");
    expect(p.caches.l2.sharedBy).toBe(2);
    expect(p.caches.l2.sizeBytes).toBe(4 * 1024 * 1024);
    expect(p.caches.l2.ways).toBe(16);
    expect(p.caches.l3).toBeNull();
    expect(p.crystalHz).toBeNull();
    expect(p.coreHz).toBe(2_400_000_000);
    expect(Math.round(p.coreHz / p.apicTimerHz)).toBe(9);
  });

  it("Nehalem: 256 KiB 8-way L2 per core, 8 MiB 16-way L3, BCLK 133 MHz (i7-920 = 20 x BCLK)", () => {
    const p = getProfile("nehalem");
    expect(p.caches.l2).toMatchObject({ sizeBytes: 256 * 1024, ways: 8, sharedBy: 1 });
    expect(p.caches.l3).toMatchObject({ sizeBytes: 8 * 1024 * 1024, ways: 16, sharedBy: 0 });
    expect(Math.round(p.coreHz / p.apicTimerHz)).toBe(20);
  });

  it("Sandy Bridge and Haswell: 100 MHz BCLK drives the APIC timer, L3 in one slice per core", () => {
    for (const id of ["sandybridge", "haswell"]) {
      const p = getProfile(id);
      expect(p.apicTimerHz).toBe(100_000_000);
      expect(p.crystalHz).toBeNull();
      expect(p.caches.l3?.slices).toBe(4);
    }
  });

  it("Skylake: 24 MHz crystal reported by leaf 15H, APIC timer at the crystal, 4-way L2, one L3 slice per core", () => {
    const p = getProfile("skylake");
    expect(p.crystalHz).toBe(24_000_000);
    expect(p.apicTimerHz).toBe(24_000_000);
    expect(p.tscHz / p.crystalHz!).toBe(125);
    expect(p.caches.l2.ways).toBe(4);
    expect(p.caches.l3?.slices).toBe(4);
  });

  it("older generations are not faster than newer ones where the sources agree they improved", () => {
    // L2 latency fell from 14 (Core 2) to 10-12 with the private L2 of Nehalem; DIV r32 got faster from
    // Merom (up to 42) to Haswell/Skylake (up to 28).
    expect(getProfile("core2-q6600").caches.l2.latencyCycles).toBeGreaterThan(getProfile("nehalem").caches.l2.latencyCycles);
    expect(getProfile("core2-q6600").costs.divBySize[4]).toBeGreaterThan(getProfile("skylake").costs.divBySize[4]);
  });
});
