/**
 * Shared block device over the real disk model (src/devices/block-device.ts). References: the disk's
 * datasheet (its header: register table, service time = fixed + per-KiB + seek, computed by hand here),
 * the sector contents the test writes to the medium itself (BlockDevice.writeSector, outside the VMM), the
 * PV ring layout of abi.ts, and the cost list of the vdev brief (which key per access / operation).
 */
import { describe, expect, it } from "vitest";
import { BlockDevice, BlockReg as R, SECTOR_BYTES } from "../../../src/devices/block-device.ts";
import { PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp } from "../../../src/vmm/abi.ts";
import { GuestRing, PART_BYTES, rig, type FakeVdevHost } from "./fake-hosts.ts";
import type { VirtualDevice } from "../../../src/vmm/vdev/vdev.ts";

const CAP = 4096;
/** 100 us + 10 us per KiB, no seek: an 8-sector (4 KiB) READ takes 140 us = 140000 ticks at 1 GHz. */
const OPTS = { capacitySectors: CAP, fixedUs: 100, perKiBUs: 10, seekUsPerTrack: 0, maxSectors: 64 };
const SERVICE_8 = 140_000;
const BUSY = 1, DONE = 2, ERROR = 4, REJECTED = 8;

function sector(tag: number): Uint8Array {
  const s = new Uint8Array(SECTOR_BYTES);
  for (let k = 0; k < SECTOR_BYTES; k++) s[k] = (tag * 31 + k * 7) & 0xff;
  return s;
}

function disk(r: ReturnType<typeof rig>): BlockDevice {
  return r.physical.device as BlockDevice;
}

/** Program a command through the emulated registers, as a driver would. */
function command(v: VirtualDevice, cmd: number, lba: number, count: number, gpa: number): void {
  v.mmioWrite!(R.LBA, 4, lba);
  v.mmioWrite!(R.COUNT, 4, count);
  v.mmioWrite!(R.DMA_ADDR, 4, gpa);
  v.mmioWrite!(R.COMMAND, 4, cmd);
}

function setup(parts: ("emulated" | "paravirtual")[], fragmented: boolean[] = []) {
  const r = rig("block", OPTS);
  const hosts: FakeVdevHost[] = [];
  const views: VirtualDevice[] = [];
  parts.forEach((mode, p) => {
    const h = r.partition(p, { fragmented: fragmented[p] ?? false });
    hosts.push(h);
    views.push(r.shared.attach(h, mode));
  });
  // Each partition's window k holds sectors tagged by their physical number.
  for (let s = 0; s < CAP; s += 1) if (s % 2048 < 64) disk(r).writeSector(s, sector(s));
  return { r, hosts, views };
}

describe("shared block: data (reference: the sectors on the medium)", () => {
  it("an emulated READ and a paravirtual READ of the same window offset return their windows' sectors", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    const [h0, h1] = hosts;
    // Partition 0 (window [0, 2048)) emulated: READ LBA 3, 8 sectors to GPA 0x10000.
    views[0].mmioWrite!(R.INT_ENABLE, 4, 1);
    command(views[0], 1, 3, 8, 0x10000);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(BUSY);
    // Partition 1 (window [2048, 4096)) paravirtual: READ LBA 3, 4 KiB to GPA 0x20000.
    const ring = new GuestRing(h1, 0x4000, 8);
    expect(views[1].setupRing!(0x4000, 8)).toBe(true);
    const n = ring.post(PvOp.READ, 0x20000, 8 * SECTOR_BYTES, 3);
    views[1].notify!();
    r.run();
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(DONE);
    expect(views[0].mmioRead!(R.INT_STATUS, 4)).toBe(1);
    expect(h0.raises).toBe(1);
    for (let k = 0; k < 8; k++) {
      expect(h0.peek(0x10000 + k * 512, 512)).toEqual(disk(r).readSector(3 + k));
      expect(h1.peek(0x20000 + k * 512, 512)).toEqual(disk(r).readSector(2048 + 3 + k));
    }
    expect(ring.status(n)).toBe(PV_STATUS_OK);
    expect(ring.result(n)).toBe(8 * 512);
    expect(ring.used).toBe(1);
    expect(h1.raises).toBe(1);
    // Zero copy: the VMM itself copied no data (only the 32-byte slot).
    expect(h0.copiedOut + h1.copiedOut).toBe(0);
    expect(r.shared.report().bounced).toBe(0);
  });

  it("a buffer not contiguous in host memory goes through the bounce buffer with the same data", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"], [true, true]);
    command(views[0], 1, 10, 16, 0x10800); // 8 KiB from mid-page: spans 3 pages
    const ring = new GuestRing(hosts[1], 0x4000, 4);
    views[1].setupRing!(0x4000, 4);
    ring.post(PvOp.READ, 0x20800, 16 * 512, 10);
    views[1].notify!();
    r.run();
    for (let k = 0; k < 16; k++) {
      expect(hosts[0].peek(0x10800 + k * 512, 512)).toEqual(disk(r).readSector(10 + k));
      expect(hosts[1].peek(0x20800 + k * 512, 512)).toEqual(disk(r).readSector(2058 + k));
    }
    expect(r.shared.report().bounced).toBe(2);
    expect(hosts[0].copiedOut).toBe(16 * 512);
  });

  it("a paravirtual WRITE (bounced and direct) reaches the window's sectors on the medium", () => {
    const { r, hosts, views } = setup(["paravirtual", "paravirtual"], [true, false]);
    const data = new Uint8Array(4 * 512).map((_, k) => (k * 13 + 5) & 0xff);
    hosts.forEach((h, p) => {
      h.poke(0x30f00, data);
      const ring = new GuestRing(h, 0x4000, 4);
      views[p].setupRing!(0x4000, 4);
      ring.post(PvOp.WRITE, 0x30f00, data.length, 100);
      ring.post(PvOp.FLUSH, 0, 0);
      views[p].notify!();
    });
    r.run();
    for (const base of [0, 2048]) {
      for (let k = 0; k < 4; k++) expect(disk(r).readSector(base + 100 + k)).toEqual(data.subarray(k * 512, (k + 1) * 512));
    }
    expect(disk(r).report().flushes).toBe(2);
  });

  it("each partition sees its window: CAPACITY = capacity / n, and LBAs past it are out of range", () => {
    const { r, views } = setup(["emulated", "emulated"]);
    expect(views[1].mmioRead!(R.CAPACITY, 4)).toBe(CAP / 2);
    expect(views[1].mmioRead!(R.ID, 4)).toBe(0x00025654);
    expect(views[1].mmioRead!(R.MAX_SECTORS, 4)).toBe(64);
    command(views[1], 1, CAP / 2 - 2, 4, 0x1000);
    expect(views[1].mmioRead!(R.STATUS, 4)).toBe(DONE | ERROR);
    expect(views[1].mmioRead!(R.ERROR, 4)).toBe(2);
    command(views[1], 9, 0, 1, 0x1000);
    expect(views[1].mmioRead!(R.ERROR, 4)).toBe(1);
    r.run();
    expect(disk(r).report().requests).toBe(0);
  });

  it("IDENTIFY reports the window's capacity in the card's 512-byte block", () => {
    const { hosts, views } = setup(["emulated", "emulated"]);
    command(views[0], 4, 0, 0, 0x2000);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(DONE);
    const b = new DataView(hosts[0].peek(0x2000, 512).buffer);
    expect(b.getUint32(0, true)).toBe(0x4b4c4256);
    expect(b.getUint32(4, true)).toBe(CAP / 2);
    expect(b.getUint32(8, true)).toBe(512);
    expect(b.getUint32(12, true)).toBe(64);
  });

  it("a command written while BUSY is rejected (REJECTED set, the running one unaffected)", () => {
    const { r, views } = setup(["emulated"]);
    command(views[0], 1, 0, 8, 0x10000);
    views[0].mmioWrite!(R.COMMAND, 4, 1);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(BUSY | REJECTED);
    r.run();
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(DONE);
    expect(disk(r).report().reads).toBe(1);
  });
});

describe("shared block: contention (reference: the datasheet's service time)", () => {
  it("two partitions' requests are served FIFO: the second waits for the first", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    views[0].mmioWrite!(R.INT_ENABLE, 4, 1);
    command(views[0], 1, 0, 8, 0x10000);
    const ring = new GuestRing(hosts[1], 0x4000, 4);
    views[1].setupRing!(0x4000, 4);
    ring.post(PvOp.READ, 0x20000, 8 * 512, 0);
    views[1].notify!();
    r.run();
    const l0 = views[0].stats().latencies;
    const l1 = views[1].stats().latencies;
    expect(l0).toHaveLength(1);
    expect(l1).toHaveLength(1);
    expect(l0[0]).toBeGreaterThanOrEqual(SERVICE_8);
    expect(l0[0]).toBeLessThan(2 * SERVICE_8);
    expect(l1[0]).toBeGreaterThanOrEqual(2 * SERVICE_8);
    // The physical disk's own service times: two commands of the hand-computed length.
    expect(disk(r).report().serviceTicks).toEqual([SERVICE_8, SERVICE_8]);
    expect(r.shared.report().maxQueued).toBe(1);
    // The second partition completed after the first.
    expect(hosts[1].raiseTicks[0]).toBeGreaterThan(hosts[0].raiseTicks[0]);
  });
});

describe("shared block: costs charged per access as declared", () => {
  it("emulated: one registerRead/Write per access, command and completion once, the disk programmed once", () => {
    const { r, hosts, views } = setup(["emulated"]);
    const h = hosts[0];
    views[0].mmioWrite!(R.INT_ENABLE, 4, 1);
    command(views[0], 1, 0, 8, 0x10000);
    r.run();
    views[0].mmioRead!(R.STATUS, 4);
    views[0].mmioRead!(R.INT_STATUS, 4);
    views[0].mmioWrite!(R.INT_STATUS, 4, 1);
    expect(h.rec.count("vdev.registerWrite")).toBe(6);
    expect(h.rec.count("vdev.registerRead")).toBe(2);
    expect(h.rec.count("vdev.command")).toBe(1);
    expect(h.rec.count("vdev.completion")).toBe(1);
    const b = r.backend;
    expect(b.rec.count("backend.submit")).toBe(1);
    expect(b.rec.count("backend.interrupt")).toBe(1);
    // LBA, COUNT, DMA_ADDR, COMMAND, INT_STATUS W1C; INT_STATUS and STATUS read.
    expect(b.bus.filter((k) => k === "mmioWrite")).toHaveLength(5);
    expect(b.bus.filter((k) => k === "mmioRead")).toHaveLength(2);
    expect(h.rec.touches).toBeGreaterThanOrEqual(8);
    expect(b.rec.touches).toBeGreaterThan(0);
  });

  it("paravirtual: one pvNotify per doorbell, pvRequest + command + completion per request", () => {
    const { r, hosts, views } = setup(["paravirtual"]);
    const h = hosts[0];
    const ring = new GuestRing(h, 0x4000, 8);
    views[0].setupRing!(0x4000, 8);
    for (let k = 0; k < 3; k++) ring.post(PvOp.READ, 0x20000 + k * 4096, 4096, k * 8);
    views[0].notify!();
    r.run();
    expect(h.rec.count("vdev.pvNotify")).toBe(1);
    expect(h.rec.count("vdev.pvRequest")).toBe(3);
    expect(h.rec.count("vdev.command")).toBe(3);
    expect(h.rec.count("vdev.completion")).toBe(3);
    expect(h.rec.count("vdev.registerRead") + h.rec.count("vdev.registerWrite")).toBe(0);
    expect(r.backend.rec.count("backend.submit")).toBe(3);
    expect(r.backend.rec.count("backend.interrupt")).toBe(3);
    expect(ring.used).toBe(3);
    expect(views[0].stats().ops).toBe(3);
  });
});

describe("shared block: bad guest input", () => {
  it("a PV ring outside RAM, misaligned, or with a bad entry count is refused", () => {
    const { views } = setup(["paravirtual"]);
    const v = views[0];
    expect(v.setupRing!(PART_BYTES - 64, 4)).toBe(false);
    expect(v.setupRing!(PART_BYTES + 0x1000, 4)).toBe(false);
    expect(v.setupRing!(0x4020, 4)).toBe(false);
    expect(v.setupRing!(0x4000, 3)).toBe(false);
    expect(v.setupRing!(0x4000, 512)).toBe(false);
    expect(v.setupRing!(0x4000, 0)).toBe(false);
    expect(v.setupRing!(PART_BYTES - 64 - 256 * 32, 256)).toBe(true);
  });

  it("a buffer outside partition RAM: ERROR 3 / PvError.DMA and a fault; unknown ops and bad lengths", () => {
    const { r, hosts, views } = setup(["emulated", "paravirtual"]);
    command(views[0], 1, 0, 8, PART_BYTES - 1024);
    expect(views[0].mmioRead!(R.STATUS, 4)).toBe(DONE | ERROR);
    expect(views[0].mmioRead!(R.ERROR, 4)).toBe(3);
    expect(hosts[0].faults.map((f) => f.kind)).toEqual(["dma"]);
    const ring = new GuestRing(hosts[1], 0x4000, 8);
    views[1].setupRing!(0x4000, 8);
    const a = ring.post(PvOp.READ, 0xfff00000, 1024, 0);
    const b = ring.post(42, 0x1000, 512, 0);
    const c = ring.post(PvOp.WRITE, 0x1000, 500, 0);
    const d = ring.post(PvOp.READ, 0x1000, 512, CAP / 2);
    views[1].notify!();
    r.run();
    expect(ring.status(a)).toBe(PV_STATUS_ERROR | (PvError.DMA << 8));
    expect(ring.status(b)).toBe(PV_STATUS_ERROR | (PvError.BAD_OP << 8));
    expect(ring.status(c)).toBe(PV_STATUS_ERROR | (PvError.BAD_RANGE << 8));
    expect(ring.status(d)).toBe(PV_STATUS_ERROR | (PvError.BAD_RANGE << 8));
    expect(ring.used).toBe(4);
    expect(hosts[1].faults).toHaveLength(1);
    expect(disk(r).report().requests).toBe(0);
  });

  it("a guest publishing more requests than the ring holds gets only the ring's capacity taken", () => {
    const { r, hosts, views } = setup(["paravirtual"]);
    const ring = new GuestRing(hosts[0], 0x4000, 2);
    views[0].setupRing!(0x4000, 2);
    ring.post(PvOp.FLUSH, 0, 0);
    ring.post(PvOp.FLUSH, 0, 0);
    hosts[0].poke32(0x4000, 5); // AVAIL says 5
    views[0].notify!();
    r.run();
    expect(disk(r).report().flushes).toBe(2);
  });
});
