/**
 * The executor registry: for each opcode-table `exec` key, a factory that picks the handler for a
 * decoded instruction's exact form. Adding an instruction = one table row + one factory here.
 */
import type { IsaRow } from "../isa/types.ts";
import type { ExecFn, Insn } from "../insn.ts";

export type ExecFactory = (i: Insn, row: IsaRow) => ExecFn;
export type ExecTable = Record<string, ExecFactory>;
