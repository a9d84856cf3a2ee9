/**
 * The differential test driver: generates cases (generator.ts), runs them on the host CPU (the
 * reference, host-runner.ts) and on vmxsim (sim-runner.ts) in chunks, compares (compare.ts), and
 * minimizes mismatching cases by dropping items and instructions while the mismatch persists (each
 * round is one more batch on the host). Used by differential.test.ts (CI) and run.ts (large runs).
 */
import { type CaseSpec, type Item, assemble, generate, groupsFor } from "./generator.ts";
import { runOnHost } from "./host-runner.ts";
import { SimRunner, type SimOutcome } from "./sim-runner.ts";
import { diffOutcomes, formatMismatch, undefinedFlagDiff, unimplemented } from "./compare.ts";
import { type DiffCase, flagNames, type Outcome } from "./layout.ts";

const MODE_NAMES: Record<number, string> = {
  0: "32-bit code, flat", 1: "32-bit code, 16-bit data/stack segment", 3: "16-bit code, 16-bit data/stack segment",
};

export interface RunOptions {
  cases: number;
  /** Id of the first case (cases are reproducible from (seed, id) alone). */
  first?: number;
  seed: number;
  /** Restrict to these groups. */
  only?: readonly string[];
  /** Include the opt-in groups (checks of the system-architecture layer). */
  system?: boolean;
  /** Cases per harness batch. */
  chunk?: number;
  /** Every n-th compared case also runs compiled (0: never). */
  jitEvery?: number;
  /** Minimize (and report) at most this many mismatches. */
  minimize?: number;
  log?: (s: string) => void;
}

export interface Mismatch {
  c: DiffCase;
  spec: CaseSpec;
  host: Outcome;
  sim: SimOutcome;
  diffs: string[];
  /** Smallest variant that still mismatches. */
  min?: { c: DiffCase; host: Outcome; sim: SimOutcome; diffs: string[] };
  /** Mnemonics without an executor (the core raises #UD): reported as not implemented yet. */
  missing: string[];
}

export interface RunReport {
  total: number;
  compared: number;
  skipped: Map<string, number>;
  mismatches: Mismatch[];
  /** Stepped vs block vs compiled disagreements inside vmxsim. */
  engine: { c: DiffCase; msg: string }[];
  /** Generator cases the assembler rejected (a generator or assembler bug). */
  asmErrors: { spec: CaseSpec; msg: string }[];
  /** Compared cases per group. */
  coverage: Map<string, number>;
  /** Compared cases per execution mode (layout.ts Mode). */
  modes: Map<string, number>;
  /** Compared instructions per mnemonic/operand size ("adc/16"; string instructions by name, "movsw"). */
  sizes: Map<string, number>;
  /** Undefined flags set differently by host and vmxsim, by the instruction that left them undefined. */
  undefinedFlagDiffs: Map<string, { cases: number; flags: number }>;
  ms: { generate: number; host: number; sim: number; minimize: number };
}

function skipKind(reason: string): string {
  if (reason.includes("reads flags left undefined")) return "reads a flag the SDM leaves undefined";
  if (reason.includes("result undefined")) return "SHLD/SHRD count above operand width (result undefined)";
  if (reason.includes("no instruction start")) return "execution left the instruction boundaries";
  return reason;
}

function now(): number {
  return performance.now();
}

export function runDifferential(harness: string, o: RunOptions): RunReport {
  const chunk = o.chunk ?? 10000;
  const log = o.log ?? (() => {});
  const sim = new SimRunner({ jitEvery: o.jitEvery ?? 8 });
  const rep: RunReport = {
    total: 0, compared: 0, skipped: new Map(), mismatches: [], engine: [], asmErrors: [], coverage: new Map(), sizes: new Map(), modes: new Map(),
    undefinedFlagDiffs: new Map(), ms: { generate: 0, host: 0, sim: 0, minimize: 0 },
  };
  for (const g of groupsFor(o)) rep.coverage.set(g.name, 0);
  const first = o.first ?? 0;
  for (let base = first; base < first + o.cases; base += chunk) {
    const n = Math.min(chunk, first + o.cases - base);
    let t = now();
    const specs: CaseSpec[] = [];
    const cases: DiffCase[] = [];
    for (let id = base; id < base + n; id++) {
      const spec = generate(o.seed, id, o);
      try {
        cases.push(assemble(spec));
        specs.push(spec);
      } catch (e) {
        rep.asmErrors.push({ spec, msg: String((e as Error).message ?? e) });
      }
    }
    rep.ms.generate += now() - t;
    t = now();
    const host = runOnHost(harness, cases);
    rep.ms.host += now() - t;
    t = now();
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k];
      rep.total++;
      const s = sim.run(c);
      if (s.engine) rep.engine.push({ c, msg: s.engine });
      if (s.skip !== undefined) {
        const kind = skipKind(s.skip);
        rep.skipped.set(kind, (rep.skipped.get(kind) ?? 0) + 1);
        continue;
      }
      rep.compared++;
      for (const g of c.groups) rep.coverage.set(g, (rep.coverage.get(g) ?? 0) + 1);
      const mode = MODE_NAMES[c.mode];
      rep.modes.set(mode, (rep.modes.get(mode) ?? 0) + 1);
      for (const i of c.insns) {
        const m = i.mnem.replace(/^(rep|repe|repne)\s+/, "");
        const key = /^(movs|cmps|stos|lods|scas)[bwd]$/.test(m) ? m : `${m}/${i.size * 8}`;
        rep.sizes.set(key, (rep.sizes.get(key) ?? 0) + 1);
      }
      const diffs = diffOutcomes(host[k], s);
      if (diffs.length > 0) {
        rep.mismatches.push({ c, spec: specs[k], host: host[k], sim: s, diffs, missing: [] });
      } else {
        const u = undefinedFlagDiff(host[k], s);
        if (u !== 0 && s.undefSource) {
          const e = rep.undefinedFlagDiffs.get(s.undefSource) ?? { cases: 0, flags: 0 };
          e.cases++;
          e.flags |= u;
          rep.undefinedFlagDiffs.set(s.undefSource, e);
        }
      }
    }
    rep.ms.sim += now() - t;
    log(`${base + n - first}/${o.cases} cases: ${rep.mismatches.length} mismatches, ${rep.engine.length} engine disagreements`);
  }
  for (const m of rep.mismatches) {
    if (m.sim.kind === "exception" && m.sim.vector === 6 && !(m.host.kind === "exception" && m.host.vector === 6)) {
      m.missing = unimplemented(m.c);
    }
  }
  const t = now();
  minimize(harness, sim, rep.mismatches.filter((m) => m.missing.length === 0).slice(0, o.minimize ?? 50));
  rep.ms.minimize = now() - t;
  return rep;
}

/** Variants of a case with one item, or one instruction of an item, left out. */
function variants(spec: CaseSpec): CaseSpec[] {
  const out: CaseSpec[] = [];
  const items = spec.items;
  if (items.length > 1) {
    for (let k = 0; k < items.length; k++) out.push({ ...spec, items: items.filter((_, j) => j !== k) });
  }
  for (let k = 0; k < items.length; k++) {
    const ps = items[k].pieces;
    for (let p = 0; p < ps.length; p++) {
      if (ps[p].kind !== "insn" || ps.filter((x) => x.kind === "insn").length < 2) continue;
      const it: Item = { group: items[k].group, pieces: ps.filter((_, j) => j !== p) };
      out.push({ ...spec, items: items.map((x, j) => (j === k ? it : x)) });
    }
  }
  return out;
}

function minimize(harness: string, sim: SimRunner, ms: Mismatch[]): void {
  let cur = ms.map((m) => ({ m, spec: m.spec }));
  for (let round = 0; round < 12 && cur.length > 0; round++) {
    const batch: { owner: number; spec: CaseSpec; c: DiffCase }[] = [];
    cur.forEach((x, owner) => {
      for (const v of variants(x.spec)) {
        try {
          batch.push({ owner, spec: v, c: assemble(v) });
        } catch {
          // e.g. a label removed with its instruction: not a valid variant
        }
      }
    });
    if (batch.length === 0) break;
    const host = runOnHost(harness, batch.map((b) => b.c));
    const progressed = new Set<number>();
    batch.forEach((b, k) => {
      if (progressed.has(b.owner)) return;
      const s = sim.run(b.c);
      // A variant whose access leaves the data window (host #PF, or #SS for the stack) is no valid case.
      if (s.skip !== undefined || (host[k].kind === "exception" && (host[k].vector === 14 || host[k].vector === 12))) return;
      const diffs = diffOutcomes(host[k], s);
      if (diffs.length === 0) return;
      progressed.add(b.owner);
      const x = cur[b.owner];
      x.spec = b.spec;
      x.m.min = { c: b.c, host: host[k], sim: s, diffs };
    });
    cur = cur.filter((_, i) => progressed.has(i));
  }
}

/** Human-readable summary of a run. */
export function formatReport(rep: RunReport, maxMismatches = 20): string {
  const out: string[] = [];
  const skipped = [...rep.skipped].reduce((s, [, n]) => s + n, 0);
  out.push(`${rep.total} cases, ${rep.compared} compared, ${skipped} skipped, ${rep.mismatches.length} mismatches, ` +
    `${rep.engine.length} engine disagreements, ${rep.asmErrors.length} assembler errors`);
  out.push(`time: generate ${(rep.ms.generate / 1000).toFixed(1)} s, host ${(rep.ms.host / 1000).toFixed(1)} s, ` +
    `vmxsim ${(rep.ms.sim / 1000).toFixed(1)} s, minimize ${(rep.ms.minimize / 1000).toFixed(1)} s`);
  for (const [k, n] of rep.skipped) out.push(`  skipped: ${n} x ${k}`);
  const missing = new Map<string, number>();
  for (const m of rep.mismatches) for (const x of m.missing) missing.set(x, (missing.get(x) ?? 0) + 1);
  if (missing.size > 0) {
    out.push(`not implemented yet (no executor, #UD in vmxsim): ${[...missing].map(([k, n]) => `${k} (${n})`).join(", ")}`);
  }
  const real = rep.mismatches.filter((m) => m.missing.length === 0);
  real.slice(0, maxMismatches).forEach((m, i) => {
    out.push("");
    out.push(`mismatch ${i + 1}/${real.length}:`);
    if (m.min) {
      out.push("minimized:");
      out.push(formatMismatch(m.min.c, m.min.host, m.min.sim, m.min.diffs));
    } else out.push(formatMismatch(m.c, m.host, m.sim, m.diffs));
  });
  for (const e of rep.engine.slice(0, 10)) out.push(`engine: case ${e.c.id} [${e.c.groups.join(", ")}]: ${e.msg}\n    ${e.c.insns.map((i) => i.text).join("; ")}`);
  for (const e of rep.asmErrors.slice(0, 10)) out.push(`assembler error: case ${e.spec.id}: ${e.msg}`);
  if (rep.undefinedFlagDiffs.size > 0) {
    out.push("undefined flags (not compared) that vmxsim sets differently from this host: " +
      [...rep.undefinedFlagDiffs].map(([k, v]) => `${k}: ${flagNames(v.flags)} (${v.cases} cases)`).join("; "));
  }
  out.push("compared cases per mode: " + [...rep.modes].map(([k, n]) => `${k} ${n}`).join(", "));
  out.push("compared cases per group: " + [...rep.coverage].map(([k, n]) => `${k} ${n}`).join(", "));
  return out.join("\n");
}
