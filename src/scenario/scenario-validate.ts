/**
 * The checks of a scenario across its objects, run on a ScenarioConfig whose shape scenario-schema.ts has
 * already validated (shared/DESIGN.md §3 "Scenarios are data"; issue 6 "Scenarios and the CLI"). Every
 * problem is collected with its path in the scenario (`partitions[1].cores[0]: core 2 already owned by
 * 'rt0'`); nothing stops at the first.
 *
 * What is checked, and against what:
 * - names unique (devices, partitions, tasks in a partition); every reference resolves to a device of the
 *   partition of a type that has the operation (abi.ts PvOp "Operations by device kind": block read/write,
 *   nic tx, dsp job, rt-io actuate, uart write; sporadic jobs are released by rt-io events or nic arrivals);
 * - cores inside machine.cores and owned by one partition (one pinned vCPU per core); vmm.serviceCore exists;
 * - devices: options checked by the device models themselves (resolve*Options of rt-io.ts, block-device.ts,
 *   nic.ts, dsp.ts; unknown names are the keys their resolvers do not return); the mode among the catalog
 *   entry's `modes` (device-catalog.ts); an exclusive device granted to one partition and shared by none;
 *   port ranges, MMIO windows and IOAPIC pins, explicit or default (deviceResources), disjoint from each
 *   other and from the platform's (pc-platform.ts: PIT 40H-43H and 61H on pin 2, PCI CF8H-CFFH, IOAPIC
 *   FEC00000H, HPET FED00000H, local APIC FEE00000H, SDM Vol. 3A 10.4.1); MMIO windows page-aligned, above RAM
 *   and below 4 GiB; guest vectors (explicit or 40H + index) unique in a partition;
 * - cache: the level exists in the profile; CAT classes with ways that exist, are unique and contiguous
 *   (SDM Vol. 3B 17.19.4.2, checked again with way-mask.ts isLegalWayMask); clos references defined; page
 *   colours below the level's colour count (MemoryHierarchy.colours: set-index bits above the 4 KiB page);
 * - memory: the VMM's [0, vmm.memoryMiB), then the partitions in list order, placed as the VMM's host-memory
 *   allocator does (a fixed hostBaseMiB range that must be free; else the lowest free contiguous range, or,
 *   with colours, the lowest free pages of its colours one by one), all inside ramMiB;
 * - CPU: irqDelivery "posted" needs the pin-based "process posted interrupts" control allowed-1 on the
 *   profile (vmx-capabilities.ts, SDM Vol. 3C A.3.1 bit 7: haswell and skylake in this model).
 * Leaves out: guest images (`program: image`: the file is read by the build); whether the workload fits in
 * time (overload is something a scenario may want to show: deadline misses are results, not errors).
 */
import type { DeviceType, PartitionConfig, ScenarioConfig } from "./config.ts";
import { deviceType } from "../devices/device-catalog.ts";
import { PC_COM_PORTS } from "../devices/device-catalog.ts";
import "../devices/experiment-cards.ts";
import { resolveRtIoOptions } from "../devices/rt-io.ts";
import { resolveBlockOptions } from "../devices/block-device.ts";
import { resolveNicOptions } from "../devices/nic.ts";
import { resolveDspOptions } from "../devices/dsp.ts";
import { CARD_BAR_BASE, CARD_FIRST_PIN, HPET_BASE, IOAPIC_BASE, PIT_PIN } from "./pc-platform.ts";
import { PROFILES } from "../cpu/profiles/index.ts";
import { MemoryHierarchy } from "../cpu/cache/memory-hierarchy.ts";
import { isLegalWayMask } from "../cpu/cache/way-mask.ts";
import { vmxCapabilities } from "../cpu/vmx/vmx-capabilities.ts";
import { PIN_PROCESS_POSTED_INTERRUPTS } from "../cpu/vmx/vmx-controls.ts";
import { DEVICE_VECTOR_BASE } from "../vmm/abi.ts";

export interface ScenarioIssue {
  /** Where in the scenario: `partitions[1].cores[0]`, `vmm.costs["exit.io"]`; "" for the whole document. */
  path: string;
  message: string;
}

type Report = (path: string, message: string) => void;

const IDENT_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["partitions", 1, "cores", 0]` -> `partitions[1].cores[0]` (keys that are not identifiers in brackets). */
export function pathString(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (typeof s === "string" && IDENT_RE.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

/** `base.key`, or `base["key"]` when the key is not an identifier. */
export function keyPath(base: string, key: string): string {
  return IDENT_RE.test(key) ? (base === "" ? key : `${base}.${key}`) : `${base}[${JSON.stringify(key)}]`;
}

const hex = (n: number) => `${n.toString(16).toUpperCase()}H`;
const MIB = 1 << 20;
const PAGE = 4096;
const PAGES_PER_MIB = MIB / PAGE;
/** The local APIC's default base (SDM Vol. 3A 10.4.1, IA32_APIC_BASE after reset). */
const LAPIC_BASE = 0xfee00000;

/** `[0, 1, 2, 3, 7]` -> "0-3, 7". */
function runs(values: readonly number[]): string {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j] + 1) j++;
    parts.push(j === i ? `${v[i]}` : `${v[i]}-${v[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

// ---- what each device type is and does ----

/** The device catalog's kind for a scenario device type. */
export const CATALOG_KIND: Readonly<Record<DeviceType, string>> = {
  "rt-io": "rt-io", block: "block", nic: "nic", dsp: "dsp", uart: "uart16550",
};

/** Operations a driver performs on each type (abi.ts PvOp, "Operations by device kind"). */
export const DEVICE_OPS: Readonly<Record<DeviceType, readonly string[]>> = {
  "rt-io": ["actuate"], block: ["read", "write"], nic: ["tx"], dsp: ["job"], uart: ["write"],
};

/** Types whose interrupts arrive without a request, so they can release sporadic jobs. */
export const RELEASING_TYPES: readonly DeviceType[] = ["rt-io", "nic"];

const OPTION_RESOLVERS: Readonly<Record<DeviceType, ((o: Record<string, unknown>) => object) | null>> = {
  "rt-io": resolveRtIoOptions as (o: Record<string, unknown>) => object,
  block: resolveBlockOptions as (o: Record<string, unknown>) => object,
  nic: resolveNicOptions as (o: Record<string, unknown>) => object,
  dsp: resolveDspOptions as (o: Record<string, unknown>) => object,
  uart: null,
};

const isCard = (t: DeviceType) => t !== "uart";

/** A card's MMIO window: its BAR, a power of two of at least one page (experiment-cards.ts barSize). */
function cardWindowBytes(t: DeviceType): number {
  const bytes = deviceType(CATALOG_KIND[t]).resources.mmioBytes ?? 0;
  let s = PAGE;
  while (s < bytes) s *= 2;
  return s;
}

export interface DeviceResources {
  name: string;
  type: DeviceType;
  /** I/O ports (uart), or null. */
  ports: { base: number; length: number } | null;
  /** MMIO window (cards), or null. */
  mmio: { base: number; bytes: number } | null;
  /** IOAPIC pin, or null when there is no default left (more than 4 uarts or 8 cards without one). */
  irq: number | null;
  /** Which of them came from the defaults. */
  defaulted: { ports: boolean; mmio: boolean; irq: boolean };
}

/**
 * Where each device sits, explicit or by default: the k-th uart (in devices[] order) at the PC COM port
 * bases 3F8H, 2F8H, 3E8H, 2E8H (PC_COM_PORTS) on pins 4, 3, 5, 6 (COM1/COM2's ISA IRQs; COM3/COM4 get
 * pins of their own rather than sharing 4 and 3 as on the PC/AT, since pins here are not shared), the
 * k-th card at CARD_BAR_BASE + 4 KiB x k on pin CARD_FIRST_PIN + k, as pc-platform.ts places the cards.
 * The build places devices with this same function (build.ts).
 */
export function deviceResources(s: ScenarioConfig): DeviceResources[] {
  let uarts = 0, cards = 0;
  return s.devices.map((d) => {
    if (!isCard(d.type)) {
      const k = uarts++;
      const base = d.port ?? PC_COM_PORTS[k]?.portBase ?? null;
      const ports = base === null ? null : { base, length: deviceType(CATALOG_KIND[d.type]).resources.ports ?? 8 };
      return {
        name: d.name, type: d.type, ports, mmio: null, irq: d.irq ?? UART_PINS[k] ?? null,
        defaulted: { ports: d.port === null, mmio: false, irq: d.irq === null },
      };
    }
    const k = cards++;
    const bytes = cardWindowBytes(d.type);
    const defaultIrq = CARD_FIRST_PIN + k;
    return {
      name: d.name, type: d.type, ports: null,
      mmio: { base: d.mmioBase ?? CARD_BAR_BASE + PAGE * k, bytes },
      irq: d.irq ?? (defaultIrq < 24 ? defaultIrq : null),
      defaulted: { ports: false, mmio: d.mmioBase === null, irq: d.irq === null },
    };
  });
}

/** The guest vector of a partition's k-th device (explicit, or DEVICE_VECTOR_BASE + k). */
export function deviceVector(p: PartitionConfig, k: number): number {
  return p.devices[k].vector ?? DEVICE_VECTOR_BASE + k;
}

/** Default IOAPIC pins of the 1st-4th uart. */
export const UART_PINS: readonly number[] = [4, 3, 5, 6];

/** The platform's own resources (pc-platform.ts), which no scenario device may take. */
const PLATFORM_PORTS = [
  { base: 0x40, length: 4, owner: "the PIT" },
  { base: 0x61, length: 1, owner: "the PIT's port B" },
  { base: 0xcf8, length: 8, owner: "PCI configuration space" },
];
const PLATFORM_MMIO = [
  { base: IOAPIC_BASE, bytes: PAGE, owner: "the IOAPIC" },
  { base: HPET_BASE, bytes: PAGE, owner: "the HPET" },
  { base: LAPIC_BASE, bytes: PAGE, owner: "the local APIC" },
];
const PLATFORM_PINS = [{ pin: PIT_PIN, owner: "the PIT" }];

// ---- the checks ----

/** Every cross-object problem of `s` (shape already valid), in a fixed order. */
export function validateScenario(s: ScenarioConfig): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const report: Report = (path, message) => issues.push({ path, message });
  checkNames(s, report);
  checkCores(s, report);
  checkCpu(s, report);
  const geometry = checkCache(s, report);
  checkDevices(s, report);
  checkGrants(s, report);
  checkGuests(s, report);
  checkMemory(s, geometry, report);
  return issues;
}

function checkUnique<T>(items: readonly T[], nameOf: (t: T) => string, path: (i: number) => string, what: string, listPath: string, report: Report): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const n = nameOf(item);
    const first = seen.get(n);
    if (first !== undefined) report(path(i), `${what} name '${n}' already used by ${listPath}[${first}]`);
    else seen.set(n, i);
  });
}

function checkNames(s: ScenarioConfig, report: Report): void {
  checkUnique(s.devices, (d) => d.name, (i) => `devices[${i}].name`, "device", "devices", report);
  checkUnique(s.partitions, (p) => p.name, (i) => `partitions[${i}].name`, "partition", "partitions", report);
  s.partitions.forEach((p, i) => {
    if (p.guest.program !== "rtos") return;
    checkUnique(p.guest.tasks, (t) => t.name, (t) => `partitions[${i}].guest.tasks[${t}].name`, "task", "tasks", report);
  });
}

function checkCores(s: ScenarioConfig, report: Report): void {
  const n = s.machine.cores;
  const range = `machine.cores is ${n}: cores 0-${n - 1}`;
  if (s.vmm.serviceCore >= n) report("vmm.serviceCore", `core ${s.vmm.serviceCore} does not exist (${range})`);
  const owner = new Map<number, string>();
  s.partitions.forEach((p, i) => {
    const mine = new Set<number>();
    p.cores.forEach((c, k) => {
      const path = `partitions[${i}].cores[${k}]`;
      if (c >= n) report(path, `core ${c} does not exist (${range})`);
      else if (mine.has(c)) report(path, `core ${c} given twice in '${p.name}'`);
      else if (owner.has(c)) report(path, `core ${c} already owned by '${owner.get(c)}'`);
      mine.add(c);
      if (!owner.has(c)) owner.set(c, p.name);
    });
  });
}

function checkCpu(s: ScenarioConfig, report: Report): void {
  const pin = vmxCapabilities(s.profile).controls.pin;
  const posted = ((pin[1] & PIN_PROCESS_POSTED_INTERRUPTS) >>> 0) !== 0;
  if (posted) return;
  const have = Object.keys(PROFILES).filter((id) => {
    try {
      return ((vmxCapabilities(id).controls.pin[1] & PIN_PROCESS_POSTED_INTERRUPTS) >>> 0) !== 0;
    } catch {
      return false;
    }
  });
  s.partitions.forEach((p, i) => {
    if (p.irqDelivery !== "posted") return;
    report(`partitions[${i}].irqDelivery`,
      `posted interrupts need APIC virtualization, which the ${s.profile} profile does not offer (profiles with it: ${have.join(", ")}); use irqDelivery: exit-and-inject`);
  });
}

interface CacheGeometry {
  level: "l2" | "l3";
  ways: number;
  colours: number;
  closCount: number;
}

function checkCache(s: ScenarioConfig, report: Report): CacheGeometry | null {
  const profile = PROFILES[s.profile];
  const level = s.cache.level;
  if (level === "l3" && profile.caches.l3 === null) {
    report("cache.level", `the ${s.profile} profile has no l3 (its last level is l2)`);
    return null;
  }
  const h = new MemoryHierarchy(profile, s.machine.cores);
  const g: CacheGeometry = { level, ways: h.waysOf(level), colours: h.colours(level), closCount: h.closCount };
  const what = `${level} of ${s.profile}`;

  const defined = new Map<number, number>();
  s.cache.classes.forEach((c, i) => {
    const path = `cache.classes[${i}]`;
    if (c.clos >= g.closCount) report(`${path}.clos`, `clos ${c.clos} does not exist (classes of service 0-${g.closCount - 1})`);
    const first = defined.get(c.clos);
    if (first !== undefined) report(`${path}.clos`, `clos ${c.clos} already defined by cache.classes[${first}]`);
    else defined.set(c.clos, i);
    let ok = true;
    const seen = new Set<number>();
    c.ways.forEach((w, j) => {
      if (w >= g.ways) {
        report(`${path}.ways[${j}]`, `way ${w} does not exist (${what} has ${g.ways} ways: 0-${g.ways - 1})`);
        ok = false;
      } else if (seen.has(w)) {
        report(`${path}.ways[${j}]`, `way ${w} listed twice`);
        ok = false;
      }
      seen.add(w);
    });
    if (!ok) return;
    const mask = c.ways.reduce((m, w) => (m | (1 << w)) >>> 0, 0);
    if (!isLegalWayMask(mask, g.ways)) {
      report(`${path}.ways`, `ways ${runs(c.ways)} are not contiguous: a CAT capacity mask is one run of ways (SDM Vol. 3B 17.19.4.2)`);
    }
  });

  const known = [...defined.keys()].sort((a, b) => a - b);
  const closRef = (path: string, clos: number | null) => {
    if (clos === null || clos === 0 || defined.has(clos)) return;
    report(path, `clos ${clos} is not defined in cache.classes (${known.length === 0 ? "none defined" : `defined: ${known.join(", ")}`}; clos 0 has all ways)`);
  };
  const colourRef = (path: string, colours: readonly number[] | null) => {
    if (colours === null) return;
    const seen = new Set<number>();
    colours.forEach((c, j) => {
      if (c >= g.colours) report(`${path}[${j}]`, `colour ${c} does not exist (${what} has ${g.colours} page colours: 0-${g.colours - 1})`);
      else if (seen.has(c)) report(`${path}[${j}]`, `colour ${c} listed twice`);
      seen.add(c);
    });
  };
  closRef("vmm.clos", s.vmm.clos);
  colourRef("vmm.colours", s.vmm.colours);
  s.partitions.forEach((p, i) => {
    closRef(`partitions[${i}].clos`, p.clos);
    colourRef(`partitions[${i}].colours`, p.colours);
  });
  return g;
}

function checkDeviceOptions(type: DeviceType, options: Record<string, unknown>, path: string, report: Report): void {
  const resolve = OPTION_RESOLVERS[type];
  const keys = Object.keys(options);
  if (resolve === null) {
    for (const k of keys) report(keyPath(path, k), `unknown option '${k}': a ${type} has no options`);
    return;
  }
  const known = Object.keys(resolve({}));
  const good: Record<string, unknown> = {};
  let bad = false;
  /** The resolver's complaint about `o`: the option it names (when `o` has it) and why; null if none. */
  const complaint = (o: Record<string, unknown>): { option: string | null; why: string } | null => {
    try {
      resolve(o);
      return null;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const m = /^[\w-]+: option (\w+) (.*)$/s.exec(msg);
      return m !== null && Object.prototype.hasOwnProperty.call(o, m[1]) ? { option: m[1], why: m[2] } : { option: null, why: msg };
    }
  };
  for (const k of keys) {
    if (!known.includes(k)) {
      report(keyPath(path, k), `unknown option '${k}' of ${type} (known: ${known.join(", ")})`);
      continue;
    }
    // Alone with the defaults: a complaint about another option is a check between options, made below.
    const c = complaint({ [k]: options[k] });
    if (c !== null && c.option === k) {
      report(keyPath(path, k), c.why);
      bad = true;
    } else good[k] = options[k];
  }
  // Checks between options (nic packetMaxBytes >= packetMinBytes, line rate...) once each one is fine.
  const c = bad ? null : complaint(good);
  if (c !== null) report(c.option === null ? path : keyPath(path, c.option), c.why);
}

function checkDevices(s: ScenarioConfig, report: Report): void {
  const ramEnd = s.machine.ramMiB * MIB;
  const resources = deviceResources(s);
  s.devices.forEach((d, i) => {
    checkDeviceOptions(d.type, d.options, `devices[${i}].options`, report);
    if (isCard(d.type) && d.port !== null) report(`devices[${i}].port`, `a ${d.type} card is reached through MMIO: give mmioBase, not port`);
    if (!isCard(d.type) && d.mmioBase !== null) report(`devices[${i}].mmioBase`, `a uart is reached through I/O ports: give port, not mmioBase`);
  });

  const portsOf: { base: number; length: number; owner: string }[] = [...PLATFORM_PORTS];
  const mmioOf: { base: number; bytes: number; owner: string }[] = [...PLATFORM_MMIO];
  const pinsOf: { pin: number; owner: string }[] = [...PLATFORM_PINS];
  resources.forEach((r, i) => {
    const me = `'${r.name}' (devices[${i}])`;
    const dflt = (yes: boolean) => (yes ? " (default)" : "");
    if (!isCard(r.type) && r.ports === null) {
      report(`devices[${i}].port`, `no default port for the ${ordinal(uartIndex(s, i))} uart (defaults: ${PC_COM_PORTS.map((c) => hex(c.portBase)).join(", ")}): give port`);
    }
    if (r.ports !== null) {
      const { base, length } = r.ports;
      const span = `ports ${hex(base)}-${hex(base + length - 1)}${dflt(r.defaulted.ports)}`;
      if (base + length > 0x10000) report(`devices[${i}].port`, `${span} run past FFFFH`);
      const hit = portsOf.find((o) => base < o.base + o.length && o.base < base + length);
      if (hit !== undefined) report(`devices[${i}].port`, `${span} overlap ${hex(hit.base)}-${hex(hit.base + hit.length - 1)} of ${hit.owner}`);
      portsOf.push({ base, length, owner: me });
    }
    if (r.mmio !== null) {
      const { base, bytes } = r.mmio;
      const span = `MMIO ${hex(base)}-${hex(base + bytes - 1)}${dflt(r.defaulted.mmio)}`;
      if (base % bytes !== 0) report(`devices[${i}].mmioBase`, `${hex(base)} is not aligned to the card's ${bytes / 1024} KiB window`);
      if (base + bytes > 2 ** 32) report(`devices[${i}].mmioBase`, `${span} runs past 4 GiB`);
      if (base < ramEnd) report(`devices[${i}].mmioBase`, `${span} lies in RAM (machine.ramMiB ${s.machine.ramMiB} ends at ${hex(ramEnd)})`);
      const hit = mmioOf.find((o) => base < o.base + o.bytes && o.base < base + bytes);
      if (hit !== undefined) report(`devices[${i}].mmioBase`, `${span} overlaps ${hex(hit.base)}-${hex(hit.base + hit.bytes - 1)} of ${hit.owner}`);
      mmioOf.push({ base, bytes, owner: me });
    }
    if (r.irq === null) {
      report(`devices[${i}].irq`, isCard(r.type)
        ? `no default IOAPIC pin left for this card (cards take pins ${CARD_FIRST_PIN}-23 in order): give irq`
        : `no default IOAPIC pin for the ${ordinal(uartIndex(s, i))} uart (defaults: ${UART_PINS.join(", ")}): give irq`);
    } else {
      const hit = pinsOf.find((o) => o.pin === r.irq);
      if (hit !== undefined) report(`devices[${i}].irq`, `IOAPIC pin ${r.irq}${dflt(r.defaulted.irq)} already used by ${hit.owner}${r.defaulted.irq ? "; give irq" : ""}`);
      pinsOf.push({ pin: r.irq, owner: me });
    }
  });
}

function uartIndex(s: ScenarioConfig, i: number): number {
  return s.devices.slice(0, i).filter((d) => !isCard(d.type)).length;
}

function ordinal(k: number): string {
  const n = k + 1;
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

function checkGrants(s: ScenarioConfig, report: Report): void {
  const byName = new Map(s.devices.map((d, i) => [d.name, i] as const));
  const known = s.devices.map((d) => d.name).join(", ") || "none";
  /** Per device: the first exclusive grant, and every grant. */
  const grants = new Map<string, { partition: string; path: string; mode: string }[]>();
  s.partitions.forEach((p, i) => {
    const listed = new Map<string, number>();
    const vectors = new Map<number, number>();
    p.devices.forEach((pd, k) => {
      const path = `partitions[${i}].devices[${k}]`;
      const v = deviceVector(p, k);
      const first = vectors.get(v);
      if (first !== undefined) {
        report(`${path}.vector`, `vector ${hex(v)}${pd.vector === null ? ` (default 40H + ${k})` : ""} already used by '${p.devices[first].device}' (devices[${first}])`);
      } else vectors.set(v, k);

      const di = byName.get(pd.device);
      if (di === undefined) {
        report(`${path}.device`, `no device named '${pd.device}' in devices[] (known: ${known})`);
        return;
      }
      const again = listed.get(pd.device);
      if (again !== undefined) {
        report(`${path}.device`, `device '${pd.device}' is already listed at devices[${again}]`);
        return;
      }
      listed.set(pd.device, k);
      const type = s.devices[di].type;
      const modes = deviceType(CATALOG_KIND[type]).modes;
      if (!modes.includes(pd.mode)) {
        report(`${path}.mode`, `a ${type} device cannot be ${pd.mode} (supported: ${modes.join(", ")})`);
        return;
      }
      const list = grants.get(pd.device) ?? [];
      list.push({ partition: p.name, path, mode: pd.mode });
      grants.set(pd.device, list);
    });
  });
  for (const [device, list] of grants) {
    const excl = list.find((g) => g.mode === "exclusive");
    if (excl === undefined) continue;
    for (const g of list) {
      if (g === excl) continue;
      report(`${g.path}.mode`, g.mode === "exclusive"
        ? `device '${device}' is already granted exclusively to '${excl.partition}' (${excl.path})`
        : `device '${device}' is granted exclusively to '${excl.partition}' (${excl.path}); it cannot also be shared`);
    }
  }
}

function checkGuests(s: ScenarioConfig, report: Report): void {
  s.partitions.forEach((p, i) => {
    const g = p.guest;
    const base = `partitions[${i}].guest`;
    const names = p.devices.map((d) => d.device);
    /** The type of the partition's device `name`, or null after reporting why it cannot be used. */
    const typeOf = (name: string, path: string): DeviceType | null => {
      if (!names.includes(name)) {
        report(path, `'${name}' is not among the devices of partition '${p.name}' (${names.length === 0 ? "it has none" : names.join(", ")})`);
        return null;
      }
      return s.devices.find((d) => d.name === name)?.type ?? null;
    };
    const checkOp = (dev: string, op: string, bytes: number, path: string) => {
      const t = typeOf(dev, `${path}.device`);
      if (t === null) return;
      if (!DEVICE_OPS[t].includes(op)) report(`${path}.op`, `a ${t} device has no '${op}' operation (it has: ${DEVICE_OPS[t].join(", ")})`);
      else if (t === "block" && bytes % 512 !== 0) report(`${path}.bytes`, `${bytes} bytes: block transfers are whole 512-byte sectors`);
    };
    const memoryKiB = p.memoryMiB * 1024;

    if (g.program === "rtos") {
      g.tasks.forEach((t, k) => {
        const tp = `${base}.tasks[${k}]`;
        if (t.kind === "sporadic" && t.device === null) {
          report(`${tp}.device`, `a sporadic task needs the device whose interrupts release its jobs (${RELEASING_TYPES.join(" or ")})`);
        } else if (t.kind === "periodic" && t.device !== null) {
          report(`${tp}.device`, `only sporadic tasks are released by a device; a periodic task is released by its period`);
        } else if (t.device !== null) {
          const type = typeOf(t.device, `${tp}.device`);
          if (type !== null && !RELEASING_TYPES.includes(type)) {
            report(`${tp}.device`, `a ${type} device raises interrupts only when asked, so it cannot release jobs (releasing types: ${RELEASING_TYPES.join(", ")})`);
          }
        }
        if (t.io !== null) checkOp(t.io.device, t.io.op, t.io.bytes, `${tp}.io`);
        if (t.workingSetKiB >= memoryKiB) report(`${tp}.workingSetKiB`, `${t.workingSetKiB} KiB does not fit in the partition's ${p.memoryMiB} MiB`);
      });
    } else if (g.program === "gpos-load") {
      if (g.vcpus.length > p.cores.length) {
        report(`${base}.vcpus`, `${g.vcpus.length} workloads for ${p.cores.length} vCPU(s): vcpus[${p.cores.length}] and later would never run`);
      }
      g.vcpus.forEach((w, k) => {
        const wp = `${base}.vcpus[${k}]`;
        if (w.kind === "io") checkOp(w.device, w.op, w.bytes, wp);
        else if (w.kind === "thrash" && w.bufferKiB >= memoryKiB) report(`${wp}.bufferKiB`, `${w.bufferKiB} KiB does not fit in the partition's ${p.memoryMiB} MiB`);
      });
    } else if (g.program === "dsp-offload") {
      const t = typeOf(g.device, `${base}.device`);
      if (t !== null && t !== "dsp") report(`${base}.device`, `'${g.device}' is a ${t} device; dsp-offload needs a dsp`);
      if (t === "dsp") {
        const d = s.devices.find((x) => x.name === g.device)!;
        let max: number | null = null;
        try {
          max = resolveDspOptions(d.options).maxJobBytes;
        } catch {
          // reported with the device's options
        }
        if (max !== null && g.jobBytes > max) report(`${base}.jobBytes`, `${g.jobBytes} bytes exceed the maxJobBytes of '${g.device}' (${max})`);
      }
    }
  });
}

// ---- memory placement ----

function checkMemory(s: ScenarioConfig, g: CacheGeometry | null, report: Report): void {
  const ramMiB = s.machine.ramMiB;
  if (s.vmm.memoryMiB > ramMiB) report("vmm.memoryMiB", `${s.vmm.memoryMiB} MiB does not fit in machine.ramMiB (${ramMiB})`);
  const vmmMiB = Math.min(s.vmm.memoryMiB, ramMiB);
  /** Per 4 KiB page: FREE, VMM, or the index of the partition holding it. */
  const FREE = -1, VMM = -2;
  const owner = new Int16Array(ramMiB * PAGES_PER_MIB).fill(FREE);
  owner.fill(VMM, 0, vmmMiB * PAGES_PER_MIB);
  const span = (from: number, to: number) => `[${from}, ${to}) MiB`;
  const nameOf = (o: number) => (o === VMM ? `the VMM's memory ${span(0, s.vmm.memoryMiB)}` : `the memory of '${s.partitions[o].name}'`);
  const colourMask = g === null ? 0 : g.colours - 1;

  // In list order, as the VMM takes them (vmm.ts addPartition over host-memory.ts): a fixed range, the
  // lowest free contiguous range, or the lowest free pages of the partition's colours.
  s.partitions.forEach((p, i) => {
    const pages = p.memoryMiB * PAGES_PER_MIB;
    if (p.hostBaseMiB !== null) {
      const from = p.hostBaseMiB, to = from + p.memoryMiB;
      const path = `partitions[${i}].hostBaseMiB`;
      if (p.colours !== null) {
        report(`partitions[${i}].colours`, `a partition with colours gets its pages one by one, so it cannot also have a fixed hostBaseMiB`);
      }
      if (to > ramMiB) report(path, `memory ${span(from, to)} ends beyond machine.ramMiB (${ramMiB})`);
      const hits = new Set<number>();
      for (let k = from * PAGES_PER_MIB; k < Math.min(to, ramMiB) * PAGES_PER_MIB; k++) {
        if (owner[k] !== FREE) hits.add(owner[k]);
        else owner[k] = i;
      }
      if (hits.size > 0) report(path, `memory ${span(from, to)} overlaps ${[...hits].map(nameOf).join(" and ")}`);
      return;
    }
    const path = `partitions[${i}].memoryMiB`;
    if (p.colours === null) {
      let run = 0, best = 0;
      for (let k = 0; k < owner.length; k++) {
        run = owner[k] === FREE ? run + 1 : 0;
        if (run > best) best = run;
        if (run === pages) {
          owner.fill(i, k - pages + 1, k + 1);
          return;
        }
      }
      report(path, `automatic placement: no free ${p.memoryMiB} MiB range left in machine.ramMiB (${ramMiB}) after the VMM and the partitions before it (largest free range: ${Math.floor(best / PAGES_PER_MIB)} MiB)`);
      return;
    }
    if (g === null || p.colours.some((c) => c >= g.colours)) return; // reported with the cache
    const want = new Set(p.colours);
    let taken = 0;
    for (let k = 0; k < owner.length && taken < pages; k++) {
      if (owner[k] === FREE && want.has(k & colourMask)) {
        owner[k] = i;
        taken++;
      }
    }
    if (taken < pages) {
      report(path, `automatic placement: only ${(taken / PAGES_PER_MIB).toFixed(1)} MiB of colours ${runs(p.colours)} left in machine.ramMiB (${ramMiB}), ${p.memoryMiB} MiB needed (a partition gets ${p.colours.length}/${g.colours} of every free MiB)`);
    }
  });
}
