/**
 * The shipped scenarios (scenarios/*.yaml) against issue 6's description of each ("Scenarios and the CLI":
 * quad-consolidation's layout; irqlat alone, +interf with a thrashing neighbour on the other cores, +cat and
 * +col with disjoint ways or colours, +inject with exit-and-inject; io-* the same driver and workload in the
 * three modes): each validates, is named after its file, says what it shows, gives the same config as JSON,
 * and src/scenario/builtin-scenarios.ts embeds exactly these texts.
 * `VMXSIM_UPDATE=1 npx vitest run test/scenario/scenarios.test.ts` regenerates builtin-scenarios.ts.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { checkScenarioData, loadBuiltinScenario, parseScenario } from "../../src/scenario/scenario-load.ts";
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_NAME, builtinScenarioText } from "../../src/scenario/builtin-scenarios.ts";
import type { PartitionConfig, RtosGuestConfig, ScenarioConfig } from "../../src/scenario/config.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIR = join(ROOT, "scenarios");
const BUILTIN_FILE = join(ROOT, "src", "scenario", "builtin-scenarios.ts");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();
const names = files.map((f) => f.replace(/\.yaml$/, "")).sort();
const textOf = (name: string) => readFileSync(join(DIR, `${name}.yaml`), "utf8");
const load = (name: string): ScenarioConfig => parseScenario(textOf(name), `scenarios/${name}.yaml`);

/** builtin-scenarios.ts as generated from the files. */
function renderBuiltins(): string {
  const entries = files.map((f) => `  ${JSON.stringify(f.replace(/\.yaml$/, ""))}:\n    ${JSON.stringify(readFileSync(join(DIR, f), "utf8"))},`);
  const current = readFileSync(BUILTIN_FILE, "utf8");
  const head = current.slice(0, current.indexOf("export const BUILTIN_SCENARIOS"));
  const tail = current.slice(current.indexOf("/** The text of the built-in scenario"));
  return `${head}export const BUILTIN_SCENARIOS: Readonly<Record<string, string>> = {\n${entries.join("\n")}\n};\n\n${tail}`;
}

if (process.env.VMXSIM_UPDATE === "1") writeFileSync(BUILTIN_FILE, renderBuiltins());

describe("shipped scenarios", () => {
  it("are the nine the issue names", () => {
    expect(names).toEqual([
      "io-emulated", "io-paravirtual", "io-passthrough", "irqlat", "irqlat+inject", "irqlat+interf", "irqlat+interf+cat",
      "irqlat+interf+col", "quad-consolidation",
    ]);
  });

  for (const f of files) {
    const name = f.replace(/\.yaml$/, "");
    it(`${name}: validates, is named after its file, and says what it shows`, () => {
      const text = textOf(name);
      const c = load(name);
      expect(c.name).toBe(name);
      expect(c.description.length).toBeGreaterThan(40);
      const lines = text.split("\n");
      expect(lines[0]).toBe("# yaml-language-server: $schema=../schema/scenario.schema.json");
      expect(lines.slice(1, 4).join("\n")).toContain(`# ${name}: `);
    });

    it(`${name}: the same scenario as JSON gives an equal config`, () => {
      const json = JSON.stringify(parse(textOf(name)), null, 2);
      expect(parseScenario(json, `${name}.json`)).toEqual(load(name));
      expect(checkScenarioData(JSON.parse(json)).config).toEqual(load(name));
    });
  }
});

describe("built-in scenarios", () => {
  it("builtin-scenarios.ts embeds exactly the files' texts (VMXSIM_UPDATE=1 regenerates it)", () => {
    expect(readFileSync(BUILTIN_FILE, "utf8")).toBe(renderBuiltins());
    expect(Object.keys(BUILTIN_SCENARIOS).sort()).toEqual(names);
    for (const f of files) expect(builtinScenarioText(f.replace(/\.yaml$/, ""))).toBe(readFileSync(join(DIR, f), "utf8"));
  });

  it("the default is quad-consolidation and loads without the file system", () => {
    expect(DEFAULT_SCENARIO_NAME).toBe("quad-consolidation");
    expect(loadBuiltinScenario()).toEqual(load("quad-consolidation"));
    expect(() => builtinScenarioText("nope")).toThrow(/no built-in scenario 'nope' \(built in: io-emulated, /);
  });
});

const part = (c: ScenarioConfig, name: string): PartitionConfig => {
  const p = c.partitions.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no partition ${name} in ${c.name}`);
  return p;
};
const rtos = (p: PartitionConfig): RtosGuestConfig => {
  if (p.guest.program !== "rtos") throw new Error(`${p.name} is not an RTOS partition`);
  return p.guest;
};
const typeOf = (c: ScenarioConfig, device: string) => c.devices.find((d) => d.name === device)?.type;
const modeOf = (p: PartitionConfig, type: string, c: ScenarioConfig) => p.devices.find((d) => typeOf(c, d.device) === type)?.mode;

describe("quad-consolidation (issue 6: the default)", () => {
  const c = load("quad-consolidation");

  it("gpos on cores 0-1 runs gpos-load: vCPU 0 I/O on the disk, vCPU 1 a thrasher", () => {
    const g = part(c, "gpos");
    expect(g.cores).toEqual([0, 1]);
    if (g.guest.program !== "gpos-load") throw new Error("gpos is not gpos-load");
    expect(g.guest.vcpus[0]).toMatchObject({ kind: "io", op: "read" });
    expect(typeOf(c, (g.guest.vcpus[0] as { device: string }).device)).toBe("block");
    expect(g.guest.vcpus[1].kind).toBe("thrash");
  });

  it("rt0 on core 2 is an RTOS owning rt-io with posted delivery: a sporadic task released by it, periodic tasks and cyclictest", () => {
    const p = part(c, "rt0");
    expect(p.cores).toEqual([2]);
    expect(modeOf(p, "rt-io", c)).toBe("exclusive");
    expect(p.irqDelivery).toBe("posted");
    const g = rtos(p);
    const sporadic = g.tasks.filter((t) => t.kind === "sporadic");
    expect(sporadic.length).toBeGreaterThan(0);
    expect(sporadic.every((t) => typeOf(c, t.device!) === "rt-io")).toBe(true);
    expect(g.tasks.filter((t) => t.kind === "periodic").length).toBeGreaterThan(0);
    expect(g.cyclictest).not.toBeNull();
  });

  it("rt1 on core 3 owns the dsp card", () => {
    const p = part(c, "rt1");
    expect(p.cores).toEqual([3]);
    expect(modeOf(p, "dsp", c)).toBe("exclusive");
    expect(rtos(p).tasks.some((t) => t.io?.op === "job")).toBe(true);
  });

  it("console shared emulated (also by both RTOS partitions), disk and network shared paravirtual", () => {
    for (const p of c.partitions) expect(modeOf(p, "uart", c), p.name).toBe("emulated");
    expect(modeOf(part(c, "gpos"), "block", c)).toBe("paravirtual");
    expect(modeOf(part(c, "gpos"), "nic", c)).toBe("paravirtual");
  });
});

describe("the irqlat family differs from irqlat only where its name says", () => {
  const base = load("irqlat");
  const rt = part(base, "rt");
  /** The RTOS partition without the cache share and delivery fields the variants change. */
  const core = (p: PartitionConfig) => ({ ...p, clos: null, colours: null, irqDelivery: null });

  it("irqlat: one RTOS partition alone, rt-io passthrough with posted delivery", () => {
    expect(base.partitions).toHaveLength(1);
    expect(modeOf(rt, "rt-io", base)).toBe("exclusive");
    expect(rt.irqDelivery).toBe("posted");
  });

  for (const v of ["irqlat+interf", "irqlat+interf+cat", "irqlat+interf+col", "irqlat+inject"]) {
    it(`${v}: the same RTOS partition, devices, profile, seed and duration`, () => {
      const c = load(v);
      expect(core(part(c, "rt"))).toEqual(core(rt));
      expect(c.devices).toEqual(base.devices);
      expect([c.profile, c.seed, c.durationMs, c.machine]).toEqual([base.profile, base.seed, base.durationMs, base.machine]);
    });
  }

  for (const v of ["irqlat+interf", "irqlat+interf+cat", "irqlat+interf+col"]) {
    it(`${v}: adds a cache-thrashing gpos-load partition on every other core`, () => {
      const c = load(v);
      const load2 = part(c, "load");
      expect([...load2.cores, ...part(c, "rt").cores].sort()).toEqual([0, 1, 2, 3].slice(0, c.machine.cores));
      if (load2.guest.program !== "gpos-load") throw new Error("load is not gpos-load");
      const l3 = 8 * 1024; // Skylake's L3, KiB
      expect(load2.guest.vcpus.every((w) => w.kind === "thrash" && w.bufferKiB > l3)).toBe(true);
    });
  }

  it("irqlat+interf+cat: the RTOS partition and the thrasher fill disjoint L3 ways", () => {
    const c = load("irqlat+interf+cat");
    const ways = (clos: number | null) => c.cache.classes.find((k) => k.clos === clos)?.ways ?? [];
    const a = ways(part(c, "rt").clos), b = ways(part(c, "load").clos);
    expect(c.cache.level).toBe("l3");
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((w) => b.includes(w))).toEqual([]);
  });

  it("irqlat+interf+col: the RTOS partition and the thrasher get disjoint L3 colours", () => {
    const c = load("irqlat+interf+col");
    const a = part(c, "rt").colours ?? [], b = part(c, "load").colours ?? [];
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((x) => b.includes(x))).toEqual([]);
  });

  it("irqlat+inject: exit-and-inject delivery", () => {
    expect(part(load("irqlat+inject"), "rt").irqDelivery).toBe("exit-and-inject");
  });
});

describe("io-passthrough, io-emulated, io-paravirtual: one workload, three modes", () => {
  const modes = { "io-passthrough": "exclusive", "io-emulated": "emulated", "io-paravirtual": "paravirtual" } as const;
  const strip = (c: ScenarioConfig) => ({
    ...c, name: "", description: "",
    partitions: c.partitions.map((p) => ({ ...p, devices: p.devices.map((d) => ({ ...d, mode: null })) })),
  });

  it("are identical except for the disk's mode", () => {
    const [a, b, c] = Object.keys(modes).map((n) => strip(load(n)));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  for (const [name, mode] of Object.entries(modes)) {
    it(`${name}: one RTOS partition with the disk ${mode}, a periodic 4 KiB block read per job`, () => {
      const c = load(name);
      expect(c.partitions).toHaveLength(1);
      const p = c.partitions[0];
      expect(modeOf(p, "block", c)).toBe(mode);
      const t = rtos(p).tasks;
      expect(t).toHaveLength(1);
      expect(t[0].kind).toBe("periodic");
      expect(t[0].io).toEqual({ device: "disk", op: "read", bytes: 4096 });
    });
  }
});
