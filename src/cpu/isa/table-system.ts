/**
 * Opcode table, system instructions (SDM Vol. 3A chapters 2-6, Vol. 2 pages): descriptor-table and
 * segment-descriptor instructions, control/debug registers, MSRs, task register, cache control, SYSENTER.
 * They decode here; their full protected-mode semantics belong to the system-architecture layer.
 */
import { FlagBit, type IsaRow } from "./types.ts";
import { row } from "./row.ts";

const ZF = FlagBit.ZF;

export const SYSTEM_ROWS: readonly IsaRow[] = [
  row("sldt", [0x0f, 0x00], "Ew", "sldt", "system", { ext: 0, pmodeOnly: true }),
  row("str", [0x0f, 0x00], "Ew", "str", "system", { ext: 1, pmodeOnly: true }),
  row("lldt", [0x0f, 0x00], "Ew", "lldt", "system", { ext: 2, pmodeOnly: true, privileged: true, end: "stop" }),
  row("ltr", [0x0f, 0x00], "Ew", "ltr", "system", { ext: 3, pmodeOnly: true, privileged: true, end: "stop" }),
  row("verr", [0x0f, 0x00], "Ew", "verr", "system", { ext: 4, pmodeOnly: true, flagsDefined: ZF }),
  row("verw", [0x0f, 0x00], "Ew", "verw", "system", { ext: 5, pmodeOnly: true, flagsDefined: ZF }),
  row("sgdt", [0x0f, 0x01], "Ms", "sgdt", "system", { ext: 0 }),
  row("sidt", [0x0f, 0x01], "Ms", "sidt", "system", { ext: 1 }),
  row("lgdt", [0x0f, 0x01], "Ms", "lgdt", "system", { ext: 2, privileged: true, end: "stop" }),
  row("lidt", [0x0f, 0x01], "Ms", "lidt", "system", { ext: 3, privileged: true, end: "stop" }),
  row("smsw", [0x0f, 0x01], "Ew", "smsw", "system", { ext: 4 }),
  row("lmsw", [0x0f, 0x01], "Ew", "lmsw", "serialize", { ext: 6, privileged: true, end: "stop" }),
  row("invlpg", [0x0f, 0x01], "M", "invlpg", "serialize", { ext: 7, privileged: true, end: "stop" }),
  row("lar", [0x0f, 0x02], "Gv,Ew", "lar", "system", { pmodeOnly: true, flagsDefined: ZF }),
  row("lsl", [0x0f, 0x03], "Gv,Ew", "lsl", "system", { pmodeOnly: true, flagsDefined: ZF }),
  row("arpl", [0x63], "Ew,Gw", "arpl", "system", { pmodeOnly: true, flagsDefined: ZF }),
  row("clts", [0x0f, 0x06], "", "clts", "serialize", { privileged: true, end: "stop" }),
  row("invd", [0x0f, 0x08], "", "invd", "serialize", { privileged: true, end: "stop" }),
  row("wbinvd", [0x0f, 0x09], "", "wbinvd", "serialize", { privileged: true, end: "stop" }),
  // MOV to/from CRn/DRn: ModRM.mod is ignored and treated as 3 (SDM MOV-Move to/from Control Registers).
  row("mov", [0x0f, 0x20], "Rd,Cd", "movFromCr", "serialize", { privileged: true }),
  row("mov", [0x0f, 0x22], "Cd,Rd", "movToCr", "serialize", { privileged: true, end: "stop" }),
  row("mov", [0x0f, 0x21], "Rd,Dd", "movFromDr", "serialize", { privileged: true }),
  row("mov", [0x0f, 0x23], "Dd,Rd", "movToDr", "serialize", { privileged: true, end: "stop" }),
  row("wrmsr", [0x0f, 0x30], "", "wrmsr", "serialize", { privileged: true, end: "stop" }),
  row("rdmsr", [0x0f, 0x32], "", "rdmsr", "serialize", { privileged: true }),
  row("rdpmc", [0x0f, 0x33], "", "rdpmc", "serialize"),
  // SYSENTER/SYSEXIT raise #GP(0), not #UD, in real-address mode (SDM SYSENTER/SYSEXIT): not pmodeOnly.
  row("sysenter", [0x0f, 0x34], "", "sysenter", "system", { end: "jump" }),
  row("sysexit", [0x0f, 0x35], "", "sysexit", "system", { privileged: true, end: "jump" }),
];
