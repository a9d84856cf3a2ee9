/**
 * What the model uses of the task-state segment: the type of the TSS in TR (16- or 32-bit) and the
 * stack pointers for privilege levels 0-2 that a call gate or an interrupt to an inner privilege level
 * switches to (SDM Vol. 3A 7.2.1 Figure 7-2 (32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n), 7.6 Figure 7-11
 * (16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n), 5.8.5, 6.12.1; Vol. 2 CALL and INT n pseudo-code).
 *
 * The TSS is read with implicit supervisor accesses (c.readSys*). The SS:ESP fields must lie within the
 * TSS limit, else #TS(TR selector); the new SS then gets the #TS checks of the SDM's pseudo-code: null
 * -> #TS(0), beyond its table -> #TS(sel), RPL or DPL != the new CPL or not writable data -> #TS(sel),
 * not present -> #SS(sel). Error codes get the EXT bit from interrupt delivery when it applies.
 *
 * The TR type is CoreState.trType (LTR records it; reset makes it a busy 32-bit TSS).
 *
 * Leaves out: hardware task switching (task gates, TSS descriptors as far-transfer targets, IRET with
 * NT = 1 are rejected where they occur), the I/O map (io-permission.ts), the shadow-stack fields.
 */
import type { CoreState } from "./core-state.ts";
import { type Descriptor, fetchDescriptor, isBig, withinLimit } from "./descriptors.ts";
import { fault } from "./exceptions.ts";
import { checkStackDescriptor } from "./segments.ts";

const TS = 10, SS_FAULT = 12;
const ESP = 4;

/** Whether TR holds a 32-bit TSS (types 9 and 11). */
export function tssIs32(c: CoreState): boolean {
  return (c.trType & 8) !== 0;
}

/**
 * A stack that is not loaded yet (the inner stack of a privilege change): pushes check the new SS limit
 * (#SS(new SS selector), SDM Vol. 2 CALL/INT n "new stack does not have room") and write with supervisor
 * accesses, as the new CPL is always 0-2. commit() makes it SS:ESP.
 */
export class NewStack {
  sp: number;
  private readonly big: boolean;

  constructor(
    private readonly c: CoreState,
    readonly sel: number,
    readonly d: Descriptor,
    sp: number,
  ) {
    this.big = isBig(d.attr);
    this.sp = this.big ? sp | 0 : sp & 0xffff;
  }

  push(size: number, v: number): void {
    const sp = this.big ? (this.sp - size) | 0 : (this.sp - size) & 0xffff;
    if (!withinLimit(this.d.attr, this.d.limit, sp, size)) fault(SS_FAULT, this.sel & 0xfffc);
    const lin = (this.d.base + sp) | 0;
    if (size === 4) this.c.writeSys32(lin, v);
    else this.c.writeSys16(lin, v);
    this.sp = sp;
  }

  /** The ESP to load with the new SS: all of it for a 32-bit stack, SP only for a 16-bit one. */
  esp(oldEsp: number): number {
    return this.big ? this.sp : (oldEsp & ~0xffff) | this.sp;
  }
}

/**
 * The stack for privilege level `pl` (0-2) from the current TSS, with its SS checked for that level.
 * The caller pushes onto it and then loads it (loadStackSegment, ESP = stack.esp(old ESP)).
 */
export function innerStack(c: CoreState, pl: number): NewStack {
  let ss: number, esp: number;
  if (tssIs32(c)) {
    const at = 8 * pl + 4;
    if (at + 5 > c.trLimit >>> 0) fault(TS, c.trSel & 0xfffc);
    esp = c.readSys32((c.trBase + at) | 0);
    ss = c.readSys16((c.trBase + at + 4) | 0);
  } else {
    const at = 4 * pl + 2;
    if (at + 3 > c.trLimit >>> 0) fault(TS, c.trSel & 0xfffc);
    esp = c.readSys16((c.trBase + at) | 0);
    ss = c.readSys16((c.trBase + at + 2) | 0);
  }
  if ((ss & 0xfffc) === 0) fault(TS, 0);
  const d = fetchDescriptor(c, ss, TS);
  checkStackDescriptor(d, ss, pl, TS);
  return new NewStack(c, ss, d, esp);
}

/** Old ESP as a privilege change saves it: all of it with a 32-bit stack, SP with a 16-bit one. */
export function currentSp(c: CoreState): number {
  return c.ss32 ? c.regs[ESP] : c.regs[ESP] & 0xffff;
}
