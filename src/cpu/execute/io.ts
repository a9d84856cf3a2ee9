/**
 * IN and OUT with an imm8 port or the port in DX, byte/word/dword (SDM Vol. 2 IN, OUT). The access goes
 * to the board through SystemBus.portIn/portOut; in protected mode with CPL > IOPL the TSS I/O permission
 * bitmap must allow every byte port the access covers, else #GP(0) (io-permission.ts).
 *
 * Cost: the row's static "io" cost; the platform layer will charge what the device on the bus says.
 * In VMX non-root operation an access may exit instead (vmx/nonroot-instructions.ts ioExits).
 * Leaves out: virtual-8086 mode.
 */
import { ioExits } from "../vmx/nonroot-instructions.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { ioPermitted } from "../io-permission.ts";

/** AL/AX/EAX and DX (registers.ts Reg), local: imported const enum members are not inlined by tsx. */
const EAX = 0, EDX = 2;

function checked(c: CoreState, i: Insn, port: number, size: number): number {
  if (!ioPermitted(c, port, size)) fault(Vector.GP, 0);
  // VMX non-root: unconditional I/O exiting or the I/O bitmaps (SDM Vol. 3C 25.1.3), after the #GP (25.1.1).
  if (c.nonRoot) ioExits(c, i, port, size);
  return port;
}

function inPort(c: CoreState, i: Insn, port: number): void {
  const size = i.osize as 1 | 2 | 4;
  c.setReg(EAX, size, c.bus.portIn(checked(c, i, port, size), size));
}

function outPort(c: CoreState, i: Insn, port: number): void {
  const size = i.osize as 1 | 2 | 4;
  c.bus.portOut(checked(c, i, port, size), size, c.getReg(EAX, size));
}

const inImm: ExecFn = (c, i) => inPort(c, i, i.imm & 0xff);
const inDx: ExecFn = (c, i) => inPort(c, i, c.regs[EDX] & 0xffff);
const outImm: ExecFn = (c, i) => outPort(c, i, i.imm & 0xff);
const outDx: ExecFn = (c, i) => outPort(c, i, c.regs[EDX] & 0xffff);

export const IO_EXEC: ExecTable = {
  in: (_i, row) => (row.operands[1] === "DX" ? inDx : inImm),
  out: (_i, row) => (row.operands[0] === "DX" ? outDx : outImm),
};
