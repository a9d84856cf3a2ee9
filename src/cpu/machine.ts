/**
 * A machine: RAM shared by N cores (1-64), the board logic that connects them to devices, and the one
 * clock they all advance on (shared/DESIGN.md §3, §4).
 *
 * Time: Tick = one core cycle of the CPU profile. The machine runs in windows: a window ends at the
 * next quantum boundary (default 1000 cycles) or at the next event in the queue, whichever is first;
 * each core in turn runs until its own clock (core.cycles) reaches the window's end, stopping at the first
 * instruction boundary at or after it. An event scheduled while a core runs, for a tick before the window
 * ends (a device started by an OUT, the core's own APIC timer), shortens the window: the running core stops
 * at that tick and the cores after it run only to it. Cores that ran earlier in the window may have
 * passed that tick; what the event does to them they see at their next boundary (at most one quantum
 * late). That is the model's only inexactness, and cross-core messages (IPIs) take at least the profile's
 * IPI latency, so when the quantum is no longer than it they are exact too. Stores by one core are visible
 * to the others at once in RAM; the order of cores within a window is by id, so results are deterministic.
 * A LOCK-prefixed instruction runs whole within one core's turn, so it is atomic.
 *
 * Board: port I/O goes to a PortBus, physical accesses outside RAM to the core's local APIC page (when
 * the APIC is enabled) and then an MmioBus; every device access adds the profile's bus latency to the
 * accessing core. Unmapped space reads as all ones (open bus).
 *
 * Leaves out: the cores running truly in parallel (no interleaving inside a window); DMA snooping of the
 * cache model.
 */
import { Core, type StopReason } from "./core.ts";
import { BlockCache } from "./block-cache.ts";
import { TimedCore } from "./timed-core.ts";
import { MemoryHierarchy } from "./cache/memory-hierarchy.ts";
import { LocalApic } from "./lapic.ts";
import { ApicBus } from "./apic-bus.ts";
import { identityForProfile, setCpuIdentity, type CpuIdentity } from "./cpuid.ts";
import { enableVmx } from "./vmx/enable-vmx.ts";
import type { SystemBus } from "./system-bus.ts";
import type { CpuProfile, BusCosts } from "./profile.ts";
import { PortBus, type PortAccessSize } from "../devices/port-bus.ts";
import { MmioBus, type MmioAccessSize } from "../devices/mmio-bus.ts";
import type { DmaPort } from "../devices/dma.ts"; // a type only (DESIGN.md §2: devices types and bus)
import { EventQueue, type SimEvent, type Tick } from "../sim/event-queue.ts";
import type { Clock } from "../sim/clock.ts";
import { EventPriority } from "../sim/event-queue.ts";

export interface MachineOptions {
  /** RAM size in bytes: a positive multiple of 4 KiB, at most 3 GiB (RAM sits below the PCI hole). */
  ramBytes: number;
  /** The port bus to route I/O to (default: an empty one). */
  ports?: PortBus;
  /** The MMIO bus (default: an empty one). */
  mmio?: MmioBus;
  /** Number of cores, 1 .. 64 (default 1). Core 0 is the bootstrap processor. */
  cores?: number;
  /** The CPU profile: clock, instruction costs, bus latencies (default: none, the static cost table and
   * free device accesses at a nominal 1 GHz). */
  profile?: CpuProfile;
  /** Cycles per quantum (default 1000). */
  quantumCycles?: number;
  /** The cache and TLB timing model (default: on when a profile is given). Off is "functional mode":
   * memory accesses cost only their instruction's class cost. */
  caches?: boolean;
  /** A local APIC per core at FEE00000H, connected by an APIC bus (default true). */
  apic?: boolean;
  /** VT-x on every core, with the profile's capability MSRs and transition costs (default: true when a
   * profile is given). */
  vmx?: boolean;
  /**
   * The embedded VMM's VM-exit handler: when given, a VM exit stops the core's run and this is called (the
   * VMM reads the exit through the VMX API, charges its handler's cycles to the core and resumes the guest).
   * Without it, VM exits continue at the host's HOST_RIP in x86 code.
   */
  onVmExit?: (core: Core) => void;
}

export const MAX_RAM_BYTES = 3 * 1024 * 1024 * 1024;
export const MAX_CORES = 64;
export const DEFAULT_QUANTUM_CYCLES = 1000;

const FREE_BUS: BusCosts = { portIoCycles: 0, mmioReadCycles: 0, mmioWriteCycles: 0, lapicAccessCycles: 0 };

/** Something that answers a core's physical accesses to its local APIC page (lapic.ts implements it). */
export interface LocalApicPage {
  /** Whether physical address `pa` is in this APIC's register page and the APIC is enabled (xAPIC mode). */
  claims(pa: number): boolean;
  mmioRead(offset: number, size: MmioAccessSize): number;
  mmioWrite(offset: number, size: MmioAccessSize, value: number): void;
  /** Base of the page (for the offset). */
  readonly mmioBase: number;
}

/** Why Machine.run stopped. */
export type MachineStop = "until" | "exit" | "shutdown" | "idle" | "max-insns";

export class Machine implements SystemBus {
  readonly ram: Uint8Array;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly cores: readonly Core[];
  readonly queue = new EventQueue();
  readonly clock: Clock;
  readonly profile: CpuProfile | null;
  readonly quantumCycles: number;
  /** Ticks per second (the profile's core clock; 1 GHz without a profile). */
  readonly hz: number;
  /** Decoded blocks, shared by all cores. */
  readonly blocks: BlockCache;
  /** Per core: the local APIC register page, when one is attached. */
  readonly apicPages: (LocalApicPage | null)[];
  /** The local APICs (empty when the machine has none) and the bus between them, the IOAPICs and MSI. */
  readonly lapics: readonly LocalApic[];
  readonly apicBus: ApicBus;
  /** The cache hierarchy (null in functional mode). */
  readonly caches: MemoryHierarchy | null;
  /** Per core: cycles spent halted or waiting for SIPI. */
  readonly idleCycles: number[];
  /** The global time: every core has reached at least this tick. */
  now: Tick = 0;
  /** The core running now (device accesses take their time from it), or null between turns. */
  running: Core | null = null;
  /** The core that shut down (triple fault), if any. */
  shutdownCore: Core | null = null;
  private readonly bus: BusCosts;
  private windowEnd: Tick = 0;

  constructor(opts: MachineOptions) {
    const n = opts.ramBytes;
    if (!Number.isInteger(n) || n <= 0 || n % 4096 !== 0 || n > MAX_RAM_BYTES) {
      throw new RangeError(`machine: ramBytes ${n} must be a positive multiple of 4096 and at most ${MAX_RAM_BYTES}`);
    }
    const count = opts.cores ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_CORES) {
      throw new RangeError(`machine: cores ${count} must be an integer from 1 to ${MAX_CORES}`);
    }
    const quantum = opts.quantumCycles ?? DEFAULT_QUANTUM_CYCLES;
    if (!Number.isSafeInteger(quantum) || quantum < 1) {
      throw new RangeError(`machine: quantumCycles ${quantum} must be a positive integer`);
    }
    this.quantumCycles = quantum;
    this.profile = opts.profile ?? null;
    if (this.profile !== null && this.profile.tscHz !== this.profile.coreHz) {
      // Cores run at their nominal clock, so the invariant TSC counts core cycles (1:1).
      throw new RangeError(`machine: profile ${this.profile.id}: tscHz ${this.profile.tscHz} must equal coreHz ${this.profile.coreHz}`);
    }
    this.hz = this.profile?.coreHz ?? 1e9;
    this.bus = this.profile?.bus ?? FREE_BUS;
    this.ram = new Uint8Array(n);
    this.ports = opts.ports ?? new PortBus();
    this.mmio = opts.mmio ?? new MmioBus();
    this.blocks = new BlockCache(n);
    const pageFlags = new Uint8Array(Math.ceil(n / 4096) + 1);
    const timed = opts.caches ?? this.profile !== null;
    if (timed && this.profile === null) throw new RangeError("machine: the cache model needs a CPU profile");
    this.caches = timed ? new MemoryHierarchy(this.profile!, count) : null;
    const cores: Core[] = [];
    for (let id = 0; id < count; id++) {
      const base = {
        ram: this.ram, bus: new CoreBus(this, id), id, costs: this.profile?.costs, pageFlags, blocks: this.blocks,
      };
      const core = this.caches !== null
        ? new TimedCore({ ...base, hierarchy: this.caches, profile: this.profile! })
        : new Core(base);
      if (id !== 0) core.init(); // application processors wait for INIT-SIPI-SIPI (SDM Vol. 3A 8.4.1)
      if (this.profile !== null && (opts.vmx ?? true)) {
        enableVmx(core, this.profile.id, this.profile.vmx).stopOnExit = opts.onVmExit !== undefined;
      }
      cores.push(core);
    }
    this.cores = cores;
    this.apicPages = cores.map(() => null);
    this.idleCycles = cores.map(() => 0);
    this.clock = new MachineClock(this);
    this.apicBus = new ApicBus({ clock: this.clock, latencyCycles: this.profile?.ipiLatencyCycles ?? 0 });
    // The profile's CPUID identity, with or without a local APIC (CPUID.1:EDX.APIC says which).
    const identity = this.profile !== null ? identityForProfile(this.profile, opts.apic ?? true) : null;
    if (identity !== null) for (const core of cores) setCpuIdentity(core, identity);
    this.lapics = (opts.apic ?? true) ? cores.map((core) => this.attachApic(core, identity)) : [];
    this.queue.onScheduled = (tick) => this.eventScheduled(tick);
    this.onVmExit = opts.onVmExit ?? null;
    this.hasVmx = cores.some((c) => c.vmx !== null);
  }

  private readonly onVmExit: ((core: Core) => void) | null;
  /** Some core has VMX (only then can a core need to wake on its own: the VMX-preemption timer). */
  private readonly hasVmx: boolean;

  /** Give `core` its local APIC (SDM Vol. 3A 10.4): INTR, NMI, INIT and SIPI go to the core, the core's
   * interrupt acknowledge to the APIC, and the APIC's page answers the core's accesses at its base. */
  private attachApic(core: Core, identity: CpuIdentity | null): LocalApic {
    const lapic = new LocalApic({
      id: core.id,
      clock: this.clock,
      apicBus: this.apicBus,
      core: {
        setIntr: (level) => core.setIntr(level),
        nmi: () => core.nmi(),
        init: () => core.init(),
        startup: (vector) => core.startup(vector),
        tsc: () => core.now() + core.tscOffset,
      },
      timerHz: this.profile?.apicTimerHz ?? 100_000_000,
      tscHz: this.profile?.tscHz ?? this.hz,
      bsp: core.bsp,
      tscDeadline: identity !== null && (identity.featuresEcx & (1 << 24)) !== 0,
      x2apic: identity !== null && (identity.featuresEcx & (1 << 21)) !== 0,
    });
    core.lapic = lapic;
    core.interruptAcknowledge = () => lapic.acknowledge();
    this.apicPages[core.id] = {
      claims: (pa) => lapic.mmioActive && ((pa >>> 0) & ~0xfff) >>> 0 === lapic.mmioBase >>> 0,
      get mmioBase() {
        return lapic.mmioBase;
      },
      mmioRead: (offset, size) => lapic.mmioRead(offset, size),
      mmioWrite: (offset, size, value) => lapic.mmioWrite(offset, size, value),
    };
    return lapic;
  }

  /** The bootstrap processor. */
  get core(): Core {
    return this.cores[0];
  }

  /** A DMA port onto this machine's RAM that keeps decoded code coherent (a DMA write into code
   * invalidates the blocks it overlaps, as a store would). */
  dma(): DmaPort {
    return new MachineDma(this);
  }

  // ---- the physical address space outside RAM and the ports (SystemBus of the whole board) ----

  readPhys(pa: number, size: 1 | 2 | 4): number {
    return this.mmio.read(pa, size);
  }

  writePhys(pa: number, size: 1 | 2 | 4, value: number): void {
    this.mmio.write(pa, size, value);
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    return this.ports.read(port, size as PortAccessSize);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.ports.write(port, size as PortAccessSize, value);
  }

  /** Charge a device access to the core making it. */
  charge(coreId: number, cycles: number): void {
    this.cores[coreId].cycles += cycles;
  }

  get busCosts(): BusCosts {
    return this.bus;
  }

  // ---- running ----

  /** Stop the machine after the current instruction (debug-exit): the running core, or the BSP. */
  requestExit(status: number): void {
    (this.running ?? this.core).requestExit(status);
  }

  /**
   * Run until every core reaches tick `until`, a guest asks to exit, a core shuts down, all cores are
   * idle with nothing in the event queue that could wake them, or `maxInsns` instructions (all cores
   * together) have run. `afterWindow` is called after each window (output streaming, progress).
   */
  run(until: Tick, maxInsns = Infinity, afterWindow?: () => void): MachineStop {
    const cores = this.cores;
    const limited = maxInsns !== Infinity;
    while (this.now < until) {
      const next = this.queue.nextTick();
      let end = Math.min(until, this.now + this.quantumCycles);
      if (next < end) end = next;
      if (this.hasVmx) {
        const wake = this.earliestWake();
        if (wake < end && wake > this.now) end = wake;
      }
      let anyRan = false;
      if (end > this.now) {
        this.windowEnd = end;
        for (const core of cores) {
          if (core.cycles >= this.windowEnd) continue;
          const stop = this.turn(core, maxInsns);
          if (stop === "exit") {
            afterWindow?.();
            return "exit";
          }
          if (stop === "shutdown") {
            this.shutdownCore = core;
            afterWindow?.();
            return "shutdown";
          }
          if (stop !== "halt") anyRan = true;
          if (limited && this.totalInsns() >= maxInsns) {
            afterWindow?.();
            return "max-insns";
          }
        }
        end = this.windowEnd;
        for (let id = 0; id < cores.length; id++) {
          const core = cores[id];
          if (core.halted && core.cycles < end) {
            this.idleCycles[id] += end - core.cycles;
            core.cycles = end;
          }
        }
        this.now = end;
      }
      this.queue.runUntil(this.now);
      afterWindow?.();
      if (!anyRan && this.allIdle()) {
        // Nothing runs until the next event or a core's own wake-up (a VMX-preemption timer): jump to it
        // (or stop when there is none).
        const t = this.hasVmx ? Math.min(this.queue.nextTick(), this.earliestWake()) : this.queue.nextTick();
        if (t === Infinity) return "idle";
        if (t > this.now) {
          const to = Math.min(t, until);
          for (let id = 0; id < cores.length; id++) {
            const core = cores[id];
            if (core.cycles < to) {
              this.idleCycles[id] += to - core.cycles;
              core.cycles = to;
            }
          }
          this.now = to;
        }
      }
    }
    return "until";
  }

  /** Instructions retired by all cores. */
  totalInsns(): number {
    let n = 0;
    for (const c of this.cores) n += c.icount;
    return n;
  }

  /** The earliest cycle a core needs to run even while halted (VMX-preemption timers). */
  private earliestWake(): Tick {
    let t = Infinity;
    for (const c of this.cores) {
      const w = c.wakeAt;
      if (w < t) t = w;
    }
    return t;
  }

  private allIdle(): boolean {
    for (const c of this.cores) if (!c.idle) return false;
    return true;
  }

  /** One core's turn in the current window. */
  private turn(core: Core, maxInsns: number): StopReason {
    this.running = core;
    try {
      for (;;) {
        const left = maxInsns === Infinity ? Number.MAX_SAFE_INTEGER : maxInsns - this.totalInsns();
        const why = core.run(left, this.windowEnd);
        if (why === "vmexit") {
          this.onVmExit?.(core);
          if (core.cycles >= this.windowEnd) return "budget";
          continue;
        }
        if (why !== "budget") return why;
        if (core.cycles >= this.windowEnd || left <= 0) return "budget";
        if (maxInsns !== Infinity && this.totalInsns() >= maxInsns) return "budget";
        // Stopped early: the window was shortened (an event scheduled for sooner); go on to the new end.
      }
    } finally {
      this.running = null;
    }
  }

  private eventScheduled(tick: Tick): void {
    if (tick >= this.windowEnd) return;
    this.windowEnd = Math.max(tick, this.now);
    this.running?.requestStop();
  }
}

/** The time a device sees: the running core's exact cycle during its access, else the queue's time. */
class MachineClock implements Clock {
  constructor(private readonly m: Machine) {}

  get hz(): number {
    return this.m.hz;
  }

  now(): Tick {
    const c = this.m.running;
    return c !== null ? Math.max(c.now(), this.m.queue.now) : Math.max(this.m.now, this.m.queue.now);
  }

  at(tick: Tick, fire: (tick: Tick) => void, label?: string, priority: number = EventPriority.DEVICE): SimEvent {
    return this.m.queue.at(tick, fire, label, priority);
  }

  cancel(ev: SimEvent | null | undefined): void {
    this.m.queue.cancel(ev);
  }
}

/** One core's view of the board: its own local APIC page first, then the machine's MMIO and ports,
 * each access charged the profile's bus latency. */
class CoreBus implements SystemBus {
  constructor(private readonly m: Machine, private readonly id: number) {}

  readPhys(pa: number, size: 1 | 2 | 4): number {
    const apic = this.m.apicPages[this.id];
    if (apic !== null && apic.claims(pa)) {
      this.m.charge(this.id, this.m.busCosts.lapicAccessCycles);
      return apic.mmioRead((pa >>> 0) - apic.mmioBase, size);
    }
    this.m.charge(this.id, this.m.busCosts.mmioReadCycles);
    return this.m.readPhys(pa, size);
  }

  writePhys(pa: number, size: 1 | 2 | 4, value: number): void {
    const apic = this.m.apicPages[this.id];
    if (apic !== null && apic.claims(pa)) {
      this.m.charge(this.id, this.m.busCosts.lapicAccessCycles);
      apic.mmioWrite((pa >>> 0) - apic.mmioBase, size, value);
      return;
    }
    this.m.charge(this.id, this.m.busCosts.mmioWriteCycles);
    this.m.writePhys(pa, size, value);
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    this.m.charge(this.id, this.m.busCosts.portIoCycles);
    return this.m.portIn(port, size);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.m.charge(this.id, this.m.busCosts.portIoCycles);
    this.m.portOut(port, size, value);
  }
}

/** Bus-master access to the machine's RAM; writes invalidate decoded code they overlap. */
class MachineDma implements DmaPort {
  constructor(private readonly m: Machine) {}

  read(pa: number, dst: Uint8Array): boolean {
    const ram = this.m.ram;
    if (!Number.isInteger(pa) || pa < 0 || pa + dst.length > ram.length) return false;
    dst.set(ram.subarray(pa, pa + dst.length));
    return true;
  }

  write(pa: number, src: Uint8Array): boolean {
    const ram = this.m.ram;
    if (!Number.isInteger(pa) || pa < 0 || pa + src.length > ram.length) return false;
    ram.set(src, pa);
    // The block cache looks a range up page by page.
    for (let p = pa; p < pa + src.length; p = (p | 0xfff) + 1) {
      const len = Math.min((p | 0xfff) + 1, pa + src.length) - p;
      this.m.blocks.invalidateRange(p, len);
    }
    return true;
  }
}
