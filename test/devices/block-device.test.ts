/**
 * block device: the register table of its header (our datasheet), completion at exactly
 * fixed + per-KiB + seek ticks (the expected tick counts are computed by hand in each test from the
 * header's formula), the bytes moved by DMA (checked against patterns written here, not by the device),
 * errors (bad command, range, refused DMA) and the statistics.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { RamDma, type DmaPort } from "../../src/devices/dma.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import {
  BlockDevice, BlockReg as R, descriptor, resolveBlockOptions, type BlockOptions,
} from "../../src/devices/block-device.ts";

const READ = 1, WRITE = 2, FLUSH = 3, IDENTIFY = 4;
const BUSY = 1, DONE = 2, ERROR = 4, REJECTED = 8;

/** A DMA port that refuses everything at or above `limit` (an IOMMU window). */
class WindowDma implements DmaPort {
  constructor(private readonly inner: DmaPort, private readonly limit: number) {}
  read(pa: number, dst: Uint8Array): boolean {
    return pa + dst.length <= this.limit && this.inner.read(pa, dst);
  }
  write(pa: number, src: Uint8Array): boolean {
    return pa + src.length <= this.limit && this.inner.write(pa, src);
  }
}

function rig(options: Partial<BlockOptions> = {}, hz = 1e9, dmaLimit = Infinity) {
  const q = new EventQueue();
  const clock = new QueueClock(q, hz);
  const ram = new Uint8Array(1 << 20);
  const irq = new RecordingLine();
  const dev = new BlockDevice({ clock, irq, dma: new WindowDma(new RamDma(ram), dmaLimit) }, options);
  const rd = (off: number) => dev.mmioRead(off, 4) >>> 0;
  const wr = (off: number, v: number) => dev.mmioWrite(off, 4, v);
  const cmd = (c: number, lba: number, count: number, addr: number) => {
    wr(R.LBA, lba);
    wr(R.COUNT, count);
    wr(R.DMA_ADDR, addr);
    wr(R.COMMAND, c);
  };
  return { q, clock, ram, irq, dev, rd, wr, cmd };
}

/** Fire every pending event (runUntil(Infinity) would move the clock to Infinity). */
function drain(q: EventQueue): void {
  while (q.nextTick() !== Infinity) q.runUntil(q.nextTick());
}

const timing: Partial<BlockOptions> = { fixedUs: 50, perKiBUs: 4, seekUsPerTrack: 3, sectorsPerTrack: 100 };

describe("block registers (header table)", () => {
  it("reads ID, CAPACITY and MAX_SECTORS, and reads back LBA/COUNT/DMA_ADDR/INT_ENABLE", () => {
    const { rd, wr } = rig({ capacitySectors: 5000, maxSectors: 64 });
    expect(rd(R.ID)).toBe(0x00025654);
    expect(rd(R.CAPACITY)).toBe(5000);
    expect(rd(R.MAX_SECTORS)).toBe(64);
    wr(R.LBA, 0xdeadbeef);
    wr(R.COUNT, 7);
    wr(R.DMA_ADDR, 0x12340);
    wr(R.INT_ENABLE, 0xffffffff);
    expect([rd(R.LBA), rd(R.COUNT), rd(R.DMA_ADDR), rd(R.INT_ENABLE)]).toEqual([0xdeadbeef, 7, 0x12340, 1]);
    expect(rd(R.STATUS)).toBe(0);
    expect(rd(0x2c)).toBe(0);
    expect(descriptor.registerBytes).toBeGreaterThan(R.MAX_SECTORS);
  });

  it("ignores narrow writes and returns bytes of a register on narrow reads", () => {
    const { dev, rd } = rig();
    dev.mmioWrite(R.LBA, 2, 0x55);
    expect(rd(R.LBA)).toBe(0);
    expect(dev.mmioRead(R.ID + 2, 2)).toBe(2);
    expect(dev.mmioRead(R.ID + 1, 1)).toBe(0x56);
  });

  it("raises the line while INT_STATUS & INT_ENABLE != 0; INT_STATUS is write-1-to-clear", () => {
    const { q, irq, rd, wr, cmd } = rig(timing);
    cmd(FLUSH, 0, 0, 0);
    q.runUntil(50_000);
    expect(rd(R.INT_STATUS)).toBe(1);
    expect(irq.level).toBe(false);
    wr(R.INT_ENABLE, 1);
    expect(irq.level).toBe(true);
    wr(R.INT_STATUS, 0);
    expect(irq.level).toBe(true);
    wr(R.INT_STATUS, 1);
    expect(irq.level).toBe(false);
    expect(rd(R.STATUS)).toBe(DONE);
  });

  it("works the same through the port bus", () => {
    const { q, ram, dev } = rig(timing);
    const ports = new PortBus();
    ports.map(0xc000, 64, dev);
    dev.writeSector(3, new Uint8Array([1, 2, 3]));
    ports.write(0xc000 + R.LBA, 4, 3);
    ports.write(0xc000 + R.COUNT, 4, 1);
    ports.write(0xc000 + R.DMA_ADDR, 4, 0x800);
    ports.write(0xc000 + R.COMMAND, 4, READ);
    q.runUntil(1_000_000);
    expect(ports.read(0xc000 + R.STATUS, 4)).toBe(DONE);
    expect([...ram.subarray(0x800, 0x804)]).toEqual([1, 2, 3, 0]);
  });
});

describe("block service time = fixedUs + perKiBUs * KiB + seekUsPerTrack * |track delta|", () => {
  it("completes a READ at exactly the modelled tick, BUSY until then", () => {
    const { q, irq, rd, wr, cmd } = rig(timing);
    wr(R.INT_ENABLE, 1);
    q.runUntil(1000);
    // LBA 295, 8 sectors: track 2 from track 0 -> seek 6 us; 4 KiB -> 16 us; fixed 50 us: 72 us.
    cmd(READ, 295, 8, 0x1000);
    q.runUntil(1000 + 72_000 - 1);
    expect(rd(R.STATUS)).toBe(BUSY);
    expect(irq.level).toBe(false);
    q.runUntil(1000 + 72_000);
    expect(rd(R.STATUS)).toBe(DONE);
    expect(irq.level).toBe(true);
    wr(R.INT_STATUS, 1);
    // The head ends on the track of the last sector, floor(302 / 100) = 3.
    // LBA 0, 1 sector: seek 3 * 3 = 9 us, 0.5 KiB -> 2 us, fixed 50: 61 us.
    cmd(READ, 0, 1, 0x1000);
    q.runUntil(73_000 + 61_000 - 1);
    expect(rd(R.STATUS)).toBe(BUSY);
    q.runUntil(73_000 + 61_000);
    expect(rd(R.STATUS)).toBe(DONE);
    // WRITE of 2 sectors on track 0 from track 0: 50 + 4 + 0 = 54 us.
    cmd(WRITE, 10, 2, 0x1000);
    q.runUntil(134_000 + 54_000 - 1);
    expect(rd(R.STATUS)).toBe(BUSY);
    q.runUntil(134_000 + 54_000);
    expect(rd(R.STATUS)).toBe(DONE);
    expect(q.fired).toBe(3); // one event per command
  });

  it("converts to ticks at the clock rate (2.4 GHz: 72 us = 172800 ticks) and times FLUSH and IDENTIFY", () => {
    const { q, dev, cmd } = rig(timing, 2.4e9);
    cmd(READ, 250, 8, 0x1000);
    drain(q);
    cmd(FLUSH, 0, 0, 0); // fixed only: 50 us
    drain(q);
    cmd(IDENTIFY, 0, 0, 0x2000); // fixed + perKiB / 2 = 52 us
    drain(q);
    expect(dev.report().serviceTicks).toEqual([172_800, 120_000, 124_800]);
  });
});

describe("block data by DMA", () => {
  it("writes memory to the disk and reads it back; unwritten sectors read as zero", () => {
    const { q, ram, dev, rd, cmd } = rig(timing);
    for (let k = 0; k < 3 * 512; k++) ram[0x4000 + k] = (k * 7 + 3) & 0xff;
    cmd(WRITE, 40, 3, 0x4000);
    drain(q);
    expect(rd(R.STATUS)).toBe(DONE);
    ram.fill(0xaa, 0x8000, 0x8000 + 5 * 512);
    cmd(READ, 39, 5, 0x8000); // one zero sector, the three written, one zero sector
    drain(q);
    expect(rd(R.STATUS)).toBe(DONE);
    const expected = new Uint8Array(5 * 512);
    for (let k = 0; k < 3 * 512; k++) expected[512 + k] = (k * 7 + 3) & 0xff;
    expect(ram.subarray(0x8000, 0x8000 + 5 * 512)).toEqual(expected);
    expect(ram[0x8000 + 5 * 512]).toBe(0); // nothing beyond COUNT * 512
    expect(dev.readSector(41)[0]).toBe((512 * 7 + 3) & 0xff);
    expect(dev.sectors.size).toBe(3);
  });

  it("fetches WRITE data at submission and puts it on the medium at completion", () => {
    const { q, ram, dev, cmd } = rig(timing);
    ram.fill(0x11, 0x4000, 0x4200);
    cmd(WRITE, 5, 1, 0x4000);
    ram.fill(0x22, 0x4000, 0x4200); // too late: already fetched
    expect(dev.readSector(5)[0]).toBe(0); // not yet on the medium
    drain(q);
    expect(dev.readSector(5)).toEqual(new Uint8Array(512).fill(0x11));
  });

  it("writes the IDENTIFY block of the header", () => {
    const { q, ram, cmd } = rig({ capacitySectors: 123456, maxSectors: 32, sectorsPerTrack: 63 });
    ram.fill(0xee, 0x3000, 0x3000 + 512);
    cmd(IDENTIFY, 0, 0, 0x3000);
    drain(q);
    const v = new DataView(ram.buffer, 0x3000, 512);
    expect(v.getUint32(0, true)).toBe(0x4b4c4256);
    expect(String.fromCharCode(...ram.subarray(0x3000, 0x3004))).toBe("VBLK");
    expect([v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)])
      .toEqual([123456, 512, 32, 63]);
    expect(String.fromCharCode(...ram.subarray(0x3014, 0x3014 + 19))).toBe("vmxsim block device");
    expect(ram[0x3014 + 19]).toBe(0);
    expect(ram[0x3000 + 511]).toBe(0);
  });
});

describe("block errors", () => {
  it("finishes a bad command or range at once with DONE | ERROR and the code", () => {
    const { rd, wr, cmd, irq, q, dev } = rig({ ...timing, capacitySectors: 1000, maxSectors: 16 });
    wr(R.INT_ENABLE, 1);
    const cases: [number, number, number, number][] = [
      [9, 0, 1, 1], // bad command
      [0, 0, 1, 1],
      [READ, 999, 2, 2], // runs past the end
      [READ, 0, 0, 2], // zero sectors
      [WRITE, 0, 17, 2], // more than MAX_SECTORS
    ];
    for (const [c, lba, count, code] of cases) {
      cmd(c, lba, count, 0);
      expect([rd(R.STATUS), rd(R.ERROR), rd(R.INT_STATUS)]).toEqual([DONE | ERROR, code, 1]);
      expect(irq.level).toBe(true);
      wr(R.INT_STATUS, 1);
    }
    expect(q.size).toBe(0); // no time spent
    expect(dev.report().errors).toBe(5);
    cmd(READ, 999, 1, 0); // the last sector is fine
    expect(rd(R.STATUS)).toBe(BUSY);
    expect(rd(R.ERROR)).toBe(0);
  });

  it("sets ERROR 3 when a READ's DMA is refused at completion, leaving memory untouched", () => {
    const { q, ram, rd, dev, cmd } = rig(timing, 1e9, 0x10000);
    dev.writeSector(0, new Uint8Array(512).fill(0x5a));
    cmd(READ, 0, 1, 0x10000 - 256); // runs past the window
    expect(rd(R.STATUS)).toBe(BUSY);
    drain(q);
    expect([rd(R.STATUS), rd(R.ERROR)]).toEqual([DONE | ERROR, 3]);
    expect(ram.subarray(0x10000 - 256, 0x10000).every((b) => b === 0)).toBe(true);
    expect(dev.report()).toMatchObject({ reads: 1, errors: 1, dmaErrors: 1, bytesRead: 0 });
  });

  it("refuses a WRITE whose DMA is refused at submission, leaving the disk unchanged", () => {
    const { q, rd, dev, cmd } = rig(timing, 1e9, 0x10000);
    cmd(WRITE, 7, 2, 0xff00);
    expect([rd(R.STATUS), rd(R.ERROR), rd(R.INT_STATUS)]).toEqual([DONE | ERROR, 3, 1]);
    expect(q.size).toBe(0);
    expect(dev.sectors.size).toBe(0);
    expect(dev.report()).toMatchObject({ writes: 0, errors: 1, dmaErrors: 1 });
  });

  it("sets ERROR 3 when IDENTIFY cannot write its block", () => {
    const { q, rd, cmd } = rig(timing, 1e9, 0x1000);
    cmd(IDENTIFY, 0, 0, 0x1000);
    drain(q);
    expect([rd(R.STATUS), rd(R.ERROR)]).toEqual([DONE | ERROR, 3]);
  });

  it("rejects a command written while BUSY and lets the running one finish", () => {
    const { q, ram, rd, dev, cmd } = rig(timing);
    dev.writeSector(1, new Uint8Array([9]));
    cmd(READ, 1, 1, 0x100);
    cmd(WRITE, 1, 1, 0x200);
    expect(rd(R.STATUS)).toBe(BUSY | REJECTED);
    drain(q);
    expect(rd(R.STATUS)).toBe(DONE);
    expect(ram[0x100]).toBe(9);
    expect(dev.readSector(1)[0]).toBe(9);
    expect(dev.report()).toMatchObject({ requests: 1, rejected: 1 });
  });
});

describe("block statistics and options", () => {
  it("counts requests, bytes and service times", () => {
    const { q, dev, cmd } = rig(timing);
    cmd(WRITE, 0, 4, 0); // 50 + 8 = 58 us
    drain(q);
    cmd(READ, 0, 2, 0); // 50 + 4 = 54 us
    drain(q);
    cmd(FLUSH, 0, 0, 0);
    drain(q);
    expect(dev.report()).toEqual({
      requests: 3, reads: 1, writes: 1, flushes: 1, identifies: 0, errors: 0, rejected: 0, dmaErrors: 0,
      bytesRead: 1024, bytesWritten: 2048, serviceTicks: [58_000, 54_000, 50_000],
    });
  });

  it.each([
    [{ capacitySectors: 0 }, "capacitySectors"],
    [{ capacitySectors: 1.5 }, "capacitySectors"],
    [{ fixedUs: -1 }, "fixedUs"],
    [{ perKiBUs: Number.NaN }, "perKiBUs"],
    [{ seekUsPerTrack: Infinity }, "seekUsPerTrack"],
    [{ sectorsPerTrack: 0 }, "sectorsPerTrack"],
    [{ maxSectors: 0x10000 }, "maxSectors"],
  ])("rejects %j naming the option", (o, name) => {
    expect(() => resolveBlockOptions(o)).toThrow(RangeError);
    expect(() => resolveBlockOptions(o)).toThrow(new RegExp(`option ${name} `));
  });

  it("rejects host access outside the disk", () => {
    const { dev } = rig({ capacitySectors: 10 });
    expect(() => dev.readSector(10)).toThrow(RangeError);
    expect(() => dev.writeSector(0, new Uint8Array(513))).toThrow(RangeError);
  });
});
