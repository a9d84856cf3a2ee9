/**
 * Test stand: a bare-metal Skylake machine with the experiment cards created from the device catalog (as
 * src/scenario/pc-platform.ts creates them), each mapped at its env.devices[i].mmioGpa, its INTx on an
 * IOAPIC pin routed (level-triggered, to core 0) to its vector, as firmware or the VMM would do for the
 * guest; a 16550 at its port. Loads a GuestImage at its loadGpa and starts every core in the abi.ts boot
 * state. Also reads the guest's log rings (abi.ts LOG_* layout) back out of RAM.
 */
import { Machine } from "../../../src/cpu/machine.ts";
import { getProfile } from "../../../src/cpu/profiles/index.ts";
import { IoApic } from "../../../src/devices/io-apic.ts";
import { deviceType, type DeviceInstance } from "../../../src/devices/device-catalog.ts";
import "../../../src/devices/experiment-cards.ts";
import { Uart16550 } from "../../../src/devices/uart-16550.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { Reg } from "../../../src/cpu/registers.ts";
import type { GuestDevice, GuestEnv, GuestImage } from "../../../src/guests/guest-env.ts";
import {
  BOOT_STACK_TOP, DEVICE_VECTOR_BASE, LOG_HEADER_BYTES, LOG_MAGIC, LOG_RECORD_BYTES, LogHeader, MULTIBOOT_BOOT_MAGIC,
} from "../../../src/vmm/abi.ts";

export const CARD_BASE = 0xfeb00000;
export const FIRST_PIN = 16;
export const UART_PORT = 0x3f8;

export interface CardSpec {
  name: string;
  type: GuestDevice["type"];
  mode?: GuestDevice["mode"];
  options?: Record<string, unknown>;
}

export interface Stand {
  m: Machine;
  env: GuestEnv;
  /** Device models by name (cards: their instance; uart: the Uart16550 in `device`). */
  cards: Record<string, DeviceInstance>;
  uartOut: number[];
  /** Guest accesses to each card's registers: "r<offset>" / "w<offset>" (hex) -> count. */
  accesses: Record<string, Map<string, number>>;
}

/** The machine and the GuestEnv a program is built for. */
export function bareMetalStand(devices: CardSpec[], opts: { cores?: number; ramMiB?: number; seed?: number } = {}): Stand {
  const profile = getProfile("skylake");
  const ramBytes = (opts.ramMiB ?? 16) << 20;
  const m = new Machine({ ramBytes, cores: opts.cores ?? 1, profile });
  const ioapic = new IoApic({ sink: m.apicBus });
  m.apicBus.onEoi((v) => ioapic.eoi(v));
  m.mmio.map(0xfec00000, 0x20, ioapic);
  const cards: Record<string, DeviceInstance> = {};
  const uartOut: number[] = [];
  const accesses: Record<string, Map<string, number>> = {};
  const env: GuestEnv = {
    vcpus: opts.cores ?? 1, memoryBytes: ramBytes, tscHz: profile.tscHz, apicTimerHz: profile.apicTimerHz, devices: [],
  };
  devices.forEach((d, i) => {
    const vector = DEVICE_VECTOR_BASE + i;
    const pin = d.type === "uart" ? 4 : FIRST_PIN + i;
    // Level-triggered, active high, fixed delivery to APIC 0 (82093AA 3.2.4).
    ioapic.writeRegister(0x10 + 2 * pin, vector | (d.type === "uart" ? 0 : 1 << 15));
    ioapic.writeRegister(0x11 + 2 * pin, 0);
    if (d.type === "uart") {
      const u = new Uart16550({ clock: m.clock, irq: ioapic.pin(pin), sink: (b) => uartOut.push(b), name: d.name });
      m.ports.map(UART_PORT, 8, u);
      cards[d.name] = { kind: "uart16550", port: u, device: u, state: u.state };
      env.devices.push({ index: i, name: d.name, type: d.type, mode: d.mode ?? "exclusive", vector, mmioGpa: null, port: UART_PORT });
      return;
    }
    const inst = deviceType(d.type).create({
      clock: m.clock, irq: [ioapic.pin(pin)], dma: m.dma(), rng: new Rng(opts.seed ?? 1, d.name), options: d.options ?? {},
    });
    const base = CARD_BASE + 0x1000 * i;
    const counts = new Map<string, number>();
    accesses[d.name] = counts;
    const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
    const dev = inst.mmio!;
    m.mmio.map(base, 0x1000, {
      name: d.name,
      mmioRead: (off, size) => (bump(`r${off.toString(16)}`), dev.mmioRead(off, size)),
      mmioWrite: (off, size, v) => (bump(`w${off.toString(16)}`), dev.mmioWrite(off, size, v)),
    });
    cards[d.name] = inst;
    env.devices.push({ index: i, name: d.name, type: d.type, mode: d.mode ?? "exclusive", vector, mmioGpa: base, port: null });
  });
  return { m, env, cards, uartOut, accesses };
}

/** Load the image and put every core in the abi.ts boot state (ESI = vCPU index). */
export function boot(s: Stand, img: GuestImage): void {
  s.m.ram.set(img.bytes, img.loadGpa);
  s.m.cores.forEach((c, v) => {
    c.resetToFlat32(img.entry);
    c.regs[Reg.EAX] = MULTIBOOT_BOOT_MAGIC;
    c.regs[Reg.ESI] = v;
    c.regs[Reg.ESP] = BOOT_STACK_TOP;
  });
}

export interface LogRec {
  kind: number;
  id: number;
  v0: number;
  t0: number;
  t1: number;
  v1: number;
  v2: number;
}

/** The records of the log ring at `gpa` (abi.ts LOG_* layout), oldest first; throws on a bad header. */
export function readLog(ram: Uint8Array, gpa: number): { records: LogRec[]; dropped: number; tscKhz: number } {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  if (dv.getUint32(gpa + LogHeader.MAGIC, true) !== LOG_MAGIC) throw new Error(`no log ring at ${gpa.toString(16)}`);
  const cap = dv.getUint32(gpa + LogHeader.CAPACITY, true);
  const head = dv.getUint32(gpa + LogHeader.HEAD, true);
  const tail = dv.getUint32(gpa + LogHeader.TAIL, true);
  const records: LogRec[] = [];
  for (let k = tail; k < head; k++) {
    const r = gpa + LOG_HEADER_BYTES + (k % cap) * LOG_RECORD_BYTES;
    const u64 = (o: number) => dv.getUint32(r + o, true) + dv.getUint32(r + o + 4, true) * 2 ** 32;
    records.push({
      kind: dv.getUint16(r, true), id: dv.getUint16(r + 2, true), v0: dv.getUint32(r + 4, true),
      t0: u64(8), t1: u64(16), v1: dv.getUint32(r + 24, true), v2: dv.getUint32(r + 28, true),
    });
  }
  return { records, dropped: dv.getUint32(gpa + LogHeader.DROPPED, true), tscKhz: dv.getUint32(gpa + LogHeader.TSC_KHZ, true) };
}

/** Records of vCPU v's ring of a built image. */
export function vcpuLog(ram: Uint8Array, img: GuestImage, v: number) {
  return readLog(ram, img.logGpa! + v * img.logBytes);
}

/** Microseconds -> ticks of the stand's machine. */
export const us = (s: Stand, x: number) => Math.round((s.m.hz * x) / 1e6);
