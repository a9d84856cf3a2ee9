/**
 * The vmxsim command line, end to end in a child process (few tests: each spawns Node + tsx):
 * exit statuses of the runner contract, stdout/stderr separation, usage errors (status 2), and the
 * demo-image file output.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { flatKernel } from "./scenario/fixtures/multiboot-flat.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function vmxsim(args: string[], viaBin = false) {
  const argv = viaBin ? [join(ROOT, "bin/vmxsim.js"), ...args] : ["--import", "tsx", join(ROOT, "src/cli.ts"), ...args];
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: "latin1", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vmxsim CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-cli-"));
  const hi = join(dir, "hi.bin");
  // mov al,'H'; out 0xe9,al; mov al,'i'; out 0xe9,al; mov al,0x10; out 0xf4,al
  writeFileSync(hi, flatKernel({ code: [0xb0, 0x48, 0xe6, 0xe9, 0xb0, 0x69, 0xe6, 0xe9, 0xb0, 0x10, 0xe6, 0xf4] }));
  const spin = join(dir, "spin.bin");
  writeFileSync(spin, flatKernel({ code: [0xeb, 0xfe] }));

  it("exec: debugcon to stdout, isa-debug-exit status, --stats on stderr", () => {
    const r = vmxsim(["exec", hi, "--stats"]);
    expect(r.stdout).toBe("Hi");
    expect(r.status).toBe(33);
    expect(r.stderr).toMatch(
      /vmxsim: stats: 1 core\(s\), profile none, caches off, quantum 1000 cycles; 6 instructions, \d+ simulated cycles, [\d.]+ s host time, [\d.]+ MIPS \(host\), exit status 33/,
    );
  });

  it("exec: --profile, --no-caches, --cores and --quantum choose the machine; the stats line records them", () => {
    const r = vmxsim(["exec", hi, "--stats", "--profile", "skylake", "--cores", "2", "--quantum", "500"]);
    expect(r.stdout).toBe("Hi");
    expect(r.stderr).toMatch(/stats: 2 core\(s\), profile skylake, caches on, quantum 500 cycles; 6 instructions/);
    const f = vmxsim(["exec", hi, "--stats", "--profile", "core2-q6600", "--no-caches"]);
    expect(f.stderr).toMatch(/profile core2-q6600, caches off/);
    const bad = vmxsim(["exec", hi, "--profile", "pentium4"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown --profile 'pentium4' \(known: core2-q6600, nehalem, sandybridge, haswell, skylake\)/);
    expect(vmxsim(["exec", hi, "--cores", "65"]).stderr).toMatch(/--cores must be between 1 and 64/);
  });

  it("exec: --max-insns gives 124; a triple fault gives 3 with a register dump", () => {
    const r = vmxsim(["exec", spin, "--max-insns", "1_000"]);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/instruction limit reached: 1000 instructions/);
    const ud = join(dir, "ud.bin");
    writeFileSync(ud, flatKernel({ code: [0x0f, 0x0b] }));
    const t = vmxsim(["exec", ud]);
    expect(t.status).toBe(3);
    expect(t.stderr).toMatch(/triple fault[\s\S]*eax=2badb002 ecx=/);
  });

  it("bad input exits 2 and says what is wrong: unreadable file, malformed image, bad option", () => {
    const missing = vmxsim(["exec", join(dir, "nope.bin")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read image '.*nope\.bin'/);
    const junk = join(dir, "junk.bin");
    writeFileSync(junk, new Uint8Array(64));
    const bad = vmxsim(["exec", junk]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad image: no Multiboot header/);
    const opt = vmxsim(["exec", hi, "--max-insns", "lots"]);
    expect(opt.status).toBe(2);
    expect(opt.stderr).toMatch(/--max-insns must be a positive integer, got 'lots'/);
  });

  it("usage: no command or an unknown one exits 2 with usage; --help exits 0", () => {
    const none = vmxsim([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/Usage: vmxsim/);
    expect(vmxsim(["frobnicate"]).status).toBe(2);
    const help = vmxsim(["exec", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--max-insns <n>[\s\S]*124 +--max-insns reached/);
  });

  it("demo-image writes the kernel, and nothing when the target cannot be written", () => {
    const out = join(dir, "demo.bin");
    const r = vmxsim(["demo-image", out]);
    expect(r.status).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.readUInt32LE(bytes.indexOf(Buffer.from([0x02, 0xb0, 0xad, 0x1b])))).toBe(0x1badb002);
    const e = vmxsim(["demo-image", join(dir, "no-such-dir", "demo.bin")]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/cannot write/);
    expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("bin/vmxsim.js runs the demo, which passes (exit 0)", () => {
    const r = vmxsim(["demo"], true);
    expect(r.stdout).toMatch(/^vmxsim bare-metal demo:/);
    expect(r.stderr).toMatch(/demo passed/);
    expect(r.status).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
