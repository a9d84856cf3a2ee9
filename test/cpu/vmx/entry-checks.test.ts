/**
 * checkVmEntry as a whole: the valid baseline on every profile, the order of the three groups of checks, the
 * shape of the result, and the rule tables' names and sections.
 *
 * References (not our code):
 * - SDM Vol. 3C 26.1-26.3 and the VMLAUNCH/VMRESUME operation (30.3): control checks fail with
 *   VMfailValid(7), host-state checks with VMfailValid(8), both before any guest-state check; guest-state
 *   failures are VM exits with reason 33 | 80000000H; SDM 26.7 for the exit qualifications (0, 2, 3, 4).
 * - kvm-unit-tests x86/vmx_tests.c (shared/reference/vmx.md §3a): the baseline of init_vmcs enters on real
 *   hardware; test_vmx_vmlaunch expects error 7 for controls, vmx_host_state_area_test error 8, and
 *   test_guest_state a VM-entry failure with qualification ENTRY_FAIL_DEFAULT (0).
 * - Bochs cpu/vmx.cc VMenterLoadCheckVmControls, VMenterLoadCheckHostState, VMenterLoadCheckGuestState:
 *   controls, then host, then guest, so a VMCS with errors of two kinds reports the earlier kind.
 */
import { describe, expect, it } from "vitest";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { CONTROL_RULES, GUEST_STATE_RULES, HOST_STATE_RULES } from "../../../src/cpu/vmx/entry-checks.ts";
import { PROFILES, VmcsFixture, capsOf } from "./vmcs-fixture.ts";

describe("the valid baseline (kvm-unit-tests init_vmcs shape)", () => {
  for (const p of PROFILES) {
    it(`enters on ${p}`, () => {
      expect(new VmcsFixture(capsOf(p)).check()).toEqual({ kind: "ok" });
    });
  }
  it("enters on the client parts without APIC virtualization and without unrestricted guest", () => {
    expect(new VmcsFixture(capsOf("haswell", { apicv: false })).check()).toEqual({ kind: "ok" });
    expect(new VmcsFixture(capsOf("skylake", { apicv: false, unrestrictedGuest: false })).check()).toEqual({ kind: "ok" });
  });
});

describe("order of the groups (SDM 26.2 before 26.3; controls before host as in Bochs)", () => {
  const badControl = (f: VmcsFixture) => f.write(VmcsField.CR3_TARGET_COUNT, 5);
  const badHost = (f: VmcsFixture) => f.write(VmcsField.HOST_CS_SELECTOR, 0);
  const badGuest = (f: VmcsFixture) => f.write(VmcsField.GUEST_RFLAGS, 0);
  for (const p of PROFILES) {
    it(`control + host error gives 7, host + guest gives 8, control + guest gives 7 (${p})`, () => {
      const a = new VmcsFixture(capsOf(p));
      badControl(a);
      badHost(a);
      expect(a.check()).toEqual({ kind: "vmfail", error: 7, rule: "cr3-target-count", section: "26.2.1.1" });
      const b = new VmcsFixture(capsOf(p));
      badHost(b);
      badGuest(b);
      expect(b.check()).toEqual({ kind: "vmfail", error: 8, rule: "host-cs-selector-null", section: "26.2.3" });
      const c = new VmcsFixture(capsOf(p));
      badControl(c);
      badGuest(c);
      expect(c.check()).toMatchObject({ kind: "vmfail", error: 7 });
      const d = new VmcsFixture(capsOf(p));
      badGuest(d);
      expect(d.check()).toEqual({ kind: "guest-state", rule: "guest-rflags-bit-1", section: "26.3.1.4", qualification: 0 });
    });
  }

  it("within a group the first rule in the SDM's order is reported", () => {
    const f = new VmcsFixture(capsOf("nehalem"));
    // 26.2.1.1 lists the CR3-target count before the I/O-bitmap addresses.
    f.useIoBitmaps();
    f.write64(VmcsField.IO_BITMAP_A, 0x123, 0);
    f.write(VmcsField.CR3_TARGET_COUNT, 9);
    expect(f.check()).toMatchObject({ rule: "cr3-target-count" });
    // 26.3.1.1 (CR0) comes before 26.3.1.5 (VMCS link pointer, qualification 4).
    const g = new VmcsFixture(capsOf("nehalem"));
    g.write64(VmcsField.VMCS_LINK_POINTER, 0x1234, 0);
    expect(g.check()).toEqual({ kind: "guest-state", rule: "vmcs-link-pointer-alignment", section: "26.3.1.5", qualification: 4 });
    g.write(VmcsField.GUEST_CR0, 0x31);
    expect(g.check()).toEqual({ kind: "guest-state", rule: "guest-cr0-fixed-bits", section: "26.3.1.1", qualification: 0 });
  });
});

describe("rule tables", () => {
  const all = [...CONTROL_RULES, ...HOST_STATE_RULES, ...GUEST_STATE_RULES];
  it("have unique names (the VMM prints them)", () => {
    const names = all.map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
  it("name the SDM sections of their group", () => {
    for (const r of CONTROL_RULES) expect(r.section).toMatch(/^26\.2\.1\.[123]$/);
    for (const r of HOST_STATE_RULES) expect(r.section).toMatch(/^26\.2\.[234]$/);
    for (const r of GUEST_STATE_RULES) expect(r.section).toMatch(/^26\.3\.1\.[1-5]$/);
  });
  it("give guest-state qualifications only from SDM 26.7 (3 and 4 in 26.3.1.5 only)", () => {
    for (const r of GUEST_STATE_RULES) {
      const q = r.qualification ?? 0;
      expect([0, 3, 4]).toContain(q);
      if (q !== 0) expect(r.section).toBe("26.3.1.5");
    }
    expect(GUEST_STATE_RULES.filter((r) => r.qualification === 3).map((r) => r.name)).toEqual(["guest-interruptibility-nmi-sti"]);
    expect(GUEST_STATE_RULES.filter((r) => r.qualification === 4).every((r) => r.name.startsWith("vmcs-link-pointer"))).toBe(true);
  });
});
