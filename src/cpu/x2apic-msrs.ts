/**
 * The local APIC's MSR interface (SDM Vol. 3A 10.12.1.2 Table 10-6 "Local APIC Register Address Map
 * Supported by x2APIC", 10.12.1.3 reserved-bit checking, 10.5.4.1 IA32_TSC_DEADLINE, 10.4.4 and
 * 10.12.5 IA32_APIC_BASE), defined with msr.ts defineMsr when this module is imported.
 *
 * x2APIC registers are MSR 800H + (xAPIC offset >> 4). Every access raises #GP(0) when the core has no
 * local APIC or the APIC is not in x2APIC mode (10.12.1.2), and also for: RDMSR of a write-only register
 * (EOI, SELF IPI), WRMSR of a read-only one, a non-zero write to EOI or ESR, and a write that sets a
 * reserved bit (bits 63:32 of everything but the ICR; the bits each register does not define). MSRs in
 * 800H-8FFH that Table 10-6 does not list (DFR 80EH, ICR high 831H, APR, RRD, CMCI 82FH on a model
 * without CMCI) are not defined, so msr.ts raises #GP(0) for them.
 *
 * IA32_TSC_DEADLINE (6E0H) exists when the APIC supports TSC-deadline mode (#GP(0) otherwise).
 * IA32_APIC_BASE (1BH) is defined here only if msr.ts does not define it already (msr.ts's storage-only
 * definition predates the local APIC; see apicBaseMsr below for the semantics once it is removed).
 *
 * Time: the local APIC reads its Clock, which the machine keeps at the core's exact time during an
 * instruction, so `cyclesBefore` is not used here.
 */
import type { CoreState } from "./core-state.ts";
import { fault } from "./exceptions.ts";
import type { LocalApic } from "./lapic.ts";
import { defineMsr, isMsrDefined, type MsrDefinition } from "./msr.ts";
import { ICR_LO_WRITABLE, LVT_DELIVERY_STATUS, LVT_REMOTE_IRR } from "./lapic-registers.ts";

const GP = 13;
export const IA32_APIC_BASE = 0x1b;
export const IA32_TSC_DEADLINE = 0x6e0;
export const X2APIC_MSR_BASE = 0x800;

type Access = "ro" | "rw" | "wo";

interface X2apicRegister {
  /** xAPIC offset. */
  offset: number;
  /** SDM Vol. 4 name after IA32_X2APIC_. */
  name: string;
  access: Access;
  /** Bits a write may set (a write setting any other bit raises #GP); a function when it depends on the APIC. */
  writable?: number | ((a: LocalApic) => number);
}

const X2APIC_REGISTERS: X2apicRegister[] = [
  { offset: 0x020, name: "APICID", access: "ro" },
  { offset: 0x030, name: "VERSION", access: "ro" },
  { offset: 0x080, name: "TPR", access: "rw", writable: 0xff },
  { offset: 0x0a0, name: "PPR", access: "ro" },
  { offset: 0x0b0, name: "EOI", access: "wo", writable: 0 },
  { offset: 0x0d0, name: "LDR", access: "ro" },
  { offset: 0x0f0, name: "SIVR", access: "rw", writable: (a) => a.svrWritableMask },
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ offset: 0x100 + 16 * i, name: `ISR${i}`, access: "ro" as Access })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ offset: 0x180 + 16 * i, name: `TMR${i}`, access: "ro" as Access })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ offset: 0x200 + 16 * i, name: `IRR${i}`, access: "ro" as Access })),
  { offset: 0x280, name: "ESR", access: "rw", writable: 0 },
  { offset: 0x300, name: "ICR", access: "rw", writable: ICR_LO_WRITABLE },
  // LVT entries: read-only status bits may be written (as read back), the others are reserved.
  ...["LVT_TIMER", "LVT_THERMAL", "LVT_PMI", "LVT_LINT0", "LVT_LINT1", "LVT_ERROR"].map((name, i) => ({
    offset: 0x320 + 16 * i,
    name,
    access: "rw" as Access,
    writable: (a: LocalApic) => a.lvtWritableMask(i) | LVT_DELIVERY_STATUS | (i === 3 || i === 4 ? LVT_REMOTE_IRR : 0),
  })),
  { offset: 0x380, name: "INIT_COUNT", access: "rw", writable: 0xffffffff },
  { offset: 0x390, name: "CUR_COUNT", access: "ro" },
  { offset: 0x3e0, name: "DIV_CONF", access: "rw", writable: 0xb },
  { offset: 0x3f0, name: "SELF_IPI", access: "wo", writable: 0xff },
];

/** The core's local APIC in x2APIC mode, else #GP(0). */
function x2apicOf(c: CoreState): LocalApic {
  const a = c.lapic;
  if (a === null || !a.x2apicMode) fault(GP, 0);
  return a;
}

function defineX2apicRegister(r: X2apicRegister): void {
  const isIcr = r.offset === 0x300;
  defineMsr({
    index: X2APIC_MSR_BASE + (r.offset >>> 4),
    name: `IA32_X2APIC_${r.name}`,
    read: (c, _s, out) => {
      const a = x2apicOf(c);
      if (r.access === "wo") fault(GP, 0);
      out[0] = a.readRegister(r.offset);
      out[1] = isIcr ? a.readRegister(0x310) : 0;
    },
    write: (c, lo, hi) => {
      const a = x2apicOf(c);
      if (r.access === "ro") fault(GP, 0);
      const w = typeof r.writable === "function" ? r.writable(a) : (r.writable ?? 0);
      if ((lo & ~w) !== 0 || (!isIcr && hi !== 0)) fault(GP, 0);
      if (isIcr) a.writeIcr64(lo, hi);
      else a.writeRegister(r.offset, lo);
    },
  });
}

for (const r of X2APIC_REGISTERS) defineX2apicRegister(r);

defineMsr({
  index: IA32_TSC_DEADLINE,
  name: "IA32_TSC_DEADLINE",
  read: (c, _s, out) => {
    const a = c.lapic;
    if (a === null || !a.tscDeadlineSupported) fault(GP, 0);
    [out[0], out[1]] = a.readTscDeadline();
  },
  write: (c, lo, hi) => {
    const a = c.lapic;
    if (a === null || !a.tscDeadlineSupported) fault(GP, 0);
    a.writeTscDeadline(lo, hi);
  },
});

/**
 * IA32_APIC_BASE backed by the local APIC (LocalApic.readMsrApicBase / writeMsrApicBase: the BSP bit,
 * the base, EN and EXTD with the legal transitions of 10.12.5). A core without a local APIC keeps the
 * storage behaviour of msr.ts (reset FEE00000H | EN | BSP on core 0; BSP read-only).
 */
export const apicBaseMsr: MsrDefinition = {
  index: IA32_APIC_BASE,
  name: "IA32_APIC_BASE",
  reset: (c) => [0xfee00000 | (1 << 11) | (c.id === 0 ? 1 << 8 : 0), 0],
  read: (c, stored, out) => {
    if (c.lapic === null) {
      out[0] = stored[0];
      out[1] = stored[1];
      return;
    }
    [out[0], out[1]] = c.lapic.readMsrApicBase();
  },
  write: (c, lo, hi, stored) => {
    if (c.lapic !== null) {
      c.lapic.writeMsrApicBase(lo, hi);
      return;
    }
    if (hi !== 0 || (lo & ~(0xfffff000 | (1 << 11) | (1 << 8))) !== 0) fault(GP, 0);
    stored[0] = ((lo & ~(1 << 8)) | (stored[0] & (1 << 8))) >>> 0;
  },
};

if (!isMsrDefined(IA32_APIC_BASE)) defineMsr(apicBaseMsr);
