/**
 * The `fault` guest bare-metal, one case per fault kind, against the SDM's exception rules (Vol. 3A 6.10:
 * a vector beyond the IDT limit -> #GP; 6.14/6.15: a not-present gate -> #NP; Table 6-5: a contributory
 * exception while delivering one -> #DF, and an exception while delivering #DF -> triple fault, shutdown)
 * and the block card's datasheet (src/devices/block-device.ts: a READ whose DMA is refused ends with
 * ERROR 3 and counts in dmaErrors). Each fault happens no earlier than afterUs after the BOOT record.
 */
import { describe, expect, it } from "vitest";
import type { MmioDevice } from "../../../src/devices/mmio-bus.ts";
import { buildFaultGuest, FAULT_BEYOND_GPA } from "../../../src/guests/programs/fault-guest.ts";
import { LogKind } from "../../../src/vmm/abi.ts";
import type { BlockDevice } from "../../../src/devices/block-device.ts";
import { bareMetalStand, boot, us, vcpuLog } from "../drivers/bare-metal.ts";

describe("fault guest", () => {
  it.each(["triple", "ud"] as const)("%s: BOOT, then a triple fault (shutdown) no earlier than afterUs later", (fault) => {
    const s = bareMetalStand([], { cores: 2 });
    const img = buildFaultGuest({ fault, afterUs: 40 }, s.env);
    boot(s, img);
    const stop = s.m.run(us(s, 200));
    expect(stop).toBe("shutdown");
    expect(s.m.shutdownCore?.id).toBe(0);
    const boot0 = vcpuLog(s.m.ram, img, 0).records;
    expect(boot0).toHaveLength(1);
    expect(boot0[0]).toMatchObject({ kind: LogKind.BOOT, v0: 0 });
    expect(s.m.core.cycles).toBeGreaterThanOrEqual(boot0[0].t0 + us(s, 40));
    expect(s.m.core.cycles).toBeLessThan(boot0[0].t0 + us(s, 41));
    // vCPU 1 parked after its own BOOT record.
    expect(vcpuLog(s.m.ram, img, 1).records[0]).toMatchObject({ kind: LogKind.BOOT, v0: 1 });
  });

  it("ept: one store beyond the partition's memory after afterUs, then the vCPU halts with interrupts off", () => {
    const s = bareMetalStand([]);
    const writes: { offset: number; value: number; tick: number }[] = [];
    const probe: MmioDevice = { name: "probe", mmioRead: () => 0, mmioWrite: (offset, _size, value) => { writes.push({ offset, value, tick: s.m.core.now() }); } };
    s.m.mmio.map(FAULT_BEYOND_GPA, 0x1000, probe);
    const img = buildFaultGuest({ fault: "ept", afterUs: 25 }, s.env);
    boot(s, img);
    s.m.run(us(s, 100));
    const t0 = vcpuLog(s.m.ram, img, 0).records[0].t0;
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ offset: 0, value: 0x0bad0bad });
    expect(writes[0].tick).toBeGreaterThanOrEqual(t0 + us(s, 25));
    expect(s.m.core.halted).toBe(true);
    expect(s.m.core.eflags & 0x200).toBe(0);
  });

  it("dma: an exclusive block device is told to DMA beyond the partition's memory and refuses (ERROR 3)", () => {
    const s = bareMetalStand([{ name: "disk", type: "block" }]);
    const img = buildFaultGuest({ fault: "dma", afterUs: 10 }, s.env);
    boot(s, img);
    s.m.run(us(s, 500));
    const rep = (s.cards.disk.device as BlockDevice).report();
    expect(rep.reads).toBe(1);
    expect(rep.dmaErrors).toBe(1);
    expect(rep.errors).toBe(1);
  });

  it("dma without an exclusive block device behaves as ept", () => {
    const s = bareMetalStand([{ name: "disk", type: "block", mode: "paravirtual" }]);
    let seen = 0;
    s.m.mmio.map(FAULT_BEYOND_GPA, 0x1000, { name: "probe", mmioRead: () => 0, mmioWrite: () => { seen++; } });
    const img = buildFaultGuest({ fault: "dma", afterUs: 10 }, s.env);
    boot(s, img);
    s.m.run(us(s, 100));
    expect(seen).toBe(1);
    expect((s.cards.disk.device as BlockDevice).report().reads).toBe(0);
  });
});
