/**
 * The same Multiboot kernels under qemu-system-i386 and under vmxsim must give the same debugcon
 * output, byte for byte, and the same exit status (issue 2, "Bare-metal runner"). Kernels, all built
 * with our assembler: the bundled demo (flat, a.out kludge), the string-instruction tour (flat) and the
 * integer instruction table (ELF32, loaded by its program headers).
 * QEMU runs with: -kernel FILE -display none -debugcon stdio
 *                 -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -nodefaults
 * Skipped, with a message, when qemu-system-i386 is not installed (Debian package qemu-system-x86).
 */
import { describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDemoKernel } from "../src/guests/programs/demo.ts";
import { buildStringOpsTour } from "../src/guests/programs/string-ops-tour.ts";
import { buildArithTable } from "../src/guests/programs/arith-table.ts";
import { execImage } from "../src/scenario/exec-runner.ts";

const QEMU = "qemu-system-i386";
function haveQemu(): boolean {
  try {
    execFileSync(QEMU, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const HAVE_QEMU = haveQemu();
if (!HAVE_QEMU) console.warn(`skipping QEMU comparison: ${QEMU} not found (apt-get install qemu-system-x86)`);

const QEMU_TIMEOUT_MS = 15_000;

function runQemu(kernel: string): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(QEMU, [
      "-kernel", kernel, "-display", "none", "-debugcon", "stdio",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot", "-nodefaults", "-m", "128",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), QEMU_TIMEOUT_MS);
    p.on("error", reject);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

const KERNELS: [string, () => Uint8Array][] = [
  ["demo (flat, a.out kludge)", buildDemoKernel],
  ["string instruction tour (flat)", buildStringOpsTour],
  ["integer instruction table (ELF32)", buildArithTable],
];

describe.skipIf(!HAVE_QEMU)("vmxsim vs qemu-system-i386 on Multiboot kernels", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-qemu-"));
  const built = KERNELS.map(([name, build], k) => {
    const bytes = build();
    const file = join(dir, `kernel${k}.bin`);
    writeFileSync(file, bytes);
    return { name, bytes, file };
  });
  // Start every QEMU at once; each test awaits its own.
  const qemu = built.map((k) => runQemu(k.file));

  it.each(built.map((k, i) => [k.name, i] as const))("%s: same output and exit status", async (_name, i) => {
    const q = await qemu[i];
    const v = execImage(built[i].bytes);
    expect(q.status, `QEMU stderr: ${q.stderr}`).not.toBeNull();
    const qText = q.stdout.toString("latin1");
    const vText = Buffer.from(v.stdout).toString("latin1");
    expect(qText.length).toBeGreaterThan(100);
    expect(vText).toBe(qText);
    expect(v.status).toBe(q.status);
    expect(v.stop).toBe("debug-exit");
  });

  it("cleans up", async () => {
    await Promise.all(qemu);
    rmSync(dir, { recursive: true, force: true });
  });
});
