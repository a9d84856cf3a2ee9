/**
 * Control-register accesses in VMX non-root operation: which exit, and what the others read and load.
 *
 * References (not our code):
 * - SDM Vol. 3C 25.1.3 (CLTS exits if TS is set in both the CR0 guest/host mask and the read shadow; LMSW
 *   exits if PE is set in the mask and the source and clear in the shadow, or a masked bit of 3:1 differs
 *   between source and shadow; MOV to CR0/CR4 exits unless the source matches the shadow in every masked
 *   bit; MOV to CR3 exits when "CR3-load exiting" is 1 unless the source is one of the first n CR3-target
 *   values, count 0 meaning always; MOV from CR3 exits with "CR3-store exiting");
 * - SDM 25.3 (a non-exiting MOV to CR0/CR4 or LMSW leaves the masked bits unchanged; LMSW never clears PE;
 *   CLTS with TS masked and the shadow's TS clear leaves CR0.TS unchanged; MOV from CR0/CR4 returns the
 *   shadow in masked bits, the register elsewhere);
 * - SDM 24.6.7 (only the first n CR3-target values are compared; VM entry fails with a count above 4);
 * - kvm-unit-tests x86/vmx_tests.c cr_shadowing_main / cr_shadowing_exit_handler, replayed stage by stage with
 *   concrete register values (the stages and their checks are the test's), and insn_table "CR3 load" /
 *   "CR3 store";
 * - Bochs cpu/vmexit.cc VMexit_CLTS, VMexit_LMSW, VMexit_CR0_Write, VMexit_CR3_Write, VMexit_CR4_Write, as a
 *   second reading of the same rules (same verdict on every row below).
 * Expected values are computed by hand in the rows.
 */
import { describe, expect, it } from "vitest";
import {
  cltsExits,
  cr0AfterClts,
  cr0AfterLmsw,
  crAfterWrite,
  crReadValue,
  crWriteExits,
  lmswExits,
  movFromCr3Exits,
  movToCr3Exits,
} from "../../../src/cpu/vmx/cr-access.ts";
import { PROC_CR3_LOAD_EXITING, PROC_CR3_STORE_EXITING } from "../../../src/cpu/vmx/vmx-controls.ts";

const PE = 0x1, MP = 0x2, TS = 0x8, NE = 0x20, PG = 0x80000000;
const TSD = 0x4, DE = 0x8, VMXE = 0x2000;

describe("kvm-unit-tests cr_shadowing, stage by stage (CR0 = 80010031H, CR4 = 90H at the start)", () => {
  // The VMCS's guest CR0/CR4 as the test sees them through vmcs_read(GUEST_CR0/CR4).
  let realCr0 = 0x80010031;
  let realCr4 = 0x00000090;
  let cr0Mask = 0, cr0Shadow = 0, cr4Mask = 0, cr4Shadow = 0;
  let guestCr0 = 0, guestCr4 = 0;

  it("stages 0-1, read through: with masks 0 MOV from CR0/CR4 returns the registers", () => {
    guestCr0 = crReadValue(realCr0, cr0Mask, cr0Shadow);
    guestCr4 = crReadValue(realCr4, cr4Mask, cr4Shadow);
    expect(guestCr0).toBe(0x80010031);
    expect(guestCr4).toBe(0x90);
  });
  it("stages 2-3, write through: CR0 ^ (TS|MP) and CR4 ^ (TSD|DE) load without exits", () => {
    guestCr0 = (guestCr0 ^ (TS | MP)) >>> 0;
    guestCr4 ^= TSD | DE;
    expect(crWriteExits(cr0Mask, cr0Shadow, guestCr0)).toBe(false);
    expect(crWriteExits(cr4Mask, cr4Shadow, guestCr4)).toBe(false);
    realCr0 = crAfterWrite(realCr0, cr0Mask, guestCr0);
    realCr4 = crAfterWrite(realCr4, cr4Mask, guestCr4);
    expect(realCr0).toBe(0x8001003b); // "Write through CR0": GUEST_CR0 == guest_cr0
    expect(realCr4).toBe(0x9c);
  });
  it("stage 4 (handler): masks TS|MP and TSD|DE, shadows = flipped registers & mask", () => {
    guestCr0 = (realCr0 ^ (TS | MP)) >>> 0; // 80010031H
    guestCr4 = realCr4 ^ (TSD | DE); // 90H
    cr0Mask = TS | MP;
    cr0Shadow = guestCr0 & (TS | MP); // 0
    cr4Mask = TSD | DE;
    cr4Shadow = guestCr4 & (TSD | DE); // 0
    expect([guestCr0, cr0Shadow, guestCr4, cr4Shadow]).toEqual([0x80010031, 0, 0x90, 0]);
  });
  it("stages 4-5, read shadowing: MOV from CR0/CR4 return guest_cr0/guest_cr4, not the registers", () => {
    expect(crReadValue(realCr0, cr0Mask, cr0Shadow)).toBe(0x80010031);
    expect(crReadValue(realCr4, cr4Mask, cr4Shadow)).toBe(0x90);
  });
  it("stages 6-7, writing the shadowed value does not exit and keeps the masked register bits", () => {
    expect(crWriteExits(cr0Mask, cr0Shadow, guestCr0)).toBe(false);
    expect(crWriteExits(cr4Mask, cr4Shadow, guestCr4)).toBe(false);
    realCr0 = crAfterWrite(realCr0, cr0Mask, guestCr0);
    realCr4 = crAfterWrite(realCr4, cr4Mask, guestCr4);
    // The handler's check: guest_cr0 == GUEST_CR0 ^ (TS|MP), guest_cr4 == GUEST_CR4 ^ (TSD|DE).
    expect((realCr0 ^ (TS | MP)) >>> 0).toBe(guestCr0);
    expect(realCr4 ^ (TSD | DE)).toBe(guestCr4);
  });
  it("stages 8-11, a different TS, MP, TSD or DE exits", () => {
    expect(crWriteExits(cr0Mask, cr0Shadow, (guestCr0 ^ TS) >>> 0)).toBe(true);
    expect(crWriteExits(cr0Mask, cr0Shadow, (guestCr0 ^ MP) >>> 0)).toBe(true);
    expect(crWriteExits(cr4Mask, cr4Shadow, guestCr4 ^ TSD)).toBe(true);
    expect(crWriteExits(cr4Mask, cr4Shadow, guestCr4 ^ DE)).toBe(true);
  });
});

describe("MOV to CR0/CR4 and MOV from CR0/CR4 (SDM 25.1.3, 25.3)", () => {
  // [name, mask, shadow, current register, source, exits, register after a non-exiting load]
  const rows: [string, number, number, number, number, boolean, number | null][] = [
    ["mask 0: never exits, loads the source", 0, 0xffffffff, 0x80000011, 0x00000011, false, 0x00000011],
    ["PG|PE owned, source matches the shadow", PG | PE, PG | PE, 0x80000011, 0x80000031, false, 0x80000031],
    ["PG|PE owned, source clears PG", PG | PE, PG | PE, 0x80000011, 0x00000011, true, null],
    ["PG|PE owned, shadow says PG=0, register PG=1 kept", PG | PE, PE, 0x80000011, 0x00000031, false, 0x80000031],
    ["all bits owned, source = shadow: no exit, register unchanged", 0xffffffff, 0x11, 0x80000031, 0x11, false, 0x80000031],
    ["all bits owned, any difference exits", 0xffffffff, 0x11, 0x80000031, 0x13, true, null],
    ["CR4.VMXE owned with shadow 0: guest sets VMXE", VMXE, 0, 0x2090, 0x2090, true, null],
    ["CR4.VMXE owned with shadow 0: guest writes without VMXE, VMXE kept", VMXE, 0, 0x2090, 0x00b0, false, 0x20b0],
  ];
  for (const [name, mask, shadow, current, source, exits, after] of rows) {
    it(name, () => {
      expect(crWriteExits(mask, shadow, source)).toBe(exits);
      if (after !== null) expect(crAfterWrite(current, mask, source)).toBe(after);
    });
  }
  const reads: [string, number, number, number, number][] = [
    ["mask 0 reads the register", 0x80000031, 0, 0xffffffff, 0x80000031],
    ["all-ones mask reads the shadow", 0x80000031, 0xffffffff, 0x11, 0x11],
    ["CR4.VMXE hidden", 0x2090, VMXE, 0, 0x90],
    ["shadow bits outside the mask are not seen", 0x80000031, TS, 0xffffffff, 0x80000039],
    ["NE shadowed as 0 while set in CR0", 0x80000031, NE, 0, 0x80000011],
  ];
  for (const [name, real, mask, shadow, want] of reads) {
    it(`read: ${name}`, () => expect(crReadValue(real, mask, shadow)).toBe(want));
  }
});

describe("CLTS (SDM 25.1.3, 25.3)", () => {
  // [name, mask, shadow, CR0 before, exits, CR0 after a non-exiting CLTS]
  const rows: [string, number, number, number, boolean, number | null][] = [
    ["TS in mask and shadow: exits", TS, TS, 0x80000039, true, null],
    ["TS in mask, shadow TS clear: completes, TS unchanged", TS, 0, 0x80000039, false, 0x80000039],
    ["TS not in mask: clears TS whatever the shadow", 0, TS, 0x80000039, false, 0x80000031],
    ["every bit but TS in the mask: clears TS", 0xfffffff7, 0xffffffff, 0x80000039, false, 0x80000031],
    ["TS already clear, not masked: stays clear", 0, 0, 0x80000031, false, 0x80000031],
  ];
  for (const [name, mask, shadow, cr0, exits, after] of rows) {
    it(name, () => {
      expect(cltsExits(mask, shadow)).toBe(exits);
      if (after !== null) expect(cr0AfterClts(cr0, mask)).toBe(after);
    });
  }
});

describe("LMSW (SDM 25.1.3: bits 3:0 only, PE cannot be cleared; 25.3)", () => {
  // [name, mask, shadow, source, exits, CR0 before, CR0 after a non-exiting LMSW]
  const rows: [string, number, number, number, boolean, number, number | null][] = [
    ["mask 0: loads 3:0", 0, 0xf, 0x000f, false, 0x80000011, 0x8000001f],
    ["mask 0: cannot clear PE", 0, 0, 0xfffe, false, 0x80000011, 0x8000001f],
    ["mask 0: bits above 3 of the source are ignored", 0, 0, 0xfff0, false, 0x80000031, 0x80000031],
    ["PE masked, set in source, clear in shadow: exits", PE, 0, 0x0001, true, 0x00000010, null],
    ["PE masked, clear in source, set in shadow: no exit (LMSW never clears PE)", PE, PE, 0x0000, false, 0x00000011, 0x00000011],
    ["PE masked, clear in source and shadow: no exit, PE stays 0", PE, 0, 0x0000, false, 0x00000010, 0x00000010],
    ["PE masked, set in both: no exit", PE, PE, 0x0001, false, 0x00000011, 0x00000011],
    ["TS masked, source TS 1, shadow 0: exits", TS, 0, 0x0008, true, 0x80000031, null],
    ["TS masked, source TS 0, shadow 1: exits", TS, TS, 0x0000, true, 0x80000031, null],
    ["TS masked, equal: no exit, real TS kept, MP/EM from the source", TS, TS, 0x000e, false, 0x80000031, 0x80000037],
    ["MP|EM masked, source EM vs shadow MP: exits", 0x6, MP, 0x0004, true, 0x80000011, null],
    ["NE masked (not an LMSW bit): no exit, NE untouched", NE, NE, 0x000f, false, 0x80000031, 0x8000003f],
    ["all-ones mask, bits 3:0 of source = shadow: no exit, CR0 unchanged", 0xffffffff, 0xb, 0xfffb, false, 0x80000031, 0x80000031],
    ["all-ones mask, source sets EM: exits", 0xffffffff, 0xb, 0x000f, true, 0x80000031, null],
  ];
  for (const [name, mask, shadow, source, exits, cr0, after] of rows) {
    it(name, () => {
      expect(lmswExits(mask, shadow, source)).toBe(exits);
      if (after !== null) expect(cr0AfterLmsw(cr0, mask, source)).toBe(after);
    });
  }
});

describe("MOV to CR3 with the CR3-target controls, MOV from CR3 (SDM 25.1.3, 24.6.7)", () => {
  const targets = [0x1000, 0x2000, 0x3000, 0x80004000];
  const LOAD = PROC_CR3_LOAD_EXITING;
  // [name, controls, count, value, exits]
  const rows: [string, number, number, number, boolean][] = [
    ["CR3-load exiting 0: never exits", 0, 0, 0x5000, false],
    ["count 0: every MOV to CR3 exits, even to a target value (insn_table 'CR3 load')", LOAD, 0, 0x1000, true],
    ["count 2, second target value: no exit", LOAD, 2, 0x2000, false],
    ["count 2, third target value is not considered: exits", LOAD, 2, 0x3000, true],
    ["count 4, fourth target (bit 31 set): no exit", LOAD, 4, 0x80004000, false],
    ["count 4, no match: exits", LOAD, 4, 0x5000, true],
    ["count above 4 (VM entry would have failed) compares four values", LOAD, 7, 0x80004000, false],
  ];
  for (const [name, ctl, count, value, want] of rows) {
    it(name, () => expect(movToCr3Exits(ctl, count, targets, value)).toBe(want));
  }
  it("MOV from CR3 exits exactly with CR3-store exiting (insn_table 'CR3 store')", () => {
    expect(movFromCr3Exits(PROC_CR3_STORE_EXITING)).toBe(true);
    expect(movFromCr3Exits(PROC_CR3_LOAD_EXITING)).toBe(false);
  });
});
