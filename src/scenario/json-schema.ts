/**
 * The scenario format as a JSON Schema (draft 2020-12) for editors: generated from the one zod schema
 * (scenario-schema.ts) with zod's z.toJSONSchema in "input" mode, so properties with defaults are optional
 * and carry their default. schema/scenario.schema.json is this text, committed (a test keeps it equal);
 * scenario files name it with a `# yaml-language-server: $schema=../schema/scenario.schema.json` line.
 * Leaves out: the checks across objects (scenario-validate.ts): a JSON Schema cannot say "core 2 is owned
 * once"; an editor catches shape errors and typos only.
 */
import { z } from "zod";
import { scenarioSchema } from "./scenario-schema.ts";

/** The JSON Schema of a scenario file, as a plain object. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(scenarioSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: "vmxsim scenario",
    description: "A partitioned machine for vmxsim run: CPU profile, devices, partitions (cores, memory, cache share, devices, guest), VMM costs and run length. Checks across objects (cores owned once, overlaps, references) are made by vmxsim validate.",
    ...rest,
  };
}

/** The schema file's text: two-space JSON and a final newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
