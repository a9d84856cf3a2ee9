/**
 * The catalog of device types (shared/DESIGN.md §5: "to add a device: one file in devices/, a catalog
 * entry"): for each kind, what it needs from the board (port count, MMIO bytes, interrupt pins), where a
 * PC conventionally puts it, its PCI identity if it has one, how a partition may be given it, and a
 * factory. Scenarios name devices by kind; the board maps `port` at the chosen port base, `mmio` at the
 * chosen MMIO base, and `fixedPorts` where they say, and wires `irq` lines to the pins it chose.
 *
 * Conventional PC resources (IBM PC/AT I/O map; IA-PC HPET spec 1.0a §3.2.2 and the ACPI HPET table):
 * COM1 0x3F8-0x3FF IRQ4, COM2 0x2F8 IRQ3 (COM3 0x3E8 IRQ4, COM4 0x2E8 IRQ3: PC_COM_PORTS); PIT 0x40-0x43
 * with system control port B at 0x61, on ISA IRQ0, which reaches IOAPIC pin 2 because the MADT's
 * interrupt source override maps IRQ0 there (pin 0 is the 8259's ExtINT); HPET 1 KiB at 0xFED00000 with
 * its three timers routed by the guest (their lines are ctx.irq[0..2]; see hpet.ts); PCI mechanism #1 at
 * 0xCF8-0xCFF. Modes: timers and the PCI configuration space are platform resources the VMM keeps
 * ("exclusive" timers may be handed to one partition whole); the UART may be exclusive, emulated or
 * paravirtual.
 * Leaves out: the option schemas of a scenario file (the scenario layer validates types and paths; the
 * factories here reject unknown option names and wrong types with a RangeError naming both).
 */
import type { Clock } from "../sim/clock.ts";
import type { Rng } from "../sim/rng.ts";
import type { DmaPort } from "./dma.ts";
import { Hpet, HPET_MMIO_BYTES } from "./hpet.ts";
import { UNCONNECTED, type IrqLine, type MsiSink } from "./irq-line.ts";
import type { MmioDevice } from "./mmio-bus.ts";
import { PCI_CONFIG_PORT, PCI_CONFIG_PORTS, PciConfigSpace } from "./pci-config.ts";
import type { PciFunction } from "./pci-function.ts";
import { Pit8254, PitPort61 } from "./pit-8254.ts";
import type { PortDevice } from "./port-bus.ts";
import { Uart16550 } from "./uart-16550.ts";

export type DeviceMode = "exclusive" | "emulated" | "paravirtual";
export type DeviceKind = "uart16550" | "pit8254" | "hpet" | "pci-config" | (string & {});

export interface DeviceContext {
  clock: Clock;
  /** Interrupt lines, in the order the type's resources.irqPins counts them. */
  irq: IrqLine[];
  dma?: DmaPort;
  /** Where MSI messages go (devices with an MSI capability). */
  msi?: MsiSink;
  rng?: Rng;
  options: Record<string, unknown>;
}

/** What a factory returns: the register blocks for the board to map, and the model with its state. */
export interface DeviceInstance {
  kind: DeviceKind;
  /** Registers on the port bus: resources.ports ports from wherever the board puts them. */
  port?: PortDevice;
  /** Registers in MMIO space: resources.mmioBytes bytes. */
  mmio?: MmioDevice;
  /** Port ranges at fixed addresses that come with the device (the PIT's port 0x61). */
  fixedPorts?: { port: number; length: number; device: PortDevice }[];
  /** The PCI function describing the device, for the board to add to the configuration space. */
  pci?: PciFunction;
  /** The model object (Uart16550, Pit8254, ...). */
  device: unknown;
  /** Its plain-data state (for dumps and snapshots). */
  state: unknown;
}

export interface DeviceType {
  kind: DeviceKind;
  description: string;
  resources: { ports?: number; mmioBytes?: number; irqPins?: number };
  defaults: { portBase?: number; mmioBase?: number; irq?: number };
  pci?: { vendorId: number; deviceId: number; classCode: number };
  modes: readonly DeviceMode[];
  create(ctx: DeviceContext): DeviceInstance;
}

/** The four PC serial ports (base, ISA IRQ). */
export const PC_COM_PORTS = [
  { name: "COM1", portBase: 0x3f8, irq: 4 },
  { name: "COM2", portBase: 0x2f8, irq: 3 },
  { name: "COM3", portBase: 0x3e8, irq: 4 },
  { name: "COM4", portBase: 0x2e8, irq: 3 },
] as const;

const catalog = new Map<string, DeviceType>();
const MODES: readonly DeviceMode[] = ["exclusive", "emulated", "paravirtual"];

/** Adds a device type. Throws if the kind is taken or the entry is malformed. */
export function registerDeviceType(t: DeviceType): void {
  const bad = (why: string) => new RangeError(`device catalog: ${t.kind}: ${why}`);
  if (typeof t.kind !== "string" || t.kind === "") throw new RangeError("device catalog: a device type needs a kind");
  if (catalog.has(t.kind)) throw bad("already registered");
  if (t.modes.length === 0 || t.modes.some((m) => !MODES.includes(m))) throw bad(`modes ${JSON.stringify(t.modes)} are not a non-empty subset of ${MODES.join(", ")}`);
  for (const [k, v] of Object.entries(t.resources)) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw bad(`resources.${k} ${v} is not a count`);
  }
  const { ports, mmioBytes } = t.resources;
  if (t.defaults.portBase !== undefined && !(ports && t.defaults.portBase + ports <= 0x10000)) throw bad("defaults.portBase without room for resources.ports");
  if (t.defaults.mmioBase !== undefined && !(mmioBytes && t.defaults.mmioBase + mmioBytes <= 2 ** 32)) throw bad("defaults.mmioBase without room for resources.mmioBytes");
  catalog.set(t.kind, t);
}

/** The type registered for `kind`; throws naming the known kinds. */
export function deviceType(kind: string): DeviceType {
  const t = catalog.get(kind);
  if (!t) throw new RangeError(`device catalog: unknown device kind '${kind}' (known: ${[...catalog.keys()].join(", ")})`);
  return t;
}

export function deviceTypes(): DeviceType[] {
  return [...catalog.values()];
}

// ---- option checking shared by the factories ----

type OptionType = "number" | "boolean" | "function" | "string" | "number[]";

/** Throws on an option the kind does not know or of the wrong type; returns the options typed loosely. */
function checkOptions(kind: string, options: Record<string, unknown>, spec: Record<string, OptionType>): Record<string, any> {
  for (const [k, v] of Object.entries(options)) {
    const want = spec[k];
    if (want === undefined) throw new RangeError(`${kind}: unknown option '${k}' (known: ${Object.keys(spec).join(", ")})`);
    if (v === undefined) continue;
    const ok = want === "number[]" ? Array.isArray(v) && v.every((x) => typeof x === "number") : typeof v === want;
    if (!ok) throw new RangeError(`${kind}: option '${k}' must be ${want === "number[]" ? "an array of numbers" : `a ${want}`} (got ${typeof v})`);
  }
  return options;
}

const line = (ctx: DeviceContext, k: number): IrqLine => ctx.irq[k] ?? UNCONNECTED;

// ---- the PC-standard devices ----

registerDeviceType({
  kind: "uart16550",
  description: "UART 16550A serial port (16-byte FIFOs, baud-rate timing); COM1 by default",
  resources: { ports: 8, irqPins: 1 },
  defaults: { portBase: 0x3f8, irq: 4 },
  modes: ["exclusive", "emulated", "paravirtual"],
  create(ctx) {
    const o = checkOptions("uart16550", ctx.options, {
      name: "string", sink: "function", resetDivisor: "number", modemInputs: "number", out2GatesIrq: "boolean",
    });
    const uart = new Uart16550({ ...o, clock: ctx.clock, irq: line(ctx, 0) });
    return { kind: "uart16550", port: uart, device: uart, state: uart.state };
  },
});

registerDeviceType({
  kind: "pit8254",
  description: "Intel 8254 PIT at 1.193182 MHz (channel 0 -> IRQ0), with system control port B (0x61)",
  resources: { ports: 4, irqPins: 1 },
  defaults: { portBase: 0x40, irq: 0 },
  modes: ["exclusive"],
  create(ctx) {
    const o = checkOptions("pit8254", ctx.options, { name: "string", inputHz: "number", biosInit: "boolean", port61: "boolean" });
    const { port61, ...rest } = o;
    const pit = new Pit8254({ ...rest, clock: ctx.clock, irq: line(ctx, 0) });
    const fixedPorts = port61 === false ? [] : [{ port: 0x61, length: 1, device: new PitPort61(pit) }];
    return { kind: "pit8254", port: pit, fixedPorts, device: pit, state: pit.state };
  },
});

registerDeviceType({
  kind: "hpet",
  description: "HPET, 14.31818 MHz 64-bit counter and 3 timers (one interrupt line each, routed by the guest)",
  resources: { mmioBytes: HPET_MMIO_BYTES, irqPins: 3 },
  defaults: { mmioBase: 0xfed00000 },
  modes: ["exclusive"],
  create(ctx) {
    const o = checkOptions("hpet", ctx.options, {
      name: "string", timers: "number", periodFs: "number", routeCaps: "number[]", vendorId: "number",
      onRouteChange: "function", onLegacyReplacement: "function",
    });
    const hpet = new Hpet({ ...o, clock: ctx.clock, irqs: ctx.irq });
    return { kind: "hpet", mmio: hpet, device: hpet, state: hpet.state };
  },
});

registerDeviceType({
  kind: "pci-config",
  description: "PCI configuration mechanism #1 (0xCF8/0xCFC), bus 0 with a 440FX host bridge at 00:00.0",
  resources: { ports: PCI_CONFIG_PORTS },
  defaults: { portBase: PCI_CONFIG_PORT },
  modes: ["emulated"],
  create(ctx) {
    checkOptions("pci-config", ctx.options, {});
    const pci = new PciConfigSpace();
    return { kind: "pci-config", port: pci, device: pci, state: pci.state };
  },
});
