/**
 * Scenario-level containment and image loading (issue 6): a partition whose passthrough block card is
 * programmed to DMA outside the partition gets a dma-violation from the IOMMU check (VT-d second-level
 * translation refuses it; the disk reports the refused transfer as its datasheet's ERROR 3), and a
 * partition whose guest touches memory it does not own gets an ept-violation, each handled by the health
 * monitor with the partition's action while the RTOS partition beside it keeps its schedule. A Multiboot
 * ELF built elsewhere (here: the demo kernel written as a file) runs as a partition's guest.
 */
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/scenario-load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { buildDemoKernel } from "../../src/guests/programs/demo.ts";

const yaml = (fault: "dma" | "ept", action: string) => `
name: faults
description: a faulting partition beside an RTOS partition
durationMs: 3
devices:
  - { name: disk, type: block }
partitions:
  - name: rt
    cores: [2]
    memoryMiB: 8
    guest:
      program: rtos
      tasks: [ { name: tick, kind: periodic, periodUs: 500, priority: 10, workUs: 20 } ]
  - name: bad
    cores: [3]
    memoryMiB: 8
    onFault: ${action}
    devices: [ { device: disk, mode: exclusive } ]
    guest: { program: fault, afterUs: 100, fault: ${fault} }
`;

describe("faults in scenarios", () => {
  it("a DMA outside the partition is refused and reported; the other partition runs its schedule", () => {
    const r = runScenario(parseScenario(yaml("dma", "log"), "faults.yaml"));
    const f = r.faults.filter((x) => x.partition === "bad");
    expect(f.map((x) => x.kind)).toContain("dma-violation");
    expect(f.every((x) => x.action === "log")).toBe(true);
    expect(r.faults.some((x) => x.partition === "rt")).toBe(false);
    const tick = r.partitions.find((p) => p.name === "rt")!.tasks[0];
    expect(tick.jobs).toBeGreaterThanOrEqual(5);
    expect(tick.deadlineMisses).toBe(0);
  });

  it("an access outside the partition's memory is an EPT violation; halt stops the partition", () => {
    const r = runScenario(parseScenario(yaml("ept", "halt"), "faults.yaml"));
    expect(r.faults.map((x) => [x.partition, x.kind, x.action])).toEqual([["bad", "ept-violation", "halt"]]);
    expect(r.partitions.find((p) => p.name === "bad")!.state).toBe("halted");
    expect(r.partitions.find((p) => p.name === "rt")!.tasks[0].deadlineMisses).toBe(0);
  });
});

describe("Multiboot ELF guests", () => {
  it("a kernel file runs as a partition's guest (its port I/O exits to the VMM)", () => {
    const cfg = parseScenario(`
name: image
description: the demo kernel as a partition guest
durationMs: 2
partitions:
  - { name: k, cores: [1], memoryMiB: 8, guest: { program: image, image: demo.elf } }
`, "image.yaml");
    const kernel = buildDemoKernel();
    const r = runScenario(cfg, { files: (p) => { expect(p).toBe("demo.elf"); return kernel; } });
    const k = r.partitions[0];
    expect(k.instructions).toBeGreaterThan(1000);
    expect(k.exits.find((e) => e.reason === "IO_INSTRUCTION")!.count).toBeGreaterThan(10);
  });
});
