/**
 * The processor state after power-up or RESET (SDM Vol. 3A 9.1.1, Table 9-1, 32-bit column).
 *
 * Real-address mode with CS selector F000H but base FFFF0000H, so the first fetch is at FFFFFFF0H
 * (the reset vector, 9.1.4); all segments have limit FFFFH and present read/write accessed attributes;
 * EDX holds the processor signature (CPUID.1:EAX); GDTR/IDTR base 0 limit FFFFH; CR0 60000010H (CD, NW,
 * ET); DR6 FFFF0FF0H, DR7 400H; the TSC starts at 0 (the core's cycle count is not reset by INIT, only
 * the offset is: software-visible TSC = 0 here).
 *
 * Leaves out: INIT (differs in keeping CD/NW and some MSRs; the platform issue's INIT-SIPI uses it), x87
 * and SSE state (not modelled), the BIST result in EAX (0: passed).
 */
import type { CoreState } from "./core-state.ts";
import { cpuIdentityOf } from "./cpuid.ts";
import { debugRegisters, DR6_FIXED1, DR7_FIXED1 } from "./debug-registers.ts";
import { Eflags } from "./registers.ts";
import { setSegment } from "./segments.ts";

const CS = 1;
/** Access rights after reset: present, DPL 0, read/write (code: execute/read), accessed. */
const DATA_ATTR = 0x93;
const CODE_ATTR = 0x9b;

export function applyPowerOnReset(c: CoreState): void {
  c.regs.fill(0);
  c.regs[2] = cpuIdentityOf(c).signature; // EDX
  c.eflags = Eflags.FIXED1;
  c.fop = 0;
  c.eip = 0xfff0;
  c.cr0 = 0x60000010;
  c.cr2 = 0;
  c.cr3 = 0;
  c.cr4 = 0;
  c.cpl = 0;
  for (let s = 0; s < 6; s++) {
    setSegment(c, s, s === CS ? 0xf000 : 0, s === CS ? 0xffff0000 | 0 : 0, 0xffff, s === CS ? CODE_ATTR : DATA_ATTR);
  }
  c.gdtBase = 0;
  c.gdtLimit = 0xffff;
  c.idtBase = 0;
  c.idtLimit = 0xffff;
  c.ldtrSel = 0;
  c.ldtrBase = 0;
  c.ldtrLimit = 0xffff;
  c.trSel = 0;
  c.trBase = 0;
  c.trLimit = 0xffff;
  c.trType = 11; // busy 32-bit TSS, as Bochs's reset
  const dr = debugRegisters(c);
  dr.fill(0);
  dr[6] = DR6_FIXED1;
  dr[7] = DR7_FIXED1;
  c.tscOffset = -c.cycles;
  c.halted = false;
  c.shutdown = false;
  c.inhibit = 0;
  c.pagingModeChanged();
  c.refreshSegmentChecks();
  c.cacheModeChanged();
}
