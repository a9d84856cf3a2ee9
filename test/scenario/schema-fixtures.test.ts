/**
 * Every bad scenario under fixtures/bad/ yields exactly the problems its `# expect:` lines list, each with
 * its path, all at once (issue 6 "Validation collects every error with its path"; shared/DESIGN.md §3, whose
 * example `partitions[1].cores[0]: core 2 already owned by 'rt0'` is the format). The expected lines were
 * written from the references each fixture's header names, not from our code: the SDM (vectors 6.2, CAT
 * masks 17.19.4.2), the profiles' published cache geometry (Skylake L3 16 ways, 32 colours of 4 KiB; L2
 * 16 colours; Core 2 Quad without an L3), the PC resource map of pc-platform.ts and README "The machine exec
 * runs" (COM ports, PIT, IOAPIC, card BARs FEB00000H + 4 KiB x n on pins 16 + n), and YAML 1.2 (unique keys).
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkScenarioText, formatIssue, parseScenario, ScenarioError, ConfigError } from "../../src/scenario/scenario-load.ts";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "bad");
const fixtures = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

function expected(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("# expect: ")).map((l) => l.slice("# expect: ".length));
}

describe("bad scenario fixtures", () => {
  it("there is a fixture for every error class, each expecting at least one problem", () => {
    expect(fixtures).toEqual(expect.arrayContaining([
      "shape-typos.yaml", "yaml-syntax.yaml", "names.yaml", "cores.yaml", "memory.yaml", "memory-vmm.yaml",
      "memory-colours.yaml", "devices-grants.yaml", "resources.yaml", "vectors.yaml", "vectors-range.yaml",
      "cache-cat.yaml", "cache-colours.yaml", "cpu-core2.yaml", "device-options.yaml", "guest-refs.yaml", "dsp-job.yaml",
    ]));
    for (const f of fixtures) expect(expected(readFileSync(join(DIR, f), "utf8")).length, f).toBeGreaterThan(0);
  });

  for (const f of fixtures) {
    it(`${f}: exactly the expected problems, with paths`, () => {
      const text = readFileSync(join(DIR, f), "utf8");
      const { config, issues } = checkScenarioText(text);
      expect(config).toBeNull();
      expect(issues.map((i) => formatIssue("", i)).sort()).toEqual(expected(text).sort());
    });
  }

  it("parseScenario throws one ScenarioError listing every problem as `file: path: message`, one per line", () => {
    const text = readFileSync(join(DIR, "cores.yaml"), "utf8");
    let err: unknown;
    try {
      parseScenario(text, "scenarios/cores.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect(err).toBeInstanceOf(ConfigError);
    const se = err as ScenarioError;
    expect(se.file).toBe("scenarios/cores.yaml");
    expect(se.issues).toHaveLength(4);
    expect(se.message.split("\n")).toEqual(expected(text).map((l) => `scenarios/cores.yaml: ${l}`));
    expect(se.message).toContain("scenarios/cores.yaml: partitions[1].cores[1]: core 2 already owned by 'rt0'");
  });

  it("an empty document and a document that is not a mapping are reported at the root", () => {
    expect(() => parseScenario("# nothing\n", "empty.yaml")).toThrow(/^empty\.yaml: the scenario is empty/);
    const { issues } = checkScenarioText("- 1\n- 2\n");
    expect(issues).toEqual([{ path: "", message: "must be a mapping (got a list)" }]);
  });
});
