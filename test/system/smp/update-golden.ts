/**
 * Regenerate test/system/smp/expected.txt FROM QEMU (never from vmxsim: the golden file is the
 * reference's output, kept so that a QEMU version change or a kernel edit without a new golden file is
 * noticed):
 *
 *   npx tsx test/system/smp/update-golden.ts
 *
 * Runs qemu-system-i386 -smp 4 (harness.ts) with TCG single- and multi-threaded, three times each, and
 * writes the file only when all six runs passed (exit status 33, last line "... PASS") and printed the
 * same bytes -- the kernel's output must not depend on how the host schedules the virtual CPUs.
 */
import { renameSync, writeFileSync } from "node:fs";
import { buildSmpElf, missingBuildTools } from "./build.ts";
import { EXIT_PASS_STATUS, EXPECTED_PATH, haveQemu, QEMU, QEMU_HINT, runQemu } from "./harness.ts";

async function main(): Promise<number> {
  const missing = missingBuildTools() ?? (haveQemu() ? null : `missing ${QEMU}: ${QEMU_HINT}`);
  if (missing) {
    console.error(missing);
    return 2;
  }
  const elf = buildSmpElf();
  const outputs: string[] = [];
  for (const thread of ["single", "multi"] as const) {
    for (let k = 0; k < 3; k++) {
      const r = await runQemu(elf, { thread });
      if (r.status !== EXIT_PASS_STATUS || !r.debugcon.endsWith("PASS\n")) {
        console.error(`QEMU (thread=${thread}) ended with status ${r.status}${r.timedOut ? " (timeout)" : ""}; golden file not written. Output:\n${r.debugcon}\n${r.stderr}`);
        return 1;
      }
      outputs.push(r.debugcon);
    }
  }
  if (outputs.some((o) => o !== outputs[0])) {
    console.error("QEMU runs printed different output; golden file not written:\n" + outputs.join("\n----\n"));
    return 1;
  }
  writeFileSync(`${EXPECTED_PATH}.tmp`, outputs[0], "latin1");
  renameSync(`${EXPECTED_PATH}.tmp`, EXPECTED_PATH);
  console.log(`wrote ${EXPECTED_PATH} (${outputs[0].length} bytes, ${outputs[0].split("\n").length - 1} lines; 6 identical QEMU runs)`);
  return 0;
}

process.exitCode = await main();
