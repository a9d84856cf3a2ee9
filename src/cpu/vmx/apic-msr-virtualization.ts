/**
 * RDMSR and WRMSR of the x2APIC MSRs 800H-8FFH under "virtualize x2APIC mode" (SDM Vol. 3C 29.5
 * "Virtualizing MSR-Based APIC Accesses").
 *
 * The core calls these in VMX non-root operation once RDMSR/WRMSR has passed its CPL check and the MSR
 * bitmaps have not made it exit (SDM 25.1.3), with ECX in 800H-8FFH. A "normal" answer means the
 * instruction operates as it would without the control (the real x2APIC register, or #GP when the local
 * APIC is not in x2APIC mode); "gp" means #GP(0); "virtualized" means the virtual-APIC page was used, and
 * for WRMSR the outcome is the trap-like VM exit to take after the instruction completes, if any.
 *
 *   RDMSR  APIC-register virtualization 1: every ECX in 800H-8FFH reads the 8 bytes at offset
 *          (ECX & FFH) << 4 of the virtual-APIC page into EDX:EAX (so 830H gives VICR_LO and the 4 bytes
 *          above it, not the x2APIC ICR; PPR 80AH reads VPPR). kvm-unit-tests virt_x2apic_mode_test expects
 *          every register 800H-83FH to read from the page in this configuration.
 *          APIC-register virtualization 0: only 808H (TPR) is virtualized, bytes 87H:80H.
 *   WRMSR  808H: EDX:EAX bits 63:8 set -> #GP(0); else stored to bytes 87H:80H, then TPR virtualization.
 *          With virtual-interrupt delivery, 80BH (EOI): a non-zero EDX:EAX -> #GP(0); else EOI
 *          virtualization (VEOI is not written); 83FH (self IPI): bits 63:8 set -> #GP(0); a vector below
 *          16 is stored to bytes 3F7H:3F0H and causes an APIC-write VM exit with qualification 3F0H,
 *          another vector goes to self-IPI virtualization. Every other MSR: normal.
 * All of this applies whether or not the local APIC is in x2APIC mode (29.5). The #GP and 3F0H rules follow
 * Bochs vapic.cc Virtualize_X2APIC_Write.
 *
 * Leaves out: the MSR-bitmap lookup itself (the core's), and IA32_TSC_DEADLINE / APIC-timer virtualization.
 */
import { ExitReason } from "./exit-reasons.ts";
import {
  VAPIC_SELF_IPI,
  VAPIC_TPR,
  apicRegisterVirtualization,
  readVapic64,
  virtualInterruptDelivery,
  virtualizeX2apicMode,
  writeVapic64,
  type ApicvContext,
} from "./virtual-apic-page.ts";
import {
  apicvExit,
  eoiVirtualization,
  selfIpiVirtualization,
  tprVirtualization,
  type ApicvOutcome,
} from "./virtual-interrupt-delivery.ts";

export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0x8ff;
const MSR_TPR = 0x808;
const MSR_EOI = 0x80b;
const MSR_SELF_IPI = 0x83f;
const APIC_WRITE = ExitReason.APIC_WRITE;

export interface X2apicMsrNormal {
  kind: "normal";
}

export interface X2apicMsrGp {
  kind: "gp";
}

/** RDMSR from the virtual-APIC page: EAX = lo, EDX = hi. */
export interface X2apicMsrReadVirtualized {
  kind: "virtualized";
  lo: number;
  hi: number;
}

/** WRMSR virtualized; `outcome` is what TPR, EOI or self-IPI virtualization (or the 3F0H rule) gave. */
export interface X2apicMsrWriteVirtualized {
  kind: "virtualized";
  outcome: ApicvOutcome;
}

const NORMAL: X2apicMsrNormal = Object.freeze({ kind: "normal" });
const GP: X2apicMsrGp = Object.freeze({ kind: "gp" });

function inRange(msr: number): boolean {
  return msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST;
}

/** RDMSR with ECX = `msr` (29.5). */
export function x2apicMsrRead(ctx: ApicvContext, msr: number): X2apicMsrNormal | X2apicMsrReadVirtualized {
  if (!inRange(msr) || !virtualizeX2apicMode(ctx)) return NORMAL;
  let offset: number;
  if (apicRegisterVirtualization(ctx)) offset = (msr & 0xff) << 4;
  else if (msr === MSR_TPR) offset = VAPIC_TPR;
  else return NORMAL;
  const [lo, hi] = readVapic64(ctx, offset);
  return { kind: "virtualized", lo, hi };
}

/** WRMSR with ECX = `msr`, EAX = `lo`, EDX = `hi` (29.5). */
export function x2apicMsrWrite(
  ctx: ApicvContext,
  msr: number,
  lo: number,
  hi: number,
): X2apicMsrNormal | X2apicMsrGp | X2apicMsrWriteVirtualized {
  if (!inRange(msr) || !virtualizeX2apicMode(ctx)) return NORMAL;
  const eax = lo >>> 0;
  const edx = hi >>> 0;
  if (msr === MSR_TPR) {
    if (edx !== 0 || (eax & ~0xff) !== 0) return GP;
    writeVapic64(ctx, VAPIC_TPR, eax, 0);
    return { kind: "virtualized", outcome: tprVirtualization(ctx) };
  }
  if (!virtualInterruptDelivery(ctx)) return NORMAL;
  if (msr === MSR_EOI) {
    if (edx !== 0 || eax !== 0) return GP;
    return { kind: "virtualized", outcome: eoiVirtualization(ctx) };
  }
  if (msr === MSR_SELF_IPI) {
    if (edx !== 0 || (eax & ~0xff) !== 0) return GP;
    if (eax < 16) {
      writeVapic64(ctx, VAPIC_SELF_IPI, eax, 0);
      return { kind: "virtualized", outcome: apicvExit(APIC_WRITE, VAPIC_SELF_IPI) };
    }
    return { kind: "virtualized", outcome: selfIpiVirtualization(ctx, eax) };
  }
  return NORMAL;
}
