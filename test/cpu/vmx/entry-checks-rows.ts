/**
 * The row tables of the VM-entry check tests (entry-checks-*.test.ts), in the style of kvm-unit-tests
 * x86/vmx_tests.c test_vmx_controls / test_host_* / test_guest_state: each row changes the valid baseline of
 * vmcs-fixture.ts and says what VM entry must answer; runRows makes one vitest case per row and runs it on every
 * profile the row applies to; expectRulesCovered checks that every rule of a table has a failing row.
 */
import { expect, it } from "vitest";
import type { VmxCapabilities } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import type { EntryCheckResult, EntryRule } from "../../../src/cpu/vmx/entry-checks.ts";
import { PROFILES, VmcsFixture, capsOf } from "./vmcs-fixture.ts";

export type Expected =
  | { kind: "ok" }
  | { kind: "vmfail"; error: 7 | 8; rule: string }
  | { kind: "guest-state"; rule: string; qualification?: number };

/** One row of a kvm-unit-tests-style table: a change to the valid baseline and what VM entry must say. */
export interface EntryCheckRow {
  /** What the row does. */
  name: string;
  /** The SDM section of the rule the row checks. */
  section: string;
  /** The SDM sentence the row checks (quoted or closely paraphrased). */
  sdm: string;
  /** The profiles the row runs on (default: all). */
  applies?: (caps: VmxCapabilities) => boolean;
  /** Capabilities other than the profile's (a rule behind a control the model does not offer). */
  caps?: (base: VmxCapabilities) => VmxCapabilities;
  mutate: (f: VmcsFixture) => void;
  expected: Expected;
}

/** The result a row must produce, in checkVmEntry's shape. */
function resultOf(row: EntryCheckRow): EntryCheckResult {
  const e = row.expected;
  if (e.kind === "ok") return { kind: "ok" };
  if (e.kind === "vmfail") return { kind: "vmfail", error: e.error, rule: e.rule, section: row.section };
  return { kind: "guest-state", rule: e.rule, section: row.section, qualification: e.qualification ?? 0 };
}

/** One vitest case per row; each runs on every profile it applies to (at least one). */
export function runRows(rows: readonly EntryCheckRow[]): void {
  for (const row of rows) {
    it(`${row.section} ${row.name} -> ${row.expected.kind === "ok" ? "ok" : row.expected.rule}`, () => {
      let ran = 0;
      for (const p of PROFILES) {
        const base = capsOf(p);
        if (row.applies !== undefined && !row.applies(base)) continue;
        const f = new VmcsFixture(row.caps === undefined ? base : row.caps(base));
        row.mutate(f);
        expect(f.check(), `${row.name} on ${p}`).toEqual(resultOf(row));
        ran++;
      }
      expect(ran, `${row.name}: applies to no profile`).toBeGreaterThan(0);
    });
  }
}

/** Every rule of `rules` is the expected failure of some row, and every failing row names a rule of `rules`
 * with that rule's section. */
export function expectRulesCovered(rules: readonly EntryRule[], rows: readonly EntryCheckRow[]): void {
  const named = new Set(rows.filter((r) => r.expected.kind !== "ok").map((r) => (r.expected as { rule: string }).rule));
  const missing = rules.filter((r) => !named.has(r.name)).map((r) => r.name);
  expect(missing, "rules without a failing row").toEqual([]);
  const bySection = new Map(rules.map((r) => [r.name, r.section]));
  for (const r of rows) {
    if (r.expected.kind === "ok") continue;
    expect(bySection.get(r.expected.rule), `row ${r.name}: rule ${r.expected.rule} / section`).toBe(r.section);
  }
}
