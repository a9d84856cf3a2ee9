/**
 * Regenerate test/system/vmx/expected.txt FROM BOCHS (never from vmxsim: the golden file is the
 * reference's output, kept so that a Bochs change or an edit of vmx.asm without a new golden file is
 * noticed). The "bench:" line is left out (Bochs's cycle counts are not timing).
 *
 *   npx tsx test/system/vmx/update-golden.ts
 *
 * Refuses to write when Bochs did not reach the program's END protocol (../bochs.ts).
 */
import { renameSync, writeFileSync } from "node:fs";
import { missingTools } from "../bochs.ts";
import { buildVmxRom, comparable, EXPECTED_PATH, runBochsVmx } from "./harness.ts";

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing) {
    console.error(missing);
    return 2;
  }
  const b = await runBochsVmx(buildVmxRom());
  if (b.end !== "shutdown-port") {
    console.error(`Bochs ended with ${b.end}; golden file not written. Output:\n${b.debugcon}\nLog (end):\n${b.log.slice(-3000)}`);
    return 1;
  }
  const text = comparable(b.debugcon);
  writeFileSync(`${EXPECTED_PATH}.tmp`, text, "latin1");
  renameSync(`${EXPECTED_PATH}.tmp`, EXPECTED_PATH);
  console.log(`wrote ${EXPECTED_PATH} (${text.split("\n").length - 1} lines)`);
  return 0;
}

process.exitCode = await main();
