/**
 * Runs differential-test cases natively on the host CPU, the reference the vmxsim core is checked
 * against: builds harness.c with `gcc -m32` (cached by source hash in the OS temp directory), writes one
 * batch file for all cases, runs the harness once and parses its results (format: harness.c header).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { arch, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DiffCase, DATA_SIZE, fillWindow, type Outcome } from "./layout.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, "harness.c");

/** No stack protector: the signal handler runs before it has put back the TLS selector in GS. */
const FLAGS = ["-m32", "-O1", "-fno-stack-protector"];

export type HostAvailability = { ok: true; harness: string } | { ok: false; reason: string };

let cached: HostAvailability | undefined;

/** Build the harness (or find the cached binary); explain why not when the host cannot run it. */
export function hostHarness(): HostAvailability {
  if (cached) return cached;
  cached = build();
  return cached;
}

function build(): HostAvailability {
  if (arch() !== "x64" && arch() !== "ia32") {
    return { ok: false, reason: `host is ${arch()}, not x86: the differential tests need an x86 CPU` };
  }
  if (process.platform !== "linux") {
    return { ok: false, reason: `host OS is ${process.platform}: the harness uses Linux signals and ucontext` };
  }
  const src = readFileSync(SOURCE);
  const hash = createHash("sha256").update(src).update(FLAGS.join(" ")).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "vmxsim-diff");
  const bin = join(dir, `harness-${hash}`);
  if (existsSync(bin)) return { ok: true, harness: bin };
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync("gcc", [...FLAGS, "-o", tmp, SOURCE], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    const why = r.error ? String(r.error.message) : (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
    return {
      ok: false,
      reason: `cannot build the 32-bit harness with gcc -m32 (${why}); install it with: apt-get install gcc gcc-multilib`,
    };
  }
  renameSync(tmp, bin);
  return { ok: true, harness: bin };
}

/** Serialise cases in the harness input format. */
export function encodeBatch(cases: readonly DiffCase[]): Uint8Array {
  let size = 12;
  for (const c of cases) size += 48 + ((c.code.length + 3) & ~3);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  buf.set([0x56, 0x58, 0x44, 0x49], 0); // "VXDI"
  dv.setUint32(4, 1, true);
  dv.setUint32(8, cases.length, true);
  let p = 12;
  for (const c of cases) {
    for (let r = 0; r < 8; r++) dv.setUint32(p + 4 * r, c.regs[r] >>> 0, true);
    dv.setUint32(p + 32, c.eflags >>> 0, true);
    dv.setUint32(p + 36, c.seed >>> 0, true);
    dv.setUint32(p + 40, c.code.length, true);
    dv.setUint32(p + 44, c.mode, true);
    buf.set(c.code, p + 48);
    p += 48 + ((c.code.length + 3) & ~3);
  }
  return buf;
}

/** Run all cases on the host; one harness process for the whole batch. */
export function runOnHost(harness: string, cases: readonly DiffCase[]): Outcome[] {
  const dir = mkdtempSync(join(tmpdir(), "vmxsim-diff-run-"));
  try {
    const inFile = join(dir, "in.bin");
    const outFile = join(dir, "out.bin");
    writeFileSync(inFile, encodeBatch(cases));
    execFileSync(harness, [inFile, outFile], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 20 });
    return decodeResults(readFileSync(outFile), cases);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SIGNAL_TIMEOUT = 2;

function decodeResults(buf: Buffer, cases: readonly DiffCase[]): Outcome[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.toString("latin1", 0, 4) !== "VXDO") throw new Error("harness output: bad magic");
  const n = dv.getUint32(8, true);
  if (n !== cases.length) throw new Error(`harness output: ${n} results for ${cases.length} cases`);
  const out: Outcome[] = [];
  let p = 12;
  for (let k = 0; k < n; k++) {
    const status = dv.getUint32(p, true);
    const trapno = dv.getUint32(p + 8, true);
    const eip = dv.getUint32(p + 16, true);
    const regs: number[] = [];
    for (let r = 0; r < 8; r++) regs.push(dv.getInt32(p + 20 + 4 * r, true));
    const eflags = dv.getInt32(p + 52, true);
    const sregs: number[] = [];
    for (let r = 0; r < 5; r++) sregs.push(dv.getUint32(p + 56 + 4 * r, true));
    const err = dv.getUint32(p + 12, true);
    const nd = dv.getUint32(p + 76, true);
    p += 80;
    const window = new Uint8Array(DATA_SIZE);
    fillWindow(window, cases[k].seed);
    for (let d = 0; d < nd; d++) {
      const v = dv.getUint32(p, true);
      window[v >>> 8] = v & 0xff;
      p += 4;
    }
    out.push({
      kind: status === 0 ? "end" : status === SIGNAL_TIMEOUT ? "timeout" : "exception",
      vector: status === 1 ? trapno : -1,
      errorCode: status === 1 ? err : -1,
      eip: status === 1 ? eip : 0,
      regs,
      eflags,
      sregs,
      window,
    });
  }
  return out;
}
