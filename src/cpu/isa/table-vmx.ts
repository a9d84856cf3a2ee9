/**
 * Opcode table, VMX instructions (SDM Vol. 3C 30.3; Vol. 2 Appendix A opcode maps, Table A-6 group 9 and
 * the 0F 01 and 0F 38 maps). The pointer operands of VMXON, VMCLEAR, VMPTRLD and VMPTRST are m64; VMREAD
 * and VMWRITE move 32 bits outside 64-bit mode; INVEPT and INVVPID take the type in a 32-bit register and a
 * 128-bit descriptor in memory ("Mo"). VMXON and VMCLEAR are VMPTRLD's group-9 /6 slot
 * with a mandatory F3 or 66 prefix. The instructions change state the decoded blocks depend on (VM entry
 * and exit transfer control), so they end blocks.
 */
import type { IsaRow } from "./types.ts";
import { row } from "./row.ts";

export const VMX_ROWS: readonly IsaRow[] = [
  row("vmxon", [0x0f, 0xc7], "Mq", "vmxon", "vmx", { ext: 6, mandatoryPrefix: 0xf3, end: "stop" }),
  row("vmclear", [0x0f, 0xc7], "Mq", "vmclear", "vmx", { ext: 6, mandatoryPrefix: 0x66, end: "stop" }),
  row("vmptrld", [0x0f, 0xc7], "Mq", "vmptrld", "vmx", { ext: 6, end: "stop" }),
  row("vmptrst", [0x0f, 0xc7], "Mq", "vmptrst", "vmx", { ext: 7, end: "stop" }),
  row("vmread", [0x0f, 0x78], "Ed,Gd", "vmread", "vmx", { end: "stop" }),
  row("vmwrite", [0x0f, 0x79], "Gd,Ed", "vmwrite", "vmx", { end: "stop" }),
  row("vmcall", [0x0f, 0x01], "", "vmcall", "vmx", { modrmByte: 0xc1, end: "jump" }),
  row("vmlaunch", [0x0f, 0x01], "", "vmlaunch", "vmx", { modrmByte: 0xc2, end: "jump" }),
  row("vmresume", [0x0f, 0x01], "", "vmresume", "vmx", { modrmByte: 0xc3, end: "jump" }),
  row("vmxoff", [0x0f, 0x01], "", "vmxoff", "vmx", { modrmByte: 0xc4, end: "stop" }),
  // MONITOR / MWAIT (SDM Vol. 2B): implicit operands (DS:EAX, ECX, EDX / EAX, ECX). The assembler does not
  // select them (noAsm): objdump and NASM spell their implicit registers in ways the round-trip tests do not model.
  row("monitor", [0x0f, 0x01], "", "monitor", "serialize", { modrmByte: 0xc8, noAsm: true }),
  row("mwait", [0x0f, 0x01], "", "mwait", "serialize", { modrmByte: 0xc9, noAsm: true, end: "stop" }),
  row("invept", [0x0f, 0x38, 0x80], "Gd,Mo", "invept", "vmx", { mandatoryPrefix: 0x66, end: "stop" }),
  row("invvpid", [0x0f, 0x38, 0x81], "Gd,Mo", "invvpid", "vmx", { mandatoryPrefix: 0x66, end: "stop" }),
];
