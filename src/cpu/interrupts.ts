/**
 * Interrupt and exception delivery (SDM Vol. 3A 6.4-6.15; real mode 20.1.4).
 *
 * Real-address mode: the IVT (4-byte entries) and a 16-bit FLAGS/CS/IP frame. Protected mode: the IDT
 * with 16- and 32-bit interrupt and trap gates; task gates are rejected with #GP as the product does not
 * model hardware task switching. Faults during delivery follow the double-fault rules of SDM 6.15
 * Table 6-5; a fault while delivering #DF is a triple fault (shutdown).
 *
 * Leaves out for now (system-architecture layer): the inter-privilege stack switch through the TSS,
 * IRET to an outer ring, and the full CS descriptor checks.
 */
import type { CoreState } from "./core-state.ts";
import { Brk } from "./core-state.ts";
import { CpuFault, fault, pushesErrorCode, Vector } from "./exceptions.ts";
import { Eflags, Seg } from "./registers.ts";
import { loadSegment } from "./segments.ts";

export const enum EventKind {
  /** Hardware exception raised by the processor. */
  EXCEPTION = 0,
  /** External interrupt or NMI. */
  EXTERNAL = 1,
  /** INT n, INT3, INTO: DPL of the gate is checked against CPL. */
  SOFTWARE = 2,
}

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

function classOf(v: number): "benign" | "contributory" | "pf" {
  return v === 14 ? "pf" : CONTRIBUTORY.has(v) ? "contributory" : "benign";
}

/**
 * Deliver an interrupt or exception. `returnEip` is the EIP saved in the frame. On a fault during
 * delivery the double-fault rules apply; a triple fault marks the core shut down.
 */
export function deliverEvent(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  // A fault while delivering INT n / INT3 / INTO is a fault of that instruction: let it propagate.
  if (kind === EventKind.SOFTWARE) {
    deliverOnce(c, vector, errorCode, returnEip, kind);
    return;
  }
  try {
    deliverOnce(c, vector, errorCode, returnEip, kind);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    const first = classOf(vector);
    const second = classOf(e.vector);
    if (vector === Vector.DF) {
      tripleFault(c);
      return;
    }
    const double =
      (first === "contributory" && second === "contributory") ||
      (first === "pf" && (second === "contributory" || second === "pf"));
    if (double) {
      deliverEvent(c, Vector.DF, 0, returnEip, EventKind.EXCEPTION);
    } else {
      // Handled serially: the second exception is delivered instead (SDM 6.15 Table 6-5).
      deliverEvent(c, e.vector, e.errorCode, returnEip, EventKind.EXCEPTION);
    }
  }
}

export function tripleFault(c: CoreState): void {
  c.shutdown = true;
  c.brk |= Brk.SHUTDOWN;
}

function deliverOnce(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  const ext = kind === EventKind.SOFTWARE ? 0 : 1;
  const eflags = c.getEflags();
  if (!c.protectedMode) {
    const entry = vector * 4;
    if (entry + 3 > c.idtLimit) fault(Vector.GP, vector * 8 + 2 + ext);
    const ip = c.read16(c.idtBase + entry);
    const cs = c.read16(c.idtBase + entry + 2);
    c.push(2, eflags);
    c.push(2, c.segSel[Seg.CS]);
    c.push(2, returnEip);
    c.eflags = eflags & ~(Eflags.IF | Eflags.TF | Eflags.AC | Eflags.RF);
    loadSegment(c, Seg.CS, cs);
    c.eip = ip;
    return;
  }
  const entry = vector * 8;
  if (entry + 7 > c.idtLimit) fault(Vector.GP, entry + 2 + ext);
  const lo = c.read32(c.idtBase + entry);
  const hi = c.read32(c.idtBase + entry + 4);
  const type = (hi >> 8) & 0x1f;
  const dpl = (hi >> 13) & 3;
  if (type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f) fault(Vector.GP, entry + 2 + ext);
  if (kind === EventKind.SOFTWARE && dpl < c.cpl) fault(Vector.GP, entry + 2);
  if ((hi & 0x8000) === 0) fault(Vector.NP, entry + 2 + ext);
  const gate32 = (type & 8) !== 0;
  const sel = lo >>> 16;
  const offset = gate32 ? (lo & 0xffff) | (hi & 0xffff0000) : lo & 0xffff;
  if ((sel & ~3) === 0) fault(Vector.GP, ext);
  const size = gate32 ? 4 : 2;
  const oldCs = c.segSel[Seg.CS];
  // Push onto the current stack (same privilege), then switch CS.
  c.push(size, eflags);
  c.push(size, oldCs);
  c.push(size, returnEip);
  if (errorCode >= 0 && kind === EventKind.EXCEPTION && pushesErrorCode(vector)) c.push(size, errorCode);
  loadSegment(c, Seg.CS, (sel & ~3) | c.cpl);
  let nf = eflags & ~(Eflags.TF | Eflags.NT | Eflags.RF | Eflags.VM);
  if ((type & 1) === 0) nf &= ~Eflags.IF; // interrupt gate
  c.eflags = nf;
  c.eip = offset;
}
