/**
 * README.md "Results JSON (vmxsim run --json)" against the contract it documents: every field of every
 * interface in src/scenario/results.ts (read from that file's text) is named in the section, and the
 * section's example is results JSON as toJson writes it (fromJson reads it, toJson gives the same bytes).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromJson, toJson } from "../../src/report/json-report.ts";
import { resultsInterfaces } from "./results-ts-fields.ts";

const README = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

function section(): string {
  const start = README.indexOf("## Results JSON (vmxsim run --json)");
  expect(start).toBeGreaterThanOrEqual(0);
  const next = README.indexOf("\n## ", start + 1);
  return README.slice(start, next < 0 ? undefined : next);
}

describe("README Results JSON", () => {
  it("documents every field of results.ts", () => {
    const text = section();
    const missing: string[] = [];
    for (const [iface, fields] of resultsInterfaces()) {
      for (const f of fields) if (!text.includes("`" + f + "`")) missing.push(`${iface}.${f}`);
    }
    expect(missing).toEqual([]);
    expect(resultsInterfaces().size).toBeGreaterThanOrEqual(10);
  });

  it("has an example that is results JSON exactly as toJson writes it", () => {
    const m = /```json\n([\s\S]*?)```/.exec(section());
    expect(m).not.toBeNull();
    const example = m![1];
    expect(toJson(fromJson(example))).toBe(example);
  });
});
