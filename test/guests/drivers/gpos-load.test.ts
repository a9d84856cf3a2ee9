/**
 * gpos-load on a bare-metal 2-core Skylake: each vCPU runs its workload, keeps its own log ring, and an io
 * vCPU other than 0 (IF = 0, no interrupts of its own) still completes every operation: its driver wait ends
 * on vCPU 0's interrupt handling or on its own STATUS poll. References: the block card's report() (reads and
 * service times) and the Multiboot/abi boot contract (a BOOT record per vCPU with its index).
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildGposLoadGuest } from "../../../src/guests/programs/gpos-load.ts";
import { STACK_BYTES, VcpuBlock } from "../../../src/guests/drivers/mini-kernel.ts";
import { BlockDevice } from "../../../src/devices/block-device.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";
import type { DspOffloadGuestConfig, GposLoadGuestConfig } from "../../../src/scenario/config.ts";
import { buildDspOffloadGuest } from "../../../src/guests/programs/dsp-offload.ts";

describe("gpos-load (bare metal, 2 cores)", () => {
  it("vCPU 0 thrashes, vCPU 1 reads the disk: per-vCPU rings, IO records only on vCPU 1, all completed", () => {
    const s = bareMetalStand([{ name: "disk", type: "block" }], { cores: 2 });
    const img = buildGposLoadGuest({
      vcpus: [{ kind: "thrash", bufferKiB: 512, strideBytes: 64, writes: true }, { kind: "io", device: "disk", op: "read", bytes: 8192, intervalUs: 400 }],
    }, s.env);
    boot(s, img);
    s.m.run(us(s, 3000));
    const disk = s.cards.disk.device as BlockDevice;
    const log0 = vcpuLog(s.m.ram, img, 0).records;
    const log1 = vcpuLog(s.m.ram, img, 1).records;
    expect(log0[0]).toMatchObject({ kind: LogKind.BOOT, v0: 0 });
    expect(log1[0]).toMatchObject({ kind: LogKind.BOOT, v0: 1 });
    expect(log0.filter((r) => r.kind !== LogKind.BOOT)).toEqual([]);
    const io = log1.filter((r) => r.kind === LogKind.IO);
    const rep = disk.report();
    expect(io.length).toBeGreaterThanOrEqual(6);
    expect(rep.reads - io.length).toBeLessThanOrEqual(1);
    io.forEach((r, k) => {
      expect(r).toMatchObject({ v0: PvOp.READ, v1: 8192, v2: 0 });
      expect(r.t1 - r.t0).toBeGreaterThanOrEqual(rep.serviceTicks[k]);
    });
    const progress = (v: number) => new DataView(s.m.ram.buffer).getUint32(img.symbols.vcpu_blocks + v * STACK_BYTES + VcpuBlock.PROGRESS, true);
    expect(progress(0)).toBeGreaterThan(1); // passes over 512 KiB, 3 ms
    expect(progress(1)).toBe(io.length);
  });

  it("a cpu vCPU makes progress and a workload beyond the partition's memory is refused at build time", () => {
    const s = bareMetalStand([], { cores: 1 });
    const img = buildGposLoadGuest({ vcpus: [{ kind: "cpu" }] }, s.env);
    boot(s, img);
    s.m.run(us(s, 500));
    expect(new DataView(s.m.ram.buffer).getUint32(img.symbols.vcpu_blocks + VcpuBlock.PROGRESS, true)).toBeGreaterThan(10);
    expect(() => buildGposLoadGuest({ vcpus: [{ kind: "thrash", bufferKiB: 32 * 1024, strideBytes: 64, writes: false }] }, s.env)).toThrow(/KiB of guest memory/);
    expect(() => buildGposLoadGuest({ vcpus: [{ kind: "io", device: "nope", op: "read", bytes: 512, intervalUs: 10 }] }, s.env)).toThrow(/no device 'nope'/);
  });

  it("takes the scenario's config objects as they are (src/scenario/config.ts types, program field included)", () => {
    const s = bareMetalStand([{ name: "acc", type: "dsp" }], { cores: 1 });
    const g: GposLoadGuestConfig = { program: "gpos-load", vcpus: [{ kind: "cpu" }] };
    const d: DspOffloadGuestConfig = { program: "dsp-offload", device: "acc", jobBytes: 64, intervalUs: 10, op: "sum" };
    expect(buildGposLoadGuest(g, s.env).entry).toBe(0x100000);
    expect(buildDspOffloadGuest(d, s.env).symbols.dsp_desc).toBeGreaterThan(0x100000);
    expect(() => buildDspOffloadGuest({ ...d, device: "nope" }, s.env)).toThrow(/no device 'nope'/);
  });
});
