/**
 * `vmxsim run` and `vmxsim validate` end to end in a child process (DESIGN.md §5 errors: bad input gets a
 * message naming file, path and field, exit status 2, and nothing half-written). Reference: the CLI
 * contract and the results JSON fields README "Results JSON" documents.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function vmxsim(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vmxsim run / validate", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-run-"));

  it("run: a built-in scenario prints the report and writes the JSON results", () => {
    const json = join(dir, "irqlat.json");
    const r = vmxsim(["run", "irqlat", "--duration-ms", "6", "--seed", "3", "--json", json]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/VM-EXIT +Samples +Samples% +Time% +Min Time +Max Time +Avg time/);
    expect(r.stdout).toMatch(/Total Samples:\d+, Total events handled time:[\d.]+us\./);
    expect(r.stderr).toMatch(/irqlat: 6\.000 ms simulated in [\d.]+ s host time/);
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(Object.keys(out).slice(0, 6)).toEqual(["resultsVersion", "scenario", "seed", "profile", "quantumCycles", "coreHz"]);
    expect(out.seed).toBe(3);
    expect(out.simulatedNs).toBe(6_000_000);
    expect(out.partitions[0]).toMatchObject({ name: "rt", cores: [3] });
    expect(out.partitions[0].exits.length).toBeGreaterThan(0);
  });

  it("validate: every error with its file and path, exit 2; run writes nothing for a bad scenario", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, [
      "name: bad", "description: two partitions on one core",
      "partitions:",
      "  - { name: a, cores: [1], memoryMiB: 8, guest: { program: rtos } }",
      "  - { name: b, cores: [1, 1], memoryMiB: 8, guest: { program: rtos } }",
    ].join("\n"));
    const v = vmxsim(["validate", bad]);
    expect(v.status).toBe(2);
    expect(v.stderr).toContain(`${bad}: partitions[1].cores[0]`);
    expect(v.stderr).toContain(`${bad}: partitions[1].cores[1]`);
    const json = join(dir, "bad.json");
    const r = vmxsim(["run", bad, "--json", json]);
    expect(r.status).toBe(2);
    expect(existsSync(json)).toBe(false);
    const ok = vmxsim(["validate", join(ROOT, "scenarios/quad-consolidation.yaml")]);
    expect(ok.status).toBe(0);
  });
});
