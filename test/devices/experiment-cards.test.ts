/**
 * Catalog entries of the experiment cards (src/devices/experiment-cards.ts). References: PCI 3.0 §6.1
 * (vendor/device id at 00H, class code at 09H-0BH, BAR 0 at 10H, interrupt pin at 3DH: INTA = 1) and
 * §6.2.5.1 (BAR sizing: writing all ones reads back the size mask); each card's register table (its file
 * header) for the ID register.
 */
import { describe, expect, it } from "vitest";
import { deviceType } from "../../src/devices/device-catalog.ts";
import { EXPERIMENT_CARDS } from "../../src/devices/experiment-cards.ts";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { RamDma } from "../../src/devices/dma.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { Rng } from "../../src/sim/rng.ts";

const ctx = (options: Record<string, unknown> = {}) => ({
  clock: new QueueClock(new EventQueue(), 3e9), irq: [new RecordingLine()], dma: new RamDma(new Uint8Array(1 << 16)),
  rng: new Rng(1, "t"), options,
});

describe("experiment cards in the device catalog", () => {
  it.each(EXPERIMENT_CARDS.map((k, n) => [k, n + 1] as const))("%s: PCI function with our ids, a 4 KiB memory BAR and INTA", (kind, deviceId) => {
    const t = deviceType(kind);
    expect(t.modes).toEqual(["exclusive", "emulated", "paravirtual"]);
    const inst = t.create(ctx());
    const f = inst.pci!;
    expect(f.configRead(0x00, 4) >>> 0).toBe(((deviceId << 16) | 0x5654) >>> 0);
    expect(f.configRead(0x3d, 1)).toBe(1);
    f.configWrite(0x10, 4, 0xffffffff);
    expect(f.configRead(0x10, 4) >>> 0).toBe(0xfffff000); // 4 KiB, 32-bit memory, not prefetchable
    // The same registers answer as MMIO and as ports: the ID register at offset 0.
    expect(inst.mmio!.mmioRead(0, 4) >>> 0).toBe(((deviceId << 16) | 0x5654) >>> 0);
    expect(inst.port!.portRead(0, 4) >>> 0).toBe(((deviceId << 16) | 0x5654) >>> 0);
  });

  it("a bad option is refused with its name", () => {
    expect(() => deviceType("rt-io").create(ctx({ periodUs: -5 }))).toThrow(/periodUs/);
    expect(() => deviceType("block").create({ ...ctx(), dma: undefined })).toThrow(/block: needs a DMA port/);
  });
});
