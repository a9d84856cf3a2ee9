/**
 * Scenario data -> the objects of one run (shared/DESIGN.md §3 "Scenarios are data"): the machine with its
 * CPU profile, caches (CAT masks) and board (IOAPIC, MSI), the embedded VMM with its partitions, the
 * physical devices (created from the device catalog) given to partitions exclusively or shared through the
 * VMM's device models, and each partition's guest image built for it (or loaded from a Multiboot ELF).
 * Placement is the validator's (scenario-validate.ts deviceResources; README "Scenario files"); a device's
 * guest window is at its host address.
 * The scenario was validated before (scenario-validate.ts); what can still fail here is reported as a
 * ConfigError-like RangeError naming the object.
 */
import { Machine } from "../cpu/machine.ts";
import { getProfile } from "../cpu/profiles/index.ts";
import { IoApic } from "../devices/io-apic.ts";
import { MsiRouter } from "../devices/msi.ts";
import { deviceType, type DeviceInstance } from "../devices/device-catalog.ts";
import "../devices/experiment-cards.ts";
import { Rng } from "../sim/rng.ts";
import { Vmm } from "../vmm/vmm.ts";
import { vmmCosts } from "../vmm/costs.ts";
import type { Partition } from "../vmm/partition.ts";
import { DEVICE_VECTOR_BASE } from "../vmm/abi.ts";
import { createSharedDevice, sharedDeviceMemoryBytes, type SharedDevice } from "../vmm/vdev/shared-device.ts";
import type { GuestDevice, GuestEnv, GuestImage } from "../guests/guest-env.ts";
import type { DeviceConfig, PartitionConfig, ScenarioConfig } from "./config.ts";
import { buildGuestImage, type FileReader } from "./guest-programs.ts";
import { deviceResources } from "./scenario-validate.ts";
import { IOAPIC_BASE } from "./pc-platform.ts";

const CARD_WINDOW_BYTES = 4096;
const UART_PORT_COUNT = 8;

export interface PlacedDevice {
  config: DeviceConfig;
  instance: DeviceInstance;
  /** Host MMIO base (cards) or port base (uart). */
  mmioBase: number | null;
  port: number | null;
  pin: number;
  /** "exclusive:<partition>" or "shared". */
  owner: string;
  shared: SharedDevice | null;
}

export interface BuiltPartition {
  config: PartitionConfig;
  partition: Partition;
  image: GuestImage;
  env: GuestEnv;
}

export interface BuiltScenario {
  config: ScenarioConfig;
  machine: Machine;
  vmm: Vmm;
  devices: PlacedDevice[];
  partitions: BuiltPartition[];
}

/** The catalog kind of a scenario device type. */
function catalogKind(type: DeviceConfig["type"]): string {
  return type === "uart" ? "uart16550" : type;
}

export function buildScenario(cfg: ScenarioConfig, files: FileReader): BuiltScenario {
  const profile = getProfile(cfg.profile);
  let vmm!: Vmm;
  const machine = new Machine({
    ramBytes: cfg.machine.ramMiB * 1024 * 1024,
    cores: cfg.machine.cores,
    profile,
    quantumCycles: cfg.quantumCycles,
    onVmExit: (core) => vmm.onVmExit(core),
  });
  const ioapic = new IoApic({ sink: machine.apicBus });
  machine.apicBus.onEoi((vector) => ioapic.eoi(vector));
  machine.mmio.map(IOAPIC_BASE, 0x20, ioapic);
  const msi = new MsiRouter(machine.apicBus);
  const h = machine.caches;
  if (h !== null) {
    for (const c of cfg.cache.classes) {
      const mask = c.ways.reduce((m, w) => m | (1 << w), 0);
      if (!h.setWayMask(cfg.cache.level, c.clos, mask)) throw new RangeError(`cache.classes: clos ${c.clos} ways ${c.ways.join(",")} rejected by the ${cfg.cache.level}`);
    }
  }
  vmm = new Vmm(machine, {
    costs: vmmCosts(cfg.vmm.costs),
    serviceCore: cfg.vmm.serviceCore,
    vmmBytes: cfg.vmm.memoryMiB * 1024 * 1024,
    vmmColours: cfg.vmm.colours,
    vmmClos: cfg.vmm.clos,
    colourLevel: cfg.cache.level,
    ioapic,
    msi,
  });
  const partitions = cfg.partitions.map((pc) =>
    vmm.addPartition({
      name: pc.name, cores: pc.cores, memoryBytes: pc.memoryMiB * 1024 * 1024,
      hostBase: pc.hostBaseMiB === null ? null : pc.hostBaseMiB * 1024 * 1024,
      clos: pc.clos, colours: pc.colours, irqDelivery: pc.irqDelivery, onFault: pc.onFault,
    }),
  );

  // Physical devices: exclusive ones wired to their partition (IOMMU DMA, remapped interrupts), shared ones
  // to the VMM (machine DMA, IOAPIC pin routed to the service core).
  // Placement: the validator's rule (explicit, else the defaults), so what was checked is what is built.
  const placement = deviceResources(cfg);
  const placed: PlacedDevice[] = cfg.devices.map((d, n) => {
    const res = placement[n];
    if (res.irq === null) throw new RangeError(`devices[${n}] '${d.name}': no IOAPIC pin`);
    const where = { mmioBase: res.mmio?.base ?? null, port: res.ports?.base ?? null, pin: res.irq };
    const users = cfg.partitions.flatMap((pc, pi) => pc.devices.map((pd, di) => ({ pc, pi, pd, di })).filter((u) => u.pd.device === d.name));
    const excl = users.find((u) => u.pd.mode === "exclusive");
    const rng = new Rng(cfg.seed, `device.${d.name}`);
    const kind = catalogKind(d.type);
    const options = d.type === "uart" ? { ...d.options, name: d.name } : d.options;
    let instance: DeviceInstance;
    let shared: SharedDevice | null = null;
    try {
      if (excl !== undefined) {
        const p = partitions[excl.pi];
        instance = deviceType(kind).create({
          clock: machine.clock, irq: [vmm.passthroughIrq(p, excl.di)], dma: vmm.iommu(p, d.name), msi, rng, options,
        });
      } else {
        instance = deviceType(kind).create({ clock: machine.clock, irq: [ioapic.pin(where.pin)], dma: machine.dma(), msi, rng, options });
        shared = createSharedDevice(d.type, instance, vmm.backendHost(d.name, sharedDeviceMemoryBytes(d.type, instance)));
        const s = shared;
        vmm.routeSharedIrq(d.name, where.pin, () => s.onInterrupt());
      }
    } catch (e) {
      throw new RangeError(`devices[${n}] '${d.name}': ${(e as Error).message}`);
    }
    if (excl !== undefined) {
      if (where.mmioBase !== null && instance.mmio !== undefined) machine.mmio.map(where.mmioBase, CARD_WINDOW_BYTES, instance.mmio);
      if (where.port !== null && instance.port !== undefined) machine.ports.map(where.port, UART_PORT_COUNT, instance.port);
    }
    return { config: d, instance, mmioBase: where.mmioBase, port: where.port, pin: where.pin, owner: excl ? `exclusive:${excl.pc.name}` : "shared", shared };
  });

  const built: BuiltPartition[] = cfg.partitions.map((pc, pi) => {
    const p = partitions[pi];
    const guestDevices: GuestDevice[] = pc.devices.map((pd, di) => {
      const dev = placed.find((x) => x.config.name === pd.device)!;
      const vector = pd.vector ?? DEVICE_VECTOR_BASE + di;
      const window = {
        name: dev.config.name, type: dev.config.type, vector,
        mmioGpa: pd.mode === "paravirtual" ? null : dev.mmioBase, mmioBytes: CARD_WINDOW_BYTES,
        port: pd.mode === "paravirtual" ? null : dev.port, portCount: UART_PORT_COUNT,
      };
      if (pd.mode === "exclusive") vmm.attachExclusive(p, window, dev.mmioBase);
      else {
        const mode = pd.mode;
        vmm.attachShared(p, window, mode, (host) => dev.shared!.attach(host, mode));
      }
      return { index: di, name: dev.config.name, type: dev.config.type, mode: pd.mode, vector, mmioGpa: window.mmioGpa, port: window.port };
    });
    const env: GuestEnv = {
      vcpus: pc.cores.length, memoryBytes: p.memoryBytes, tscHz: profile.tscHz, apicTimerHz: profile.apicTimerHz, devices: guestDevices,
    };
    let image: GuestImage;
    try {
      image = buildGuestImage(pc.guest, env, files);
    } catch (e) {
      throw new RangeError(`partitions[${pi}] '${pc.name}': guest: ${(e as Error).message}`);
    }
    vmm.loadImage(p, { bytes: image.bytes, loadGpa: image.loadGpa, entry: image.entry, cmdline: pc.guest.program === "image" ? pc.guest.cmdline : "" }, image.logGpa, image.logBytes);
    return { config: pc, partition: p, image, env };
  });
  vmm.boot();
  return { config: cfg, machine, vmm, devices: placed, partitions: built };
}
