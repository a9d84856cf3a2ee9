/**
 * Command-line entry for differential runs against the host CPU, for runs larger than CI's and for
 * reproducing one case:
 *   npx tsx test/cpu/differential/run.ts [--cases N] [--seed S] [--only group,group] [--case ID] [--max N]
 * Environment: VMXSIM_DIFF_CASES and VMXSIM_DIFF_SEED give the defaults; VMXSIM_DIFF_SYSTEM=1 adds the
 * groups that check the system-architecture layer (segment-protection). Exit status 1 on a mismatch.
 * Reference: the host CPU, through harness.c.
 */
import { hostHarness } from "./host-runner.ts";
import { formatReport, runDifferential } from "./differential.ts";
import { assemble, generate } from "./generator.ts";
import { listing, initialText } from "./compare.ts";

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

const seed = Number(arg("seed") ?? process.env.VMXSIM_DIFF_SEED ?? 1);
const one = arg("case");
if (one !== undefined) {
  const c = assemble(generate(seed, Number(one), { only: arg("only")?.split(","), system: process.env.VMXSIM_DIFF_SYSTEM === "1" }));
  console.log(listing(c).join("\n"));
  console.log(initialText(c));
}
const h = hostHarness();
if (!h.ok) {
  console.error(`differential test skipped: ${h.reason}`);
  process.exit(0);
}
const cases = Number(arg("cases") ?? process.env.VMXSIM_DIFF_CASES ?? 100000);
const rep = runDifferential(h.harness, {
  cases: one !== undefined ? 1 : cases,
  first: one !== undefined ? Number(one) : 0,
  seed,
  only: arg("only")?.split(","),
  system: process.env.VMXSIM_DIFF_SYSTEM === "1",
  log: (s) => process.stderr.write(s + "\n"),
  minimize: Number(arg("max") ?? 50),
});
console.log(formatReport(rep, Number(arg("max") ?? 50)));
process.exit(rep.mismatches.length + rep.engine.length + rep.asmErrors.length > 0 ? 1 : 0);
