/**
 * The VM-entry MSR-load list, the VM-exit MSR-store list and the VM-exit MSR-load list (SDM Vol. 3C 24.7.2,
 * 24.8.2, 26.4 "Loading MSRs", 27.4 "Saving MSRs", 27.6 "Loading Host MSRs"). Each entry is 16 bytes in
 * host-physical memory: bits 31:0 the MSR index, 63:32 reserved (0), 127:64 the data.
 *
 * An entry fails (26.4 / 27.6) when its reserved bits are set, when it names IA32_FS_BASE or IA32_GS_BASE
 * (C0000100H, C0000101H), IA32_SMM_MONITOR_CTL (9BH) or an x2APIC MSR (bits 31:8 = 000008H), or when WRMSR
 * of the value would raise #GP (the MSR does not exist here or refuses the value). IA32_SMBASE (9EH) fails
 * for the store list (27.4). The loads and stores go through the core's physical accessors, so their memory
 * traffic is charged by the cache model; each entry also costs the profile's msrListEntryCycles.
 */
import type { CoreState } from "../core-state.ts";
import { CpuFault } from "../exceptions.ts";
import { readMsr, writeMsr } from "../msr.ts";

function refused(index: number, hi: number): boolean {
  return hi !== 0 || index === 0xc0000100 || index === 0xc0000101 || index === 0x9b || (index >>> 8) === 0x8;
}

/**
 * Load `count` MSRs from the list at `pa`: 0 when all loaded, else the 1-based number of the entry that
 * failed (the exit qualification of a VM-entry failure due to MSR loading, 26.4). Entries before it stay loaded.
 */
export function loadMsrList(c: CoreState, pa: number, count: number, perEntryCycles: number): number {
  for (let i = 0; i < count; i++) {
    const e = pa + i * 16;
    const index = c.readPhys(e, 4) >>> 0;
    const hi = c.readPhys(e + 4, 4) >>> 0;
    c.cycles += perEntryCycles;
    if (refused(index, hi)) return i + 1;
    try {
      writeMsr(c, index, [c.readPhys(e + 8, 4) >>> 0, c.readPhys(e + 12, 4) >>> 0]);
    } catch (err) {
      if (err instanceof CpuFault) return i + 1;
      throw err;
    }
  }
  return 0;
}

/** Store `count` MSRs into the list at `pa` (27.4): false when an entry cannot be stored (a VMX abort). */
export function storeMsrList(c: CoreState, pa: number, count: number, perEntryCycles: number): boolean {
  for (let i = 0; i < count; i++) {
    const e = pa + i * 16;
    const index = c.readPhys(e, 4) >>> 0;
    const hi = c.readPhys(e + 4, 4) >>> 0;
    c.cycles += perEntryCycles;
    if (refused(index, hi) || index === 0x9e) return false;
    let v: Readonly<[number, number]>;
    try {
      v = readMsr(c, index);
    } catch (err) {
      if (err instanceof CpuFault) return false;
      throw err;
    }
    c.writePhys(e + 8, 4, v[0]);
    c.writePhys(e + 12, 4, v[1]);
  }
  return true;
}
