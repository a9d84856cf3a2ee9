/**
 * The scenario schema's defaults and the checks that are not table rows of the fixtures. References: the
 * defaults listed in issue 6's scenario brief and config.ts's field comments (written before the schema);
 * the CPU profiles' published cache hierarchies (Core 2 Quad Q6600: no L3, Intel's datasheet; Skylake: L3);
 * APIC virtualization per generation (SDM Vol. 3C A.3.1 pin-based bit 7, offered by the model's haswell and
 * skylake only: vmx-capabilities.ts header with the [VML] MSR dumps); YAML 1.2 (hex integers, JSON as a
 * subset) and JSON.parse as an independent JSON parser; pc-platform.ts / README for default placement.
 */
import { describe, expect, it } from "vitest";
import { checkScenarioData, checkScenarioText, parseScenario } from "../../src/scenario/scenario-load.ts";
import { deviceResources, deviceVector, keyPath, pathString } from "../../src/scenario/scenario-validate.ts";
import { DEFAULT_VMM_COSTS, vmmCosts } from "../../src/vmm/costs.ts";
import type { ScenarioConfig } from "../../src/scenario/config.ts";

const MINIMAL = `
name: tiny
description: the least a scenario needs
partitions:
  - name: rt
    cores: [1]
    memoryMiB: 8
    guest:
      program: rtos
      tasks:
        - { name: t, kind: periodic, periodUs: 1000, priority: 1, workUs: 10 }
`;

describe("defaults", () => {
  it("fills every default of the brief", () => {
    const c = parseScenario(MINIMAL, "tiny.yaml");
    const want: ScenarioConfig = {
      name: "tiny",
      description: "the least a scenario needs",
      profile: "skylake",
      seed: 1,
      durationMs: 100,
      quantumCycles: 1000,
      machine: { cores: 4, ramMiB: 256 },
      vmm: { costs: {}, serviceCore: 0, memoryMiB: 16, clos: null, colours: null },
      cache: { level: "l3", classes: [] },
      devices: [],
      partitions: [{
        name: "rt", cores: [1], memoryMiB: 8, hostBaseMiB: null, clos: null, colours: null, devices: [],
        irqDelivery: "posted", onFault: "log",
        guest: {
          program: "rtos", scheduler: "fixed-priority", timer: "tsc-deadline", cyclictest: null,
          tasks: [{ name: "t", kind: "periodic", periodUs: 1000, deadlineUs: 1000, priority: 1, workUs: 10, workingSetKiB: 16, device: null, io: null }],
        },
      }],
    };
    expect(c).toEqual(want);
  });

  it("device and partition-device defaults: options {}, mmioBase/port/irq/vector null", () => {
    const c = parseScenario(`${MINIMAL}    devices: [ { device: disk, mode: paravirtual } ]\ndevices: [ { name: disk, type: block } ]\n`, "d.yaml");
    expect(c.devices).toEqual([{ name: "disk", type: "block", options: {}, mmioBase: null, port: null, irq: null }]);
    expect(c.partitions[0].devices).toEqual([{ device: "disk", mode: "paravirtual", vector: null }]);
  });

  it("an explicit deadline is kept; the default deadline is the period", () => {
    const c = parseScenario(MINIMAL.replace("workUs: 10", "workUs: 10, deadlineUs: 400"), "t.yaml");
    const g = c.partitions[0].guest;
    expect(g.program === "rtos" && g.tasks[0].deadlineUs).toBe(400);
  });

  it("cache.level defaults to the profile's last level: l2 on the Core 2 Quad (no L3), l3 on Nehalem and later", () => {
    const on = (profile: string) => {
      const r = checkScenarioText(`profile: ${profile}\n${MINIMAL.replace("cores: [1]\n", "cores: [1]\n    irqDelivery: exit-and-inject\n")}`);
      expect(r.issues).toEqual([]);
      return r.config!.cache.level;
    };
    expect(on("core2-q6600")).toBe("l2");
    expect(on("nehalem")).toBe("l3");
    expect(on("skylake")).toBe("l3");
  });

  it("image guests get an empty command line by default", () => {
    const c = parseScenario(MINIMAL.replace(/guest:[\s\S]*$/, "guest: { program: image, image: kernel.elf }\n"), "i.yaml");
    expect(c.partitions[0].guest).toEqual({ program: "image", image: "kernel.elf", cmdline: "" });
  });
});

describe("formats", () => {
  it("YAML 1.2 hex integers are numbers (ports, vectors, addresses)", () => {
    const c = parseScenario(`${MINIMAL}    devices: [ { device: com, mode: emulated, vector: 0x50 } ]\ndevices: [ { name: com, type: uart, port: 0x2f8, irq: 3 } ]\n`, "h.yaml");
    expect(c.devices[0].port).toBe(760);
    expect(c.partitions[0].devices[0].vector).toBe(80);
  });

  it("the same scenario as JSON (parsed here by JSON.parse and by the loader) gives an equal config", () => {
    const yaml = parseScenario(MINIMAL, "m.yaml");
    const json = JSON.stringify({
      name: "tiny", description: "the least a scenario needs",
      partitions: [{ name: "rt", cores: [1], memoryMiB: 8, guest: { program: "rtos", tasks: [{ name: "t", kind: "periodic", periodUs: 1000, priority: 1, workUs: 10 }] } }],
    }, null, 2);
    expect(parseScenario(json, "m.json")).toEqual(yaml);
    expect(checkScenarioData(JSON.parse(json)).config).toEqual(yaml);
  });

  it("YAML the user would not mean is an error, not a guess: 'yes' is a string, not a boolean", () => {
    const r = checkScenarioText(MINIMAL.replace(/guest:[\s\S]*$/, "guest: { program: gpos-load, vcpus: [ { kind: thrash, bufferKiB: 64, strideBytes: 64, writes: yes } ] }\n"));
    expect(r.issues).toEqual([{ path: "partitions[0].guest.vcpus[0].writes", message: "must be true or false (got 'yes')" }]);
  });
});

describe("checks that need a particular profile or value", () => {
  const withDelivery = (profile: string) => checkScenarioText(`profile: ${profile}\n${MINIMAL}`).issues;

  it("posted delivery is accepted on haswell and skylake and reported on the generations without APIC virtualization", () => {
    expect(withDelivery("haswell")).toEqual([]);
    expect(withDelivery("skylake")).toEqual([]);
    for (const p of ["core2-q6600", "nehalem", "sandybridge"]) {
      expect(withDelivery(p).map((i) => i.path), p).toEqual(["partitions[0].irqDelivery"]);
    }
  });

  it("an unknown profile names the known ones", () => {
    const r = checkScenarioText(`profile: pentium4\n${MINIMAL}`);
    expect(r.issues).toEqual([{ path: "profile", message: "must be one of 'core2-q6600', 'nehalem', 'sandybridge', 'haswell', 'skylake' (got 'pentium4')" }]);
  });

  it("every declared VMM cost key may be overridden, and the result is what vmm/costs.ts accepts", () => {
    const keys = Object.keys(DEFAULT_VMM_COSTS);
    const costs = keys.map((k, i) => `    "${k}": ${i}`).join("\n");
    const c = parseScenario(`vmm:\n  costs:\n${costs}\n${MINIMAL}`, "c.yaml");
    expect(Object.keys(c.vmm.costs)).toEqual(keys);
    expect(() => vmmCosts(c.vmm.costs)).not.toThrow();
  });

  it("a core count above 8 and a seed that is not an integer are shape errors", () => {
    const r = checkScenarioText(`seed: 1.5\nmachine: { cores: 16 }\n${MINIMAL}`);
    expect(r.issues.map((i) => i.path)).toEqual(["seed", "machine.cores"]);
  });

  it("a sporadic task released by a nic and all-device defaults validate", () => {
    const r = checkScenarioText(`devices: [ { name: net, type: nic, options: { arrivals: poisson, ppsRate: 1000 } } ]\n${MINIMAL.replace("tasks:", "tasks:\n        - { name: rx, kind: sporadic, device: net, periodUs: 100, priority: 2, workUs: 5 }").replace("memoryMiB: 8\n", "memoryMiB: 8\n    devices: [ { device: net, mode: exclusive } ]\n")}`);
    expect(r.issues).toEqual([]);
  });
});

describe("default placement (PC COM1-4 at 3F8H/2F8H/3E8H/2E8H, COM1/COM2 on their ISA IRQs 4/3 and COM3/COM4 on pins 5/6 of their own; pc-platform.ts: card n at FEB00000H + 4 KiB x n on pin 16 + n)", () => {
  it("assigns uarts and cards their PC resources in devices[] order", () => {
    const c = parseScenario(`devices:\n  - { name: a, type: uart }\n  - { name: r, type: rt-io }\n  - { name: b, type: uart }\n  - { name: n, type: nic }\n  - { name: d, type: dsp, irq: 20 }\n  - { name: c, type: uart }\n${MINIMAL}`, "p.yaml");
    expect(deviceResources(c).map((r) => [r.name, r.ports, r.mmio, r.irq])).toEqual([
      ["a", { base: 0x3f8, length: 8 }, null, 4],
      ["r", null, { base: 0xfeb00000, bytes: 4096 }, 16],
      ["b", { base: 0x2f8, length: 8 }, null, 3],
      ["n", null, { base: 0xfeb01000, bytes: 4096 }, 17],
      ["d", null, { base: 0xfeb02000, bytes: 4096 }, 20],
      ["c", { base: 0x3e8, length: 8 }, null, 5],
    ]);
  });

  it("a partition's device i gets vector 40H + i (vmm/abi.ts DEVICE_VECTOR_BASE) unless given one", () => {
    const c = parseScenario(`devices: [ { name: a, type: uart }, { name: b, type: block } ]\n${MINIMAL.replace("memoryMiB: 8\n", "memoryMiB: 8\n    devices: [ { device: a, mode: emulated, vector: 0x60 }, { device: b, mode: emulated } ]\n")}`, "v.yaml");
    expect([deviceVector(c.partitions[0], 0), deviceVector(c.partitions[0], 1)]).toEqual([0x60, 0x41]);
  });
});

describe("paths", () => {
  it("writes indices in brackets and quotes keys that are not identifiers", () => {
    expect(pathString(["partitions", 1, "cores", 0])).toBe("partitions[1].cores[0]");
    expect(pathString(["vmm", "costs", "exit.io"])).toBe('vmm.costs["exit.io"]');
    expect(keyPath("devices[0].options", "periodUs")).toBe("devices[0].options.periodUs");
    expect(keyPath("", "seed")).toBe("seed");
  });
});
