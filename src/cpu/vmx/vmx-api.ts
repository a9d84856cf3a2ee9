/**
 * The VMX instructions as a TypeScript API for the embedded VMM (shared/DESIGN.md §3: "The TypeScript VMM
 * calls the same implementation through an API"; issue 5 "VMX operation"). Each method runs the operation
 * of vmx-operations.ts exactly as the opcode does when executed at CPL 0 in VMX root operation, with the
 * same checks, VMfail results, VM-instruction error field and cycle costs (charged to the core); operands
 * are values instead of memory operands. A fault the instruction would raise (#UD, #GP: a VMM bug, e.g.
 * VMXON without CR4.VMXE) throws a SimulationError naming the instruction.
 *
 * Also the set-up a VMM's boot code does with ordinary instructions before VMXON: IA32_FEATURE_CONTROL
 * (lock and enable outside SMX, SDM Vol. 3C 23.7), CR4.VMXE and the CR0/CR4 fixed bits (23.8), and writing the
 * revision identifier into a VMXON or VMCS region (24.2, 24.11.5).
 */
import type { CoreState } from "../core-state.ts";
import { CpuFault } from "../exceptions.ts";
import { readMsr, writeMsr } from "../msr.ts";
import { SimulationError } from "../simulation-error.ts";
import {
  inveptOp, invvpidOp, setVmStatus, vmclear, vmlaunchOrResume, vmptrld, vmptrst, vmread, vmwrite, vmxoff, vmxon,
} from "./vmx-operations.ts";
import { vmInstructionErrorText } from "./vm-instruction-error.ts";

/** VMsucceed, VMfailInvalid, or VMfailValid with its VM-instruction error number. */
export type VmxStatus = { ok: true } | { ok: false; valid: false } | { ok: false; valid: true; error: number; text: string };

const OK: VmxStatus = Object.freeze({ ok: true });

function status(code: number): VmxStatus {
  if (code === 0) return OK;
  if (code < 0) return { ok: false, valid: false };
  return { ok: false, valid: true, error: code, text: vmInstructionErrorText(code) ?? "reserved" };
}

const split = (pa: number): readonly [number, number] => [pa >>> 0, Math.floor(pa / 4294967296)];

export class VmxApi {
  constructor(readonly core: CoreState) {}

  private run<T>(name: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof CpuFault) {
        throw new SimulationError(`VMM: ${name} raised exception ${e.vector} (error code ${e.errorCode})`, {
          core: this.core.id, eip: this.core.eip, dump: this.core.dump(),
        });
      }
      throw e;
    }
  }

  private op(name: string, f: () => number, entry = false): VmxStatus {
    return this.run(name, () => {
      const code = f();
      // A successful VM entry has loaded the guest's RFLAGS: VMsucceed does not apply to it.
      if (!entry || code !== 0) setVmStatus(this.core, code);
      return status(code);
    });
  }

  /**
   * What a VMM's boot code does before VMXON, as ordinary instructions would: lock IA32_FEATURE_CONTROL with
   * VMX enabled (if unlocked); paging on with an identity map of 4-MByte pages (a page directory written at
   * `pageDirectoryPa`, CR4.PSE), since VMX operation requires CR0.PG, PE and NE (IA32_VMX_CR0_FIXED0); CR4.VMXE.
   */
  prepare(pageDirectoryPa: number): void {
    const c = this.core;
    const fc = readMsr(c, 0x3a)[0];
    if ((fc & 1) === 0) writeMsr(c, 0x3a, [fc | 5, 0]);
    for (let k = 0; k < 1024; k++) c.writePhys(pageDirectoryPa + 4 * k, 4, ((k << 22) | 0x87) >>> 0); // P, RW, U, PS
    c.cr3 = pageDirectoryPa >>> 0;
    c.cr4 = (c.cr4 | (1 << 4) | (1 << 13)) >>> 0;
    c.cr0 = (c.cr0 | 0x80000021) >>> 0;
    c.pagingModeChanged();
    c.refreshSegmentChecks();
  }

  /** Write the revision identifier (IA32_VMX_BASIC[30:0]) at the start of a VMXON or VMCS region. */
  initRegion(pa: number): void {
    this.core.writePhys(pa, 4, this.core.vmx!.revision);
  }

  vmxon(pa: number): VmxStatus {
    return this.op("VMXON", () => vmxon(this.core, () => split(pa)));
  }

  vmxoff(): VmxStatus {
    return this.op("VMXOFF", () => vmxoff(this.core));
  }

  vmclear(pa: number): VmxStatus {
    return this.op("VMCLEAR", () => vmclear(this.core, () => split(pa)));
  }

  vmptrld(pa: number): VmxStatus {
    return this.op("VMPTRLD", () => vmptrld(this.core, () => split(pa)));
  }

  /** VMPTRST: the current-VMCS pointer (-1 when invalid). */
  vmptrst(): number {
    return this.run("VMPTRST", () => {
      const [lo, hi] = vmptrst(this.core);
      return lo === 0xffffffff && hi === 0xffffffff ? -1 : hi * 4294967296 + lo;
    });
  }

  /** VMREAD: the field's value; a VMfail throws (a VMM reading a field that does not exist is a bug). */
  vmread(encoding: number): number {
    const out = [0];
    const s = this.op("VMREAD", () => vmread(this.core, encoding, out));
    if (!s.ok) throw new SimulationError(`VMM: VMREAD of field 0x${encoding.toString(16)} failed: ${JSON.stringify(s)}`, {
      core: this.core.id, eip: this.core.eip, dump: this.core.dump(),
    });
    return out[0] >>> 0;
  }

  vmwrite(encoding: number, value: number): VmxStatus {
    return this.op("VMWRITE", () => vmwrite(this.core, encoding, () => value));
  }

  /** VMLAUNCH: on success the core is in non-root operation at the guest's RIP (or a VM-entry failure
   * loaded the host state; read EXIT_REASON), and runs when the machine next runs it. */
  vmlaunch(): VmxStatus {
    return this.op("VMLAUNCH", () => vmlaunchOrResume(this.core, true), true);
  }

  vmresume(): VmxStatus {
    return this.op("VMRESUME", () => vmlaunchOrResume(this.core, false), true);
  }

  invept(type: number, eptpLo: number, eptpHi = 0): VmxStatus {
    return this.op("INVEPT", () => inveptOp(this.core, type, () => [eptpLo >>> 0, eptpHi >>> 0]));
  }

  invvpid(type: number, vpid: number, linear = 0): VmxStatus {
    return this.op("INVVPID", () => invvpidOp(this.core, type, () => [vpid & 0xffff, 0, linear >>> 0]));
  }
}
