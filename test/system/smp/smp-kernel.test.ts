/**
 * The SMP test kernel (smp.asm: INIT-SIPI-SIPI per SDM Vol. 3A 8.4.4.1, a ring of fixed IPIs, a
 * broadcast answered in turn under a LOCK XCHG spinlock, 4 x 1000 LOCK XADD) against its references
 * (issue 4, "Tests against references", third bullet):
 *   - QEMU (qemu-system-i386 -smp 4, TCG) prints test/system/smp/expected.txt (made from QEMU by
 *     update-golden.ts) and exits 33, with TCG single- and multi-threaded alike;
 *   - Bochs 2.7 with 4 CPUs, booting the same kernel through rom-loader.asm, prints the same file;
 *   - vmxsim exec --cores 4 prints the same file, exits 33, and repeats itself byte for byte (skipped,
 *     saying why, only while `vmxsim exec --help` does not list --cores).
 * And one run where the kernel must fail (QEMU -smp 2: AP 2 never checks in), so that PASS is
 * not something the kernel says whatever happens.
 * Needs nasm and binutils (fails without them, as the other system kernels do); the QEMU tests are
 * skipped without qemu-system-i386 (apt-get install qemu-system-x86); Bochs is required as in
 * ../system-kernels.test.ts (its missingTools() says what to install).
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { missingTools as missingBochsTools } from "../bochs.ts";
import { buildSmpElf, buildSmpRom, missingBuildTools } from "./build.ts";
import {
  CPUS, EXIT_FAIL_STATUS, EXIT_PASS_STATUS, EXPECTED_PATH, firstDifference, haveQemu, QEMU, QEMU_HINT,
  runBochsSmp, runQemu, runVmxsim, vmxsimCoresMissing,
} from "./harness.ts";

const BUILD_MISSING = missingBuildTools();
const HAVE_QEMU = haveQemu();
if (!HAVE_QEMU) console.warn(`skipping the QEMU half of the SMP kernel test: ${QEMU} not found (${QEMU_HINT})`);
const CORES_MISSING = vmxsimCoresMissing();
if (CORES_MISSING) console.warn(`skipping the vmxsim half of the SMP kernel test: ${CORES_MISSING}`);

function build<T>(f: () => T): T | Error {
  if (BUILD_MISSING) return new Error(BUILD_MISSING);
  try {
    return f();
  } catch (e) {
    return e as Error;
  }
}

function expected(): string {
  if (!existsSync(EXPECTED_PATH)) throw new Error(`${EXPECTED_PATH} is missing: run npx tsx test/system/smp/update-golden.ts`);
  return readFileSync(EXPECTED_PATH, "latin1");
}

function mustBuild<T>(x: T | Error): T {
  if (x instanceof Error) throw x;
  return x;
}

describe("SMP kernel: INIT-SIPI-SIPI, IPIs and LOCKed counters on 4 processors", () => {
  const elf = build(buildSmpElf);
  const rom = build(buildSmpRom);

  it("builds (nasm -f elf32, ld -m elf_i386; the ROM for Bochs)", () => {
    mustBuild(elf);
    mustBuild(rom);
  });

  it("the golden file is QEMU's complete, passing run", () => {
    const want = expected();
    // What the kernel must have printed when all its checks passed (smp.asm).
    expect(want).toMatch(/^SMP test kernel: BSP up, 4 processors expected\n/);
    for (let n = 1; n < CPUS; n++) expect(want).toContain(`AP ${n}: apic id ${n}, IA32_APIC_BASE bsp 0\n`);
    expect(want).toContain("BSP: counter = 4000 (expected 4000)\n");
    expect(want.endsWith("SMP test kernel: PASS\n")).toBe(true);
  });

  describe.skipIf(!HAVE_QEMU)("QEMU -smp 4 (TCG), the reference", () => {
    it.each(["single", "multi"] as const)("thread=%s: prints expected.txt and exits 33", async (thread) => {
      const r = await runQemu(mustBuild(elf), { thread });
      expect(r.timedOut, `QEMU timed out; output so far:\n${r.debugcon}`).toBe(false);
      const want = expected();
      expect(r.debugcon, firstDifference(want, r.debugcon, "expected.txt", "QEMU")).toBe(want);
      expect(r.status, r.stderr).toBe(EXIT_PASS_STATUS);
    });

    it("with -smp 2 the kernel fails, saying that AP 2 did not check in, and exits 35", async () => {
      const r = await runQemu(mustBuild(elf), { smp: 2 });
      expect(r.debugcon).toContain("AP 1: apic id 1, IA32_APIC_BASE bsp 0\nBSP: starting AP 2 (apic id 2): INIT, SIPI, SIPI\n");
      expect(r.debugcon.endsWith("FAIL: AP did not check in within 1 s\n")).toBe(true);
      expect(r.debugcon).not.toContain("PASS");
      expect(r.status).toBe(EXIT_FAIL_STATUS);
    });
  });

  it("Bochs 2.7 with 4 CPUs (the kernel loaded by rom-loader.asm) prints expected.txt", async () => {
    const missing = missingBochsTools();
    if (missing) throw new Error(missing);
    const b = await runBochsSmp(mustBuild(rom));
    expect(b.timedOut, `Bochs timed out; output so far:\n${b.debugcon}`).toBe(false);
    const want = expected();
    expect(b.debugcon, firstDifference(want, b.debugcon, "expected.txt", "Bochs")).toBe(want);
    expect(b.shutdown, `Bochs did not reach the shutdown port:\n${b.stderr.slice(-2000)}`).toBe(true);
  });

  describe.skipIf(CORES_MISSING !== null)(`vmxsim exec --cores ${CPUS}`, () => {
    it("prints expected.txt and exits 33, twice with the same output and simulated cycles", async () => {
      const want = expected();
      const runs = [];
      for (let k = 0; k < 2; k++) {
        const v = await runVmxsim(mustBuild(elf));
        expect(v.timedOut, `vmxsim timed out; output so far:\n${v.debugcon}`).toBe(false);
        expect(v.debugcon, firstDifference(want, v.debugcon, "expected.txt (QEMU)", "vmxsim") + `\nstderr:\n${v.stderr}`).toBe(want);
        expect(v.status, v.stderr).toBe(EXIT_PASS_STATUS);
        runs.push(v);
      }
      const cycles = runs.map((v) => /(\d+) instructions, (\d+) simulated cycles/.exec(v.stderr)?.slice(1, 3));
      expect(cycles[0], `no --stats line in: ${runs[0].stderr}`).toBeDefined();
      expect(cycles[1]).toEqual(cycles[0]);
    });
  });
});
