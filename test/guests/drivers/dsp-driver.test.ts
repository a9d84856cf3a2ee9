/**
 * The dsp driver in register mode, bare metal, through the dsp-offload program. References: zlib's crc32
 * (node:zlib, the CRC-32/ISO-HDLC the dsp datasheet names) of the input bytes the guest built, read back
 * from guest memory; SUM and SCALE recomputed here with BigInt from the datasheet's definitions (dsp-ops.ts
 * header: int64 sum; floor(s * PARAM / 65536) saturated); the card model's report() for job counts and
 * turnaround (the driver's latency is at least the card's turnaround).
 */
import { describe, expect, it } from "vitest";
import { crc32 } from "node:zlib";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildDspOffloadGuest, DSP_SCALE_GAIN, dspInputPattern } from "../../../src/guests/programs/dsp-offload.ts";
import { DSP_DESC, DSP_REG } from "../../../src/guests/drivers/dsp-driver.ts";
import { Dsp, DspReg } from "../../../src/devices/dsp.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";

function run(op: "crc32" | "scale" | "sum", jobBytes: number) {
  const s = bareMetalStand([{ name: "acc", type: "dsp", options: { setupUs: 5, perKiBUs: 2 } }]);
  const img = buildDspOffloadGuest({ device: "acc", jobBytes, intervalUs: 100, op }, s.env);
  boot(s, img);
  s.m.run(us(s, 1000));
  const dsp = s.cards.acc.device as Dsp;
  const io = vcpuLog(s.m.ram, img, 0).records.filter((r) => r.kind === LogKind.IO);
  const dv = new DataView(s.m.ram.buffer);
  const input = s.m.ram.slice(img.symbols.dsp_input, img.symbols.dsp_input + jobBytes);
  return { s, img, dsp, io, dv, input };
}

describe("dsp driver, register mode (bare metal, dsp-offload)", () => {
  it("uses the datasheet's register offsets", () => {
    for (const [name, off] of Object.entries(DSP_REG)) expect(off, name).toBe(DspReg[name as keyof typeof DspReg]);
  });

  it("CRC32 jobs every 100 us: the card's RESULT equals zlib's crc32 of the input; an IO record per job", () => {
    const { s, img, dsp, io, dv, input } = run("crc32", 4096);
    expect(Buffer.from(input).equals(Buffer.from(dspInputPattern(4096)))).toBe(true);
    const rep = dsp.report();
    expect(io.length).toBeGreaterThanOrEqual(8);
    expect(rep.jobs - io.length).toBeGreaterThanOrEqual(0);
    expect(rep.jobs - io.length).toBeLessThanOrEqual(1);
    expect(rep.errors).toBe(0);
    expect(dv.getUint32(img.symbols.dsp_desc + DSP_DESC.RESULT, true)).toBe(crc32(input));
    expect(dv.getUint32(img.symbols.dsp_output, true)).toBe(crc32(input));
    expect(dv.getUint32(img.symbols.dsp_desc + DSP_DESC.STATUS, true)).toBe(1);
    io.forEach((r, k) => {
      expect(r).toMatchObject({ id: 0, v0: PvOp.JOB, v1: 4096, v2: 0 });
      expect(r.t1 - r.t0).toBeGreaterThanOrEqual(rep.turnaroundTicks[k]);
      expect(r.t1 - r.t0).toBeLessThan(rep.turnaroundTicks[k] + us(s, 2));
      if (k > 0) expect(Math.abs(r.t0 - io[k - 1].t0 - us(s, 100))).toBeLessThan(us(s, 1)); // the interval, by the TSC
    });
  });

  it("SUM and SCALE results equal the datasheet's arithmetic recomputed with BigInt", () => {
    const sum = run("sum", 1024);
    const words = (b: Uint8Array) => Array.from({ length: b.length / 4 }, (_, k) => new DataView(b.buffer, b.byteOffset).getInt32(4 * k, true));
    const total = words(sum.input).reduce((x, w) => x + BigInt(w), 0n);
    expect(sum.dv.getBigInt64(sum.img.symbols.dsp_output, true)).toBe(total);
    expect(sum.dv.getUint32(sum.img.symbols.dsp_desc + DSP_DESC.RESULT, true)).toBe(Number(BigInt.asUintN(32, total)));
    const scale = run("scale", 256);
    const out = words(scale.s.m.ram.slice(scale.img.symbols.dsp_output, scale.img.symbols.dsp_output + 256));
    const want = words(scale.input).map((w) => {
      const p = BigInt(w) * BigInt(DSP_SCALE_GAIN);
      const f = p >= 0n ? p / 65536n : -((-p + 65535n) / 65536n); // floor
      return Number(f > 2147483647n ? 2147483647n : f < -2147483648n ? -2147483648n : f);
    });
    expect(out).toEqual(want);
    expect(scale.io.every((r) => r.v2 === 0)).toBe(true);
  });
});
