/**
 * Regenerate the golden files of the system test kernels FROM BOCHS (never from vmxsim: the golden file
 * is the reference's output, kept so that a Bochs version change is noticed).
 *
 *   npx tsx test/system/update-golden.ts NAME...     (no NAME: every kernel in KERNELS)
 *
 * Refuses to write a file when Bochs did not reach the kernel's END protocol (bochs.ts).
 */
import { renameSync, writeFileSync } from "node:fs";
import { assembleKernel, expectedPath, missingTools, runBochs } from "./bochs.ts";
import { KERNELS } from "./kernels.ts";

async function main(names: string[]): Promise<number> {
  const missing = missingTools();
  if (missing) {
    console.error(missing);
    return 2;
  }
  let failed = 0;
  for (const name of names.length > 0 ? names : KERNELS) {
    const b = await runBochs(assembleKernel(name));
    if (b.end !== "shutdown-port") {
      console.error(`${name}: Bochs ended with ${b.end} (${b.reason}); golden file not written. Output:\n${b.debugcon}`);
      failed++;
      continue;
    }
    const path = expectedPath(name);
    writeFileSync(`${path}.tmp`, b.debugcon, "latin1");
    renameSync(`${path}.tmp`, path);
    console.log(`${name}: wrote ${path} (${b.debugcon.length} bytes, ${b.ticks} Bochs ticks)`);
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
