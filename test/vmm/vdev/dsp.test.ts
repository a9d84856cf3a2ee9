/**
 * Shared dsp card over the real card model (src/devices/dsp.ts). References: node:zlib's crc32 (the CRC
 * the card computes, CRC-32/ISO-HDLC), SUM and SCALE computed here with BigInt from the op table of
 * dsp-ops.ts' header (floor(s * gain / 65536), saturated; int64 sum), the card's datasheet (descriptor
 * layout, job time = setupUs + perKiBUs * KiB, computed by hand), abi.ts (PV ring), and the vdev brief's
 * cost list.
 */
import { describe, expect, it } from "vitest";
import { crc32 as zlibCrc32 } from "node:zlib";
import { DspReg as R } from "../../../src/devices/dsp.ts";
import { PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp } from "../../../src/vmm/abi.ts";
import { GuestRing, PART_BYTES, rig, type FakeVdevHost } from "./fake-hosts.ts";
import type { VirtualDevice } from "../../../src/vmm/vdev/vdev.ts";

/** 5 us + 1 us per KiB: a 4 KiB job takes 9 us = 9000 ticks at 1 GHz. */
const OPTS = { setupUs: 5, perKiBUs: 1, queueDepth: 4 };
const JOB_4K = 9000;

function setup(parts: ("emulated" | "paravirtual")[], fragmented: boolean[] = []) {
  const r = rig("dsp", OPTS);
  const hosts: FakeVdevHost[] = [];
  const views: VirtualDevice[] = [];
  parts.forEach((mode, p) => {
    const h = r.partition(p, { fragmented: fragmented[p] ?? false });
    hosts.push(h);
    views.push(r.shared.attach(h, mode));
  });
  return { r, hosts, views };
}

/** A job descriptor at `desc` (dsp.ts layout). */
function descriptor(h: FakeVdevHost, desc: number, input: number, len: number, output: number, op: number, param = 0): void {
  [input, len, output, op, param, 0, 0, 0].forEach((v, k) => h.poke32(desc + 4 * k, v));
}

function pattern(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
}

describe("shared dsp: results (reference: zlib crc32, BigInt arithmetic)", () => {
  it("CRC32 through the emulated card and through a PV JOB equals zlib's, with the descriptor written back", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    const input = pattern(3000, 7);
    for (const h of hosts) {
      h.poke(0x10000, input);
      descriptor(h, 0x8000, 0x10000, input.length, 0x20000, 0);
    }
    views[0].mmioWrite!(R.INT_ENABLE, 4, 3);
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8000);
    const ring = new GuestRing(hosts[1], 0x4000, 4);
    views[1].setupRing!(0x4000, 4);
    const n = ring.post(PvOp.JOB, 0x8000, 32);
    views[1].notify!();
    r.run();
    const want = zlibCrc32(input) >>> 0;
    for (const h of hosts) {
      expect(h.peek32(0x20000)).toBe(want);
      expect(h.peek32(0x8000 + 20)).toBe(want); // RESULT
      expect(h.peek32(0x8000 + 24)).toBe(1); // STATUS done
      expect(h.peek32(0x8000 + 28)).toBe(1); // JOB_ID: the partition's first job
    }
    expect(views[0].mmioRead!(R.INT_STATUS, 4)).toBe(1);
    expect(views[0].mmioRead!(R.COMPLETED, 4)).toBe(1);
    expect(views[0].mmioRead!(R.LAST_RESULT, 4) >>> 0).toBe(want);
    expect(hosts[0].raises).toBe(1);
    expect(ring.status(n)).toBe(PV_STATUS_OK);
    expect(ring.result(n)).toBe(want);
    expect(hosts[1].raises).toBe(1);
  });

  it("SUM and SCALE through bounce buffers (buffers not contiguous in host memory) give the exact results", () => {
    const { r, hosts, views } = setup(["emulated"], [true]);
    const h = hosts[0];
    const samples = [1, -2, 2147483647, -2147483648, 65536, 12345, -99999, 7];
    const bytes = new Uint8Array(samples.length * 4);
    samples.forEach((s, k) => new DataView(bytes.buffer).setInt32(k * 4, s, true));
    h.poke(0x10ff0, bytes); // crosses a page
    descriptor(h, 0x8000, 0x10ff0, bytes.length, 0x20ffc, 2); // SUM, output crosses a page
    descriptor(h, 0x8020, 0x10ff0, bytes.length, 0x21ff0, 1, 0x30000); // SCALE by 3.0
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8000);
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8020);
    expect(views[0].mmioRead!(R.OUTSTANDING, 4)).toBe(2);
    r.run();
    const sum = samples.reduce((a, s) => a + BigInt(s), 0n);
    expect(new DataView(h.peek(0x20ffc, 8).buffer).getBigInt64(0, true)).toBe(sum);
    expect(h.peek32(0x8000 + 20)).toBe(Number(BigInt.asUintN(32, sum)));
    const out = new DataView(h.peek(0x21ff0, bytes.length).buffer);
    let saturated = 0;
    samples.forEach((s, k) => {
      let v = (BigInt(s) * 0x30000n) >> 16n; // floor division by 65536
      if (v > 2147483647n) { v = 2147483647n; saturated++; }
      if (v < -2147483648n) { v = -2147483648n; saturated++; }
      expect(out.getInt32(k * 4, true)).toBe(Number(v));
    });
    expect(h.peek32(0x8020 + 20)).toBe(saturated);
    expect(h.peek32(0x8020 + 28)).toBe(2);
    expect(r.shared.report().bounced).toBe(2);
  });
});

describe("shared dsp: contention and costs", () => {
  it("two partitions' jobs are served FIFO: the second's latency is at least two job times", () => {
    const { r, hosts, views } = setup(["paravirtual", "emulated"]);
    for (const h of hosts) descriptor(h, 0x8000, 0x10000, 4096, 0x20000, 0);
    const ring = new GuestRing(hosts[0], 0x4000, 4);
    views[0].setupRing!(0x4000, 4);
    ring.post(PvOp.JOB, 0x8000, 32);
    views[0].notify!();
    views[1].mmioWrite!(R.DOORBELL, 4, 0x8000);
    r.run();
    const [a] = views[0].stats().latencies;
    const [b] = views[1].stats().latencies;
    expect(a).toBeGreaterThanOrEqual(JOB_4K);
    expect(a).toBeLessThan(2 * JOB_4K);
    expect(b).toBeGreaterThanOrEqual(2 * JOB_4K);
    expect(r.shared.report().maxQueued).toBe(1);
  });

  it("emulated costs: one charge per register access, command and completion per job; PV per request", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    for (const h of hosts) descriptor(h, 0x8000, 0x10000, 64, 0x20000, 0);
    views[0].mmioWrite!(R.INT_ENABLE, 4, 1);
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8000);
    r.run();
    views[0].mmioRead!(R.INT_STATUS, 4);
    views[0].mmioWrite!(R.INT_STATUS, 4, 1);
    const h = hosts[0];
    expect(h.rec.count("vdev.registerWrite")).toBe(3);
    expect(h.rec.count("vdev.registerRead")).toBe(1);
    expect(h.rec.count("vdev.command")).toBe(1);
    expect(h.rec.count("vdev.completion")).toBe(1);
    expect(r.backend.rec.count("backend.submit")).toBe(1);
    expect(r.backend.rec.count("backend.interrupt")).toBe(1);
    // DOORBELL and the INT_STATUS W1C written, INT_STATUS read.
    expect(r.backend.bus).toEqual(["mmioWrite", "mmioRead", "mmioWrite"]);
    const ring = new GuestRing(hosts[1], 0x4000, 4);
    views[1].setupRing!(0x4000, 4);
    ring.post(PvOp.JOB, 0x8000, 32);
    ring.post(PvOp.JOB, 0x8000, 32);
    views[1].notify!();
    r.run();
    const p = hosts[1].rec;
    expect([p.count("vdev.pvNotify"), p.count("vdev.pvRequest"), p.count("vdev.command"), p.count("vdev.completion")]).toEqual([1, 2, 2, 2]);
    expect(hosts[1].peek32(0x8000 + 28)).toBe(2);
  });

  it("a doorbell with QUEUE_DEPTH jobs outstanding is rejected (STATUS.BUSY, FULL)", () => {
    const { r, hosts, views } = setup(["emulated"]);
    descriptor(hosts[0], 0x8000, 0x10000, 64, 0x20000, 0);
    for (let k = 0; k < 5; k++) views[0].mmioWrite!(R.DOORBELL, 4, 0x8000);
    expect(views[0].mmioRead!(R.OUTSTANDING, 4)).toBe(4);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(1 | 2 | 4);
    views[0].mmioWrite!(R.STATUS, 4, 4);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(1 | 2);
    r.run();
    expect(views[0].mmioRead!(R.COMPLETED, 4)).toBe(4);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(0);
  });
});

describe("shared dsp: bad guest input", () => {
  it("buffers outside RAM fail with code 3 and a fault; a bad op is failed by the card (code 1)", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    const [h0, h1] = hosts;
    descriptor(h0, 0x8000, PART_BYTES - 16, 64, 0x20000, 0);
    descriptor(h0, 0x8020, 0x10000, 64, 0x20000, 9);
    views[0].mmioWrite!(R.INT_ENABLE, 4, 3);
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8000);
    views[0].mmioWrite!(R.DOORBELL, 4, 0x8020);
    views[0].mmioWrite!(R.DOORBELL, 4, PART_BYTES + 64); // descriptor outside RAM
    descriptor(h1, 0x8000, 0x10000, 64, PART_BYTES, 0);
    const ring = new GuestRing(h1, 0x4000, 4);
    views[1].setupRing!(0x4000, 4);
    const a = ring.post(PvOp.JOB, 0x8000, 32);
    const b = ring.post(PvOp.JOB, 0xffffffe0, 32);
    const c = ring.post(PvOp.READ, 0x8000, 32);
    descriptor(h1, 0x8040, 0x10000, 64, 0x20000, 7);
    const d = ring.post(PvOp.JOB, 0x8040, 32);
    views[1].notify!();
    r.run();
    expect(h0.peek32(0x8000 + 24)).toBe(2 | (3 << 8));
    expect(h0.peek32(0x8020 + 24)).toBe(2 | (1 << 8));
    expect(views[0].mmioRead!(R.INT_STATUS, 4)).toBe(2);
    expect(views[0].mmioRead!(R.COMPLETED, 4)).toBe(3);
    expect(h0.faults.map((f) => f.kind)).toEqual(["dma", "dma"]);
    expect(ring.status(a)).toBe(PV_STATUS_ERROR | (PvError.DMA << 8));
    expect(h1.peek32(0x8000 + 24)).toBe(2 | (3 << 8));
    expect(ring.status(b)).toBe(PV_STATUS_ERROR | (PvError.DMA << 8));
    expect(ring.status(c)).toBe(PV_STATUS_ERROR | (PvError.BAD_OP << 8));
    expect(ring.status(d)).toBe(PV_STATUS_ERROR | (PvError.DEVICE << 8));
    expect(h1.faults).toHaveLength(2);
    // Only the two bad-op jobs reached the card.
    expect(r.shared.report().physicalOps).toBe(2);
  });
});
