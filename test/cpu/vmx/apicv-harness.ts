/**
 * Test fixture for the APIC-virtualization modules: a small RAM (PhysicalMemory32 over a Uint8Array that
 * rejects unaligned dword accesses, so a module that forgets to split a sub-dword access fails loudly), a
 * VMCS made active through a VmcsCache, and the pages at fixed addresses. Fields are set with VMWRITE's own
 * rules (writeField), as a VMM would.
 */
import { VmcsCache, readField, writeField, type PhysicalMemory32, type VmcsRegion } from "../../../src/cpu/vmx/vmcs.ts";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import {
  PROC_ACTIVATE_SECONDARY_CONTROLS,
  PROC_USE_TPR_SHADOW,
} from "../../../src/cpu/vmx/vmx-controls.ts";
import type { ApicvContext } from "../../../src/cpu/vmx/virtual-apic-page.ts";

export const VMCS_PA = 0x1000;
export const VAPIC_PA = 0x2000;
export const APIC_ACCESS_PA = 0x3000;
export const PID_PA = 0x4040;

export class Ram implements PhysicalMemory32 {
  readonly bytes = new Uint8Array(0x8000);
  private readonly view = new DataView(this.bytes.buffer);
  read32(pa: number): number {
    if ((pa & 3) !== 0) throw new Error(`unaligned read32 at ${pa.toString(16)}`);
    return this.view.getUint32(pa, true);
  }
  write32(pa: number, value: number): void {
    if ((pa & 3) !== 0) throw new Error(`unaligned write32 at ${pa.toString(16)}`);
    this.view.setUint32(pa, value >>> 0, true);
  }
  /** The dword at a physical address, read directly (not through the module under test). */
  peek(pa: number): number {
    return this.view.getUint32(pa, true);
  }
  poke(pa: number, value: number): void {
    this.view.setUint32(pa, value >>> 0, true);
  }
}

export interface Setup {
  pin?: number;
  /** Primary controls; "use TPR shadow" and "activate secondary controls" are added unless noTprShadow /
   * noSecondary. */
  proc?: number;
  proc2?: number;
  noTprShadow?: boolean;
  noSecondary?: boolean;
  tprThreshold?: number;
  /** Guest interrupt status: RVI | SVI << 8. */
  intStatus?: number;
  /** EOI-exit bitmap as four [low, high] dword pairs. */
  eoiExit?: readonly (readonly [number, number])[];
  pinv?: number;
}

export interface Fixture {
  ram: Ram;
  vmcs: VmcsRegion;
  ctx: ApicvContext;
  /** A dword of the virtual-APIC page. */
  vapic(offset: number): number;
  setVapic(offset: number, value: number): void;
  rvi(): number;
  svi(): number;
  /** A 256-bit register of the virtual-APIC page (100H ISR, 200H IRR) as the sorted list of set vectors. */
  vectors(base: number): number[];
  set(encoding: number, value: number): void;
}

function mustWrite(vmcs: VmcsRegion, encoding: number, value: number): void {
  if (writeField(vmcs, encoding, value) !== 0) throw new Error(`VMWRITE ${encoding.toString(16)} failed`);
}

export function makeFixture(s: Setup = {}): Fixture {
  const ram = new Ram();
  const vmcs = new VmcsCache(ram).load(VMCS_PA);
  let proc = s.proc ?? 0;
  if (!s.noTprShadow) proc |= PROC_USE_TPR_SHADOW;
  if (!s.noSecondary) proc |= PROC_ACTIVATE_SECONDARY_CONTROLS;
  mustWrite(vmcs, VmcsField.PIN_BASED_VM_EXECUTION_CONTROLS, s.pin ?? 0);
  mustWrite(vmcs, VmcsField.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc);
  mustWrite(vmcs, VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, s.proc2 ?? 0);
  mustWrite(vmcs, VmcsField.VIRTUAL_APIC_ADDRESS, VAPIC_PA);
  mustWrite(vmcs, VmcsField.APIC_ACCESS_ADDRESS, APIC_ACCESS_PA);
  mustWrite(vmcs, VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, PID_PA);
  mustWrite(vmcs, VmcsField.POSTED_INTERRUPT_NOTIFICATION_VECTOR, s.pinv ?? 0);
  mustWrite(vmcs, VmcsField.TPR_THRESHOLD, s.tprThreshold ?? 0);
  mustWrite(vmcs, VmcsField.GUEST_INTERRUPT_STATUS, s.intStatus ?? 0);
  const eoi = s.eoiExit ?? [];
  for (let i = 0; i < 4; i++) {
    const [lo, hi] = eoi[i] ?? [0, 0];
    mustWrite(vmcs, VmcsField.EOI_EXIT_BITMAP_0 + 2 * i, lo);
    mustWrite(vmcs, VmcsField.EOI_EXIT_BITMAP_0_HIGH + 2 * i, hi);
  }
  const ctx: ApicvContext = { mem: ram, vmcs };
  const status = (): number => readField(vmcs, VmcsField.GUEST_INTERRUPT_STATUS) ?? -1;
  return {
    ram,
    vmcs,
    ctx,
    vapic: (offset) => ram.peek(VAPIC_PA + offset),
    setVapic: (offset, value) => ram.poke(VAPIC_PA + offset, value),
    rvi: () => status() & 0xff,
    svi: () => status() >>> 8,
    vectors(base) {
      const out: number[] = [];
      for (let v = 0; v < 256; v++) {
        // SDM 29.1.1: bit x at bit position (x & 1FH) of the dword at base | ((x & E0H) >> 1).
        if (((ram.peek(VAPIC_PA + (base | ((v & 0xe0) >> 1))) >>> (v & 31)) & 1) !== 0) out.push(v);
      }
      return out;
    },
    set: (encoding, value) => mustWrite(vmcs, encoding, value),
  };
}
