/**
 * The statistics modules restate the results.ts types they produce (so they import nothing of src/ and
 * can serve the model's side too); these must stay the same types as src/scenario/results.ts declares.
 * Checked by the type checker (`npx tsc --noEmit` fails on a drift) and, at run time, by the field lists
 * read from results.ts's text.
 */
import { describe, expect, it } from "vitest";
import type * as R from "../../../src/scenario/results.ts";
import type * as E from "../../../src/sim/stats/exit-stats.ts";
import type * as L from "../../../src/sim/stats/latency-stats.ts";
import { exitStatsFrom } from "../../../src/sim/stats/exit-stats.ts";
import { latencyStats } from "../../../src/sim/stats/latency-stats.ts";
import { resultsInterfaces } from "../../report/results-ts-fields.ts";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameLatency: Same<L.LatencyStats, R.LatencyStats> = true;
const sameExit: Same<E.ExitStats, R.ExitStats> = true;
const sameComponents: Same<E.ExitComponents, R.ExitComponents> = true;

describe("statistics types", () => {
  it("are those of results.ts (type-checked above; field lists here)", () => {
    expect([sameLatency, sameExit, sameComponents]).toEqual([true, true, true]);
    const fields = resultsInterfaces();
    expect(Object.keys(latencyStats([1]))).toEqual(fields.get("LatencyStats"));
    expect(Object.keys(exitStatsFrom("HLT", 12, [])).filter((k) => k !== "stddevCycles")).toEqual(fields.get("ExitStats"));
  });
});
