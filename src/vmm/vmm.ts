/**
 * vmxsim's embedded type-1 hypervisor (issue 6 "The embedded VMM"; shared/DESIGN.md §3): TypeScript that
 * runs "in root mode" on the VT-x model. It partitions the machine (AMP): each partition gets cores (one
 * pinned vCPU each), guest-physical RAM behind its own EPT, optionally a CAT class of service or page
 * colours, and devices given exclusively (passthrough: I/O bitmap open / EPT-mapped MMIO, IOMMU-checked
 * DMA, interrupts posted or exit-and-inject) or shared through the VMM's device models (emulated or
 * paravirtual). It boots like a real one: enable VMX on every core it uses (SDM Vol. 3C 24.7, 31.5), build
 * one VMCS per vCPU (24.3-24.8), launch each guest at its entry point in the Multiboot state (abi.ts).
 *
 * Cost: every exit is handled on the core that took it. The handler's declared costs (costs.ts), the
 * VMREAD/VMWRITE it issues (charged by the VMX API), its physical APIC accesses and the cache accesses to
 * its own data (vCPU state, device-model state at host-physical addresses, through the cache model) are
 * added to that core's cycles; each exit -> entry is recorded with its split (exit-recorder.ts).
 *
 * The exit handlers are in exits/ (one per reason), the virtual LAPIC in virtual-lapic.ts, the interrupt
 * paths in interrupts.ts, the health monitor in health-monitor.ts.
 * Leaves out: vCPUs sharing a core (the scheduler interface is sched/; static pinning here), x2APIC for
 * guests, CPUs without EPT and virtual-interrupt delivery (the scenario validator refuses them).
 */
import type { Machine } from "../cpu/machine.ts";
import type { Core } from "../cpu/core.ts";
import { VmxApi } from "../cpu/vmx/vmx-api.ts";
import { VmcsField as F } from "../cpu/vmx/vmcs-fields.ts";
import { adjustControls } from "../cpu/vmx/vmx-capabilities.ts";
import { setIoIntercept } from "../cpu/vmx/io-bitmap.ts";
import { setMsrIntercept } from "../cpu/vmx/msr-bitmap.ts";
import { SimulationError } from "../cpu/simulation-error.ts";
import { ACCESS_READ, ACCESS_WRITE } from "../cpu/cache/memory-hierarchy.ts";
import type { IoApic } from "../devices/io-apic.ts";
import type { MsiSink, IrqLine } from "../devices/irq-line.ts";
import type { DmaPort } from "../devices/dma.ts";
import { msiAddress, msiData } from "../devices/msi.ts";
import { postInterrupt } from "../cpu/vmx/posted-interrupts.ts";
import { HostMemory, PAGE } from "./host-memory.ts";
import { EptBuilder, EPT_READ, EPT_WRITE, MEMTYPE_UC } from "./ept-builder.ts";
import { Partition, type FaultAction, type IrqDeliveryMode, type PartitionDevice, type GuestImageSpec } from "./partition.ts";
import { Vcpu } from "./vcpu.ts";
import { ExitRecorder } from "./exit-recorder.ts";
import { DEFAULT_VMM_COSTS, type VmmCosts } from "./costs.ts";
import { handleExit } from "./exits/index.ts";
import { prepareEntry, injectLocal, deliverToPartition } from "./interrupts.ts";
import { HealthMonitor, type HealthEvent } from "./health-monitor.ts";
import { StaticPinning, type VcpuScheduler } from "./sched/scheduler.ts";
import { IommuDma } from "./iommu.ts";
import { GUEST_APIC_GPA } from "./abi.ts";
import { launchVcpu, resetGuestState, writeGuestImage, writeHostTables } from "./vmm-boot.ts";
import type { VirtualDevice, VdevHost } from "./vdev/vdev.ts";
import { BACKEND_STATE_BYTES, VDEV_STATE_BYTES, type BackendHost, type BackendMemory } from "./vdev/backend-host.ts";

/** Physical vectors the VMM uses. */
export const PI_NOTIFY_VECTOR = 0xf2;
export const KICK_VECTOR = 0xf3;
export const PASSTHROUGH_VECTOR_BASE = 0x50;
export const SHARED_VECTOR_BASE = 0x80;
/** Name of the VMM's idle partition on a service core that runs no partition. */
export const SERVICE_PARTITION = "(vmm-service)";

/** The VMM's fixed pages (host tables, vmm-boot.ts) lie below this; the rest of its memory is allocated. */
const FIRST_FREE = 0x10000;

export interface VmmOptions {
  costs?: Partial<VmmCosts>;
  /** Core taking the interrupts of the devices the VMM owns. */
  serviceCore?: number;
  /** Bytes of RAM the VMM keeps (from 0). */
  vmmBytes: number;
  /** Page colours / CAT class for the VMM's own data (null: any / the running core's class). */
  vmmColours?: number[] | null;
  vmmClos?: number | null;
  /** Cache level whose colours apply. */
  colourLevel?: "l2" | "l3";
  ioapic: IoApic;
  /** Where the VMM's and the IOMMU's interrupt messages go (the machine's APIC bus via an MSI router). */
  msi: MsiSink;
  scheduler?: VcpuScheduler;
}

export interface PartitionSpec {
  name: string;
  cores: number[];
  memoryBytes: number;
  hostBase: number | null;
  clos: number | null;
  colours: number[] | null;
  irqDelivery: IrqDeliveryMode;
  onFault: FaultAction;
}

export interface DeviceWindow {
  name: string;
  type: string;
  vector: number;
  mmioGpa: number | null;
  mmioBytes: number;
  port: number | null;
  portCount: number;
}

export class Vmm {
  readonly costs: VmmCosts;
  readonly partitions: Partition[] = [];
  readonly vcpus: Vcpu[] = [];
  readonly health: HealthMonitor;
  readonly serviceCore: number;
  readonly scheduler: VcpuScheduler;
  /** The vCPU pinned to each core (null: the core is not used). */
  readonly vcpuOfCore: (Vcpu | null)[];
  /** The core running VMM code now (inside an exit), or null. */
  current: Core | null = null;
  /** Cycles of VMM data accesses beyond L1 in the exit being handled. */
  cacheCycles = 0;
  /** Physical vector -> what it means (passthrough exit-and-inject, shared device interrupt). */
  readonly vectorRoutes = new Map<number, { kind: "passthrough"; partition: Partition; device: PartitionDevice } | { kind: "shared"; onInterrupt: () => void; name: string }>();
  readonly vmmMemory: HostMemory;
  readonly guestMemory: HostMemory;
  readonly apicAccessPage: number;
  private readonly vmmColours: ReadonlySet<number> | null;
  private readonly vmmClos: number | null;
  private readonly deferredCycles = new Map<Partition, number>();
  private nextPassthroughVector = PASSTHROUGH_VECTOR_BASE;
  private nextSharedVector = SHARED_VECTOR_BASE;
  private booted = false;
  readonly unrestrictedGuest: boolean;
  readonly postedInterrupts: boolean;
  private readonly ramView: DataView;
  private readonly ramWords: { read32(pa: number): number; write32(pa: number, v: number): void };

  constructor(readonly machine: Machine, readonly opts: VmmOptions) {
    const ram = machine.ram;
    const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.ramView = view;
    this.ramWords = { read32: (pa) => view.getUint32(pa, true), write32: (pa, v) => view.setUint32(pa, v >>> 0, true) };
    this.costs = { ...DEFAULT_VMM_COSTS, ...(opts.costs ?? {}) } as VmmCosts;
    this.serviceCore = opts.serviceCore ?? 0;
    this.scheduler = opts.scheduler ?? new StaticPinning();
    this.vcpuOfCore = machine.cores.map(() => null);
    this.health = new HealthMonitor(this);
    const level = opts.colourLevel ?? "l3";
    const h = machine.caches;
    const colourOf = h !== null && h.hasLevel(level) ? (pa: number) => h.colourOf(level, pa) : () => 0;
    this.vmmMemory = new HostMemory(FIRST_FREE, opts.vmmBytes, colourOf);
    this.guestMemory = new HostMemory(opts.vmmBytes, machine.ram.length, colourOf);
    this.vmmColours = opts.vmmColours ? new Set(opts.vmmColours) : null;
    this.vmmClos = opts.vmmClos ?? null;
    if (machine.profile === null || machine.cores[0].vmx === null) throw new RangeError("VMM: the machine needs a CPU profile with VMX");
    const caps = machine.cores[0].vmx.caps.controls;
    const proc2 = caps.proc2;
    this.unrestrictedGuest = proc2 !== undefined && (adjustControls(proc2, 1 << 7) & (1 << 7)) !== 0;
    this.postedInterrupts = (adjustControls(caps.pin, 1 << 7) & (1 << 7)) !== 0;
    const hasEpt = proc2 !== undefined && (adjustControls(proc2, 2) & 2) !== 0;
    const hasVid = proc2 !== undefined && (adjustControls(proc2, 1 << 9) & (1 << 9)) !== 0;
    if (!hasEpt || !hasVid) {
      throw new RangeError(`VMM: profile ${machine.profile.id} lacks ${!hasEpt ? "EPT" : "virtual-interrupt delivery"}; the VMM needs both (haswell, skylake)`);
    }
    this.apicAccessPage = this.vmmPage();
  }

  // ---- set-up (before boot) ----

  /** A zeroed page of VMM data (in the VMM's colours). */
  vmmPage(): number {
    const pa = this.vmmMemory.page(this.vmmColours);
    this.machine.ram.fill(0, pa, pa + PAGE);
    return pa;
  }

  addPartition(spec: PartitionSpec): Partition {
    if (this.booted) throw new Error("VMM: partitions are added before boot");
    const count = Math.ceil(spec.memoryBytes / PAGE);
    const pages = spec.hostBase !== null
      ? this.guestMemory.take(spec.hostBase, count * PAGE)
      : this.guestMemory.pages(count, spec.colours ? new Set(spec.colours) : null);
    const ram = this.machine.ram;
    for (const p of pages) ram.fill(0, p, p + PAGE);
    const ept = new EptBuilder(ram, () => this.vmmPage());
    pages.forEach((hpa, i) => ept.map(i * PAGE, hpa));
    ept.map(GUEST_APIC_GPA, this.apicAccessPage, EPT_READ | EPT_WRITE, MEMTYPE_UC);
    const ioA = this.vmmPage(), ioB = this.vmmPage(), msrBitmap = this.vmmPage();
    const mem = this.physMem();
    setIoIntercept(mem, ioA, ioB, 0, 0x10000, true);
    // The guest's TSC-deadline timer is virtual; TSC, APIC base and the CAT MSRs are the VMM's.
    setMsrIntercept(mem, msrBitmap, 0x6e0, { read: true, write: true }, true);
    for (const msr of [0x10, 0x1b, 0x3a]) setMsrIntercept(mem, msrBitmap, msr, { write: true }, true);
    for (let msr = 0xc8f; msr <= 0xd8f; msr++) setMsrIntercept(mem, msrBitmap, msr, { write: true }, true);
    const p = new Partition(
      this.partitions.length, spec.name, count * PAGE, pages, ept, ioA, ioB, msrBitmap,
      spec.irqDelivery, spec.onFault, new ExitRecorder(), ram,
    );
    this.partitions.push(p);
    const h = this.machine.caches;
    spec.cores.forEach((coreId, index) => {
      const core = this.machine.cores[coreId];
      const vcpu = new Vcpu(p, index, core, new VmxApi(core), this.vmmPage(), this.vmmPage(), this.vmmPage(),
        this.vcpus.length + 1, this.vmmPage());
      p.vcpus.push(vcpu);
      this.vcpus.push(vcpu);
      if (h !== null) {
        h.setOwner(coreId, p.id + 1);
        if (spec.clos !== null) h.setClos(coreId, spec.clos);
      }
    });
    this.scheduler.place(p.vcpus, this.vcpuOfCore);
    return p;
  }

  /** An exclusive (passthrough) device: its MMIO window mapped by EPT (uncached) at the same address, its
   * ports opened in the I/O bitmap. */
  attachExclusive(p: Partition, w: DeviceWindow, mmioHpa: number | null): PartitionDevice {
    const d = this.addDevice(p, w, "exclusive", null);
    if (w.mmioGpa !== null && mmioHpa !== null) {
      for (let off = 0; off < w.mmioBytes; off += PAGE) p.ept.map(w.mmioGpa + off, mmioHpa + off, EPT_READ | EPT_WRITE, MEMTYPE_UC);
    }
    if (w.port !== null) setIoIntercept(this.physMem(), p.ioBitmapA, p.ioBitmapB, w.port, w.portCount, false);
    if (p.irqDelivery === "exit-and-inject") {
      d.physicalVector = this.nextPassthroughVector++;
      this.vectorRoutes.set(d.physicalVector, { kind: "passthrough", partition: p, device: d });
    }
    return d;
  }

  /** A shared device in emulated or paravirtual mode: `make` builds the partition's device model. Its
   * windows stay unmapped / intercepted, so every guest access exits. */
  attachShared(p: Partition, w: DeviceWindow, mode: "emulated" | "paravirtual", make: (host: VdevHost) => VirtualDevice): PartitionDevice {
    const d = this.addDevice(p, w, mode, null);
    d.vdev = make(this.vdevHost(p, d));
    return d;
  }

  private addDevice(p: Partition, w: DeviceWindow, mode: PartitionDevice["mode"], vdev: VirtualDevice | null): PartitionDevice {
    const d: PartitionDevice = {
      index: p.devices.length, name: w.name, type: w.type, mode, vector: w.vector,
      mmioGpa: w.mmioGpa, mmioBytes: w.mmioBytes, port: w.port, portCount: w.portCount, vdev, physicalVector: null,
    };
    p.devices.push(d);
    return d;
  }

  /** The interrupt line a passthrough device of `p` drives: interrupt remapping (VT-d 5.1, 9.10-9.12): on
   * each rising edge the interrupt is posted to vCPU 0 (PIR + notification) or sent as a physical vector
   * to its core (exit-and-inject). `deviceIndex` is the index attachExclusive will give it. */
  passthroughIrq(p: Partition, deviceIndex: number): IrqLine {
    let level = false;
    return {
      set: (l: boolean) => {
        if (l && !level) {
          const d = p.devices[deviceIndex];
          if (d !== undefined && p.state === "running") this.remapInterrupt(p, d);
        }
        level = l;
      },
    };
  }

  private remapInterrupt(p: Partition, d: PartitionDevice): void {
    const v = p.vcpus[0];
    if (d.physicalVector === null) {
      // Posted (VT-d posted-interrupt remapping): no core runs VMM code.
      if (this.postedInterrupts && this.postTo(v, d.vector)) this.sendVector(v.core.id, PI_NOTIFY_VECTOR);
    } else {
      this.sendVector(v.core.id, d.physicalVector);
    }
  }

  /** Set the PIR bit and ON of `v`'s descriptor; true if the notification must be sent (ON was clear). */
  postTo(v: Vcpu, vector: number): boolean {
    return postInterrupt(this.physMem(), v.pid, vector);
  }


  /** A fixed, edge-triggered interrupt message with `vector` to the local APIC of `coreId`. */
  sendVector(coreId: number, vector: number): void {
    this.opts.msi.deliverMsi(msiAddress(coreId, false), msiData(vector));
  }

  /** A DMA port for a passthrough device of `p`: device addresses are guest-physical (VT-d second-level
   * translation with the partition's map); a transfer outside the partition is refused and reported. */
  iommu(p: Partition, deviceName: string): DmaPort {
    return new IommuDma(this.machine, p, (detail) => this.health.dmaViolation(p, deviceName, detail));
  }

  /** A shared device's physical interrupt: IOAPIC pin `pin` -> a vector on the service core, edge-triggered. */
  routeSharedIrq(name: string, pin: number, onInterrupt: () => void): number {
    const vector = this.nextSharedVector++;
    this.vectorRoutes.set(vector, { kind: "shared", onInterrupt, name });
    // IOAPIC redirection entry (82093AA datasheet 3.2.4): fixed, physical, edge, active high, unmasked.
    this.opts.ioapic.writeRegister(0x10 + 2 * pin + 1, this.serviceCore << 24);
    this.opts.ioapic.writeRegister(0x10 + 2 * pin, vector);
    return vector;
  }

  /** What a shared device's backend gets (vdev/backend-host.ts): charges go to the core running the VMM
   * now; `memoryBytes` of contiguous VMM memory for its DMA structures. */
  backendHost(name: string, memoryBytes: number): BackendHost {
    const touchState = this.stateBlock(BACKEND_STATE_BYTES);
    const pages = memoryBytes > 0 ? this.vmmMemory.pages(Math.ceil(memoryBytes / PAGE)) : [];
    const base = pages[0] ?? 0;
    const ram = this.machine.ram;
    if (pages.length > 0) ram.fill(0, base, base + pages.length * PAGE);
    const bus = this.machine.busCosts;
    const memory: BackendMemory = {
      hpa: base,
      bytes: pages.length * PAGE,
      read: (offset, bytes) => {
        this.touch(base + offset, bytes, false);
        return ram.slice(base + offset, base + offset + bytes);
      },
      write: (offset, data) => {
        this.touch(base + offset, data.length, true);
        ram.set(data, base + offset);
      },
    };
    return {
      clock: this.machine.clock,
      charge: (key) => this.chargeKey(key, null),
      touchState,
      busAccess: (kind) => this.chargeCycles(kind === "mmioRead" ? bus.mmioReadCycles : kind === "mmioWrite" ? bus.mmioWriteCycles : bus.portIoCycles, null),
      memory,
      get name() {
        return name;
      },
    } as BackendHost;
  }

  private vdevHost(p: Partition, d: PartitionDevice): VdevHost {
    const touchState = this.stateBlock(VDEV_STATE_BYTES);
    return {
      partition: p.name,
      index: d.index,
      clock: this.machine.clock,
      charge: (key) => this.chargeKey(key, p),
      touchState,
      readGuest: (gpa, bytes) => {
        const r = p.read(gpa, bytes);
        if (r !== null) this.touchGuest(p, gpa, bytes, false);
        return r;
      },
      writeGuest: (gpa, data) => {
        if (p.hpa(gpa) === null || (data.length > 0 && p.hpa(gpa + data.length - 1) === null)) return false;
        this.touchGuest(p, gpa, data.length, true);
        this.guestStore(p, () => p.write(gpa, data.slice()));
        return true;
      },
      read32: (gpa) => {
        const r = p.read32(gpa);
        if (r !== null) this.touchGuest(p, gpa, 4, false);
        return r;
      },
      write32: (gpa, value) => {
        if (p.hpa(gpa) === null || p.hpa(gpa + 3) === null) return false;
        this.touchGuest(p, gpa, 4, true);
        this.guestStore(p, () => p.write32(gpa, value));
        return true;
      },
      gpaToHpa: (gpa, bytes) => p.contiguousHpa(gpa, bytes),
      raise: () => deliverToPartition(this, p, d.vector, d.index),
      fault: (kind, detail) => this.health.report(p, p.vcpus[0], kind, `${d.name}: ${detail}`, false),
    };
  }

  /**
   * A store of the VMM into a partition's memory. Cores take turns within a machine window, so a store made
   * on another core would be visible to the partition's vCPUs before the tick it is made at, when their turn
   * comes later in the window; it is made at its tick instead (an event at now, which ends the window there:
   * shared/DESIGN.md §4), in order with the VMM's other stores. On the partition's own core (or outside a VMM
   * turn) it is made at once.
   */
  private guestStore(p: Partition, store: () => void): void {
    const c = this.current;
    if (c === null || p.vcpus.some((v) => v.core === c)) {
      store();
      return;
    }
    this.machine.clock.at(c.cycles, () => store(), "vmm.guest-store");
  }

  /** A block of VMM state of `bytes` (pages in the VMM's colours); returns how to touch it. */
  private stateBlock(bytes: number): (offset: number, n: number, write: boolean) => void {
    const pages = Array.from({ length: Math.max(1, Math.ceil(bytes / PAGE)) }, () => this.vmmPage());
    return (offset, n, write) => {
      for (let o = offset; o < offset + n; ) {
        const page = pages[Math.floor(o / PAGE) % pages.length];
        const len = Math.min(offset + n - o, PAGE - (o % PAGE));
        this.touch(page + (o % PAGE), len, write);
        o += len;
      }
    };
  }

  /** The image to launch (and to reload on restart); the log ring the probes drain. */
  loadImage(p: Partition, image: GuestImageSpec, logGpa: number | null, logBytes: number): void {
    p.image = image;
    p.logGpa = logGpa;
    p.logBytes = logBytes;
    this.writeImage(p);
  }

  /** Write the partition's image and the Multiboot information into its memory (boot and restart). */
  writeImage(p: Partition): void {
    writeGuestImage(p, this.unrestrictedGuest);
  }

  /** The guest's boot state in its VMCS, its virtual APIC cleared (boot and restart). */
  resetGuest(v: Vcpu): void {
    resetGuestState(this, v);
  }

  // ---- boot ----

  boot(): void {
    if (this.booted) throw new Error("VMM: already booted");
    this.booted = true;
    writeHostTables(this.machine);
    this.addServicePartition();
    for (const v of this.vcpus) launchVcpu(this, v, this.vmmPage());
  }

  /**
   * A service core that runs no partition still has to take the shared devices' interrupts: the VMM gives
   * it an idle vCPU of its own (a guest that only halts, with external-interrupt exiting), so every such
   * interrupt is a VM exit handled here, on a core no partition runs on (a dedicated I/O core, as a
   * service VM's core would be). Its exits are recorded in the partition SERVICE_PARTITION.
   */
  private addServicePartition(): void {
    const needed = [...this.vectorRoutes.values()].some((r) => r.kind === "shared");
    if (!needed || this.vcpuOfCore[this.serviceCore] !== null) return;
    this.booted = false;
    const p = this.addPartition({
      name: SERVICE_PARTITION, cores: [this.serviceCore], memoryBytes: 2 * 1024 * 1024, hostBase: null, clos: this.vmmClos,
      colours: null, irqDelivery: "posted", onFault: "log",
    });
    this.booted = true;
    this.service = p;
    // GUEST_IMAGE_GPA: STI; HLT; JMP $-1.
    this.loadImage(p, { bytes: new Uint8Array([0xfb, 0xf4, 0xeb, 0xfd]), loadGpa: 0x100000, entry: 0x100000, cmdline: "" }, null, 0);
  }

  /** The VMM's own idle partition on the service core, when it has one. */
  service: Partition | null = null;

  // ---- running ----

  /** Machine({ onVmExit }) calls this at every VM exit (the core stopped in root mode). */
  onVmExit(core: Core): void {
    const v = this.vcpuOfCore[core.id];
    if (v === null) throw new SimulationError(`VMM: VM exit on core ${core.id}, which runs no vCPU`, { core: core.id, eip: core.eip, dump: core.dump() });
    const vmx = core.vmx!;
    const exitCost = vmx.lastExit.fixedCycles + vmx.lastExit.memoryCycles + vmx.lastExit.msrListCycles;
    const t0 = vmx.lastExitAt - exitCost;
    this.current = core;
    this.cacheCycles = 0;
    v.exitDevice = null;
    const vmmClos = this.vmmClos;
    const h = this.machine.caches;
    const guestClos = h !== null && vmmClos !== null ? h.closOfCore(core.id) : 0;
    if (h !== null && vmmClos !== null && vmmClos !== guestClos) h.setClos(core.id, vmmClos);
    this.chargeKey("exit.dispatch", null);
    const deferred = this.deferredCycles.get(v.partition);
    if (deferred !== undefined && v.index === 0) {
      core.cycles += deferred;
      this.deferredCycles.delete(v.partition);
    }
    this.touch(v.stateHpa, 128, true); // the saved guest GPRs
    const reason = v.api.vmread(F.EXIT_REASON);
    if ((reason & 0x80000000) !== 0) {
      this.health.report(v.partition, v, "entry-failure", `VM entry failed, reason ${reason & 0xffff}`, true);
    } else {
      handleExit(this, v, reason & 0xffff);
    }
    let entered = false;
    if (v.state === "running") {
      prepareEntry(this, v);
      const st = v.api.vmresume();
      entered = st.ok;
      if (!st.ok) this.health.report(v.partition, v, "entry-failure", `VMRESUME failed: ${JSON.stringify(st)}`, true);
    }
    if (h !== null && vmmClos !== null && vmmClos !== guestClos) h.setClos(core.id, guestClos);
    if (v.state !== "running") this.park(v);
    const transition = exitCost + (entered ? vmx.lastEntry.fixedCycles + vmx.lastEntry.memoryCycles + vmx.lastEntry.msrListCycles : 0);
    const total = core.cycles - t0;
    v.partition.exits.record({
      reason: reason & 0xffff, totalCycles: total, transitionCycles: transition,
      handlerCycles: total - transition - this.cacheCycles, cacheMissCycles: this.cacheCycles,
    }, v.exitDevice);
    this.current = null;
  }

  /** Stop a vCPU's core in root mode with interrupts off (HLT with IF = 0: nothing but NMI/INIT wakes it). */
  park(v: Vcpu): void {
    const c = v.core;
    if (c.nonRoot) return;
    c.eflags &= ~0x200;
    c.halted = true;
  }

  // ---- cost accounting ----

  chargeKey(key: string, p: Partition | null): void {
    const cycles = (this.costs as Record<string, number>)[key];
    if (cycles === undefined) throw new RangeError(`VMM: unknown cost '${key}'`);
    this.chargeCycles(cycles, p);
  }

  chargeCycles(cycles: number, p: Partition | null): void {
    if (this.current !== null) this.current.cycles += cycles;
    else if (p !== null) this.deferredCycles.set(p, (this.deferredCycles.get(p) ?? 0) + cycles);
  }

  /** The VMM touches its own data [hpa, hpa + bytes) through the running core's caches. */
  touch(hpa: number, bytes: number, write: boolean): void {
    const c = this.current;
    const h = this.machine.caches;
    if (c === null || h === null) return;
    const kind = write ? ACCESS_WRITE : ACCESS_READ;
    let n = 0;
    for (let line = hpa & ~63; line < hpa + bytes; line += 64) n += h.access(c.id, line, kind);
    c.cycles += n;
    this.cacheCycles += n;
  }

  /** Guest memory the VMM copies, line by line through the caches. */
  private touchGuest(p: Partition, gpa: number, bytes: number, write: boolean): void {
    for (let g = gpa & ~63; g < gpa + bytes; g += 64) {
      const h = p.hpa(g);
      if (h !== null) this.touch(h, 1, write);
    }
  }

  /** Advance the guest's RIP past the exiting instruction (VM-exit instruction length, SDM 27.2.5). */
  skipInstruction(v: Vcpu): void {
    const len = v.api.vmread(F.VM_EXIT_INSTRUCTION_LENGTH);
    v.api.vmwrite(F.GUEST_RIP, (v.api.vmread(F.GUEST_RIP) + len) >>> 0);
  }

  injectLocal(v: Vcpu, vector: number, device: number | null): void {
    injectLocal(this, v, vector, device);
  }

  /** The machine's RAM as the VMM reads and writes its own structures (little-endian). */
  dv(): DataView {
    return this.ramView;
  }

  physMem(): { read32(pa: number): number; write32(pa: number, v: number): void } {
    return this.ramWords;
  }

  /** Health-monitor events so far. */
  get faults(): readonly HealthEvent[] {
    return this.health.events;
  }
}


