/**
 * Moving processor state between the core and the VMCS at VM transitions, for a 32-bit host and 32-bit
 * guests: loading guest state at VM entry (SDM Vol. 3C 26.3.2 "Loading Guest State"), saving it at VM exit
 * (27.3 "Saving Guest State"), and loading host state at VM exit (27.5 "Loading Host State").
 *
 * Segment registers: the VMCS access-rights format (24.4.1, Table 24-2: type 3:0, S 4, DPL 6:5, P 7, AVL
 * 12, L 13, D/B 14, G 15, unusable 16) is the core's segAttr layout in bits 15:0, so a usable segment's
 * rights copy over (bits 11:8 dropped); the core represents an unusable data segment by attributes 0
 * (segments.ts setNullSegment), which saves as the unusable bit. CPL is SS.DPL (24.4.1).
 *
 * Host state (27.5.1-27.5.3): CR0 keeps ET, CD, NW, bits 28:19, 17 and 15:6; DR7 becomes 400H; CS is a
 * flat 32-bit execute/read code segment with DPL 0, SS/DS/ES/FS/GS flat read/write data (unusable when the
 * selector is null), FS/GS/TR bases from the host-state fields, TR a busy 32-bit TSS with limit 67H, LDTR
 * unusable, GDTR/IDTR limits FFFFH, RFLAGS 2, CPL 0.
 *
 * IA32_PAT and IA32_EFER are loaded and saved per the entry and exit controls (loadGuestMsrs, saveGuestMsrs, loadHostMsrs).
 *
 * Leaves out: IA32_DEBUGCTL (the model has no such MSR; the field is kept as storage), IA32_PERF_GLOBAL_CTRL, the PDPTEs of a PAE guest (the core has no PAE paging), pending debug
 * exceptions other than the single-step BS bit, SMBASE.
 */
import type { CoreState } from "../core-state.ts";
import { setSegment } from "../segments.ts";
import { debugRegisters } from "../debug-registers.ts";
import { readMsr, writeMsr } from "../msr.ts";
import { readField, writeFieldAsProcessor, type VmcsRegion } from "./vmcs.ts";
import { VmcsField as F } from "./vmcs-fields.ts";

const ESP = 4;
const SS = 2;
const SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176;
const UNUSABLE = 1 << 16;
const CR0_CD = 0x40000000;
/** CR0 bits a VM exit does not change (27.5.1): ET (4), CD (30), NW (29), 28:19, 17, 15:6. */
const CR0_KEEP_ON_EXIT = (1 << 4) | (1 << 30) | (1 << 29) | 0x1ff80000 | (1 << 17) | 0xffc0;
/** Guest-state selector / limit / access-rights / base fields, ES..GS in the core's segment order. */
const SEL = [F.GUEST_ES_SELECTOR, F.GUEST_CS_SELECTOR, F.GUEST_SS_SELECTOR, F.GUEST_DS_SELECTOR, F.GUEST_FS_SELECTOR, F.GUEST_GS_SELECTOR];
const LIM = [F.GUEST_ES_LIMIT, F.GUEST_CS_LIMIT, F.GUEST_SS_LIMIT, F.GUEST_DS_LIMIT, F.GUEST_FS_LIMIT, F.GUEST_GS_LIMIT];
const AR = [F.GUEST_ES_ACCESS_RIGHTS, F.GUEST_CS_ACCESS_RIGHTS, F.GUEST_SS_ACCESS_RIGHTS, F.GUEST_DS_ACCESS_RIGHTS, F.GUEST_FS_ACCESS_RIGHTS, F.GUEST_GS_ACCESS_RIGHTS];
const BASE = [F.GUEST_ES_BASE, F.GUEST_CS_BASE, F.GUEST_SS_BASE, F.GUEST_DS_BASE, F.GUEST_FS_BASE, F.GUEST_GS_BASE];
const HOST_SEL = [F.HOST_ES_SELECTOR, F.HOST_CS_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR];

/** A field the current VMCS must have (every field used here exists on every VMX processor). */
export function rd(r: VmcsRegion, enc: number): number {
  const v = readField(r, enc);
  if (v === undefined) throw new Error(`VMCS field 0x${enc.toString(16)} is not supported here`);
  return v;
}

export function wr(r: VmcsRegion, enc: number, v: number): void {
  writeFieldAsProcessor(r, enc, v);
}

/** Load CR0/CR3/CR4 without the checks of MOV to CR (VM entry and exit have checked them). */
export function loadControlRegisters(c: CoreState, cr0: number, cr3: number, cr4: number): void {
  const cdChanged = ((c.cr0 ^ cr0) & CR0_CD) !== 0;
  c.cr0 = cr0 >>> 0;
  c.cr3 = cr3 >>> 0;
  c.cr4 = cr4 >>> 0;
  c.pagingModeChanged(); // flushes the TLB: VM entries and exits without VPID do (28.3.3.3)
  c.refreshSegmentChecks();
  if (cdChanged) c.cacheModeChanged();
}

/** SDM 26.3.2.1-26.3.2.3: control registers, debug registers, MSRs, segments, descriptor tables, RSP, RIP, RFLAGS. */
const IA32_PAT = 0x277, IA32_EFER = 0xc0000080;

/** Load IA32_PAT / IA32_EFER from a 64-bit field pair (the entry checks have validated the values). */
function loadMsr64(c: CoreState, index: number, r: VmcsRegion, enc: number): void {
  writeMsr(c, index, [rd(r, enc), rd(r, enc + 1)]);
}

function saveMsr64(c: CoreState, index: number, r: VmcsRegion, enc: number): void {
  const v = readMsr(c, index);
  wr(r, enc, v[0]);
  wr(r, enc + 1, v[1]);
}

/** "Load IA32_PAT" / "load IA32_EFER" entry controls (26.3.2.1). */
export function loadGuestMsrs(c: CoreState, r: VmcsRegion, pat: boolean, efer: boolean): void {
  if (pat) loadMsr64(c, IA32_PAT, r, F.GUEST_IA32_PAT);
  if (efer) loadMsr64(c, IA32_EFER, r, F.GUEST_IA32_EFER);
}

/** "Save IA32_PAT/EFER" exit controls (27.3.1). */
export function saveGuestMsrs(c: CoreState, r: VmcsRegion, exitControls: number): void {
  if ((exitControls & (1 << 18)) !== 0) saveMsr64(c, IA32_PAT, r, F.GUEST_IA32_PAT);
  if ((exitControls & (1 << 20)) !== 0) saveMsr64(c, IA32_EFER, r, F.GUEST_IA32_EFER);
}

/** "Load IA32_PAT/EFER" exit controls (27.5.1). */
export function loadHostMsrs(c: CoreState, r: VmcsRegion, exitControls: number): void {
  if ((exitControls & (1 << 19)) !== 0) loadMsr64(c, IA32_PAT, r, F.HOST_IA32_PAT);
  if ((exitControls & (1 << 21)) !== 0) loadMsr64(c, IA32_EFER, r, F.HOST_IA32_EFER);
}

export function loadGuestState(c: CoreState, r: VmcsRegion, loadDebugControls: boolean): void {
  loadControlRegisters(c, rd(r, F.GUEST_CR0), rd(r, F.GUEST_CR3), rd(r, F.GUEST_CR4));
  if (loadDebugControls) debugRegisters(c)[7] = rd(r, F.GUEST_DR7) | 0x400;
  writeMsr(c, SYSENTER_CS, [rd(r, F.GUEST_IA32_SYSENTER_CS), 0]);
  writeMsr(c, SYSENTER_ESP, [rd(r, F.GUEST_IA32_SYSENTER_ESP), 0]);
  writeMsr(c, SYSENTER_EIP, [rd(r, F.GUEST_IA32_SYSENTER_EIP), 0]);
  const ssAr = rd(r, F.GUEST_SS_ACCESS_RIGHTS);
  c.cpl = (c.cr0 & 1) !== 0 ? (ssAr >>> 5) & 3 : 0;
  for (let s = 0; s < 6; s++) {
    const ar = rd(r, AR[s]);
    const attr = (ar & UNUSABLE) !== 0 ? 0 : ar & 0xf0ff;
    setSegment(c, s, rd(r, SEL[s]), rd(r, BASE[s]) | 0, rd(r, LIM[s]) | 0, attr);
  }
  const ldtrAr = rd(r, F.GUEST_LDTR_ACCESS_RIGHTS);
  c.ldtrSel = rd(r, F.GUEST_LDTR_SELECTOR);
  c.ldtrBase = (ldtrAr & UNUSABLE) !== 0 ? 0 : rd(r, F.GUEST_LDTR_BASE) | 0;
  c.ldtrLimit = (ldtrAr & UNUSABLE) !== 0 ? 0 : rd(r, F.GUEST_LDTR_LIMIT) | 0;
  c.trSel = rd(r, F.GUEST_TR_SELECTOR);
  c.trBase = rd(r, F.GUEST_TR_BASE) | 0;
  c.trLimit = rd(r, F.GUEST_TR_LIMIT) | 0;
  c.trType = rd(r, F.GUEST_TR_ACCESS_RIGHTS) & 0xf;
  c.gdtBase = rd(r, F.GUEST_GDTR_BASE) | 0;
  c.gdtLimit = rd(r, F.GUEST_GDTR_LIMIT) & 0xffff;
  c.idtBase = rd(r, F.GUEST_IDTR_BASE) | 0;
  c.idtLimit = rd(r, F.GUEST_IDTR_LIMIT) & 0xffff;
  c.regs[ESP] = rd(r, F.GUEST_RSP) | 0;
  c.eip = rd(r, F.GUEST_RIP) | 0;
  c.setEflags(rd(r, F.GUEST_RFLAGS), -1);
}

/** Access rights of segment register s in the VMCS format (unusable bit for attributes 0). */
function accessRights(c: CoreState, s: number): number {
  const a = c.segAttr[s];
  if (s !== 1 && (a & 0x80) === 0 && (c.cr0 & 1) !== 0) return UNUSABLE | (a & 0xf0ff);
  return a & 0xf0ff;
}

/** SDM 27.3.1-27.3.3: the guest's registers into the guest-state area (activity and interruptibility are the caller's). */
export function saveGuestState(c: CoreState, r: VmcsRegion, saveDebugControls: boolean): void {
  wr(r, F.GUEST_CR0, c.cr0);
  wr(r, F.GUEST_CR3, c.cr3);
  wr(r, F.GUEST_CR4, c.cr4);
  if (saveDebugControls) wr(r, F.GUEST_DR7, debugRegisters(c)[7]);
  wr(r, F.GUEST_IA32_SYSENTER_CS, readMsr(c, SYSENTER_CS)[0]);
  wr(r, F.GUEST_IA32_SYSENTER_ESP, readMsr(c, SYSENTER_ESP)[0]);
  wr(r, F.GUEST_IA32_SYSENTER_EIP, readMsr(c, SYSENTER_EIP)[0]);
  for (let s = 0; s < 6; s++) {
    wr(r, SEL[s], c.segSel[s]);
    wr(r, BASE[s], c.segBase[s]);
    wr(r, LIM[s], c.segLimit[s]);
    wr(r, AR[s], accessRights(c, s));
  }
  const ldtUsable = (c.ldtrSel & 0xfffc) !== 0;
  wr(r, F.GUEST_LDTR_SELECTOR, c.ldtrSel);
  wr(r, F.GUEST_LDTR_BASE, c.ldtrBase);
  wr(r, F.GUEST_LDTR_LIMIT, c.ldtrLimit);
  wr(r, F.GUEST_LDTR_ACCESS_RIGHTS, ldtUsable ? 0x82 : UNUSABLE);
  wr(r, F.GUEST_TR_SELECTOR, c.trSel);
  wr(r, F.GUEST_TR_BASE, c.trBase);
  wr(r, F.GUEST_TR_LIMIT, c.trLimit);
  wr(r, F.GUEST_TR_ACCESS_RIGHTS, 0x80 | c.trType);
  wr(r, F.GUEST_GDTR_BASE, c.gdtBase);
  wr(r, F.GUEST_GDTR_LIMIT, c.gdtLimit);
  wr(r, F.GUEST_IDTR_BASE, c.idtBase);
  wr(r, F.GUEST_IDTR_LIMIT, c.idtLimit);
  wr(r, F.GUEST_RSP, c.regs[ESP]);
  wr(r, F.GUEST_RIP, c.eip);
  wr(r, F.GUEST_RFLAGS, c.getEflags());
}

/** SDM 27.5.1-27.5.3: load the host state (the caller leaves non-root operation first). */
export function loadHostState(c: CoreState, r: VmcsRegion): void {
  const cr0 = ((rd(r, F.HOST_CR0) & ~CR0_KEEP_ON_EXIT) | (c.cr0 & CR0_KEEP_ON_EXIT)) >>> 0;
  loadControlRegisters(c, cr0, rd(r, F.HOST_CR3), rd(r, F.HOST_CR4));
  debugRegisters(c)[7] = 0x400;
  writeMsr(c, SYSENTER_CS, [rd(r, F.HOST_IA32_SYSENTER_CS), 0]);
  writeMsr(c, SYSENTER_ESP, [rd(r, F.HOST_IA32_SYSENTER_ESP), 0]);
  writeMsr(c, SYSENTER_EIP, [rd(r, F.HOST_IA32_SYSENTER_EIP), 0]);
  c.cpl = 0;
  for (let s = 0; s < 6; s++) {
    const sel = rd(r, HOST_SEL[s]);
    const base = s === 4 ? rd(r, F.HOST_FS_BASE) : s === 5 ? rd(r, F.HOST_GS_BASE) : 0;
    if (s === 1) setSegment(c, s, sel, 0, -1, 0xc09b);
    else if ((sel & 0xfffc) === 0 && s !== SS) setSegment(c, s, sel, base | 0, 0, 0);
    else setSegment(c, s, sel, base | 0, -1, 0xc093);
  }
  c.ldtrSel = 0;
  c.ldtrBase = 0;
  c.ldtrLimit = 0;
  c.trSel = rd(r, F.HOST_TR_SELECTOR);
  c.trBase = rd(r, F.HOST_TR_BASE) | 0;
  c.trLimit = 0x67;
  c.trType = 11;
  c.gdtBase = rd(r, F.HOST_GDTR_BASE) | 0;
  c.gdtLimit = 0xffff;
  c.idtBase = rd(r, F.HOST_IDTR_BASE) | 0;
  c.idtLimit = 0xffff;
  c.regs[ESP] = rd(r, F.HOST_RSP) | 0;
  c.eip = rd(r, F.HOST_RIP) | 0;
  c.setEflags(2, -1);
}
