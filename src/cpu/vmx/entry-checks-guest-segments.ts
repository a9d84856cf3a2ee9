/**
 * The VM-entry checks on the guest segment registers (SDM Vol. 3C 26.3.1.2 "Checks on Guest Segment
 * Registers"): the selector, base, limit and access-rights fields of CS, SS, DS, ES, FS, GS, TR and LDTR. A
 * failure is a VM-entry failure (exit reason 33 with bit 31 set, exit qualification 0).
 *
 * Terms as in the SDM: the guest "will be virtual-8086" when RFLAGS.VM (bit 17) is 1 in the guest RFLAGS field;
 * a register is "usable" when bit 16 of its access-rights field is 0. Access rights (Table 24-2): 3:0 type,
 * 4 S, 6:5 DPL, 7 P, 11:8 reserved, 12 AVL, 13 L (reserved outside IA-32e), 14 D/B, 15 G, 16 unusable,
 * 31:17 reserved.
 *
 * The rules follow the SDM's order (sub-field by sub-field, and within one sub-field CS, SS, DS, ES, FS, GS),
 * each a named rule per register so a failure names the register. The DPL rules for CS follow the current SDM
 * (compared with SS.DPL; the first editions and Bochs compare with the CS selector's RPL, which is the same
 * value unless "unrestricted guest" is 1). The DS/ES/FS/GS rule "DPL not less than RPL" covers types 0-11, as
 * the SDM says (Bochs stops at 10).
 *
 * Leaves out, as the model has no Intel 64: the canonical-address and bits-63:32 base checks, and the CS D/B
 * rule for IA-32e mode guests (the "IA-32e mode guest" control is never allowed, so the guest is never IA-32e
 * mode; TR must then be type 3 or 11). The guest may be virtual-8086 as far as these checks go, although the
 * core does not execute virtual-8086 mode.
 */
import { VmcsField } from "./vmcs-fields.ts";
import * as Controls from "./vmx-controls.ts";
import type { EntryContext, EntryRule } from "./entry-checks-context.ts";
import * as Context from "./entry-checks-context.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { PROC2_UNRESTRICTED_GUEST } = Controls;
const { rule } = Context;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  GUEST_CR0, GUEST_CS_ACCESS_RIGHTS, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_SELECTOR, GUEST_DS_ACCESS_RIGHTS,
  GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_SELECTOR, GUEST_ES_ACCESS_RIGHTS, GUEST_ES_BASE, GUEST_ES_LIMIT,
  GUEST_ES_SELECTOR, GUEST_FS_ACCESS_RIGHTS, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_SELECTOR,
  GUEST_GS_ACCESS_RIGHTS, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_SELECTOR, GUEST_LDTR_ACCESS_RIGHTS,
  GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_SELECTOR, GUEST_RFLAGS, GUEST_SS_ACCESS_RIGHTS, GUEST_SS_BASE,
  GUEST_SS_LIMIT, GUEST_SS_SELECTOR, GUEST_TR_ACCESS_RIGHTS, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_SELECTOR,
} = VmcsField;

const SECTION = "26.3.1.2";
const RFLAGS_VM = 1 << 17;
const CR0_PE = 1;

interface SegmentFields {
  readonly name: string;
  readonly selector: number;
  readonly base: number;
  readonly limit: number;
  readonly ar: number;
}

function seg(name: string, selector: number, base: number, limit: number, ar: number): SegmentFields {
  return { name, selector, base, limit, ar };
}

const CS = seg("cs", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_ACCESS_RIGHTS);
const SS = seg("ss", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_ACCESS_RIGHTS);
const DS = seg("ds", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_ACCESS_RIGHTS);
const ES = seg("es", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_ACCESS_RIGHTS);
const FS = seg("fs", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_ACCESS_RIGHTS);
const GS = seg("gs", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_ACCESS_RIGHTS);
const TR = seg("tr", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_ACCESS_RIGHTS);
const LDTR = seg("ldtr", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_ACCESS_RIGHTS);

/** The six code/data segment registers in the SDM's order. */
const CODE_DATA: readonly SegmentFields[] = [CS, SS, DS, ES, FS, GS];
const DATA: readonly SegmentFields[] = [DS, ES, FS, GS];

// Access-rights sub-fields.
const type = (ar: number) => ar & 0xf;
const sBit = (ar: number) => (ar >>> 4) & 1;
const dpl = (ar: number) => (ar >>> 5) & 3;
const present = (ar: number) => (ar >>> 7) & 1;
const unusable = (ar: number) => ((ar >>> 16) & 1) === 1;

function v86(c: EntryContext): boolean {
  return (c.f(GUEST_RFLAGS) & RFLAGS_VM) !== 0;
}

function ug(c: EntryContext): boolean {
  return c.proc2Has(PROC2_UNRESTRICTED_GUEST);
}

function ar(c: EntryContext, s: SegmentFields): number {
  return c.f(s.ar);
}

/** "If the register is CS or if the register is usable": the condition most access-rights rules share. */
function checked(c: EntryContext, s: SegmentFields): boolean {
  return s === CS || !unusable(ar(c, s));
}

/** G must be 0 if any of limit bits 11:0 is 0, and 1 if any of limit bits 31:20 is 1. */
function granularityBroken(limit: number, accessRights: number): boolean {
  const g = ((accessRights >>> 15) & 1) === 1;
  return g ? (limit & 0xfff) !== 0xfff : (limit & 0xfff00000) !== 0;
}

/** One rule per register of `regs`, named guest-<reg>-<what>. */
function perRegister(regs: readonly SegmentFields[], what: string,
  violated: (c: EntryContext, s: SegmentFields) => boolean): EntryRule[] {
  return regs.map((s) => rule(`guest-${s.name}-${what}`, SECTION, (c) => violated(c, s)));
}

/** Access-rights rules for CS, SS, DS, ES, FS, GS outside virtual-8086 mode. */
function notV86(regs: readonly SegmentFields[], what: string,
  violated: (c: EntryContext, s: SegmentFields, a: number) => boolean): EntryRule[] {
  return perRegister(regs, what, (c, s) => !v86(c) && violated(c, s, ar(c, s)));
}

const SELECTOR_RULES: EntryRule[] = [
  rule("guest-tr-selector-ti", SECTION, (c) => (c.f(TR.selector) & 4) !== 0),
  rule("guest-ldtr-selector-ti", SECTION, (c) => !unusable(ar(c, LDTR)) && (c.f(LDTR.selector) & 4) !== 0),
  rule("guest-ss-selector-rpl", SECTION,
    (c) => !v86(c) && !ug(c) && (c.f(SS.selector) & 3) !== (c.f(CS.selector) & 3)),
];

const V86_RULES: EntryRule[] = [
  ...perRegister(CODE_DATA, "base-v86", (c, s) => v86(c) && c.f(s.base) !== ((c.f(s.selector) << 4) >>> 0)),
  ...perRegister(CODE_DATA, "limit-v86", (c, s) => v86(c) && c.f(s.limit) !== 0xffff),
  ...perRegister(CODE_DATA, "access-rights-v86", (c, s) => v86(c) && ar(c, s) !== 0xf3),
];

const CODE_DATA_ACCESS_RIGHTS_RULES: EntryRule[] = [
  // Type.
  ...notV86([CS], "type", (c, _s, a) => {
    const t = type(a);
    return !(t === 9 || t === 11 || t === 13 || t === 15 || (t === 3 && ug(c)));
  }),
  ...notV86([SS], "type", (_c, _s, a) => !unusable(a) && type(a) !== 3 && type(a) !== 7),
  ...notV86(DATA, "type-accessed", (_c, _s, a) => !unusable(a) && (type(a) & 1) === 0),
  ...notV86(DATA, "type-readable-code", (_c, _s, a) => !unusable(a) && (type(a) & 8) !== 0 && (type(a) & 2) === 0),
  // S.
  ...notV86(CODE_DATA, "s", (c, s, a) => checked(c, s) && sBit(a) === 0),
  // DPL.
  ...notV86([CS], "dpl-data-type", (_c, _s, a) => type(a) === 3 && dpl(a) !== 0),
  ...notV86([CS], "dpl-nonconforming", (c, _s, a) => (type(a) === 9 || type(a) === 11) && dpl(a) !== dpl(ar(c, SS))),
  ...notV86([CS], "dpl-conforming", (c, _s, a) => (type(a) === 13 || type(a) === 15) && dpl(a) > dpl(ar(c, SS))),
  ...notV86([SS], "dpl-rpl", (c, s, a) => !ug(c) && dpl(a) !== (c.f(s.selector) & 3)),
  ...notV86([SS], "dpl-real-mode",
    (c, _s, a) => (type(ar(c, CS)) === 3 || (c.f(GUEST_CR0) & CR0_PE) === 0) && dpl(a) !== 0),
  ...notV86(DATA, "dpl-rpl",
    (c, s, a) => !ug(c) && !unusable(a) && type(a) <= 11 && dpl(a) < (c.f(s.selector) & 3)),
  // P, reserved 11:8, G, reserved 31:17 ("if the register is CS or if the register is usable").
  ...notV86(CODE_DATA, "present", (c, s, a) => checked(c, s) && present(a) === 0),
  ...notV86(CODE_DATA, "reserved-11-8", (c, s, a) => checked(c, s) && (a & 0xf00) !== 0),
  ...notV86(CODE_DATA, "granularity", (c, s, a) => checked(c, s) && granularityBroken(c.f(s.limit), a)),
  ...notV86(CODE_DATA, "reserved-31-17", (c, s, a) => checked(c, s) && (a & 0xfffe0000) !== 0),
];

/** TR (the guest is never IA-32e mode: type 3 or 11) and, when usable, LDTR. */
function systemSegmentRules(s: SegmentFields, types: readonly number[], onlyIfUsable: boolean): EntryRule[] {
  const r = (what: string, violated: (c: EntryContext, a: number) => boolean) =>
    rule(`guest-${s.name}-${what}`, SECTION, (c) => {
      const a = ar(c, s);
      return !(onlyIfUsable && unusable(a)) && violated(c, a);
    });
  const out = [
    r("type", (_c, a) => !types.includes(type(a))),
    r("s", (_c, a) => sBit(a) !== 0),
    r("present", (_c, a) => present(a) === 0),
    r("reserved-11-8", (_c, a) => (a & 0xf00) !== 0),
    r("granularity", (c, a) => granularityBroken(c.f(s.limit), a)),
  ];
  if (!onlyIfUsable) out.push(r("unusable", (_c, a) => unusable(a)));
  out.push(r("reserved-31-17", (_c, a) => (a & 0xfffe0000) !== 0));
  return out;
}

/** 26.3.1.2, in the SDM's order. */
export const GUEST_SEGMENT_RULES: readonly EntryRule[] = [
  ...SELECTOR_RULES,
  ...V86_RULES,
  ...CODE_DATA_ACCESS_RIGHTS_RULES,
  ...systemSegmentRules(TR, [3, 11], false),
  ...systemSegmentRules(LDTR, [2], true),
];
