/**
 * The local APIC register map and register bit fields (SDM Vol. 3A 10.4.1 Table 10-1 "Local APIC
 * Register Address Map", 10.5.1 Figure 10-8 (LVT), 10.5.3 Figure 10-9 (ESR), 10.5.4 Figure 10-10 (DCR),
 * 10.6.1 Figure 10-12 (ICR), 10.9 Figure 10-23 (SVR), 10.12.1.2 Table 10-6 (x2APIC MSR = 800H + offset/16)).
 *
 * Offsets are into the 4 KiB xAPIC page; every register sits at a 16-byte-aligned offset.
 * Leaves out: the CMCI LVT (2F0H; not on Core 2, so the version register reports 6 LVT entries).
 */

export const enum ApicReg {
  ID = 0x020,
  VERSION = 0x030,
  TPR = 0x080,
  APR = 0x090,
  PPR = 0x0a0,
  EOI = 0x0b0,
  RRD = 0x0c0,
  LDR = 0x0d0,
  DFR = 0x0e0,
  SVR = 0x0f0,
  ISR0 = 0x100,
  TMR0 = 0x180,
  IRR0 = 0x200,
  ESR = 0x280,
  ICR_LO = 0x300,
  ICR_HI = 0x310,
  LVT_TIMER = 0x320,
  LVT_THERMAL = 0x330,
  LVT_PERF = 0x340,
  LVT_LINT0 = 0x350,
  LVT_LINT1 = 0x360,
  LVT_ERROR = 0x370,
  TIMER_INITIAL = 0x380,
  TIMER_CURRENT = 0x390,
  TIMER_DCR = 0x3e0,
  /** x2APIC only (MSR 83FH); reserved in xAPIC mode. */
  SELF_IPI = 0x3f0,
}

/** Index of each LVT entry in LocalApic's lvt array (= (offset - 320H) / 16). */
export const enum Lvt {
  TIMER = 0,
  THERMAL = 1,
  PERF = 2,
  LINT0 = 3,
  LINT1 = 4,
  ERROR = 5,
}
export const LVT_COUNT = 6;

/** LVT and ICR bits (Figure 10-8, 10-12). */
export const LVT_MASKED = 1 << 16;
export const LVT_DELIVERY_STATUS = 1 << 12;
export const LVT_POLARITY_LOW = 1 << 13;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_LEVEL = 1 << 15;
export const TIMER_MODE_SHIFT = 17;

/**
 * Bits software may write in each LVT entry (Figure 10-8), read-only bits (delivery status, remote IRR)
 * excluded. The timer's mode field is 2 bits wide only when TSC-deadline mode exists (10.5.4.1).
 */
export const LVT_WRITABLE: readonly number[] = [
  0x000300ff, // timer: vector, mask, mode bit 17 (bit 18 added when TSC-deadline is supported)
  0x000107ff, // thermal: vector, delivery mode, mask
  0x000107ff, // performance counter
  0x0001a7ff, // LINT0: vector, delivery mode, polarity, trigger, mask
  0x0001a7ff, // LINT1
  0x000100ff, // error: vector, mask
];
export const TIMER_TSC_DEADLINE_BIT = 1 << 18;

/** ESR bits (10.5.3 Figure 10-9). Bits 0-3 exist only on P6 and Pentium processors. */
export const enum Esr {
  REDIRECTABLE_IPI = 1 << 4,
  SEND_ILLEGAL_VECTOR = 1 << 5,
  RECEIVE_ILLEGAL_VECTOR = 1 << 6,
  ILLEGAL_REGISTER = 1 << 7,
}

/** SVR bits (Figure 10-23). */
export const SVR_ENABLE = 1 << 8;
export const SVR_FOCUS_DISABLE = 1 << 9;
export const SVR_EOI_SUPPRESS = 1 << 12;

/** ICR low-dword bits (Figure 10-12). */
export const ICR_DELIVERY_STATUS = 1 << 12;
export const ICR_LEVEL = 1 << 14;
export const ICR_TRIGGER = 1 << 15;
/** Writable ICR low bits: vector, delivery mode, destination mode, level, trigger, shorthand. */
export const ICR_LO_WRITABLE = 0x000ccfff;

/** Physical destination "all" as carried on the bus (devices/interrupt-message.ts BROADCAST_DEST). */
export const BROADCAST = 0xffffffff;

/** Register offsets that exist in xAPIC mode (Table 10-1). */
const XAPIC_VALID: ReadonlySet<number> = new Set([
  ApicReg.ID, ApicReg.VERSION, ApicReg.TPR, ApicReg.APR, ApicReg.PPR, ApicReg.EOI, ApicReg.RRD,
  ApicReg.LDR, ApicReg.DFR, ApicReg.SVR,
  ...Array.from({ length: 8 }, (_, i) => ApicReg.ISR0 + 16 * i),
  ...Array.from({ length: 8 }, (_, i) => ApicReg.TMR0 + 16 * i),
  ...Array.from({ length: 8 }, (_, i) => ApicReg.IRR0 + 16 * i),
  ApicReg.ESR, ApicReg.ICR_LO, ApicReg.ICR_HI,
  ApicReg.LVT_TIMER, ApicReg.LVT_THERMAL, ApicReg.LVT_PERF, ApicReg.LVT_LINT0, ApicReg.LVT_LINT1,
  ApicReg.LVT_ERROR, ApicReg.TIMER_INITIAL, ApicReg.TIMER_CURRENT, ApicReg.TIMER_DCR,
]);

/** Whether `offset` (16-byte aligned) names an xAPIC register; others are reserved (ESR bit 7). */
export function isXapicRegister(offset: number): boolean {
  return XAPIC_VALID.has(offset);
}

/** APIC timer divide configuration (Figure 10-10): DCR bits 3,1,0 -> divisor. */
export function timerDivisor(dcr: number): number {
  const code = ((dcr >>> 1) & 4) | (dcr & 3);
  return code === 7 ? 1 : 2 << code;
}
