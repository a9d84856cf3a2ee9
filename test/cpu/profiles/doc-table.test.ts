/**
 * docs/cpu-profiles.md's comparison table must say what the profiles say: this is a consistency check
 * between the document and src/cpu/profiles (the profiles' own references are checked in
 * profiles.test.ts), so that a changed figure cannot leave the document behind.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROFILES } from "../../../src/cpu/profiles/index.ts";

const DOC = join(dirname(fileURLToPath(import.meta.url)), "../../../docs/cpu-profiles.md");
const rows = readFileSync(DOC, "utf8")
  .split("\n")
  .filter((l) => /^\| `[a-z0-9-]+` \|/.test(l))
  .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));

const num = (cell: string) => Number(cell.replace(/[^0-9.]/g, ""));

describe("docs/cpu-profiles.md table", () => {
  it("has one row per profile, in catalogue order", () => {
    expect(rows.map((r) => r[0].replaceAll("`", ""))).toEqual(Object.keys(PROFILES));
  });

  for (const r of rows) {
    const p = PROFILES[r[0].replaceAll("`", "")];
    it(`${p.id}: signature, clocks and the cost columns match the profile`, () => {
      const [, , sig, core, apic, , , , dram, div, cpuid, lock, port, mmio] = r;
      expect(parseInt(sig, 16)).toBe(p.cpuidSignature);
      expect(num(core)).toBeCloseTo(p.coreHz / 1e6, 2);
      expect(num(apic.split("(")[0])).toBeCloseTo(p.apicTimerHz / 1e6, 2);
      expect(num(dram)).toBe(p.memoryLatencyCycles);
      expect(num(div)).toBe(p.costs.divBySize[4]);
      expect(num(cpuid)).toBe(p.costs.classes.serialize);
      expect(num(lock)).toBe(p.costs.classes.atomic);
      expect(num(port)).toBe(p.bus.portIoCycles);
      expect(num(mmio)).toBe(p.bus.mmioReadCycles);
    });
  }
});
