/**
 * Scenario text -> validated ScenarioConfig (shared/DESIGN.md §3 "Scenarios are data", §5 "Errors"): YAML 1.2
 * (the `yaml` package; JSON is YAML 1.2, so .json files take the same path), then the shape and defaults
 * (scenario-schema.ts), then the checks across objects (scenario-validate.ts). Every problem is reported at
 * once, each as `file: path: message`, in a ScenarioError; the CLI prints it and exits with status 2.
 * Cross-object checks need a well-formed scenario, so they run once the shape is valid (like a compiler's
 * phases: a misspelt key is reported first, a core given twice after it is fixed).
 *
 * Leaves out: reading files (the CLI reads them: no node:fs in the model, DESIGN.md §2), YAML anchors
 * across documents (one document per file), line numbers in messages (the path says where).
 */
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { ScenarioConfig } from "./config.ts";
import { scenarioSchema } from "./scenario-schema.ts";
import { keyPath, pathString, validateScenario, type ScenarioIssue } from "./scenario-validate.ts";
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_NAME, builtinScenarioText } from "./builtin-scenarios.ts";

export type { ScenarioIssue };
export { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_NAME, builtinScenarioText };

/** Bad input, with where it is (DESIGN.md §5). */
export class ConfigError extends Error {
  /** The path in the scenario ("" = the whole input). */
  readonly path: string;
  constructor(message: string, path = "") {
    super(message);
    this.name = "ConfigError";
    this.path = path;
  }
}

/** Every problem of one scenario: the message lists them one per line as `file: path: message`. */
export class ScenarioError extends ConfigError {
  readonly file: string;
  readonly issues: readonly ScenarioIssue[];
  constructor(file: string, issues: readonly ScenarioIssue[]) {
    super(issues.map((i) => formatIssue(file, i)).join("\n"), issues[0]?.path ?? "");
    this.name = "ScenarioError";
    this.file = file;
    this.issues = issues;
  }
}

export function formatIssue(file: string, i: ScenarioIssue): string {
  return [file, i.path, i.message].filter((s) => s !== "").join(": ");
}

/** The scenario in `text` (YAML or JSON), validated and with every default filled; `file` names it in
 * messages. Throws a ScenarioError listing every problem. */
export function parseScenario(text: string, file: string): ScenarioConfig {
  const { config, issues } = checkScenarioText(text);
  if (config === null) throw new ScenarioError(file, issues);
  return config;
}

/** A built-in scenario (scenarios/NAME.yaml, embedded), validated. */
export function loadBuiltinScenario(name: string = DEFAULT_SCENARIO_NAME): ScenarioConfig {
  return parseScenario(builtinScenarioText(name), `${name}.yaml`);
}

/** The same checks without throwing: the config (null when there is any issue) and every issue. */
export function checkScenarioText(text: string): { config: ScenarioConfig | null; issues: ScenarioIssue[] } {
  const parsed = parseText(text);
  if (parsed.issues.length > 0) return { config: null, issues: parsed.issues };
  return checkScenarioData(parsed.data);
}

/** Shape, defaults and cross-object checks of already-parsed data (a JSON.parse result, an object). */
export function checkScenarioData(data: unknown): { config: ScenarioConfig | null; issues: ScenarioIssue[] } {
  if (data === null || data === undefined) return { config: null, issues: [{ path: "", message: "the scenario is empty: expected a mapping with name, description, partitions ..." }] };
  const r = scenarioSchema.safeParse(data, { reportInput: true });
  if (!r.success) return { config: null, issues: r.error.issues.flatMap((i) => fromZod(i, data)) };
  const issues = validateScenario(r.data);
  return { config: issues.length === 0 ? r.data : null, issues };
}

function parseText(text: string): { data: unknown; issues: ScenarioIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const at = (pos: readonly number[] | undefined) => {
    if (pos === undefined) return "";
    const { line, col } = lines.linePos(pos[0]);
    return `line ${line}, column ${col}: `;
  };
  const issues: ScenarioIssue[] = doc.errors.map((e) => ({ path: "", message: `${at(e.pos)}${e.message} (YAML)` }));
  if (issues.length > 0) return { data: undefined, issues };
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), issues };
  } catch (e) {
    return { data: undefined, issues: [{ path: "", message: `${e instanceof Error ? e.message : String(e)} (YAML)` }] };
  }
}

// ---- zod issues -> our messages ----

type ZodIssue = z.core.$ZodIssue;

const hex = (n: number) => (n < 0 ? `-${(-n).toString(16).toUpperCase()}H` : `${n.toString(16).toUpperCase()}H`);

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") return `'${v}'`;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

const EXPECTED: Record<string, string> = {
  int: "an integer", number: "a number", string: "a string", boolean: "true or false", object: "a mapping",
  array: "a list", null: "null", record: "a mapping",
};

function fromZod(issue: ZodIssue, root: unknown): ScenarioIssue[] {
  const path = pathString(issue.path);
  const input = (issue as { input?: unknown }).input;
  const got = ` (got ${show(input)})`;
  switch (issue.code) {
    case "invalid_type": {
      const want = EXPECTED[issue.expected] ?? issue.expected;
      if (input === undefined) return [{ path, message: `required: ${want}` }];
      if (input === null && issue.expected !== "null") return [{ path, message: `must be ${want}, not null` }];
      return [{ path, message: `must be ${want}${got}` }];
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const limit = Number(small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
      if (issue.origin === "array") {
        return [{ path, message: small ? `must have at least ${limit} item${limit === 1 ? "" : "s"}` : `must have at most ${limit} items` }];
      }
      if (issue.origin === "string") return [{ path, message: small && limit === 1 ? "must not be empty" : issue.message }];
      const op = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      // Vectors, ports and addresses read best in hex, as the SDM writes them.
      if (/(vector|port|mmioBase)$/.test(path) && typeof input === "number") {
        return [{ path, message: `must be ${op} ${hex(limit)} (got ${hex(input)})` }];
      }
      return [{ path, message: `must be ${op} ${limit}${got}` }];
    }
    case "invalid_value":
      return [{ path, message: `must be ${issue.values.length > 1 ? "one of " : ""}${issue.values.map((v) => show(v)).join(", ")}${got}` }];
    case "invalid_union": {
      const u = issue as { discriminator?: string; options?: unknown[] };
      if (u.options !== undefined && u.discriminator !== undefined) {
        const tag = input !== null && typeof input === "object" ? (input as Record<string, unknown>)[u.discriminator] : undefined;
        const one = u.options.map((o) => show(o)).join(", ");
        return [{ path, message: tag === undefined ? `required: one of ${one}` : `must be one of ${one} (got ${show(tag)})` }];
      }
      return [{ path, message: issue.message }];
    }
    case "unrecognized_keys":
      return issue.keys.map((k) => ({ path: keyPath(path, k), message: `unknown key '${k}'${suggest(k, knownKeysAt(issue.path, root))}` }));
    case "invalid_format":
      return [{ path, message: `must be ${issue.message}${got}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** " (did you mean 'x'?)" for a near miss, else " (known: ...)", or "" when the keys are unknown. */
function suggest(key: string, known: string[] | null): string {
  if (known === null || known.length === 0) return "";
  let best = "", bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  if (bestD <= Math.max(1, Math.floor(key.length / 3))) return ` (did you mean '${best}'?)`;
  return ` (known: ${known.join(", ")})`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions
 * ("prot" -> "port" is one edit) each cost 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The keys the schema allows for the object at `path` of `root`, or null when that is not clear. */
function knownKeysAt(path: readonly PropertyKey[], root: unknown): string[] | null {
  let schema: z.ZodType = scenarioSchema;
  let value: unknown = root;
  for (let i = 0; ; i++) {
    const s = resolve(schema, value);
    if (s === null) return null;
    if (i === path.length) {
      if (s instanceof z.ZodObject) return Object.keys(s.shape);
      if (s instanceof z.ZodRecord && s.keyType instanceof z.ZodEnum) return s.keyType.options.map(String);
      return null;
    }
    const seg = path[i];
    if (s instanceof z.ZodObject && typeof seg === "string" && seg in s.shape) schema = s.shape[seg] as z.ZodType;
    else if (s instanceof z.ZodArray) schema = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) schema = s.valueType as z.ZodType;
    else return null;
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
  }
}

/** `schema` without its default/optional/nullable/transform wrappers, a union resolved by `value`'s
 * discriminator. */
function resolve(schema: z.ZodType, value: unknown): z.ZodType | null {
  for (;;) {
    if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) {
      schema = schema.unwrap() as z.ZodType;
    } else if (schema instanceof z.ZodPipe) {
      schema = schema.in as z.ZodType;
    } else if (schema instanceof z.ZodDiscriminatedUnion) {
      const disc = (schema._zod.def as { discriminator: string }).discriminator;
      const tag = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[disc] : undefined;
      const hit = (schema.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape[disc] as z.ZodLiteral).values.has(tag as never));
      if (hit === undefined) return null;
      schema = hit;
    } else {
      return schema;
    }
  }
}
