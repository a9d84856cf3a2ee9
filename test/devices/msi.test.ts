/**
 * MSI address/data decoding. Reference: SDM Vol. 3A 10.11.1 Figure 10-24 (address: FEEH in 31:20,
 * destination ID 19:12, RH bit 3, DM bit 2) and 10.11.2 Figure 10-25 (data: vector 7:0, delivery mode
 * 10:8, level bit 14, trigger mode bit 15). The end-to-end case sends MSIs into local APICs.
 */
import { describe, expect, it } from "vitest";
import { decodeMsi, msiAddress, msiData, MsiRouter } from "../../src/devices/msi.ts";
import type { InterruptMessage } from "../../src/devices/interrupt-message.ts";
import { enable, makeRig, w } from "../cpu/lapic/harness.ts";

describe("MSI decode (SDM 10.11, Figures 10-24 and 10-25)", () => {
  it.each([
    ["physical, APIC 3, vector 41H, fixed, edge", 0xfee03000, 0x0041,
      { dest: 3, destMode: "physical", deliveryMode: 0, vector: 0x41, level: true, trigger: "edge" }],
    ["logical (DM=1, RH=1), MDA 0AH, lowest priority", 0xfee0a00c, 0x0153,
      { dest: 0x0a, destMode: "logical", deliveryMode: 1, vector: 0x53, level: true, trigger: "edge" }],
    ["physical broadcast FFH", 0xfeeff000, 0x0060,
      { dest: 0xffffffff, destMode: "physical", deliveryMode: 0, vector: 0x60, level: true, trigger: "edge" }],
    ["NMI", 0xfee01000, 0x0400,
      { dest: 1, destMode: "physical", deliveryMode: 4, vector: 0, level: true, trigger: "edge" }],
    ["level-triggered assert", 0xfee02000, 0xc070,
      { dest: 2, destMode: "physical", deliveryMode: 0, vector: 0x70, level: true, trigger: "level" }],
    ["level-triggered de-assert", 0xfee02000, 0x8070,
      { dest: 2, destMode: "physical", deliveryMode: 0, vector: 0x70, level: false, trigger: "level" }],
    ["edge with level bit 0 still asserts; bits 1:0 and 11:4 ignored", 0xfee04ff3, 0x0071,
      { dest: 4, destMode: "physical", deliveryMode: 0, vector: 0x71, level: true, trigger: "edge" }],
  ])("%s", (_n, address, data, expected) => {
    const m = decodeMsi(address, data)!;
    expect({ ...m, dest: m.dest >>> 0 }).toEqual(expected);
  });

  it("is not an interrupt outside FEExxxxxH", () => {
    expect(decodeMsi(0xfed00000, 0x41)).toBeNull();
    expect(decodeMsi(0x000fee00, 0x41)).toBeNull();
  });

  it("encodes what it decodes", () => {
    expect(msiAddress(3, false)).toBe(0xfee03000);
    expect(msiAddress(0x0a, true, true)).toBe(0xfee0a00c);
    expect(msiData(0x53, 1)).toBe(0x4153);
    expect(msiData(0x70, 0, "level", false)).toBe(0x8070);
  });
});

describe("MsiRouter", () => {
  it("forwards interrupt writes and drops the rest and de-asserts", () => {
    const got: InterruptMessage[] = [];
    const router = new MsiRouter({ deliverInterrupt: (m) => got.push(m) });
    router.deliverMsi(0xfee01000, 0x41);
    router.deliverMsi(0xfec00000, 0x41);
    router.deliverMsi(0xfee01000, 0x8041);
    expect(got.map((m) => m.vector)).toEqual([0x41]);
    expect([router.forwarded, router.dropped]).toEqual([1, 2]);
  });

  it("delivers into local APICs through the ApicBus (physical and logical)", () => {
    const rig = makeRig({ cores: 4, latency: 10 });
    rig.apics.forEach((a, i) => {
      enable(a);
      w(a, 0x0d0, (1 << i) << 24);
    });
    const router = new MsiRouter(rig.bus);
    router.deliverMsi(msiAddress(2, false), msiData(0x90));
    router.deliverMsi(msiAddress(0x09, true), msiData(0x91));
    rig.runTo(9);
    expect(rig.apics.some((a) => a.irr.has(0x90))).toBe(false);
    rig.runTo(10);
    expect(rig.apics.map((a) => a.irr.has(0x90))).toEqual([false, false, true, false]);
    expect(rig.apics.map((a) => a.irr.has(0x91))).toEqual([true, false, false, true]);
  });
});
