/**
 * The declared cost of the VMM's own work (shared/DESIGN.md §3 "The VMM is TypeScript running in root
 * mode"): cycles per exit handler and per VMM operation, charged to the core the VMM runs on, on top of
 * the VM-exit/VM-entry transitions (cpu/vmx/vmx-costs.ts, the published round trips), the VMREAD/VMWRITE
 * it issues (charged by the VMX API) and its data accesses through the cache model (vmm-memory.ts).
 *
 * The defaults are estimates of a small embedded hypervisor's handler paths (Jailhouse, ACRN class: no
 * scheduler on the exit path, a direct dispatch table), in the range KVM's exit-handling breakdowns
 * report once the hardware transition is taken out (e.g. a few hundred cycles for a VMCALL or a port I/O
 * exit, one to two thousand for MMIO emulation with instruction decode). They are inputs, not results:
 * a scenario overrides any of them (`vmm.costs: { "exit.mmio": 2000 }`) and every report names them.
 */

export const DEFAULT_VMM_COSTS = {
  /** Common exit path: save guest GPRs, read the exit reason, dispatch; restore on the way back. */
  "exit.dispatch": 120,
  "exit.cpuid": 150,
  /** Port I/O exit: decode the qualification, find the device. */
  "exit.io": 350,
  /** EPT violation on an emulated MMIO window: fetch and decode the guest instruction, emulate it. */
  "exit.mmio": 1200,
  /** EPT violation outside anything the partition owns (a fault for the health monitor). */
  "exit.eptViolation": 300,
  "exit.vmcall": 150,
  "exit.externalInterrupt": 200,
  "exit.apicWrite": 250,
  "exit.apicAccess": 400,
  "exit.msrRead": 180,
  "exit.msrWrite": 200,
  "exit.preemptionTimer": 150,
  "exit.hlt": 100,
  "exit.interruptWindow": 100,
  "exit.other": 300,
  /** Health monitor: record the fault and apply the partition's action. */
  "health.fault": 2000,
  /** Restart a partition's vCPU: reload the image and rebuild the VMCS guest state. */
  "health.restart": 20000,
  /** Mark a virtual interrupt pending on the current core (VIRR bit, RVI update). */
  "inject.local": 80,
  /** Post an interrupt for a vCPU on another core (PIR bit, ON, notification IPI). */
  "inject.posted": 150,
  /** Kick a vCPU on another core with an IPI (exit-and-inject to a remote vCPU). */
  "inject.kick": 150,
  /** Virtual LAPIC timer: arm or disarm (compute the deadline, program the preemption timer). */
  "vtimer.arm": 100,
  /** Virtual LAPIC register write emulation (LVT, divide, initial count, SVR...). */
  "vlapic.write": 120,
  /** Emulated device: one register read or write in the device model. */
  "vdev.registerRead": 150,
  "vdev.registerWrite": 150,
  /** Emulated or paravirtual device: start an operation on the backend. */
  "vdev.command": 300,
  /** Complete an operation: update the device model or the ring, raise the guest vector. */
  "vdev.completion": 250,
  /** Paravirtual doorbell: find the ring, read avail. */
  "vdev.pvNotify": 200,
  /** Paravirtual: take one request from the ring (validate the slot, translate the buffer). */
  "vdev.pvRequest": 250,
  /** Backend: program the physical device for one operation. */
  "backend.submit": 300,
  /** Backend: handle the physical device's interrupt (read and clear the cause). */
  "backend.interrupt": 300,
} as const;

export type VmmCostKey = keyof typeof DEFAULT_VMM_COSTS;
export type VmmCosts = Record<VmmCostKey, number>;

/** The defaults with a scenario's overrides; an unknown key or a negative / non-integer value is an error
 * naming the key (the scenario validator reports it with its path first). */
export function vmmCosts(overrides: Record<string, number> = {}): VmmCosts {
  const costs: Record<string, number> = { ...DEFAULT_VMM_COSTS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_VMM_COSTS)) throw new RangeError(`vmm.costs: unknown cost '${k}' (known: ${Object.keys(DEFAULT_VMM_COSTS).join(", ")})`);
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`vmm.costs.${k}: ${v} must be a non-negative integer (cycles)`);
    costs[k] = v;
  }
  return costs as VmmCosts;
}
