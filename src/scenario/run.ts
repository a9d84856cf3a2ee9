/**
 * Run a scenario: build it (build.ts), run the machine for the scenario's duration with the probes draining
 * the guests' logs between windows, and assemble the results (results-builder.ts). Deterministic: no wall
 * clock here; the same scenario and seed give the same RunResults. `onProgress` is called with the fraction
 * of simulated time done (the CLI draws a progress bar from it).
 */
import { nsToTicks } from "../sim/clock.ts";
import type { ScenarioConfig } from "./config.ts";
import type { RunResults } from "./results.ts";
import { buildScenario, type BuiltScenario } from "./build.ts";
import type { FileReader } from "./guest-programs.ts";
import { LogDrain, type LogEntry } from "./log-drain.ts";
import { assembleResults } from "./results-builder.ts";
import { ConfigError } from "./scenario-load.ts";

export interface RunOptions {
  seed?: number;
  durationMs?: number;
  onProgress?: (fraction: number) => void;
  /** Read files a scenario names (image guests). */
  files?: FileReader;
}

/** Simulated cycles between two drains of the guests' logs. */
const DRAIN_EVERY_CYCLES = 200_000;

export function runScenario(config: ScenarioConfig, opts: RunOptions = {}): RunResults {
  const cfg: ScenarioConfig = {
    ...config,
    seed: opts.seed ?? config.seed,
    durationMs: opts.durationMs ?? config.durationMs,
  };
  const files: FileReader = opts.files ?? ((path) => {
    throw new RangeError(`cannot read '${path}': no file access in this run`);
  });
  let built: BuiltScenario;
  try {
    built = buildScenario(cfg, files);
  } catch (e) {
    // What the validator cannot see (a device's own option check, a guest that does not build or load) is
    // still bad input: reported before anything ran.
    if (e instanceof RangeError || (e instanceof Error && e.name === "ImageError")) throw new ConfigError(`${cfg.name}: ${e.message}`);
    throw e;
  }
  const entries: LogEntry[][] = built.partitions.map(() => []);
  const drains = built.partitions.map((bp, i) => new LogDrain(bp.partition, bp.config.cores.length, (e) => entries[i].push(e)));
  const m = built.machine;
  const end = nsToTicks(cfg.durationMs * 1e6, m.hz);
  let nextDrain = DRAIN_EVERY_CYCLES;
  let nextProgress = 0;
  const progressStep = Math.max(1, Math.floor(end / 200));
  m.run(end, Infinity, () => {
    if (m.now >= nextDrain) {
      for (const d of drains) d.drain();
      nextDrain = m.now + DRAIN_EVERY_CYCLES;
    }
    if (opts.onProgress !== undefined && m.now >= nextProgress) {
      opts.onProgress(Math.min(1, m.now / end));
      nextProgress = m.now + progressStep;
    }
  });
  for (const d of drains) d.drain();
  opts.onProgress?.(1);
  return assembleResults(built, entries, drains.map((d) => d.droppedNow()), end);
}

export type { BuiltScenario };
