/**
 * The virtual-APIC page accessors and the APIC-virtualization controls.
 *
 * References (not our code):
 * - SDM Vol. 3C 29.1.1: VTPR 080H, VPPR 0A0H, VEOI 0B0H, VISR 100H-170H, VIRR 200H-270H, VICR_LO 300H,
 *   VICR_HI 310H; "bit x of the VIRR is at bit position (x & 1FH) at offset (200H | ((x & E0H) >> 1))", the
 *   same for VISR at 100H (kvm-unit-tests set_virr_bit/get_virr_bit use this formula);
 * - SDM 29.5: the x2APIC self-IPI register at 3F0H; SDM Vol. 3A Table 10-1 for the other offsets;
 * - SDM 24.4.2: guest interrupt status, RVI in bits 7:0 and SVI in bits 15:8;
 * - SDM 24.6.2: with "activate secondary controls" 0 the processor acts as if the secondary controls were 0
 *   (kvm-unit-tests apic_reg_virt_test, "Activate secondary controls off").
 */
import { describe, expect, it } from "vitest";
import {
  VAPIC_EOI,
  VAPIC_ICR_HI,
  VAPIC_ICR_LO,
  VAPIC_IRR,
  VAPIC_ISR,
  VAPIC_PPR,
  VAPIC_SELF_IPI,
  VAPIC_TPR,
  apicAccessAddress,
  clearVector,
  highestVector,
  readRvi,
  readSvi,
  readVapic64,
  readVapicBytes,
  secondaryControls,
  setVector,
  testVector,
  virtualApicAddress,
  virtualInterruptDelivery,
  writeRvi,
  writeSvi,
  writeVapicBytes,
} from "../../../src/cpu/vmx/virtual-apic-page.ts";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { PROC2_VIRTUAL_INTERRUPT_DELIVERY } from "../../../src/cpu/vmx/vmx-controls.ts";
import { APIC_ACCESS_PA, VAPIC_PA, makeFixture } from "./apicv-harness.ts";

describe("virtual-APIC page register offsets (SDM 29.1.1, 29.5)", () => {
  it.each([
    ["VTPR", VAPIC_TPR, 0x080],
    ["VPPR", VAPIC_PPR, 0x0a0],
    ["VEOI", VAPIC_EOI, 0x0b0],
    ["VISR", VAPIC_ISR, 0x100],
    ["VIRR", VAPIC_IRR, 0x200],
    ["VICR_LO", VAPIC_ICR_LO, 0x300],
    ["VICR_HI", VAPIC_ICR_HI, 0x310],
    ["self IPI", VAPIC_SELF_IPI, 0x3f0],
  ])("%s is at %i", (_name, got, want) => {
    expect(got).toBe(want);
  });
});

describe("VISR/VIRR bit placement (SDM 29.1.1 formula)", () => {
  it("each vector of VIRR and VISR sets exactly the bit the SDM names, and only it", () => {
    for (const base of [0x100, 0x200]) {
      for (let v = 0; v < 256; v++) {
        const f = makeFixture();
        setVector(f.ctx, base, v);
        const off = base | ((v & 0xe0) >> 1);
        expect(f.vapic(off)).toBe((1 << (v & 31)) >>> 0);
        expect(f.vectors(base)).toEqual([v]);
        expect(testVector(f.ctx, base, v)).toBe(true);
        expect(highestVector(f.ctx, base)).toBe(v);
        clearVector(f.ctx, base, v);
        expect(f.vapic(off)).toBe(0);
        expect(highestVector(f.ctx, base)).toBe(-1);
      }
    }
  });

  it("the highest vector is the highest bit over the eight dwords, whatever the lower ones hold", () => {
    const f = makeFixture();
    for (const v of [0x21, 0x5f, 0x60, 0xc3]) setVector(f.ctx, 0x200, v);
    expect(highestVector(f.ctx, 0x200)).toBe(0xc3);
    setVector(f.ctx, 0x200, 0xff);
    expect(highestVector(f.ctx, 0x200)).toBe(0xff);
    // The 12 bytes above each dword (e.g. 204H) are not part of the register.
    f.setVapic(0x274, 0xffffffff);
    clearVector(f.ctx, 0x200, 0xff);
    expect(highestVector(f.ctx, 0x200)).toBe(0xc3);
  });
});

describe("sub-dword and 64-bit accesses (little-endian, as the x86 memory model)", () => {
  it("reads the bytes of a register at any position within its dword", () => {
    const f = makeFixture();
    f.setVapic(0x80, 0x12345678);
    expect(readVapicBytes(f.ctx, 0x80, 4)).toBe(0x12345678);
    expect(readVapicBytes(f.ctx, 0x80, 1)).toBe(0x78);
    expect(readVapicBytes(f.ctx, 0x81, 1)).toBe(0x56);
    expect(readVapicBytes(f.ctx, 0x82, 2)).toBe(0x1234);
    expect(readVapicBytes(f.ctx, 0x83, 1)).toBe(0x12);
  });

  it("writes only the bytes it covers", () => {
    const f = makeFixture();
    f.setVapic(0x300, 0xaabbccdd);
    writeVapicBytes(f.ctx, 0x301, 2, 0x1122);
    expect(f.vapic(0x300)).toBe(0xaa1122dd);
    writeVapicBytes(f.ctx, 0x303, 1, 0xff);
    expect(f.vapic(0x300)).toBe(0xff1122dd);
    writeVapicBytes(f.ctx, 0x300, 4, 0x80000001);
    expect(f.vapic(0x300)).toBe(0x80000001);
  });

  it("a 64-bit access is the dword at the offset (bits 31:0) and the one above it (bits 63:32)", () => {
    const f = makeFixture();
    f.setVapic(0x300, 0x000400f1);
    f.setVapic(0x304, 0xdeadbeef);
    expect(readVapic64(f.ctx, 0x300)).toEqual([0x000400f1, 0xdeadbeef]);
  });
});

describe("guest interrupt status (SDM 24.4.2: RVI bits 7:0, SVI bits 15:8)", () => {
  it("RVI and SVI come from and go to their own byte", () => {
    const f = makeFixture({ intStatus: 0xa35c });
    expect(readRvi(f.ctx)).toBe(0x5c);
    expect(readSvi(f.ctx)).toBe(0xa3);
    writeRvi(f.ctx, 0x41);
    expect(f.rvi()).toBe(0x41);
    expect(f.svi()).toBe(0xa3);
    writeSvi(f.ctx, 0xfe);
    expect(f.rvi()).toBe(0x41);
    expect(f.svi()).toBe(0xfe);
  });
});

describe("controls and addresses (SDM 24.6.2, 24.6.8)", () => {
  it("secondary controls count only with 'activate secondary controls'", () => {
    const on = makeFixture({ proc2: PROC2_VIRTUAL_INTERRUPT_DELIVERY });
    expect(virtualInterruptDelivery(on.ctx)).toBe(true);
    const off = makeFixture({ proc2: PROC2_VIRTUAL_INTERRUPT_DELIVERY, noSecondary: true });
    expect(secondaryControls(off.ctx)).toBe(0);
    expect(virtualInterruptDelivery(off.ctx)).toBe(false);
  });

  it("the page addresses are the 64-bit fields, high halves included", () => {
    const f = makeFixture();
    expect(virtualApicAddress(f.ctx)).toBe(VAPIC_PA);
    expect(apicAccessAddress(f.ctx)).toBe(APIC_ACCESS_PA);
    f.set(VmcsField.VIRTUAL_APIC_ADDRESS_HIGH, 0xf);
    expect(virtualApicAddress(f.ctx)).toBe(0xf_0000_2000);
  });
});
