/**
 * The VM-entry checks on the guest segment registers (src/cpu/vmx/entry-checks-guest-segments.ts, SDM Vol. 3C
 * 26.3.1.2): selectors, virtual-8086 bases/limits/access rights, the access-rights sub-fields of CS, SS, DS, ES,
 * FS, GS (type, S, DPL, P, reserved bits, G against the limit), TR and LDTR. Each failing row is a VM-entry
 * failure with exit reason 33 and qualification 0, next to rows that must enter.
 *
 * References (not our code): the SDM 26.3.1.2 sentences quoted per row and Table 24-2 (access-rights format);
 * kvm-unit-tests x86/vmx_tests.c test_guest_segment_sel_fields (TR.TI, LDTR.TI only when usable, SS.RPL =
 * CS.RPL unless "unrestricted guest"), test_guest_segment_base_addr_fields, and test_guest_state's qualification
 * ENTRY_FAIL_DEFAULT; Bochs cpu/vmx.cc VMenterLoadCheckGuestState (IsLimitAccessRightsConsistent for G).
 */
import { describe, it } from "vitest";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import type { VmxCapabilities } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import { GUEST_STATE_RULES } from "../../../src/cpu/vmx/entry-checks.ts";
import {
  allows, type VmcsFixture,
} from "./vmcs-fixture.ts";
import { expectRulesCovered, runRows, type EntryCheckRow } from "./entry-checks-rows.ts";

const S = "26.3.1.2";
const fail = (rule: string) => ({ kind: "guest-state" as const, rule });
const OK = { kind: "ok" as const };
const ug = (c: VmxCapabilities) => allows(c, "proc2", C.PROC2_UNRESTRICTED_GUEST);

type Reg = "cs" | "ss" | "ds" | "es" | "fs" | "gs";
const CODE_DATA: readonly Reg[] = ["cs", "ss", "ds", "es", "fs", "gs"];
const DATA: readonly Reg[] = ["ds", "es", "fs", "gs"];
/** The baseline's selector and access rights per register (vmcs-fixture.ts). */
const BASE: Record<Reg, readonly [number, number]> = {
  cs: [0x08, 0xc09b], ss: [0x10, 0xc093], ds: [0x10, 0xc093], es: [0x10, 0xc093], fs: [0x10, 0xc093], gs: [0x10, 0xc093],
};

function setAr(f: VmcsFixture, reg: Reg | "tr" | "ldtr", ar: number): void {
  f.write((VmcsField as Record<string, number>)[`GUEST_${reg.toUpperCase()}_ACCESS_RIGHTS`], ar);
}
function setSel(f: VmcsFixture, reg: Reg, sel: number): void {
  f.write((VmcsField as Record<string, number>)[`GUEST_${reg.toUpperCase()}_SELECTOR`], sel);
}
function setLimit(f: VmcsFixture, reg: Reg | "tr" | "ldtr", limit: number): void {
  f.write((VmcsField as Record<string, number>)[`GUEST_${reg.toUpperCase()}_LIMIT`], limit);
}
function setBase(f: VmcsFixture, reg: Reg, base: number): void {
  f.write((VmcsField as Record<string, number>)[`GUEST_${reg.toUpperCase()}_BASE`], base);
}

/** A usable LDT: selector 20H, limit FFH, type 2, present. */
const usableLdtr = (f: VmcsFixture) => f.setSegment("ldtr", 0x20, 0x0005_3000, 0xff, 0x82);

const SELECTOR_ROWS: EntryCheckRow[] = [
  { name: "TR selector with TI", section: S, expected: fail("guest-tr-selector-ti"), sdm: "TR. The TI flag (bit 2) must be 0.",
    mutate: (f) => f.write(VmcsField.GUEST_TR_SELECTOR, 0x1c) },
  { name: "usable LDTR", section: S, expected: OK, sdm: "LDTR. If LDTR is usable, the TI flag (bit 2) must be 0.", mutate: usableLdtr },
  { name: "usable LDTR with TI", section: S, expected: fail("guest-ldtr-selector-ti"),
    sdm: "LDTR. If LDTR is usable, the TI flag (bit 2) must be 0.",
    mutate: (f) => { usableLdtr(f); f.write(VmcsField.GUEST_LDTR_SELECTOR, 0x24); } },
  { name: "unusable LDTR with TI", section: S, expected: OK, sdm: "LDTR. If LDTR is usable, the TI flag must be 0 (kvm-unit-tests: valid when unusable)",
    mutate: (f) => f.write(VmcsField.GUEST_LDTR_SELECTOR, 0x24) },
  { name: "SS.RPL 3, CS.RPL 0", section: S, expected: fail("guest-ss-selector-rpl"),
    sdm: "SS. If the guest will not be virtual-8086 and 'unrestricted guest' is 0, the RPL must equal the RPL of the selector field for CS",
    mutate: (f) => setSel(f, "ss", 0x13) },
  { name: "SS.RPL 3, CS.RPL 0 with unrestricted guest", section: S, expected: OK, applies: ug,
    sdm: "SS. If ... 'unrestricted guest' is 0, the RPL must equal the RPL of CS (kvm-unit-tests: valid with URG)",
    mutate: (f) => { f.useUnrestrictedGuest(); setSel(f, "ss", 0x13); } },
  { name: "ring-3 guest (CPL 3 everywhere)", section: S, expected: OK, sdm: "SS.RPL = CS.RPL = 3, DPLs 3",
    mutate: (f) => f.ring3Guest() },
];

const V86_SDM = "If the guest will be virtual-8086: base = selector << 4, limit 0000FFFFH, access rights 000000F3H";
const V86_ROWS: EntryCheckRow[] = [
  { name: "virtual-8086 guest", section: S, expected: OK, sdm: V86_SDM, mutate: (f) => f.v86Guest() },
  ...CODE_DATA.flatMap((r): EntryCheckRow[] => [
    { name: `virtual-8086 ${r} base off by 10H`, section: S, expected: fail(`guest-${r}-base-v86`), sdm: V86_SDM,
      mutate: (f) => { f.v86Guest(); setBase(f, r, f.read((VmcsField as Record<string, number>)[`GUEST_${r.toUpperCase()}_BASE`]) + 0x10); } },
    { name: `virtual-8086 ${r} limit FFFEH`, section: S, expected: fail(`guest-${r}-limit-v86`), sdm: V86_SDM,
      mutate: (f) => { f.v86Guest(); setLimit(f, r, 0xfffe); } },
    { name: `virtual-8086 ${r} access rights 40F3H`, section: S, expected: fail(`guest-${r}-access-rights-v86`), sdm: V86_SDM,
      mutate: (f) => { f.v86Guest(); setAr(f, r, 0x40f3); } },
  ]),
  { name: "virtual-8086 SS unusable", section: S, expected: fail("guest-ss-access-rights-v86"),
    sdm: "If the guest will be virtual-8086, the field must be 000000F3H (bit 16, unusable, must be 0)",
    mutate: (f) => { f.v86Guest(); setAr(f, "ss", 0x100f3); } },
];

const TYPE_ROWS: EntryCheckRow[] = [
  { name: "CS type 8 (code, not accessed)", section: S, expected: fail("guest-cs-type"),
    sdm: "CS. If 'unrestricted guest' is 0, the Type must be 9, 11, 13, or 15 (accessed code segment)",
    mutate: (f) => setAr(f, "cs", 0xc098) },
  { name: "CS type 3 without unrestricted guest", section: S, expected: fail("guest-cs-type"),
    sdm: "CS. If the control is 0, the Type must be 9, 11, 13, or 15", mutate: (f) => setAr(f, "cs", 0xc093) },
  ...[[0xc099, 9], [0xc09d, 13], [0xc09f, 15]].map(([ar, t]): EntryCheckRow => ({
    name: `CS type ${t}`, section: S, expected: OK, sdm: "the Type must be 9, 11, 13, or 15", mutate: (f) => setAr(f, "cs", ar),
  })),
  { name: "CS type 3, DPL 0 with unrestricted guest", section: S, expected: OK, applies: ug,
    sdm: "If the control is 1, the Type must be either 3 (read/write accessed expand-up data segment) or one of 9, 11, 13, and 15",
    mutate: (f) => { f.useUnrestrictedGuest(); setAr(f, "cs", 0xc093); } },
  { name: "CS with the unusable bit set", section: S, expected: OK,
    sdm: "CS is checked whether or not it is usable; bit 16 is not among the reserved bits 31:17",
    mutate: (f) => setAr(f, "cs", 0x1c09b) },
  { name: "SS type 1 (read-only)", section: S, expected: fail("guest-ss-type"),
    sdm: "SS. If SS is usable, the Type must be 3 or 7 (read/write, accessed data segment)", mutate: (f) => setAr(f, "ss", 0xc091) },
  { name: "SS type 11 (code)", section: S, expected: fail("guest-ss-type"),
    sdm: "SS. If SS is usable, the Type must be 3 or 7", mutate: (f) => setAr(f, "ss", 0xc09b) },
  { name: "SS type 7 (expand-down)", section: S, expected: OK, sdm: "SS ... the Type must be 3 or 7", mutate: (f) => setAr(f, "ss", 0xc097) },
  { name: "SS unusable with type 0", section: S, expected: OK, sdm: "SS. If SS is usable, the Type must be 3 or 7",
    mutate: (f) => setAr(f, "ss", 0x10000) },
  ...DATA.flatMap((r): EntryCheckRow[] => [
    { name: `${r} type 2 (not accessed)`, section: S, expected: fail(`guest-${r}-type-accessed`),
      sdm: "DS, ES, FS, GS. If usable: bit 0 of the Type must be 1 (accessed)", mutate: (f) => setAr(f, r, 0xc092) },
    { name: `${r} type 9 (execute-only code)`, section: S, expected: fail(`guest-${r}-type-readable-code`),
      sdm: "DS, ES, FS, GS. If bit 3 of the Type is 1 (code segment), then bit 1 of the Type must be 1 (readable)",
      mutate: (f) => setAr(f, r, 0xc099) },
    { name: `${r} type 11 (readable code)`, section: S, expected: OK, sdm: "a readable accessed code segment is allowed",
      mutate: (f) => setAr(f, r, 0xc09b) },
  ]),
  { name: "DS, ES, FS, GS unusable with anything else in their access rights", section: S, expected: OK,
    sdm: "The checks on DS, ES, FS, GS apply only if the register is usable",
    mutate: (f) => { for (const r of DATA) setAr(f, r, 0xfffe0f00 | 0x10000); } },
];

const S_ROWS: EntryCheckRow[] = CODE_DATA.map((r): EntryCheckRow => ({
  name: `${r} with S = 0`, section: S, expected: fail(`guest-${r}-s`),
  sdm: "Bit 4 (S). If the register is CS or if the register is usable, S must be 1.", mutate: (f) => setAr(f, r, BASE[r][1] & ~0x10),
}));

const DPL_ROWS: EntryCheckRow[] = [
  { name: "CS type 3 DPL 3 with unrestricted guest", section: S, expected: fail("guest-cs-dpl-data-type"), applies: ug,
    sdm: "CS. If the Type is 3 (read/write accessed expand-up data segment), the DPL must be 0",
    mutate: (f) => { f.useUnrestrictedGuest(); setAr(f, "cs", 0xc0f3); } },
  { name: "non-conforming CS DPL 3, SS DPL 0", section: S, expected: fail("guest-cs-dpl-nonconforming"),
    sdm: "CS. If the Type is 9 or 11 (non-conforming code segment), the DPL must equal the DPL in the access-rights field for SS",
    mutate: (f) => setAr(f, "cs", 0xc0fb) },
  { name: "conforming CS DPL 3, SS DPL 0", section: S, expected: fail("guest-cs-dpl-conforming"),
    sdm: "CS. If the Type is 13 or 15 (conforming code segment), the DPL cannot be greater than the DPL in the access-rights field for SS",
    mutate: (f) => setAr(f, "cs", 0xc0ff) },
  { name: "conforming CS DPL 0 in a ring-3 guest", section: S, expected: OK,
    sdm: "CS. If the Type is 13 or 15, the DPL cannot be greater than SS.DPL (0 <= 3)",
    mutate: (f) => { f.ring3Guest(); setAr(f, "cs", 0xc09f); } },
  { name: "SS DPL 3 with SS.RPL 0 (CS DPL 3)", section: S, expected: fail("guest-ss-dpl-rpl"),
    sdm: "SS. If 'unrestricted guest' is 0, the DPL must equal the RPL from the selector field",
    mutate: (f) => { setAr(f, "cs", 0xc0fb); setAr(f, "ss", 0xc0f3); } },
  { name: "SS DPL 3 in an unrestricted real-mode guest", section: S, expected: fail("guest-ss-dpl-real-mode"), applies: ug,
    sdm: "SS. The DPL must be 0 either if the Type in the access-rights field for CS is 3 or if bit 0 in the CR0 field (CR0.PE) is 0",
    mutate: (f) => { f.realModeGuest(); setAr(f, "cs", 0xc0fb); setAr(f, "ss", 0xc0f3); } },
  { name: "SS DPL 3 with a data-type CS (unrestricted guest)", section: S, expected: fail("guest-ss-dpl-real-mode"), applies: ug,
    sdm: "SS. The DPL must be 0 ... if the Type in the access-rights field for CS is 3",
    mutate: (f) => { f.useUnrestrictedGuest(); setAr(f, "cs", 0xc093); setSel(f, "ss", 0x13); setAr(f, "ss", 0xc0f3); } },
  ...DATA.flatMap((r): EntryCheckRow[] => [
    { name: `${r} RPL 3 above DPL 0`, section: S, expected: fail(`guest-${r}-dpl-rpl`),
      sdm: "DS, ES, FS, GS. The DPL cannot be less than the RPL if 'unrestricted guest' is 0, the register is usable, and the Type is 0-11",
      mutate: (f) => setSel(f, r, 0x13) },
    { name: `${r} RPL 3 above DPL 0, non-conforming readable code (type 11)`, section: S, expected: fail(`guest-${r}-dpl-rpl`),
      sdm: "... the Type in the access-rights field is in the range 0 - 11 (data segment or non-conforming code segment)",
      mutate: (f) => { setAr(f, r, 0xc09b); setSel(f, r, 0x13); } },
  ]),
  { name: "DS RPL 3 above DPL 0 with a conforming code segment", section: S, expected: OK,
    sdm: "The DPL rule for DS, ES, FS, GS applies to types 0-11 only", mutate: (f) => { setAr(f, "ds", 0xc09f); setSel(f, "ds", 0x13); } },
  { name: "DS RPL 3 above DPL 0 with unrestricted guest", section: S, expected: OK, applies: ug,
    sdm: "The DPL cannot be less than the RPL ... if (1) the 'unrestricted guest' VM-execution control is 0",
    mutate: (f) => { f.useUnrestrictedGuest(); setSel(f, "ds", 0x13); } },
  { name: "DS unusable with RPL 3 above DPL 0", section: S, expected: OK, sdm: "... (2) the register is usable",
    mutate: (f) => { setAr(f, "ds", 0x1c093); setSel(f, "ds", 0x13); } },
];

const G_SDM = "Bit 15 (G). If any bit in the limit field in the range 11:0 is 0, G must be 0. If any bit in the limit field in the range 31:20 is 1, G must be 1.";
const PRESENT_RESERVED_G_ROWS: EntryCheckRow[] = [
  ...CODE_DATA.flatMap((r): EntryCheckRow[] => [
    { name: `${r} not present`, section: S, expected: fail(`guest-${r}-present`),
      sdm: "Bit 7 (P). If the register is CS or if the register is usable, P must be 1.", mutate: (f) => setAr(f, r, BASE[r][1] & ~0x80) },
    { name: `${r} access-rights bit 8 set`, section: S, expected: fail(`guest-${r}-reserved-11-8`),
      sdm: "Bits 11:8 (reserved). If the register is CS or if the register is usable, these bits must all be 0.",
      mutate: (f) => setAr(f, r, BASE[r][1] | 0x100) },
    { name: `${r} limit FFFFE000H with G = 1`, section: S, expected: fail(`guest-${r}-granularity`), sdm: G_SDM,
      mutate: (f) => setLimit(f, r, 0xffffe000) },
    { name: `${r} limit 00100000H with G = 0`, section: S, expected: fail(`guest-${r}-granularity`), sdm: G_SDM,
      mutate: (f) => { setAr(f, r, BASE[r][1] & ~0x8000); setLimit(f, r, 0x00100000); } },
    { name: `${r} limit 000FFFFFH with G = 0`, section: S, expected: OK, sdm: G_SDM,
      mutate: (f) => { setAr(f, r, BASE[r][1] & ~0x8000); setLimit(f, r, 0xfffff); } },
    { name: `${r} access-rights bit 17 set`, section: S, expected: fail(`guest-${r}-reserved-31-17`),
      sdm: "Bits 31:17 (reserved). If the register is CS or if the register is usable, these bits must all be 0.",
      mutate: (f) => setAr(f, r, BASE[r][1] | 0x20000) },
  ]),
  { name: "CS unusable and not present", section: S, expected: fail("guest-cs-present"),
    sdm: "Bit 7 (P). If the register is CS or if the register is usable, P must be 1 (CS is checked even when unusable)",
    mutate: (f) => setAr(f, "cs", 0x1c01b) },
  { name: "CS unusable with S = 0", section: S, expected: fail("guest-cs-s"),
    sdm: "Bit 4 (S). If the register is CS or if the register is usable, S must be 1", mutate: (f) => setAr(f, "cs", 0x1c08b) },
  { name: "SS unusable and not present", section: S, expected: OK,
    sdm: "Bit 7 (P). If the register is CS or if the register is usable, P must be 1", mutate: (f) => setAr(f, "ss", 0x1c013) },
  { name: "AVL and D/B bits are free", section: S, expected: OK, sdm: "bit 12 (AVL) and bit 14 (D/B) are not checked outside IA-32e mode",
    mutate: (f) => { setAr(f, "cs", 0x909b); setAr(f, "ds", 0xd093); } },
];

const TR_SDM = "TR: Type 3 or 11 (not IA-32e mode), S 0, P 1, bits 11:8 0, G consistent with the limit, unusable 0, bits 31:17 0";
const LDTR_SDM = "LDTR, if usable: Type 2, S 0, P 1, bits 11:8 0, G consistent with the limit, bits 31:17 0";
const SYSTEM_ROWS: EntryCheckRow[] = [
  { name: "TR type 3 (16-bit busy TSS)", section: S, sdm: TR_SDM, expected: OK, mutate: (f) => setAr(f, "tr", 0x83) },
  { name: "TR type 9 (available TSS)", section: S, sdm: TR_SDM, expected: fail("guest-tr-type"), mutate: (f) => setAr(f, "tr", 0x89) },
  { name: "TR with S = 1", section: S, sdm: TR_SDM, expected: fail("guest-tr-s"), mutate: (f) => setAr(f, "tr", 0x9b) },
  { name: "TR not present", section: S, sdm: TR_SDM, expected: fail("guest-tr-present"), mutate: (f) => setAr(f, "tr", 0x0b) },
  { name: "TR access-rights bit 11", section: S, sdm: TR_SDM, expected: fail("guest-tr-reserved-11-8"), mutate: (f) => setAr(f, "tr", 0x88b) },
  { name: "TR limit 67H with G = 1", section: S, sdm: TR_SDM, expected: fail("guest-tr-granularity"), mutate: (f) => setAr(f, "tr", 0x808b) },
  { name: "TR unusable", section: S, sdm: TR_SDM, expected: fail("guest-tr-unusable"), mutate: (f) => setAr(f, "tr", 0x1008b) },
  { name: "TR access-rights bit 31", section: S, sdm: TR_SDM, expected: fail("guest-tr-reserved-31-17"),
    mutate: (f) => setAr(f, "tr", 0x8000008b) },
  { name: "LDTR type 3", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-type"), mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x83); } },
  { name: "LDTR with S = 1", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-s"), mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x92); } },
  { name: "LDTR not present", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-present"), mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x02); } },
  { name: "LDTR access-rights bit 9", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-reserved-11-8"),
    mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x282); } },
  { name: "LDTR limit FFH with G = 1", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-granularity"),
    mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x8082); } },
  { name: "LDTR limit FFFFFH with G = 0 (in range)", section: S, sdm: LDTR_SDM, expected: OK,
    mutate: (f) => { usableLdtr(f); setLimit(f, "ldtr", 0xfffff); } },
  { name: "LDTR access-rights bit 20", section: S, sdm: LDTR_SDM, expected: fail("guest-ldtr-reserved-31-17"),
    mutate: (f) => { usableLdtr(f); setAr(f, "ldtr", 0x100082); } },
  { name: "unusable LDTR with anything in its access rights", section: S, sdm: LDTR_SDM, expected: OK,
    mutate: (f) => setAr(f, "ldtr", 0xffff0fff) },
];

const ROWS = [...SELECTOR_ROWS, ...V86_ROWS, ...TYPE_ROWS, ...S_ROWS, ...DPL_ROWS, ...PRESENT_RESERVED_G_ROWS, ...SYSTEM_ROWS];

describe("VM-entry checks on guest segment registers (SDM 26.3.1.2), VM-entry failure 33", () => {
  describe("selector fields", () => runRows(SELECTOR_ROWS));
  describe("virtual-8086 base, limit and access rights", () => runRows(V86_ROWS));
  describe("CS, SS, DS, ES, FS, GS type", () => runRows(TYPE_ROWS));
  describe("CS, SS, DS, ES, FS, GS S bit", () => runRows(S_ROWS));
  describe("CS, SS, DS, ES, FS, GS DPL", () => runRows(DPL_ROWS));
  describe("CS, SS, DS, ES, FS, GS P, reserved bits, G", () => runRows(PRESENT_RESERVED_G_ROWS));
  describe("TR and LDTR", () => runRows(SYSTEM_ROWS));
  it("every 26.3.1.2 rule has a failing row", () =>
    expectRulesCovered(GUEST_STATE_RULES.filter((r) => r.section === S), ROWS));
});
