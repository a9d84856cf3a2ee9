/**
 * One logical processor's VMX state (SDM Vol. 3C chapter 23 "Introduction to VMX Operation", 24.1, 24.11):
 * whether it is in VMX operation and in root or non-root operation, the VMXON pointer, the current-VMCS
 * pointer and the on-chip copies of active VMCSs (vmcs.ts VmcsCache), the capability MSRs it reports
 * (vmx-capabilities.ts) and the transition costs of its CPU profile (vmx-costs.ts).
 *
 * While the core runs a guest, the VM-execution controls that the non-root checks consult on hot paths
 * (the exception bitmap, the CR0/CR4 guest/host masks and read shadows, the bitmaps' addresses ...) are
 * copied here from the current VMCS at VM entry, so an exiting instruction reads a field instead of the
 * VMCS image. The SDM allows this: software must not change an active VMCS in non-root operation except
 * through VMWRITE in root operation, which happens only after an exit.
 *
 * Also the accounting of the transitions: each VM exit and VM entry records its cycle components
 * (fixed microcode cost, memory traffic through the caches, MSR lists) so that a report can say where
 * the cycles went (issue 5, "Costs").
 *
 * Leaves out: SMM and the dual-monitor treatment, VMCS shadowing, multiple logical processors sharing a
 * VMCS (one VmcsCache per core; vmcs.ts says what happens then).
 */
import type { VmxCosts } from "../profile.ts";
import type { VmxCapabilities } from "./vmx-capabilities.ts";
import { IA32_VMX_BASIC, IA32_VMX_EPT_VPID_CAP, IA32_VMX_MISC } from "./vmx-capabilities.ts";
import { VmcsCache, type PhysicalMemory32, type VmcsRegion } from "./vmcs.ts";
import { EptMappingCache } from "./ept-invept.ts";
import type { ApicvContext } from "./virtual-apic-page.ts";

/** Cycle components of one VM transition (exit or entry). */
export interface TransitionCost {
  /** The generation's fixed microcode cost (VmxCosts.vmExitCycles / vmEntryCycles). */
  fixedCycles: number;
  /** Cache misses of the transition's memory traffic (VMCS lines, host stack, MSR-list memory). */
  memoryCycles: number;
  /** MSR-load/-store list entries processed (their per-entry cost). */
  msrListCycles: number;
}

export class VmxState {
  readonly vmcs: VmcsCache;
  /** In VMX operation (after VMXON, before VMXOFF). */
  on = false;
  /** Host-physical address of the VMXON region. */
  vmxonPtr = 0;
  /** The current VMCS (null: the current-VMCS pointer is invalid, FFFFFFFF_FFFFFFFFH). */
  current: VmcsRegion | null = null;
  /** Guest-physical mappings cached per EP4TA (SDM 28.3.1), dropped by INVEPT. */
  readonly eptMappings = new EptMappingCache();
  /** IA32_VMX_BASIC[30:0], [44:32]; IA32_VMX_MISC; IA32_VMX_EPT_VPID_CAP (both halves). */
  readonly revision: number;
  readonly regionBytes: number;
  readonly misc: number;
  readonly eptVpidCapLo: number;
  readonly eptVpidCapHi: number;

  // ---- copies of the current VMCS's execution controls while in non-root operation ----
  pin = 0;
  proc = 0;
  /** Secondary controls, 0 when "activate secondary controls" is 0 (SDM 24.6.2). */
  proc2 = 0;
  exitControls = 0;
  entryControls = 0;
  exceptionBitmap = 0;
  pfecMask = 0;
  pfecMatch = 0;
  cr0Mask = 0;
  cr0Shadow = 0;
  cr4Mask = 0;
  cr4Shadow = 0;
  cr3TargetCount = 0;
  readonly cr3Targets = new Uint32Array(4);
  ioBitmapA = 0;
  ioBitmapB = 0;
  msrBitmap = 0;
  /** The TSC offset applied to the core's TSC while the guest runs (PROC_USE_TSC_OFFSETTING). */
  tscOffset = 0;
  vpid = 0;
  /** NMI blocking of the guest when "virtual NMIs" is 1 (the virtual-NMI blocking of 24.4.2). */
  virtualNmiBlocked = false;
  /** Tick at which the VMX-preemption timer reaches zero (null: not active). */
  preemptionDeadline: number | null = null;
  /** The guest's activity state while it waits in HLT or shutdown (SDM 24.4.2): 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI. */
  activity = 0;

  // ---- accounting ----
  readonly lastExit: TransitionCost = { fixedCycles: 0, memoryCycles: 0, msrListCycles: 0 };
  readonly lastEntry: TransitionCost = { fixedCycles: 0, memoryCycles: 0, msrListCycles: 0 };
  /** VM exits by basic reason (index 0-64; VM-entry failures counted under 33/34 as well). */
  readonly exitCounts = new Float64Array(65);
  entries = 0;
  /** Cycle at which the last VM exit completed (the TypeScript VMM's handler starts there). */
  lastExitAt = 0;
  /**
   * When set, a VM exit stops the core's run() with "vmexit" (the embedded TypeScript VMM handles exits);
   * when null, the host's x86 code continues at HOST_RIP (a hypervisor written in x86).
   */
  stopOnExit = false;

  /** APIC virtualization's context while the guest runs with any of its controls (apicv-core.ts), else null. */
  apicv: ApicvContext | null = null;
  /** Page offset of a virtualized APIC-page write whose APIC-write emulation is due, else -1. */
  pendingApicWrite = -1;
  /** A virtual interrupt is recognized (RVI[7:4] > VPPR[7:4], SDM 29.2.1). */
  virtualInterruptPending = false;
  /** Why the last VM entry failed its checks (null: it did not); vm-entry.ts. */
  lastEntryFailure: { error: number; rule: string; section: string } | null = null;

  constructor(
    readonly caps: VmxCapabilities,
    readonly costs: VmxCosts,
    /** Host-physical memory as the VMX structures see it (the core's physical accessors). */
    readonly mem: PhysicalMemory32,
  ) {
    const basic = caps.msrs.get(IA32_VMX_BASIC)!;
    this.revision = basic[0] & 0x7fffffff;
    this.regionBytes = basic[1] & 0x1fff;
    this.misc = caps.msrs.get(IA32_VMX_MISC)![0];
    const ev = caps.msrs.get(IA32_VMX_EPT_VPID_CAP);
    this.eptVpidCapLo = ev?.[0] ?? 0;
    this.eptVpidCapHi = ev?.[1] ?? 0;
    this.vmcs = new VmcsCache(mem, {
      features: caps.vmcsFeatures,
      vmwriteToReadOnly: (this.misc & (1 << 29)) !== 0,
      regionBytes: this.regionBytes,
    });
  }

  /** IA32_VMX_MISC[4:0]: the preemption timer counts once every 2^rate TSC cycles (SDM 25.5.1). */
  get preemptionTimerRate(): number {
    return this.misc & 0x1f;
  }

  /** IA32_VMX_MISC[8:6]: the activity states VM entry accepts besides active (bit 6 HLT, 7 shutdown, 8 wait-for-SIPI). */
  activityStateSupported(state: number): boolean {
    return state === 0 || (state >= 1 && state <= 3 && (this.misc & (1 << (5 + state))) !== 0);
  }
}
