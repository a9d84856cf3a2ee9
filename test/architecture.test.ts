/**
 * Enforces the import rules of shared/DESIGN.md §2 (which module may import which) and the
 * determinism rules of §4 (no wall clock, Math.random, timers or node: imports inside the model).
 * Reference: the table in shared/DESIGN.md §2, restated below.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

/** Module of a source path: "cpu/isa" is its own module, every other top-level folder is one. */
function moduleOf(rel: string): string {
  if (rel === "cli.ts") return "cli";
  if (rel.startsWith("cpu/isa/")) return "cpu/isa";
  if (rel.startsWith("vmm/abi")) return "vmm/abi";
  return rel.split("/")[0];
}

/** DESIGN.md §2: allowed imports per module. cpu may import from devices only the buses and types (a
 * file named for them, or any `import type`). */
const ALLOWED: Record<string, (target: string, targetRel: string, typeOnly?: boolean) => boolean> = {
  sim: (t) => t === "sim",
  devices: (t) => t === "sim" || t === "devices",
  "cpu/isa": (t) => t === "cpu/isa",
  cpu: (t, rel, typeOnly) => t === "sim" || t === "cpu" || t === "cpu/isa" || (t === "devices" && (typeOnly || /bus|types/.test(rel))),
  vmm: (t) => ["sim", "devices", "cpu", "cpu/isa", "vmm", "vmm/abi"].includes(t),
  "vmm/abi": (t) => ["sim", "devices", "cpu", "cpu/isa", "vmm", "vmm/abi"].includes(t),
  guests: (t) => ["cpu/isa", "vmm/abi", "guests"].includes(t),
  scenario: (t) => t !== "report" && t !== "cli",
  report: (t, rel) =>
    t === "report" || t === "sim" || (t === "scenario" && /result|types/.test(rel)),
  cli: () => true,
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const files = walk(SRC).map((p) => ({ path: p, rel: relative(SRC, p).replaceAll("\\", "/"), text: readFileSync(p, "utf8") }));

function importsOf(text: string): string[] {
  return importsWithKind(text).map((i) => i.spec);
}

/** Import specifiers, and whether the import brings in types only (`import type {...}`). */
function importsWithKind(text: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  const re = /(?:import|export)(\s+type)?\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of text.matchAll(re)) out.push({ spec: m[2] ?? m[3], typeOnly: m[1] !== undefined });
  return out;
}

/** Files allowed to touch the host: the CLI, and image-file loading. */
const HOST_ALLOWED = (rel: string) => rel === "cli.ts" || rel.startsWith("guests/image/") && rel.includes("file");

describe("architecture (shared/DESIGN.md §2, §4)", () => {
  it("finds the source tree", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it("respects the direction of imports between modules", () => {
    const violations: string[] = [];
    for (const f of files) {
      const from = moduleOf(f.rel);
      const rule = ALLOWED[from];
      if (!rule) {
        violations.push(`${f.rel}: file outside the folders of DESIGN.md §2`);
        continue;
      }
      for (const { spec, typeOnly } of importsWithKind(f.text)) {
        if (!spec.startsWith(".")) continue;
        const targetRel = relative(SRC, resolve(dirname(f.path), spec)).replaceAll("\\", "/");
        if (targetRel.startsWith("..")) {
          violations.push(`${f.rel}: imports ${spec} from outside src/`);
          continue;
        }
        const to = moduleOf(targetRel);
        if (!rule(to, targetRel, typeOnly)) violations.push(`${f.rel}: ${from} must not import ${to} (${spec})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("keeps the wall clock, randomness, timers and node: modules out of the model", () => {
    const violations: string[] = [];
    const banned: [RegExp, string][] = [
      [/\bMath\.random\s*\(/, "Math.random"],
      [/\bDate\.now\s*\(/, "Date.now"],
      [/\bnew Date\s*\(/, "new Date"],
      [/\bperformance\.now\s*\(/, "performance.now"],
      [/\bset(?:Timeout|Interval|Immediate)\s*\(/, "timers"],
      [/\bprocess\.(?:argv|env|exit|stdout|stderr|hrtime)\b/, "process"],
    ];
    for (const f of files) {
      if (HOST_ALLOWED(f.rel)) continue;
      const code = f.text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const [re, name] of banned) if (re.test(code)) violations.push(`${f.rel}: uses ${name}`);
      for (const spec of importsOf(f.text)) {
        if (spec.startsWith("node:") || ["fs", "path", "child_process", "os"].includes(spec)) {
          violations.push(`${f.rel}: imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("flags a forbidden edge when one is planted (the check itself works)", () => {
    const planted = `import { Core } from "../cpu/core.ts";`;
    const spec = importsOf(planted)[0];
    const targetRel = relative(SRC, resolve(join(SRC, "devices"), spec)).replaceAll("\\", "/");
    expect(ALLOWED.devices(moduleOf(targetRel), targetRel)).toBe(false);
    expect(ALLOWED.cpu("devices", "devices/port-bus.ts")).toBe(true);
    expect(ALLOWED.guests("cpu", "cpu/core.ts")).toBe(false);
  });
});
