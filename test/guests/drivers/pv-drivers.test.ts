/**
 * The drivers in paravirtual mode, in VMX non-root operation under a test stand-in for the VMM (pv-host.ts:
 * VMCALL exits answered after the ABI of src/vmm/abi.ts). References: the ABI itself (ring layout, slot
 * fields per op: block READ ADDR/LEN/ARG0 = buffer/bytes/LBA, dsp JOB ADDR = descriptor with LEN 32, rt-io
 * WAIT completed with RESULT = SEQ and ARG0/ARG1 = TS, ACK with ARG0 = SEQ; STATUS 1 ok or 2 | code << 8),
 * and the hypercall count: one PV_SETUP per device at boot and one PV_NOTIFY per request (rt-io: one per
 * event for its ACK + WAIT pair).
 */
import { describe, expect, it } from "vitest";
import { crc32 } from "node:zlib";
import { OK, PvHost, pvBlock, pvDspCrc, type PvDeviceModel } from "./pv-host.ts";
import { readLog } from "./bare-metal.ts";
import { buildScriptGuest, scriptDone, scriptResults } from "./script-guest.ts";
import { buildGposLoadGuest } from "../../../src/guests/programs/gpos-load.ts";
import { buildDspOffloadGuest } from "../../../src/guests/programs/dsp-offload.ts";
import { Hypercall, LogKind, PvOp } from "../../../src/vmm/abi.ts";
import type { GuestImage } from "../../../src/guests/guest-env.ts";

const us = (h: PvHost, x: number) => Math.round((h.m.hz * x) / 1e6);
const log = (h: PvHost, img: GuestImage) => readLog(h.m.ram, img.logGpa!).records;
const count = (xs: number[], x: number) => xs.filter((y) => y === x).length;

describe("paravirtual drivers under a VMX host", () => {
  it("block: gpos-load reads post READ slots (buffer, bytes, LBA), one doorbell each, the disk's data arrives", () => {
    const disk = Uint8Array.from({ length: 4096 * 512 }, (_, k) => (k * 7 + (k >> 9)) & 0xff);
    const h = new PvHost([pvBlock(disk, 30 * 3000)]);
    const img = buildGposLoadGuest({ vcpus: [{ kind: "io", device: "block0", op: "read", bytes: 2048, intervalUs: 100 }] }, h.env);
    h.launch(img);
    h.m.run(us(h, 1000));
    expect(h.exitReasons.every((r) => r === 18)).toBe(true);
    const io = log(h, img).filter((r) => r.kind === LogKind.IO);
    const reqs = h.requests[0];
    expect(io.length).toBeGreaterThanOrEqual(8);
    expect(reqs.length - io.length).toBeLessThanOrEqual(1);
    const buf = new DataView(h.m.ram.buffer).getUint32(img.symbols.vcpu_buf, true);
    reqs.forEach((r, k) => expect(r).toMatchObject({ op: PvOp.READ, addr: buf, len: 2048, arg0: 4 * k }));
    expect(count(h.hypercalls, Hypercall.PV_SETUP)).toBe(1);
    expect(count(h.hypercalls, Hypercall.PV_NOTIFY)).toBe(reqs.length);
    io.forEach((r) => {
      expect(r).toMatchObject({ v0: PvOp.READ, v1: 2048, v2: 0 });
      expect(r.t1 - r.t0).toBeGreaterThanOrEqual(30 * 3000);
      expect(r.t1 - r.t0).toBeLessThan(32 * 3000);
    });
    const last = (io.length - 1) * 4 * 512;
    const got = h.m.ram.subarray(buf, buf + 2048);
    expect(Buffer.from(got).equals(Buffer.from(disk.subarray(last, last + 2048))) || Buffer.from(got).equals(Buffer.from(disk.subarray(last + 2048, last + 4096)))).toBe(true);
  });

  it("block: error statuses come back as the VMM wrote them; a refused PV_SETUP fails every op (DEVICE)", () => {
    const disk = new Uint8Array(64 * 512);
    const h = new PvHost([pvBlock(disk, 3000)]);
    const steps = [
      { dev: 0, op: PvOp.READ, buf: { n: 0 }, bytes: 512, arg0: 64 },
      { dev: 0, op: PvOp.TX, buf: { n: 0 }, bytes: 512 },
      { dev: 0, op: PvOp.WRITE, buf: { n: 0 }, bytes: 512, arg0: 3 },
    ];
    const img = buildScriptGuest(h.env, steps, [new Uint8Array(512).fill(0xab)], { interrupts: false });
    h.launch(img);
    h.m.run(us(h, 200));
    expect(scriptDone(h.m.ram, img)).toBe(true);
    expect(scriptResults(h.m.ram, img, 3)).toEqual([[0, 0x202], [0, 0x102], [0, 0]]);
    expect(disk[3 * 512]).toBe(0xab);

    const h2 = new PvHost([pvBlock(disk, 3000)]);
    h2.refuseSetup = true;
    const img2 = buildScriptGuest(h2.env, steps.slice(2), [new Uint8Array(512)], { interrupts: false });
    h2.launch(img2);
    h2.m.run(us(h2, 200));
    expect(scriptResults(h2.m.ram, img2, 1)).toEqual([[0, 0x402]]);
    expect(h2.hypercalls).toEqual([Hypercall.PV_SETUP]); // no doorbell for a device that is not set up
  });

  it("dsp: dsp-offload posts JOB slots (the descriptor, LEN 32); the RESULT is the input's CRC32", () => {
    const h = new PvHost([pvDspCrc(10 * 3000)]);
    const img = buildDspOffloadGuest({ device: "dsp0", jobBytes: 1000, intervalUs: 50, op: "crc32" }, h.env);
    h.launch(img);
    h.m.run(us(h, 500));
    const io = log(h, img).filter((r) => r.kind === LogKind.IO);
    expect(io.length).toBeGreaterThanOrEqual(8);
    for (const r of h.requests[0]) expect(r).toMatchObject({ op: PvOp.JOB, addr: img.symbols.dsp_desc, len: 32 });
    for (const r of io) expect(r).toMatchObject({ v0: PvOp.JOB, v1: 1000, v2: 0 });
    const input = h.m.ram.slice(img.symbols.dsp_input, img.symbols.dsp_input + 1000);
    expect(h.dv.getUint32(img.symbols.dsp_desc + 20, true)).toBe(crc32(input));
  });

  it("rt-io: each completed WAIT gives an IRQ record (SEQ, TS) and one doorbell for ACK(SEQ) + a new WAIT", () => {
    const acks: number[] = [];
    const rtio: PvDeviceModel = {
      type: "rt-io",
      take(req) {
        if (req.op === PvOp.WAIT) return null;
        if (req.op === PvOp.ACK) acks.push(req.arg0);
        return OK();
      },
    };
    const h = new PvHost([rtio]);
    const img = buildScriptGuest(h.env, [{ dev: 0, op: PvOp.ACTUATE, buf: 0, bytes: 0, arg0: 7 }], []);
    h.launch(img);
    const events: { seq: number; ts: number }[] = [];
    for (let k = 1; k <= 10; k++) {
      h.m.clock.at(us(h, 50 * k), () => {
        const w = h.waiting(0, PvOp.WAIT);
        if (!w) return;
        const ts = 50_000 * k + 123;
        events.push({ seq: k, ts });
        h.complete(0, w, OK(k, { arg0: ts, arg1: 0 }));
      });
    }
    h.m.run(us(h, 560));
    expect(events.length).toBe(10);
    const irq = log(h, img).filter((r) => r.kind === LogKind.IRQ);
    expect(irq.map((r) => [r.v0, r.t1])).toEqual(events.map((e) => [e.seq, e.ts]));
    irq.forEach((r, k) => expect(r.t0).toBeGreaterThan(us(h, 50 * (k + 1))));
    expect(acks).toEqual(events.map((e) => e.seq));
    // PV_SETUP; the init's WAIT doorbell; the ACTUATE; then one per event.
    expect(count(h.hypercalls, Hypercall.PV_NOTIFY)).toBe(2 + 10);
    const ops = h.requests[0].map((r) => r.op);
    expect(ops.slice(0, 2)).toEqual([PvOp.WAIT, PvOp.ACTUATE]);
    expect(ops.slice(2)).toEqual(Array.from({ length: 10 }, () => [PvOp.ACK, PvOp.WAIT]).flat());
    expect(scriptResults(h.m.ram, img, 1)).toEqual([[0, 0]]);
  });

  it("nic: TX slots per packet; posted RX buffers are counted and re-posted as packets arrive", () => {
    const nic: PvDeviceModel = {
      type: "nic",
      take(req) {
        return req.op === PvOp.RX ? null : { at: req.tick + 3000, done: () => OK(req.len) };
      },
    };
    const h = new PvHost([nic]);
    const img = buildGposLoadGuest({ vcpus: [{ kind: "io", device: "nic0", op: "tx", bytes: 256, intervalUs: 40 }] }, h.env);
    h.launch(img);
    let delivered = 0;
    for (let k = 1; k <= 12; k++) {
      h.m.clock.at(us(h, 30 * k), () => {
        const w = h.waiting(0, PvOp.RX);
        if (!w) return;
        h.m.ram.fill(k, w.addr, w.addr + 64);
        delivered++;
        h.complete(0, w, OK(64, { arg0: k }));
      });
    }
    h.m.run(us(h, 400));
    expect(delivered).toBe(12);
    const rx = h.dv.getUint32(img.symbols["drv0.rx_packets"], true);
    expect(rx).toBe(12);
    const io = log(h, img).filter((r) => r.kind === LogKind.IO);
    expect(io.length).toBeGreaterThanOrEqual(8);
    for (const r of io) expect(r).toMatchObject({ v0: PvOp.TX, v1: 256, v2: 0 });
    const tx = h.requests[0].filter((r) => r.op === PvOp.TX);
    expect(tx.length - io.length).toBeLessThanOrEqual(1);
    expect(h.requests[0].filter((r) => r.op === PvOp.RX).length).toBe(4 + 12);
  });
});
