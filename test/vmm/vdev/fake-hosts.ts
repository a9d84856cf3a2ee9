/**
 * Test rig for the shared devices: one host RAM array, an event queue with a QueueClock (1 GHz: a tick is
 * a ns), the real physical device models from the device catalog with their DMA on that RAM, and fake VMM
 * hosts (BackendHost, VdevHost) that record every charge, state touch, bus access, raise and fault.
 * Partition p's guest RAM is host RAM [base, base + size); `fragmented` makes gpaToHpa refuse ranges that
 * cross a 4 KiB page (as with page colouring) so buffers go through the bounce path.
 * The physical device's interrupt line models the VMM's edge-triggered IOAPIC pin: a rising edge calls
 * onInterrupt() `irqDelay` ticks later (the service core taking the interrupt), or at once from inside the
 * device access that raised it when irqDelay < 0 (to check that the backend defers a re-entrant interrupt).
 */
import { EventQueue } from "../../../src/sim/event-queue.ts";
import { QueueClock } from "../../../src/sim/clock.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { RamDma } from "../../../src/devices/dma.ts";
import type { IrqLine } from "../../../src/devices/irq-line.ts";
import { deviceType, type DeviceInstance } from "../../../src/devices/device-catalog.ts";
import "../../../src/devices/experiment-cards.ts";
import type { VdevHost } from "../../../src/vmm/vdev/vdev.ts";
import {
  BACKEND_STATE_BYTES, VDEV_STATE_BYTES, createSharedDevice, sharedDeviceMemoryBytes, type BackendHost, type SharedDevice, type SharedDeviceType,
} from "../../../src/vmm/vdev/shared-device.ts";

export const HZ = 1e9;
export const RAM_BYTES = 32 << 20;
/** Backend memory at 1 MiB; partitions from 8 MiB, 4 MiB each. */
export const BACKEND_BASE = 1 << 20;
export const PART_BASE = 8 << 20;
export const PART_BYTES = 4 << 20;

export class Recorder {
  readonly charges: string[] = [];
  touches = 0;
  count(key: string): number {
    return this.charges.filter((c) => c === key).length;
  }
}

export class FakeBackendHost implements BackendHost {
  readonly rec = new Recorder();
  readonly bus: string[] = [];
  readonly memory;
  constructor(readonly clock: QueueClock, ram: Uint8Array, bytes: number) {
    const hpa = BACKEND_BASE;
    this.memory = {
      hpa,
      bytes,
      read: (offset: number, n: number) => {
        if (offset < 0 || offset + n > bytes) throw new RangeError(`backend memory read ${offset}+${n} outside ${bytes}`);
        return ram.slice(hpa + offset, hpa + offset + n);
      },
      write: (offset: number, data: Uint8Array) => {
        if (offset < 0 || offset + data.length > bytes) throw new RangeError(`backend memory write ${offset}+${data.length} outside ${bytes}`);
        ram.set(data, hpa + offset);
      },
    };
  }
  charge(key: string): void {
    this.rec.charges.push(key);
  }
  touchState(offset: number, bytes: number): void {
    if (offset < 0 || bytes < 1 || offset + bytes > BACKEND_STATE_BYTES) throw new RangeError(`touch ${offset}+${bytes} outside the state block`);
    this.rec.touches++;
  }
  busAccess(kind: "mmioRead" | "mmioWrite" | "portIo"): void {
    this.bus.push(kind);
  }
}

export class FakeVdevHost implements VdevHost {
  readonly rec = new Recorder();
  raises = 0;
  readonly raiseTicks: number[] = [];
  readonly faults: { kind: string; detail: string }[] = [];
  /** Bytes copied by readGuest / writeGuest (the VMM's copies). */
  copiedIn = 0;
  copiedOut = 0;
  constructor(
    readonly partition: string,
    readonly index: number,
    readonly clock: QueueClock,
    private readonly ram: Uint8Array,
    readonly base: number,
    readonly size: number,
    readonly fragmented = false,
    private readonly onRaise?: () => void,
  ) {}
  private inRam(gpa: number, bytes: number): boolean {
    return Number.isInteger(gpa) && gpa >= 0 && bytes >= 0 && gpa + bytes <= this.size;
  }
  charge(key: string): void {
    this.rec.charges.push(key);
  }
  touchState(offset: number, bytes: number): void {
    if (offset < 0 || bytes < 1 || offset + bytes > VDEV_STATE_BYTES) throw new RangeError(`touch ${offset}+${bytes} outside the state block`);
    this.rec.touches++;
  }
  readGuest(gpa: number, bytes: number): Uint8Array | null {
    if (!this.inRam(gpa, bytes)) return null;
    this.copiedIn += bytes;
    return this.ram.slice(this.base + gpa, this.base + gpa + bytes);
  }
  writeGuest(gpa: number, data: Uint8Array): boolean {
    if (!this.inRam(gpa, data.length)) return false;
    this.copiedOut += data.length;
    this.ram.set(data, this.base + gpa);
    return true;
  }
  read32(gpa: number): number | null {
    if (!this.inRam(gpa, 4)) return null;
    return new DataView(this.ram.buffer).getUint32(this.base + gpa, true);
  }
  write32(gpa: number, value: number): boolean {
    if (!this.inRam(gpa, 4)) return false;
    new DataView(this.ram.buffer).setUint32(this.base + gpa, value >>> 0, true);
    return true;
  }
  gpaToHpa(gpa: number, bytes: number): number | null {
    if (!this.inRam(gpa, bytes) || bytes < 1) return null;
    if (this.fragmented && Math.floor(gpa / 4096) !== Math.floor((gpa + bytes - 1) / 4096)) return null;
    return this.base + gpa;
  }
  raise(): void {
    this.raises++;
    this.raiseTicks.push(this.clock.now());
    this.onRaise?.();
  }
  fault(kind: string, detail: string): void {
    this.faults.push({ kind, detail });
  }
  /** Guest memory helpers for the test itself (not charged). */
  peek(gpa: number, bytes: number): Uint8Array {
    return this.ram.slice(this.base + gpa, this.base + gpa + bytes);
  }
  poke(gpa: number, data: Uint8Array): void {
    this.ram.set(data, this.base + gpa);
  }
  peek32(gpa: number): number {
    return new DataView(this.ram.buffer).getUint32(this.base + gpa, true);
  }
  poke32(gpa: number, v: number): void {
    new DataView(this.ram.buffer).setUint32(this.base + gpa, v >>> 0, true);
  }
}

/** The VMM's edge-triggered pin: a rising edge calls the handler `delay` ticks later. Edges before the
 * handler is connected are lost (the VMM routes the IOAPIC pin after createSharedDevice returns). */
class EdgePin implements IrqLine {
  private level = false;
  edges = 0;
  handler: (() => void) | null = null;
  constructor(private readonly clock: QueueClock, private readonly delay: number) {}
  set(level: boolean): void {
    if (level && !this.level && this.handler !== null) {
      this.edges++;
      const h = this.handler;
      this.level = level;
      if (this.delay < 0) h(); // synchronous: the handler runs inside the device access that raised the line
      else this.clock.at(this.clock.now() + this.delay, () => h(), "test.service-irq");
    }
    this.level = level;
  }
}

export interface Rig {
  q: EventQueue;
  clock: QueueClock;
  ram: Uint8Array;
  physical: DeviceInstance;
  pin: EdgePin;
  backend: FakeBackendHost;
  shared: SharedDevice;
  /** A partition host (p = 0, 1, ...). */
  partition(p: number, opts?: { fragmented?: boolean; onRaise?: () => void }): FakeVdevHost;
  /** Fire every event up to `tick` (default: until the queue is empty, bounded). */
  run(until?: number): void;
}

export function rig(
  type: SharedDeviceType,
  options: Record<string, unknown> = {},
  opts: { irqDelay?: number; seed?: number; physical?: (clock: QueueClock, irq: IrqLine, dma: RamDma) => DeviceInstance } = {},
): Rig {
  const q = new EventQueue();
  const clock = new QueueClock(q, HZ);
  const ram = new Uint8Array(RAM_BYTES);
  const pin = new EdgePin(clock, opts.irqDelay ?? 500);
  const kind = type === "uart" ? "uart16550" : type;
  const dma = new RamDma(ram);
  const physical = opts.physical !== undefined
    ? opts.physical(clock, pin, dma)
    : deviceType(kind).create({ clock, irq: [pin], dma, rng: new Rng(opts.seed ?? 1, `test.${kind}`), options });
  const backend = new FakeBackendHost(clock, ram, sharedDeviceMemoryBytes(type, physical));
  const shared = createSharedDevice(type, physical, backend);
  pin.handler = () => shared.onInterrupt();
  return {
    q, clock, ram, physical, pin, backend, shared,
    partition(p, o = {}) {
      return new FakeVdevHost(`p${p}`, 0, clock, ram, PART_BASE + p * PART_BYTES, PART_BYTES, o.fragmented ?? false, o.onRaise);
    },
    run(until = Infinity) {
      for (let n = 0; n < 1_000_000; n++) {
        const t = q.nextTick();
        if (t === Infinity || t > until) break;
        q.runUntil(t);
      }
      if (until !== Infinity && until > q.now) q.runUntil(until);
    },
  };
}

/** A guest-side PV ring writer (abi.ts layout), driven by the test as a driver would. */
export class GuestRing {
  avail = 0;
  constructor(private readonly h: FakeVdevHost, readonly gpa: number, readonly entries: number) {
    for (let k = 0; k < 64 + entries * 32; k += 4) h.poke32(gpa + k, 0);
  }
  slotGpa(n: number): number {
    return this.gpa + 64 + (n % this.entries) * 32;
  }
  /** Publish one request (without ringing the doorbell); returns its number. */
  post(op: number, addr: number, len: number, arg0 = 0, arg1 = 0, id = this.avail + 100): number {
    const s = this.slotGpa(this.avail);
    const w = [op, id, addr, len, arg0, arg1, 0, 0];
    w.forEach((v, k) => this.h.poke32(s + k * 4, v));
    this.avail++;
    this.h.poke32(this.gpa, this.avail);
    return this.avail - 1;
  }
  status(n: number): number {
    return this.h.peek32(this.slotGpa(n) + 24);
  }
  result(n: number): number {
    return this.h.peek32(this.slotGpa(n) + 28);
  }
  field(n: number, off: number): number {
    return this.h.peek32(this.slotGpa(n) + off);
  }
  get used(): number {
    return this.h.peek32(this.gpa + 4);
  }
}
