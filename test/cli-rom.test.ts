/**
 * `vmxsim exec --rom FILE [--post]`, end to end in a child process, with ROMs built by our assembler
 * (bits 16, org). References: SDM Vol. 3A 9.1.4 (execution starts at FFFFFFF0H, so a ROM whose last
 * 16 bytes hold a far JMP runs); QEMU's isa-debug-exit rule (status (v << 1) | 1); issue 3's
 * contract for POST ports 0x80 and 0x190 ("POST xx" lines on stderr, here two lower-case hex digits)
 * and for bad input (status 2, the message names the file, nothing written to stdout).
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { al, Asm, dx, far } from "../src/guests/asm/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function vmxsim(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli.ts"), ...args], {
    cwd: ROOT, encoding: "latin1", timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A full 64 KiB ROM: code at F000:0000, the reset vector jumping there, 0xFF elsewhere. */
function buildRom(body: (a: Asm) => void): Uint8Array {
  const a = new Asm({ bits: 16, origin: 0xf0000 });
  body(a);
  a.org(0xffff0);
  a.jmp(far(0xf000, 0));
  a.org(0x100000);
  return a.build().bytes;
}

describe("vmxsim exec --rom", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-cli-rom-"));
  const hello = join(dir, "hello.rom");
  const helloBytes = buildRom((a) => {
    a.mov(al, 0x0a).out(0x80, al);
    for (const c of "ROM\n") a.mov(al, c.charCodeAt(0)).out(0xe9, al);
    a.mov(dx, 0x190).mov(al, 0xff).out(dx, al);
    a.mov(al, 0x42).out(0x80, al);
    a.mov(al, 0x10).out(0xf4, al);
  });
  writeFileSync(hello, helloBytes);

  it("runs a 64 KiB ROM from the reset vector: debugcon on stdout, isa-debug-exit status", () => {
    expect(helloBytes.length).toBe(0x10000);
    const r = vmxsim(["exec", "--rom", hello, "--stats"]);
    expect(r.stdout).toBe("ROM\n");
    expect(r.status).toBe(33);
    expect(r.stderr).not.toMatch(/POST/);
    // reset-vector JMP, then 2 + 4 * 2 + 3 + 2 + 2 instructions
    expect(r.stderr).toMatch(/vmxsim: stats: 1 core\(s\), profile none, caches off, quantum 1000 cycles; 18 instructions, .* exit status 33 \(debug-exit\)/);
  });

  it("--post writes each POST code to stderr as a 'POST xx' line, in order", () => {
    const r = vmxsim(["exec", "--rom", hello, "--post"]);
    expect(r.stdout).toBe("ROM\n");
    expect(r.status).toBe(33);
    expect(r.stderr).toBe("POST 0a\nPOST ff\nPOST 42\n");
  });

  it("bad input exits 2, names the file, and writes nothing to stdout", () => {
    const missing = vmxsim(["exec", "--rom", join(dir, "nope.rom")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read ROM '.*nope\.rom'/);
    expect(missing.stdout).toBe("");

    const bigPath = join(dir, "big.rom");
    writeFileSync(bigPath, new Uint8Array(70_000));
    const big = vmxsim(["exec", "--rom", bigPath]);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/bad ROM: '.*big\.rom' is 70000 bytes, more than the 64 KiB/);
    expect(big.stdout).toBe("");

    const both = vmxsim(["exec", hello, "--rom", hello]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const neither = vmxsim(["exec"]);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toMatch(/missing the kernel IMAGE \(or --rom FILE\)/);
    const cmdline = vmxsim(["exec", "--rom", hello, "--cmdline", "x"]);
    expect(cmdline.status).toBe(2);
    expect(cmdline.stdout).toBe("");
  });

  it("cleans up", () => {
    rmSync(dir, { recursive: true, force: true });
  });
});
