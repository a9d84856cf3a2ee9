/**
 * The results JSON: round trip (JSON.parse of the text gives the results back), byte-stability (the same
 * results -> the same bytes, whatever order the producer built its objects in), JSON.stringify's 2-space
 * layout (ECMA-262 25.5.2) with a newline at the end, and the key order of the declarations in
 * src/scenario/results.ts, read from that file's text (results-ts-fields.ts).
 */
import { describe, expect, it } from "vitest";
import { fromJson, RESULTS_JSON_VERSION, toJson } from "../../src/report/json-report.ts";
import type { RunResults } from "../../src/scenario/results.ts";
import { fixture } from "./fixture.ts";
import { resultsInterfaces } from "./results-ts-fields.ts";

/** A deep copy with every object's keys in reverse order (free-form device reports left as they are). */
function reversed(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => reversed(x));
  if (v === null || typeof v !== "object" || key === "report") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).reverse()) out[k] = reversed((v as Record<string, unknown>)[k], k);
  return out;
}

describe("toJson / fromJson", () => {
  it("round-trips: fromJson(toJson(r)) equals r, and toJson of that is the same bytes", () => {
    const r = fixture();
    const text = toJson(r);
    expect(fromJson(text)).toEqual(r);
    expect(toJson(fromJson(text))).toBe(text);
  });

  it("is byte-stable: the same results, built with keys in another order, give the same bytes", () => {
    const text = toJson(fixture());
    expect(toJson(fixture())).toBe(text);
    expect(toJson(reversed(fixture()) as RunResults)).toBe(text);
  });

  it("is 2-space indented JSON with a newline at the end and resultsVersion first", () => {
    const text = toJson(fixture());
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text.split("\n")[1]).toBe(`  "resultsVersion": ${RESULTS_JSON_VERSION},`);
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2) + "\n");
  });

  it("orders keys as src/scenario/results.ts declares them", () => {
    const fields = resultsInterfaces();
    const j = JSON.parse(toJson(fixture()));
    const keys = (o: object) => Object.keys(o);
    expect(keys(j)).toEqual(["resultsVersion", ...fields.get("RunResults")!]);
    const p = j.partitions[1];
    expect(keys(p)).toEqual(fields.get("PartitionResults"));
    // stddevCycles comes from src/sim/stats/exit-stats.ts, after meanCycles, until results.ts declares it
    expect(keys(p.exits[0]).filter((k) => k !== "stddevCycles")).toEqual(fields.get("ExitStats"));
    expect(keys(p.exits[0]).indexOf("stddevCycles")).toBe(keys(p.exits[0]).indexOf("meanCycles") + 1);
    expect(keys(p.exits[0].components)).toEqual(fields.get("ExitComponents"));
    expect(keys(p.exits[0].worst)).toEqual(fields.get("ExitComponents"));
    expect(keys(p.irqLatency)).toEqual(fields.get("LatencyStats"));
    expect(keys(p.tasks[0])).toEqual(fields.get("TaskResults"));
    expect(keys(p.devices[0])).toEqual(fields.get("DeviceUseResults"));
    expect(keys(p.cache)).toEqual(fields.get("CacheResults"));
    expect(keys(j.devices[0])).toEqual(fields.get("PhysicalDeviceResults"));
    expect(keys(j.faults[0])).toEqual(fields.get("FaultEvent"));
  });

  it("writes histogram bins in ascending numeric order", () => {
    const r = fixture();
    r.partitions[1].wakeupLatency!.histogram = { "31": 1, "4": 2, "10": 3 };
    const text = toJson(r);
    expect(text.indexOf('"4": 2')).toBeLessThan(text.indexOf('"10": 3'));
    expect(text.indexOf('"10": 3')).toBeLessThan(text.indexOf('"31": 1'));
  });

  it("refuses a number JSON cannot carry, naming where it is", () => {
    const r = fixture();
    r.partitions[1].tasks[1].meanResponseNs = Number.NaN;
    expect(() => toJson(r)).toThrow("results.partitions[1].tasks[1].meanResponseNs is NaN");
    const q = fixture();
    q.devices[0].report = { rate: Infinity };
    expect(() => toJson(q)).toThrow("results.devices[0].report.rate is Infinity");
  });

  it("reads only its own version", () => {
    const j = JSON.parse(toJson(fixture()));
    j.resultsVersion = RESULTS_JSON_VERSION + 1;
    expect(() => fromJson(JSON.stringify(j))).toThrow(/resultsVersion/);
    expect(() => fromJson("[]")).toThrow();
  });
});
