/**
 * Test harness for the string, I/O and system instructions: a 1 MiB machine in flat 32-bit protected
 * mode with a GDT (descriptors built from the SDM Vol. 3A 3.4.5 layout), a loaded 32-bit TSS whose I/O
 * permission bitmap allows every port, and an IDT whose 32 exception vectors lead to `jmp $` stubs - so
 * a fault shows as EIP parked on the vector's stub at any CPL, with the frame on the stack. The code
 * under test is followed by its own `jmp $`. A recording SystemBus logs port and physical accesses.
 * Real-address mode uses an IVT pointing at the same stubs.
 */
import { Core } from "../../src/cpu/core.ts";
import type { SystemBus } from "../../src/cpu/system-bus.ts";
import { pushesErrorCode } from "../../src/cpu/exceptions.ts";
import { setSegment } from "../../src/cpu/segments.ts";

export const CODE = 0x1000;
export const DATA = 0x2000;
export const STACK_TOP = 0x8000;
export const GDT = 0x500;
const IDT = 0x600;
const STUBS = 0x900;
/** The TSS loaded in TR: 104 bytes, I/O map base 68H, an 8 KiB bitmap and the trailing FFH byte. */
export const TSS = 0xa000;
export const TSS_IOMAP = 0x68;
export const TSS_LIMIT = TSS_IOMAP + 0x2000;
export const RAM_BYTES = 1 << 20;

/** A segment descriptor (SDM Vol. 3A Figure 3-8) as [low dword, high dword]. flags = G D/B L AVL. */
export function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

/** GDT selectors of the harness. */
export const Sel = {
  CODE0: 0x08, DATA0: 0x10, CODE3: 0x1b, DATA3: 0x23, TSS_BUSY: 0x28,
} as const;

const BASE_GDT: [number, number][] = [
  [0, 0],
  descriptor(0, 0xfffff, 0x9a, 0xc), // 08: code, DPL 0
  descriptor(0, 0xfffff, 0x92, 0xc), // 10: data, DPL 0
  descriptor(0, 0xfffff, 0xfa, 0xc), // 18: code, DPL 3
  descriptor(0, 0xfffff, 0xf2, 0xc), // 20: data, DPL 3
  descriptor(TSS, TSS_LIMIT, 0x8b, 0), // 28: busy 32-bit TSS (the one in TR)
];
/** Index of the first GDT slot tests may fill with `gdt` entries (selector = index * 8). */
export const FIRST_FREE_GDT_INDEX = BASE_GDT.length;
export const GDT_SLOTS = 32;

export interface PortAccess {
  dir: "in" | "out";
  port: number;
  size: number;
  value: number;
}

/** A board with RAM only that records port I/O and physical accesses outside RAM. */
export class RecordingBus implements SystemBus {
  readonly ports: PortAccess[] = [];
  readonly phys: { dir: "read" | "write"; pa: number; size: number; value: number }[] = [];
  /** Values IN returns per port, in order; exhausted or absent: all ones. */
  readonly inputs = new Map<number, number[]>();
  /** Called on every OUT (e.g. to request a stop). */
  onOut: ((port: number, value: number) => void) | null = null;

  readPhys(pa: number, size: 1 | 2 | 4): number {
    const value = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    this.phys.push({ dir: "read", pa, size, value });
    return value;
  }
  writePhys(pa: number, size: 1 | 2 | 4, value: number): void {
    this.phys.push({ dir: "write", pa, size, value });
  }
  portIn(port: number, size: 1 | 2 | 4): number {
    const q = this.inputs.get(port);
    const all = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const value = q && q.length > 0 ? q.shift()! & all : all;
    this.ports.push({ dir: "in", port, size, value });
    return value;
  }
  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.ports.push({ dir: "out", port, size, value });
    this.onOut?.(port, value);
  }
}

export interface Options {
  /** Called after the machine is built and before the run: registers, flags, memory, CPL ... */
  setup?: (c: Core) => void;
  /** Real-address mode: 16-bit code at 0:CODE, bases 0, 64 KiB limits, PE = 0. */
  real?: boolean;
  /** Extra GDT entries from FIRST_FREE_GDT_INDEX on. */
  gdt?: readonly [number, number][];
  bus?: SystemBus;
  id?: number;
}

export function machine(code: readonly number[], opts: Options = {}): Core {
  const ram = new Uint8Array(RAM_BYTES);
  ram.set(code, CODE);
  ram.set([0xeb, 0xfe], CODE + code.length); // jmp $
  const view = new DataView(ram.buffer);
  const gdt = [...BASE_GDT, ...(opts.gdt ?? [])];
  if (gdt.length > GDT_SLOTS) throw new Error("harness: too many GDT entries");
  gdt.forEach(([lo, hi], n) => {
    view.setUint32(GDT + n * 8, lo, true);
    view.setUint32(GDT + n * 8 + 4, hi, true);
  });
  for (let v = 0; v < 32; v++) {
    const stub = STUBS + v * 4;
    ram.set([0xeb, 0xfe], stub);
    // 32-bit interrupt gate (type E), present, DPL 3 (SDM Vol. 3A Figure 6-2)
    view.setUint32(IDT + v * 8, (Sel.CODE0 << 16) | stub, true);
    view.setUint32(IDT + v * 8 + 4, 0xee00, true);
    view.setUint16(v * 4, stub, true); // real-mode IVT: offset, segment 0
    view.setUint16(v * 4 + 2, 0, true);
  }
  // TSS: SS0:ESP0 for a ring change, I/O map base, bitmap all zero (every port allowed), trailing FFH.
  view.setUint32(TSS + 4, STACK_TOP - 0x1000, true);
  view.setUint32(TSS + 8, Sel.DATA0, true);
  view.setUint16(TSS + 0x66, TSS_IOMAP, true);
  ram[TSS + TSS_LIMIT] = 0xff;
  const c = new Core({ ram, bus: opts.bus, id: opts.id });
  c.resetToFlat32(CODE);
  c.gdtBase = GDT;
  c.gdtLimit = GDT_SLOTS * 8 - 1;
  c.idtBase = IDT;
  c.idtLimit = 32 * 8 - 1;
  c.trSel = Sel.TSS_BUSY;
  c.trBase = TSS;
  c.trLimit = TSS_LIMIT;
  c.regs[4] = STACK_TOP;
  if (opts.real) enterRealMode(c);
  opts.setup?.(c);
  return c;
}

function enterRealMode(c: Core): void {
  c.cr0 &= ~1;
  for (let s = 0; s < 6; s++) setSegment(c, s, 0, 0, 0xffff, 0x93);
  c.cs32 = false;
  c.ss32 = false;
  c.idtBase = 0;
  c.idtLimit = 0x3ff;
}

/** Switch to CPL 3 with flat DPL-3 segments (as an IRET to ring 3 would). */
export function ring3(c: Core): void {
  setSegment(c, 1, Sel.CODE3, 0, -1, 0xfb | 0xc000);
  for (const s of [0, 2, 3, 4, 5]) setSegment(c, s, Sel.DATA3, 0, -1, 0xf3 | 0xc000);
  c.cpl = 3;
}

/** Set EFLAGS.IOPL. */
export function setIopl(c: Core, iopl: number): void {
  c.setEflags(iopl << 12, 3 << 12);
}

/** Set or clear the TSS I/O-bitmap bit of a port (1 = access denied at CPL > IOPL). */
export function denyPort(c: Core, port: number, deny = true): void {
  const a = TSS + TSS_IOMAP + (port >>> 3);
  c.ram[a] = deny ? c.ram[a] | (1 << (port & 7)) : c.ram[a] & ~(1 << (port & 7));
}

export interface Outcome {
  /** Exception vector delivered, or null when the code ran to its end. */
  vector: number | null;
  /** Error code pushed (protected mode, vectors that push one), else null. */
  errorCode: number | null;
  /** EIP saved in the exception frame (the faulting instruction for faults), or the final EIP. */
  eip: number;
}

/** Run up to `budget` instructions and say how the code ended. */
export function run(c: Core, budget = 10_000): Outcome {
  c.run(budget);
  return outcome(c);
}

export function outcome(c: Core): Outcome {
  const e = c.eip >>> 0;
  if (e < STUBS || e >= STUBS + 32 * 4 || (e - STUBS) % 4 !== 0) return { vector: null, errorCode: null, eip: e };
  const vector = (e - STUBS) / 4;
  const sp = c.ss32 ? c.regs[4] >>> 0 : c.regs[4] & 0xffff;
  const base = c.segBase[2] >>> 0;
  if (!c.protectedMode) return { vector, errorCode: null, eip: c.read16(base + sp) };
  const hasCode = pushesErrorCode(vector);
  return {
    vector,
    errorCode: hasCode ? c.read32(base + sp) : null,
    eip: c.read32(base + sp + (hasCode ? 4 : 0)) >>> 0,
  };
}

/** Address at which the code under test ends (its trailing `jmp $`). */
export function endOf(code: readonly number[]): number {
  return CODE + code.length;
}

/** Little-endian bytes of a 32-bit value. */
export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
