/**
 * The PC chipset wired to the cores (src/scenario/pc-platform.ts), driven by guest code as a kernel
 * would. References, none of them our code:
 * - SDM Vol. 3A 10.5.4: the APIC timer counts down at its input clock divided by the DCR; in periodic
 *   mode it reloads the initial count, so successive interrupts are initial x divide input-clock periods
 *   apart. On Skylake the input clock is the 24 MHz crystal of CPUID 15H and the TSC runs at 125 x that
 *   (3.0 GHz part), so the TSC advances exactly initial x divide x 125 between interrupts.
 * - Intel 8254 datasheet, mode 2 (rate generator): OUT pulses once every N input clocks at 1.193182 MHz;
 *   82093AA IOAPIC: a redirection entry routes the pin's edge to the vector and destination it names.
 * - PC16550D datasheet: a byte written to THR (DLAB = 0) is transmitted.
 * - PCI 3.0 §3.2.2.3.2 (configuration mechanism #1) and §6.1 (vendor/device id at 00H, BAR 0 at 10H,
 *   interrupt line at 3CH); the rt-io card's register table (src/devices/rt-io.ts header, our datasheet).
 */
import { describe, expect, it } from "vitest";
import { Asm, al, dword, dx, eax, ebx, ecx, edx, esi } from "../../src/guests/asm/index.ts";
import { buildBareMetalBoard, type BareMetalBoard } from "../../src/scenario/bare-metal-board.ts";
import { SKYLAKE } from "../../src/cpu/profiles/index.ts";
import { Reg } from "../../src/cpu/registers.ts";
import type { RtIo } from "../../src/devices/rt-io.ts";

const CODE = 0x2000;
const IDT = 0x1000;
const GDT = 0x800;
const HANDLER = 0x3000;
const SAMPLES = 0x6000; // TSC low dwords
const COUNT = 0x5ffc;
const APIC = 0xfee00000;
const IOAPIC = 0xfec00000;

function board(program: (a: Asm) => void): BareMetalBoard {
  const b = buildBareMetalBoard(1 << 20, undefined, { profile: SKYLAKE });
  const m = b.machine;
  const dv = new DataView(m.ram.buffer);
  dv.setUint32(GDT + 8, 0x0000ffff, true);
  dv.setUint32(GDT + 12, 0x00cf9a00, true);
  for (const v of [0x40, 0x41]) {
    dv.setUint32(IDT + v * 8, (0x08 << 16) | (HANDLER & 0xffff), true);
    dv.setUint32(IDT + v * 8 + 4, (HANDLER & 0xffff0000) | 0x8e00, true);
  }
  // Handler: samples[count++] = TSC low; EOI; return.
  const h2 = new Asm({ bits: 32, origin: HANDLER });
  h2.push(eax).push(edx).push(esi).rdtsc().mov(esi, dword(COUNT));
  h2.mov(dword({ index: esi, scale: 4, disp: SAMPLES }), eax).inc(esi).mov(dword(COUNT), esi);
  h2.mov(dword(APIC + 0xb0), 0).pop(esi).pop(edx).pop(eax).iretd();
  m.ram.set(h2.build().bytes, HANDLER);
  const a = new Asm({ bits: 32, origin: CODE });
  program(a);
  m.ram.set(a.build().bytes, CODE);
  const c = m.core;
  c.resetToFlat32(CODE);
  c.gdtBase = GDT;
  c.gdtLimit = 15;
  c.idtBase = IDT;
  c.idtLimit = 0x41 * 8 + 7;
  c.regs[Reg.ESP] = 0x9000;
  return b;
}

/** Wait (HLT) until `n` interrupts were counted, then exit through isa-debug-exit. */
function waitFor(a: Asm, n: number): void {
  a.sti().label("wait").hlt().cmp(dword(COUNT), n).jb("wait").mov(al, 0).out(0xf4, al);
}

function samples(b: BareMetalBoard, n: number): number[] {
  const dv = new DataView(b.machine.ram.buffer);
  return Array.from({ length: n }, (_, k) => dv.getUint32(SAMPLES + 4 * k, true));
}

describe("local APIC timer on the Skylake profile (SDM 10.5.4, CPUID 15H)", () => {
  it("periodic mode, divide by 16, initial count 1000: interrupts exactly 2,000,000 TSC ticks apart", () => {
    const b = board((a) => {
      a.mov(dword(APIC + 0xf0), 0x1ff); // SVR: enable, spurious vector FFH
      a.mov(dword(APIC + 0x3e0), 0x3); // DCR: divide by 16
      a.mov(dword(APIC + 0x320), 0x20040); // LVT timer: periodic, vector 40H
      a.mov(dword(APIC + 0x380), 1000); // initial count
      waitFor(a, 6);
    });
    const stop = b.machine.run(100_000_000);
    expect(stop).toBe("exit");
    // The first handler run pays cold misses (IDT, handler code, stack) before its RDTSC, so the gaps are
    // measured from the second interrupt on, when the path is warm.
    const t = samples(b, 6).slice(1);
    const deltas = t.slice(1).map((v, k) => v - t[k]);
    expect(SKYLAKE.tscHz / (SKYLAKE.crystalHz ?? 0)).toBe(125);
    expect(deltas).toEqual([2_000_000, 2_000_000, 2_000_000, 2_000_000]);
  });

  it("CPUID 15H reports the crystal and the TSC ratio a guest calibrates with", () => {
    const b = board((a) => {
      a.mov(eax, 0x15).cpuid().mov(dword(0x7000), eax).mov(dword(0x7004), ebx).mov(dword(0x7008), ecx);
      a.mov(al, 0).out(0xf4, al);
    });
    b.machine.run(1_000_000);
    const dv = new DataView(b.machine.ram.buffer);
    expect([dv.getUint32(0x7000, true), dv.getUint32(0x7004, true), dv.getUint32(0x7008, true)]).toEqual([1, 125, 24_000_000]);
  });
});

describe("PIT through the IOAPIC (8254 mode 2, 82093AA redirection)", () => {
  it("channel 0 with N = 11932 interrupts every 11932 / 1.193182 MHz, within one tick", () => {
    const N = 11932;
    const b = board((a) => {
      a.mov(dword(APIC + 0xf0), 0x1ff);
      // IOAPIC redirection entry 2 (pin 2, ISA IRQ0): vector 41H, fixed, physical, edge, destination APIC 0.
      a.mov(dword(IOAPIC), 0x10 + 2 * 2 + 1).mov(dword(IOAPIC + 0x10), 0);
      a.mov(dword(IOAPIC), 0x10 + 2 * 2).mov(dword(IOAPIC + 0x10), 0x41);
      // PIT: channel 0, LSB then MSB, mode 2, binary.
      a.mov(al, 0x34).out(0x43, al).mov(al, N & 0xff).out(0x40, al).mov(al, N >> 8).out(0x40, al);
      waitFor(a, 5);
    });
    expect(b.machine.run(1_000_000_000)).toBe("exit");
    const t = samples(b, 5).slice(1); // from the second interrupt: the first handler run is cold
    const expected = (N / 1_193_182) * SKYLAKE.coreHz;
    for (let k = 1; k < t.length; k++) expect(Math.abs(t[k] - t[k - 1] - expected)).toBeLessThanOrEqual(1);
  });
});

describe("COM1 (16550A at 3F8H)", () => {
  it("transmits what the guest writes to THR", () => {
    const b = board((a) => {
      // Without FIFOs (FCR = 0) THR holds one byte: wait for LSR.THRE before each write, as a driver does.
      "hi\n".split("").forEach((ch, k) => {
        a.mov(dx, 0x3fd).label(`thre${k}`).in(al, dx).test(al, 0x20).jz(`thre${k}`);
        a.mov(dx, 0x3f8).mov(al, ch.charCodeAt(0)).out(dx, al);
      });
      // Wait for the transmitter to empty (LSR.TEMT) before ending the run.
      a.mov(dx, 0x3fd).label("tx").in(al, dx).test(al, 0x40).jz("tx");
      a.mov(al, 0).out(0xf4, al);
    });
    b.machine.run(10_000_000);
    expect(Buffer.from(b.serial.slice()).toString()).toBe("hi\n");
  });
});

describe("PCI discovery and the rt-io card end to end", () => {
  it("a guest finds the cards on bus 0, reads rt-io's BAR and IRQ line, and serves its periodic events", () => {
    const EVENTS = 5;
    const b = board((a) => {
      a.mov(dword(APIC + 0xf0), 0x1ff);
      // Vendor/device ids of 00:01.0 .. 00:04.0 -> 0x7000..
      for (let d = 1; d <= 4; d++) {
        a.mov(eax, 0x80000000 | (d << 11)).mov(dx, 0xcf8).out(dx, eax).mov(dx, 0xcfc).in(eax, dx).mov(dword(0x7000 + 4 * d), eax);
      }
      // rt-io is 00:01.0: BAR 0 (offset 10H) -> EBX, interrupt line (3CH) -> ECX.
      a.mov(eax, 0x80000000 | (1 << 11) | 0x10).mov(dx, 0xcf8).out(dx, eax).mov(dx, 0xcfc).in(eax, dx);
      a.and(eax, 0xfffffff0).mov(ebx, eax).mov(dword(0x7020), ebx);
      a.mov(eax, 0x80000000 | (1 << 11) | 0x3c).mov(dx, 0xcf8).out(dx, eax).mov(dx, 0xcfc).in(eax, dx);
      a.and(eax, 0xff).mov(ecx, eax).mov(dword(0x7024), ecx);
      // IOAPIC entry for that pin: vector 41H, level-triggered, active high, destination APIC 0.
      a.mov(eax, ecx).shl(eax, 1).add(eax, 0x10).mov(dword(IOAPIC), eax).mov(dword(IOAPIC + 0x10), 0x8041);
      // The card: interrupt on PENDING, enable the event source.
      a.mov(dword({ base: ebx, disp: 0x0c }), 1).mov(dword({ base: ebx, disp: 0x04 }), 1);
      waitFor(a, EVENTS);
    });
    // Vector 41H is served by the test handler plus an ACK of the card: patch the handler to ack first.
    const m = b.machine;
    const h = new Asm({ bits: 32, origin: HANDLER });
    h.push(eax).push(edx).push(esi).push(ebx).mov(ebx, dword(0x7020));
    h.mov(eax, dword({ base: ebx, disp: 0x10 })).mov(dword({ base: ebx, disp: 0x20 }), eax); // ACK = SEQ
    h.rdtsc().mov(esi, dword(COUNT)).mov(dword({ index: esi, scale: 4, disp: SAMPLES }), eax).inc(esi).mov(dword(COUNT), esi);
    h.mov(dword(APIC + 0xb0), 0).pop(ebx).pop(esi).pop(edx).pop(eax).iretd();
    m.ram.set(h.build().bytes, HANDLER);
    expect(m.run(100_000_000)).toBe("exit");
    const dv = new DataView(m.ram.buffer);
    const ids = [1, 2, 3, 4].map((d) => dv.getUint32(0x7000 + 4 * d, true));
    expect(ids).toEqual([0x00015654, 0x00025654, 0x00035654, 0x00045654]); // our vendor 5654H, devices 1-4
    expect(dv.getUint32(0x7020, true)).toBe(0xfeb00000);
    expect(dv.getUint32(0x7024, true)).toBe(16);
    const r = (b.platform.cards["rt-io"].device as RtIo).report();
    expect(r.acked).toBe(EVENTS);
    expect(r.missed).toBe(0);
    // Event -> ACK latency, measured by the card from outside the guest: IOAPIC/APIC delivery, the
    // interrupt entry and the handler's first instructions; the same for every warm event.
    expect(r.latencyTicks.length).toBe(EVENTS);
    const warm = r.latencyTicks.slice(1);
    expect(new Set(warm).size).toBe(1);
    expect(warm[0]).toBeGreaterThan(0);
    expect(warm[0]).toBeLessThan(5000);
    // The periodic source: 1000 us apart, so the guest's own RDTSC samples are 3,000,000 ticks apart too.
    const t = samples(b, EVENTS).slice(1);
    for (let k = 1; k < t.length; k++) expect(t[k] - t[k - 1]).toBe(3_000_000);
  });
});
