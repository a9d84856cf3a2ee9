/**
 * Tests of the control-word constants (src/cpu/vmx/vmx-controls.ts) and of the allowed-0/allowed-1 rule
 * (`allowed`, `adjustControls` in vmx-capabilities.ts), against references that are not our code:
 * - the control bit positions of kvm-unit-tests `x86/vmx.h`, as listed in shared/reference/vmx.md 3c
 *   ("Control bits"), and of SDM Vol. 3C Tables 24-5, 24-6, 24-7, 24-10, 24-12;
 * - the default1 bit lists of SDM Appendix A.3.1 (pin-based 1, 2, 4), A.3.2 (primary 1, 4-6, 8, 13-16, 26),
 *   A.4 (exit 0-8, 10, 11, 13, 14, 16, 17), A.5 (entry 0-8, 12), and the low dwords of real processors'
 *   plain control MSRs (yulyugin/vmlatency dumps: every VMX CPU there reports 16H, 0401E172H, 36DFFH, 11FFH);
 * - the rule of SDM A.3.1: control X may be 0 iff bit X of the MSR's low dword is 0, may be 1 iff bit 32+X
 *   is 1; worked by hand on the Nehalem i5-760 MSR values of the [VML] dump, and on KVM's
 *   adjust_vmx_controls (`ctl &= high; ctl |= low`).
 */
import { describe, expect, it } from "vitest";
import { allowed, adjustControls, vmxCapabilities, type MsrValue } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";

describe("control bit positions (vmx.md 3c after kvm-unit-tests vmx.h; SDM Tables 24-5..24-12)", () => {
  const bit = (v: number) => 31 - Math.clz32(v);
  it("pin-based", () => {
    expect([C.PIN_EXTERNAL_INTERRUPT_EXITING, C.PIN_NMI_EXITING, C.PIN_VIRTUAL_NMIS, C.PIN_ACTIVATE_PREEMPTION_TIMER,
      C.PIN_PROCESS_POSTED_INTERRUPTS].map(bit)).toEqual([0, 3, 5, 6, 7]);
  });
  it("primary processor-based", () => {
    expect([C.PROC_INTERRUPT_WINDOW_EXITING, C.PROC_USE_TSC_OFFSETTING, C.PROC_HLT_EXITING, C.PROC_INVLPG_EXITING,
      C.PROC_MWAIT_EXITING, C.PROC_RDPMC_EXITING, C.PROC_RDTSC_EXITING, C.PROC_CR3_LOAD_EXITING,
      C.PROC_CR3_STORE_EXITING, C.PROC_CR8_LOAD_EXITING, C.PROC_CR8_STORE_EXITING, C.PROC_USE_TPR_SHADOW,
      C.PROC_NMI_WINDOW_EXITING, C.PROC_MOV_DR_EXITING, C.PROC_UNCONDITIONAL_IO_EXITING, C.PROC_USE_IO_BITMAPS,
      C.PROC_MONITOR_TRAP_FLAG, C.PROC_USE_MSR_BITMAPS, C.PROC_MONITOR_EXITING, C.PROC_PAUSE_EXITING,
      C.PROC_ACTIVATE_SECONDARY_CONTROLS].map(bit))
      .toEqual([2, 3, 7, 9, 10, 11, 12, 15, 16, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31]);
    expect(C.PROC_ACTIVATE_SECONDARY_CONTROLS).toBe(2 ** 31); // unsigned, not -2^31
  });
  it("secondary processor-based", () => {
    expect([C.PROC2_VIRTUALIZE_APIC_ACCESSES, C.PROC2_ENABLE_EPT, C.PROC2_DESCRIPTOR_TABLE_EXITING,
      C.PROC2_ENABLE_RDTSCP, C.PROC2_VIRTUALIZE_X2APIC_MODE, C.PROC2_ENABLE_VPID, C.PROC2_WBINVD_EXITING,
      C.PROC2_UNRESTRICTED_GUEST, C.PROC2_APIC_REGISTER_VIRTUALIZATION, C.PROC2_VIRTUAL_INTERRUPT_DELIVERY,
      C.PROC2_RDRAND_EXITING, C.PROC2_VMCS_SHADOWING, C.PROC2_RDSEED_EXITING, C.PROC2_ENABLE_PML,
      C.PROC2_MODE_BASED_EXECUTE_CONTROL, C.PROC2_USE_TSC_SCALING].map(bit))
      .toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 16, 17, 22, 25]);
  });
  it("VM-exit", () => {
    expect([C.EXIT_SAVE_DEBUG_CONTROLS, C.EXIT_HOST_ADDRESS_SPACE_SIZE, C.EXIT_LOAD_IA32_PERF_GLOBAL_CTRL,
      C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT, C.EXIT_SAVE_IA32_PAT, C.EXIT_LOAD_IA32_PAT, C.EXIT_SAVE_IA32_EFER,
      C.EXIT_LOAD_IA32_EFER, C.EXIT_SAVE_PREEMPTION_TIMER_VALUE].map(bit)).toEqual([2, 9, 12, 15, 18, 19, 20, 21, 22]);
  });
  it("VM-entry", () => {
    expect([C.ENTRY_LOAD_DEBUG_CONTROLS, C.ENTRY_IA32E_MODE_GUEST, C.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL,
      C.ENTRY_LOAD_IA32_PAT, C.ENTRY_LOAD_IA32_EFER].map(bit)).toEqual([2, 9, 13, 14, 15]);
  });
});

describe("default1 classes (SDM Appendix A.2-A.5)", () => {
  it("equal the SDM's bit lists and the low dwords real processors report", () => {
    expect(C.PIN_DEFAULT1).toBe(0x00000016);
    expect(C.PROC_DEFAULT1).toBe(0x0401e172);
    expect(C.PROC2_DEFAULT1).toBe(0);
    expect(C.EXIT_DEFAULT1).toBe(0x00036dff);
    expect(C.ENTRY_DEFAULT1).toBe(0x000011ff);
    expect(C.DEFAULT1).toEqual({ pin: 0x16, proc: 0x0401e172, proc2: 0, exit: 0x36dff, entry: 0x11ff });
  });

  it("no defined control is a default1 bit, except the ones the first VMX processors fixed to 1", () => {
    // SDM 24.6.2/24.7.1/24.8.1: CR3-load/store exiting and save/load debug controls "were supported only
    // as 1" by the first processors; every other defined control is outside its word's default1 class.
    const defined = (k: C.ControlKind) => Object.keys(C.CONTROL_BIT_NAMES[k]).reduce((m, b) => (m | (1 << Number(b))) >>> 0, 0);
    expect((C.PIN_DEFAULT1 & defined("pin")) >>> 0).toBe(0);
    expect((C.PROC_DEFAULT1 & defined("proc")) >>> 0).toBe(C.PROC_CR3_LOAD_EXITING | C.PROC_CR3_STORE_EXITING);
    expect((C.EXIT_DEFAULT1 & defined("exit")) >>> 0).toBe(C.EXIT_SAVE_DEBUG_CONTROLS);
    expect((C.ENTRY_DEFAULT1 & defined("entry")) >>> 0).toBe(C.ENTRY_LOAD_DEBUG_CONTROLS);
  });
});

describe("allowed(): the rule of SDM A.3.1 on worked cases", () => {
  // [VML] i5-760: IA32_VMX_PINBASED_CTLS = 0000007F_00000016, IA32_VMX_TRUE_PROCBASED_CTLS = FFF9FFFE_04006172.
  const PIN: MsrValue = [0x00000016, 0x0000007f];
  const TRUE_PROC: MsrValue = [0x04006172, 0xfff9fffe];

  it("the default1 bits alone pass; ext-int + NMI exiting + virtual NMIs + preemption timer pass", () => {
    expect(allowed(PIN, 0x16)).toEqual({ ok: true, mustBeOne: 0, mustBeZero: 0 });
    expect(allowed(PIN, 0x16 | 0x01 | 0x08 | 0x20 | 0x40).ok).toBe(true);
  });

  it("a cleared default1 bit must be 1; posted interrupts (bit 7) may not be 1 on this CPU", () => {
    expect(allowed(PIN, 0x12)).toEqual({ ok: false, mustBeOne: 0x04, mustBeZero: 0 });
    expect(allowed(PIN, 0)).toEqual({ ok: false, mustBeOne: 0x16, mustBeZero: 0 });
    expect(allowed(PIN, 0x96)).toEqual({ ok: false, mustBeOne: 0, mustBeZero: 0x80 });
    expect(allowed(PIN, 0xffffffff)).toEqual({ ok: false, mustBeOne: 0, mustBeZero: 0xffffff80 });
  });

  it("both kinds at once are reported separately", () => {
    expect(allowed(PIN, 0x100 | 0x06)).toEqual({ ok: false, mustBeOne: 0x10, mustBeZero: 0x100 });
  });

  it("primary controls: bit 0 and bits 17/18 may never be 1; CR3 exiting may be 0 under the TRUE MSR", () => {
    const base = 0x04006172;
    expect(allowed(TRUE_PROC, base).ok).toBe(true);
    expect(allowed(TRUE_PROC, (base | C.PROC_HLT_EXITING | C.PROC_ACTIVATE_SECONDARY_CONTROLS) >>> 0).ok).toBe(true);
    expect(allowed(TRUE_PROC, base | 1).mustBeZero).toBe(1);
    expect(allowed(TRUE_PROC, base | (1 << 17) | (1 << 18)).mustBeZero).toBe((1 << 17) | (1 << 18));
    // The plain MSR (0401E172H) would demand CR3-load/store exiting:
    expect(allowed([0x0401e172, 0xfff9fffe], base).mustBeOne).toBe(C.PROC_CR3_LOAD_EXITING | C.PROC_CR3_STORE_EXITING);
  });

  it("results are unsigned", () => {
    const r = allowed([0x80000000, 0], 0);
    expect(r.mustBeOne).toBe(0x80000000);
    expect(allowed([0, 0x7fffffff], 0x80000000).mustBeZero).toBe(0x80000000);
  });

  it("on the model's own MSRs: CR8-load exiting fails with error-7 information, HLT exiting passes", () => {
    const caps = vmxCapabilities("sandybridge");
    const proc = caps.controls.proc;
    const good = adjustControls(proc, C.PROC_HLT_EXITING | C.PROC_USE_IO_BITMAPS);
    expect(allowed(proc, good).ok).toBe(true);
    const bad = allowed(proc, (good | C.PROC_CR8_LOAD_EXITING) >>> 0);
    expect(bad.mustBeZero).toBe(C.PROC_CR8_LOAD_EXITING);
    expect(C.controlBitNames("proc", bad.mustBeZero)).toEqual(["CR8-load exiting"]);
  });
});

describe("adjustControls(): KVM's adjust_vmx_controls (ctl &= high; ctl |= low)", () => {
  it("sets the must-be-1 bits and drops the not-allowed ones", () => {
    const PIN: MsrValue = [0x00000016, 0x0000007f];
    expect(adjustControls(PIN, 0)).toBe(0x16);
    expect(adjustControls(PIN, 0xff)).toBe(0x7f);
    expect(adjustControls([0x0401e172, 0xfff9fffe], 0xffffffff)).toBe(0xfff9fffe);
  });

  it("its result always passes allowed()", () => {
    const caps = vmxCapabilities("haswell");
    for (const k of C.CONTROL_KINDS) {
      for (const wanted of [0, 0xffffffff, 0x55555555, 0xaaaaaaaa]) {
        expect(allowed(caps.controls[k], adjustControls(caps.controls[k], wanted)).ok, `${k} ${wanted}`).toBe(true);
      }
    }
  });
});

describe("controlBitNames", () => {
  it("names defined bits after the SDM and the others as reserved", () => {
    expect(C.controlBitNames("pin", 0x89)).toEqual(["external-interrupt exiting", "NMI exiting", "process posted interrupts"]);
    expect(C.controlBitNames("entry", (1 << 9) | (1 << 31))).toEqual(["IA-32e mode guest", "reserved bit 31"]);
    expect(C.controlBitNames("proc2", 0)).toEqual([]);
  });
});
