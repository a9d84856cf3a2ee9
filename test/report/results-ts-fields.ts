/**
 * The interfaces of src/scenario/results.ts and their fields in declaration order, read from the source
 * text (not from our code), so the JSON key order and the README's field list are checked against the
 * contract itself.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const RESULTS_TS = fileURLToPath(new URL("../../src/scenario/results.ts", import.meta.url));

export function resultsInterfaces(): Map<string, string[]> {
  const text = readFileSync(RESULTS_TS, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    const fields = [...m[2].matchAll(/^ {2}(\w+)\??:/gm)].map((f) => f[1]);
    out.set(m[1], fields);
  }
  return out;
}
