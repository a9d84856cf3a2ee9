/**
 * The whole text report on the hand-made results (fixture.ts) against a golden file whose numbers were
 * checked by hand (e.g. gpos VMCALL: exits 2400, 2300, 2300, 9000, 2400 cycles at 3 GHz -> mean 1.23 us,
 * min 0.77 us, max 3.00 us, two-pass s = 2974.4 -> ( +- 36.15% ), 34.70% of the partition's 53020 cycles;
 * footer 53020 / 3000 = 17.67 us) and whose blocks follow the perf and cyclictest layouts the other tests
 * check against their references. Also: the header fields, determinism, and the options.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatReport } from "../../src/report/text-report.ts";
import { fixture } from "./fixture.ts";

const GOLDEN = fileURLToPath(new URL("./golden/report.txt", import.meta.url));
const OPTS = { histogramUs: 8, wakeup: { threads: { rt0: { priority: 99, intervalUs: 1000 } } } };

describe("formatReport", () => {
  it("prints the golden report", () => {
    expect(formatReport(fixture(), OPTS)).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("opens with scenario, profile and clock, seed, simulated time and quantum", () => {
    const lines = formatReport(fixture()).split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "vmxsim run: scenario quad-consolidation",
      "  profile:        skylake (core clock 3000.000 MHz)",
      "  seed:           42",
      "  simulated time: 50.000000 ms",
      "  quantum:        1000 cycles",
    ]);
  });

  it("has every section once, each partition's exit table, and ends with exactly one newline", () => {
    const text = formatReport(fixture());
    for (const title of ["Partitions", "VM exits", "Interrupt latency (us)", "Wake-up latency (cyclictest)", "Tasks (response times in us)",
      "I/O by device and mode (latency in us)", "Caches (accesses of each partition's cores)", "Physical devices", "Health monitor"]) {
      expect(text.split("\n").filter((l) => l === title)).toHaveLength(1);
    }
    for (const p of ["gpos", "rt0", "dsp"]) expect(text).toContain(`Analyze events for partition ${p}, all VCPUs:`);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text).not.toMatch(/ \n/); // no trailing spaces
  });

  it("prints the histogram only when asked, and the health-monitor events", () => {
    expect(formatReport(fixture())).not.toContain("# Histogram");
    expect(formatReport(fixture(), OPTS)).toContain("# Histogram");
    const r = fixture();
    r.faults = [];
    expect(formatReport(r)).toContain("Health monitor\n--------------\n  (none)\n");
    expect(formatReport(fixture())).toMatch(/12\.345678 +dsp +3 +triple-fault +restart +EIP=00101234/);
  });

  it("prints device reports as key=value, long lists summarised (the JSON keeps them whole)", () => {
    const r = fixture();
    r.devices[0].report = { events: 12, latencyTicks: [10515, 9224, 9000, 9100, 9200, 9300, 9400, 9500, 12000], last: [1, 2], nested: { a: "x", list: [3, 1, 2, 4, 5, 6, 7, 8, 9] } };
    expect(formatReport(r)).toContain(
      'rtio0 (rt-io, exclusive:rt0): events=12 latencyTicks=[9 values, 9000..12000] last=[1,2] nested={"a":"x","list":[9 values, 1..9]}\n',
    );
    r.devices[0].report = { big: Array.from({ length: 1_000_000 }, (_, i) => i % 777), mixed: [1, "a", 2, 3, 4, 5, 6, 7, 8] };
    expect(formatReport(r)).toContain("rtio0 (rt-io, exclusive:rt0): big=[1000000 values, 0..776] mixed=[9 items]\n");
  });

  it("is deterministic", () => {
    expect(formatReport(fixture(), OPTS)).toBe(formatReport(fixture(), OPTS));
  });
});
