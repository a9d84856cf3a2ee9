/**
 * One PCI function's 256-byte configuration space with a type 0 header (PCI Local Bus Spec 3.0 §6.1,
 * §6.2): vendor/device ID, command/status, revision and class code, cache line size, latency timer,
 * header type, six base address registers, subsystem IDs, capabilities pointer, interrupt line/pin, and
 * a capability list holding an MSI capability (pci-msi.ts) when asked for.
 *
 * Registers are bytes with a write mask and a write-1-to-clear mask, so any access width works the
 * way the spec describes. BARs (§6.2.5.1) are I/O or 32-bit memory, sized by their write mask: writing
 * all ones reads back ~(size - 1) with the type bits, unused BARs read 0. The device learns where it is
 * decoded through `onBarChange(bar, address)`, called whenever a BAR's decoded address changes: when the
 * BAR moves while decoding is on, or when Command bit 0 (I/O) or 1 (memory) turns its decoding on or
 * off; `address` is null while it is not decoded. As in QEMU (pci_bar_address), address 0, a memory BAR
 * reaching 4 GiB (what a sizing write leaves) and an I/O BAR beyond port 0xFFFF count as not decoded.
 * MSI: `onMsiChange` reports each change the driver makes, and `msiMessage(vector)` gives the message
 * to send (null unless MSI and bus mastering are enabled: an MSI is a memory write by the function).
 *
 * Leaves out: 64-bit and expansion-ROM BARs, PCI-to-PCI bridge (type 1) headers, BIST, the PCIe
 * extended configuration space (offsets 100h-FFFh), and error reporting (the status error bits exist
 * and clear on a write of 1, but nothing sets them).
 */
import { fixupMsi, installMsi, readMsi, type PciMsiConfig, type PciMsiOptions } from "./pci-msi.ts";

export const PciCfg = {
  VENDOR_ID: 0x00, DEVICE_ID: 0x02, COMMAND: 0x04, STATUS: 0x06, REVISION_ID: 0x08, CLASS_CODE: 0x09,
  CACHE_LINE_SIZE: 0x0c, LATENCY_TIMER: 0x0d, HEADER_TYPE: 0x0e, BAR0: 0x10, SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e, CAPABILITIES_PTR: 0x34, INTERRUPT_LINE: 0x3c, INTERRUPT_PIN: 0x3d,
} as const;

export const PciCommand = { IO: 0x001, MEMORY: 0x002, BUS_MASTER: 0x004, PARITY: 0x040, SERR: 0x100, INTX_DISABLE: 0x400 } as const;
export const PciStatus = { INTERRUPT: 0x0008, CAPABILITIES: 0x0010 } as const;

export interface PciBar {
  kind: "io" | "mem32";
  /** Bytes decoded: a power of two, at least 4 (I/O, at most 256) or 16 (memory). */
  size: number;
  prefetchable?: boolean;
}

export interface PciFunctionOptions {
  name?: string;
  vendorId: number;
  deviceId: number;
  /** Base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** Up to six BARs; null or absent entries are unused. */
  bars?: (PciBar | null)[];
  /** 1-4 = INTA#-INTD#, 0 = no INTx (default 0). */
  interruptPin?: number;
  /** Interrupt line register at reset (firmware writes the IRQ there; 0xFF = unknown on x86). */
  interruptLine?: number;
  /** Add an MSI capability. */
  msi?: PciMsiOptions;
  onBarChange?: (bar: number, address: number | null) => void;
  onMsiChange?: (msi: PciMsiConfig) => void;
  /** The command register changed (INTx disable, bus master, decode bits). */
  onCommandChange?: (command: number) => void;
}

/** The function's configuration bytes and what each BAR decodes now (-1: nothing), as plain data. */
export interface PciFunctionState {
  config: Uint8Array;
  decoded: number[];
}

/** Offset of the MSI capability (the first and only capability) and the most bytes it takes. */
export const PCI_MSI_CAP_OFFSET = 0x40;
const PCI_MSI_CAP_BYTES = 14;

const COMMAND_WRITABLE = 0x547;
const STATUS_W1C = 0xf900;

export class PciFunction {
  readonly name: string;
  readonly state: PciFunctionState;
  readonly bars: readonly (PciBar | null)[];
  private readonly wmask = new Uint8Array(256);
  private readonly w1c = new Uint8Array(256);
  private readonly hasMsi: boolean;
  private lastMsi: PciMsiConfig | null = null;

  constructor(private readonly o: PciFunctionOptions) {
    this.name = o.name ?? `pci-${hex4(o.vendorId)}:${hex4(o.deviceId)}`;
    const config = new Uint8Array(256);
    this.state = { config, decoded: [-1, -1, -1, -1, -1, -1] };
    const bars = o.bars ?? [];
    if (bars.length > 6) throw new RangeError(`${this.name}: ${bars.length} BARs (a type 0 header has 6)`);
    this.bars = Array.from({ length: 6 }, (_, k) => bars[k] ?? null);
    this.set16(PciCfg.VENDOR_ID, o.vendorId);
    this.set16(PciCfg.DEVICE_ID, o.deviceId);
    config[PciCfg.REVISION_ID] = o.revision ?? 0;
    config[PciCfg.CLASS_CODE] = o.classCode & 0xff;
    config[PciCfg.CLASS_CODE + 1] = (o.classCode >> 8) & 0xff;
    config[PciCfg.CLASS_CODE + 2] = (o.classCode >> 16) & 0xff;
    this.set16(PciCfg.SUBSYSTEM_VENDOR_ID, o.subsystemVendorId ?? 0);
    this.set16(PciCfg.SUBSYSTEM_ID, o.subsystemId ?? 0);
    const pin = o.interruptPin ?? 0;
    if (!Number.isInteger(pin) || pin < 0 || pin > 4) throw new RangeError(`${this.name}: interrupt pin ${pin} is not 0-4`);
    config[PciCfg.INTERRUPT_PIN] = pin;
    config[PciCfg.INTERRUPT_LINE] = o.interruptLine ?? 0xff;
    this.setMask(PciCfg.COMMAND, COMMAND_WRITABLE, 2);
    this.w1c[PciCfg.STATUS] = STATUS_W1C & 0xff;
    this.w1c[PciCfg.STATUS + 1] = STATUS_W1C >> 8;
    this.wmask[PciCfg.CACHE_LINE_SIZE] = 0xff;
    this.wmask[PciCfg.LATENCY_TIMER] = 0xff;
    this.wmask[PciCfg.INTERRUPT_LINE] = 0xff;
    this.bars.forEach((b, k) => b && this.installBar(k, b));
    this.hasMsi = o.msi !== undefined;
    if (o.msi) {
      installMsi({ config, wmask: this.wmask }, PCI_MSI_CAP_OFFSET, 0, o.msi);
      config[PciCfg.CAPABILITIES_PTR] = PCI_MSI_CAP_OFFSET;
      config[PciCfg.STATUS] |= PciStatus.CAPABILITIES;
      this.lastMsi = this.msi();
    }
  }

  // ---- configuration accesses (offset within the 256 bytes, naturally aligned 1/2/4) ----

  configRead(offset: number, size: 1 | 2 | 4): number {
    const c = this.state.config;
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | c[offset + k];
    return size === 4 ? v >>> 0 : v;
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const c = this.state.config;
    const oldCommand = this.command;
    for (let k = 0; k < size; k++) {
      const at = offset + k;
      const v = (value >>> (8 * k)) & 0xff;
      c[at] = ((c[at] & ~this.wmask[at]) | (v & this.wmask[at])) & ~(v & this.w1c[at]);
    }
    const end = offset + size;
    if (this.hasMsi && end > PCI_MSI_CAP_OFFSET && offset < PCI_MSI_CAP_OFFSET + PCI_MSI_CAP_BYTES) {
      fixupMsi({ config: c, wmask: this.wmask }, PCI_MSI_CAP_OFFSET);
      this.reportMsi();
    }
    if (this.command !== oldCommand) this.o.onCommandChange?.(this.command);
    if ((end > PciCfg.COMMAND && offset < PciCfg.COMMAND + 2) || (end > PciCfg.BAR0 && offset < PciCfg.BAR0 + 24)) {
      this.updateDecoding();
    }
  }

  // ---- what the device and the board read ----

  /** Set (or replace) the BAR listener after construction: the board that maps the function learns of
   * every change of a BAR's decoded address through it. */
  listenToBars(listener: (bar: number, address: number | null) => void): void {
    this.o.onBarChange = listener;
  }

  /** Bytes BAR `k` decodes (0 when the function has no such BAR). */
  barBytes(k: number): number {
    return this.o.bars?.[k]?.size ?? 0;
  }

  get command(): number {
    const c = this.state.config;
    return c[PciCfg.COMMAND] | (c[PciCfg.COMMAND + 1] << 8);
  }

  /** BAR k's programmed base address (type bits removed), whether decoded or not. */
  barAddress(k: number): number {
    const b = this.bars[k];
    if (!b) return 0;
    return (this.configRead(PciCfg.BAR0 + 4 * k, 4) & (b.kind === "io" ? ~3 : ~15)) >>> 0;
  }

  /** What BAR k decodes now, or null. */
  decoded(k: number): number | null {
    const a = this.state.decoded[k];
    return a < 0 ? null : a;
  }

  msi(): PciMsiConfig | null {
    return this.hasMsi ? readMsi({ config: this.state.config, wmask: this.wmask }, PCI_MSI_CAP_OFFSET) : null;
  }

  /** The MSI message for `vector` (0 .. vectors - 1), or null when MSI or bus mastering is off. */
  msiMessage(vector = 0): { address: number; data: number } | null {
    const m = this.msi();
    if (m === null || !m.enabled || !(this.command & PciCommand.BUS_MASTER)) return null;
    const v = vector & (m.vectors - 1);
    return { address: m.address, data: ((m.data & ~(m.vectors - 1)) | v) & 0xffff };
  }

  /** The device reflects its INTx state in Status bit 3 (the board drives the pin itself). */
  setInterruptStatus(asserted: boolean): void {
    const c = this.state.config;
    c[PciCfg.STATUS] = asserted ? c[PciCfg.STATUS] | PciStatus.INTERRUPT : c[PciCfg.STATUS] & ~PciStatus.INTERRUPT;
  }

  /** Header type bit 7 (the bus sets it on function 0 of a multi-function device). */
  setMultiFunction(on: boolean): void {
    const c = this.state.config;
    c[PciCfg.HEADER_TYPE] = on ? c[PciCfg.HEADER_TYPE] | 0x80 : c[PciCfg.HEADER_TYPE] & 0x7f;
  }

  // ---- internals ----

  private installBar(k: number, b: PciBar): void {
    const min = b.kind === "io" ? 4 : 16;
    const max = b.kind === "io" ? 256 : 2 ** 31;
    if (!Number.isInteger(b.size) || b.size < min || b.size > max || (b.size & (b.size - 1)) !== 0) {
      throw new RangeError(`${this.name}: BAR${k} size ${b.size} is not a power of two from ${min} to ${max}`);
    }
    const at = PciCfg.BAR0 + 4 * k;
    const type = b.kind === "io" ? 1 : b.prefetchable ? 8 : 0;
    this.state.config[at] = type;
    this.setMask(at, ~(b.size - 1) & (b.kind === "io" ? ~3 : ~15), 4);
  }

  private updateDecoding(): void {
    const cmd = this.command;
    for (let k = 0; k < 6; k++) {
      const b = this.bars[k];
      if (!b) continue;
      const on = (cmd & (b.kind === "io" ? PciCommand.IO : PciCommand.MEMORY)) !== 0;
      const base = this.barAddress(k);
      const last = base + b.size - 1;
      const valid = on && base !== 0 && (b.kind === "io" ? last <= 0xffff : last < 0xffffffff);
      const a = valid ? base : -1;
      if (a !== this.state.decoded[k]) {
        this.state.decoded[k] = a;
        this.o.onBarChange?.(k, valid ? base : null);
      }
    }
  }

  private reportMsi(): void {
    const m = this.msi()!;
    const l = this.lastMsi;
    if (l && l.enabled === m.enabled && l.address === m.address && l.data === m.data && l.vectors === m.vectors) return;
    this.lastMsi = m;
    this.o.onMsiChange?.(m);
  }

  private set16(at: number, v: number): void {
    this.state.config[at] = v & 0xff;
    this.state.config[at + 1] = (v >> 8) & 0xff;
  }

  private setMask(at: number, mask: number, bytes: number): void {
    for (let k = 0; k < bytes; k++) this.wmask[at + k] = (mask >>> (8 * k)) & 0xff;
  }
}

function hex4(v: number): string {
  return (v & 0xffff).toString(16).padStart(4, "0");
}
