/**
 * Executors of the VMX instructions (isa/table-vmx.ts): operand access and the exit information of a VMX
 * instruction executed in VMX non-root operation (SDM Vol. 3C 27.2.1 Table 27-? "Exit Qualification for
 * ... VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMXON, INVEPT, INVVPID": the displacement of the memory
 * operand; 27.2.5 instruction information, Tables 27-13 and 27-14); the operations themselves, with their
 * check order, are in vmx/vmx-operations.ts, shared with the embedded VMM's API.
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { ea } from "./operands.ts";
import {
  inveptOp, invvpidOp, setVmStatus, vmclear, vmcall, vmlaunchOrResume, vmptrld, vmptrst, vmread, vmwrite, vmxoff, vmxon,
} from "../vmx/vmx-operations.ts";
import { VmExitSignal } from "../vmx/vm-exit-signal.ts";
import {
  displacementQualification, invInstructionInfo, vmreadVmwriteInstructionInfo, vmxPointerInstructionInfo,
} from "../vmx/exit-qualification.ts";

/** Run `op`; a VM exit it raises gets this instruction's exit qualification and instruction information. */
function withExitInfo(op: (c: CoreState, i: Insn) => void, info: (i: Insn) => number, hasDisp: boolean): ExecFn {
  return (c, i) => {
    try {
      op(c, i);
    } catch (e) {
      if (e instanceof VmExitSignal) {
        if (hasDisp) e.qualification = displacementQualification(i);
        e.instructionInfo = info(i);
      }
      throw e;
    }
  };
}

function read64(c: CoreState, i: Insn): readonly [number, number] {
  const lin = ea(c, i);
  return [c.read32(lin) >>> 0, c.read32((lin + 4) | 0) >>> 0];
}

const none = () => 0;
const out: number[] = [0];

function pointerOp(f: (c: CoreState, fetch: () => readonly [number, number]) => number): ExecFn {
  return withExitInfo((c, i) => setVmStatus(c, f(c, () => read64(c, i))), vmxPointerInstructionInfo, true);
}

export const VMX_EXEC: ExecTable = {
  vmxon: () => pointerOp(vmxon),
  vmclear: () => pointerOp(vmclear),
  vmptrld: () => pointerOp(vmptrld),
  vmptrst: () =>
    withExitInfo((c, i) => {
      const [lo, hi] = vmptrst(c);
      const lin = ea(c, i);
      c.write32(lin, lo);
      c.write32((lin + 4) | 0, hi);
      setVmStatus(c, 0);
    }, vmxPointerInstructionInfo, true),
  vmread: () =>
    withExitInfo((c, i) => {
      const status = vmread(c, c.regs[i.reg], out);
      if (status === 0) {
        if (i.rm >= 0) c.regs[i.rm] = out[0];
        else c.write32(ea(c, i), out[0]);
      }
      setVmStatus(c, status);
    }, vmreadVmwriteInstructionInfo, true),
  vmwrite: () =>
    withExitInfo((c, i) => {
      const status = vmwrite(c, c.regs[i.reg], () => (i.rm >= 0 ? c.regs[i.rm] : c.read32(ea(c, i))));
      setVmStatus(c, status);
    }, vmreadVmwriteInstructionInfo, true),
  vmcall: () => withExitInfo((c) => setVmStatus(c, vmcall(c)), none, false),
  vmlaunch: () => withExitInfo((c) => vmEntryStatus(c, true), none, false),
  vmresume: () => withExitInfo((c) => vmEntryStatus(c, false), none, false),
  vmxoff: () => withExitInfo((c) => setVmStatus(c, vmxoff(c)), none, false),
  invept: () =>
    withExitInfo((c, i) => setVmStatus(c, inveptOp(c, c.regs[i.reg], () => read64(c, i))), invInstructionInfo, true),
  invvpid: () =>
    withExitInfo((c, i) => {
      const status = invvpidOp(c, c.regs[i.reg], () => {
        const lin = ea(c, i);
        return [c.read32(lin) >>> 0, c.read32((lin + 4) | 0) >>> 0, c.read32((lin + 8) | 0) >>> 0];
      });
      setVmStatus(c, status);
    }, invInstructionInfo, true),
};

/** VMLAUNCH/VMRESUME: on success the guest runs (RFLAGS are the guest's); a VMfail sets the host's RFLAGS. */
function vmEntryStatus(c: CoreState, launch: boolean): void {
  const status = vmlaunchOrResume(c, launch);
  if (status !== 0) setVmStatus(c, status);
}
