/**
 * A device's mode must be one its catalog entry lists (device-catalog.ts `modes`). Every type of the real
 * catalog offers all three modes, so this test gives the uart a catalog entry without "paravirtual" (as the
 * PIT and HPET entries are exclusive-only) and checks the validator asks the catalog rather than a list of its
 * own. Reference: the catalog contract (DeviceType.modes), not the validator.
 */
import { describe, expect, it, vi } from "vitest";

vi.mock("../../src/devices/device-catalog.ts", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../src/devices/device-catalog.ts")>();
  return {
    ...orig,
    deviceType: (kind: string) => {
      const t = orig.deviceType(kind);
      return kind === "uart16550" ? { ...t, modes: ["exclusive", "emulated"] } : t;
    },
  };
});

const { checkScenarioText } = await import("../../src/scenario/scenario-load.ts");

describe("device modes come from the device catalog", () => {
  it("reports a mode the type's catalog entry does not list, and accepts the ones it lists", () => {
    const scenario = (mode: string) => `
name: modes
description: uart modes
devices: [ { name: console, type: uart } ]
partitions:
  - { name: a, cores: [0], memoryMiB: 16, devices: [ { device: console, mode: ${mode} } ], guest: { program: rtos } }
`;
    expect(checkScenarioText(scenario("paravirtual")).issues).toEqual([
      { path: "partitions[0].devices[0].mode", message: "a uart device cannot be paravirtual (supported: exclusive, emulated)" },
    ]);
    expect(checkScenarioText(scenario("emulated")).issues).toEqual([]);
  });
});
