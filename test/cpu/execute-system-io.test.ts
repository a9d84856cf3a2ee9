/**
 * IN, OUT, INS, OUTS and the I/O permission check. References: SDM Vol. 2 IN/OUT/INS/OUTS (operand
 * forms, the imm8 port is zero-extended, DX gives a 16-bit port; AL/AX/EAX by operand size) and SDM
 * Vol. 1 19.5 "I/O Permission Bit Map" (checked only in protected mode when CPL > IOPL; one bit per byte
 * port, all bits of a multi-byte access must be 0; map base at TSS offset 66H; the two bitmap bytes read
 * must be within the TSS limit; otherwise #GP(0)).
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../src/cpu/core.ts";
import { Reg } from "../../src/cpu/registers.ts";
import { ioPermitted } from "../../src/cpu/io-permission.ts";
import {
  CODE, DATA, RecordingBus, TSS, TSS_IOMAP, TSS_LIMIT, denyPort, endOf, machine, ring3, run, setIopl,
} from "./system-harness.ts";

const GP = 13;

describe("IN and OUT reach the port the operand names, at the operand size", () => {
  const cases = [
    { name: "in al,80h (E4 80)", code: [0xe4, 0x80], port: 0x80, size: 1, dir: "in", eax: 0xaaaaaa5c },
    { name: "in al,0FFh (E4 FF): imm8 is not sign-extended", code: [0xe4, 0xff], port: 0xff, size: 1, dir: "in", eax: 0xaaaaaa5c },
    { name: "in ax,71h (66 E5 71)", code: [0x66, 0xe5, 0x71], port: 0x71, size: 2, dir: "in", eax: 0xaaaa565c },
    { name: "in eax,71h (E5 71)", code: [0xe5, 0x71], port: 0x71, size: 4, dir: "in", eax: 0x1234565c },
    { name: "in al,dx (EC)", code: [0xec], port: 0x3f8, size: 1, dir: "in", eax: 0xaaaaaa5c },
    { name: "in ax,dx (66 ED)", code: [0x66, 0xed], port: 0x3f8, size: 2, dir: "in", eax: 0xaaaa565c },
    { name: "in eax,dx (ED)", code: [0xed], port: 0x3f8, size: 4, dir: "in", eax: 0x1234565c },
    { name: "out 0E9h,al (E6 E9)", code: [0xe6, 0xe9], port: 0xe9, size: 1, dir: "out", value: 0xaa },
    { name: "out 0F4h,ax (66 E7 F4)", code: [0x66, 0xe7, 0xf4], port: 0xf4, size: 2, dir: "out", value: 0xaaaa },
    { name: "out 0F4h,eax (E7 F4)", code: [0xe7, 0xf4], port: 0xf4, size: 4, dir: "out", value: 0xaaaaaaaa | 0 },
    { name: "out dx,al (EE)", code: [0xee], port: 0x3f8, size: 1, dir: "out", value: 0xaa },
    { name: "out dx,ax (66 EF)", code: [0x66, 0xef], port: 0x3f8, size: 2, dir: "out", value: 0xaaaa },
    { name: "out dx,eax (EF)", code: [0xef], port: 0x3f8, size: 4, dir: "out", value: 0xaaaaaaaa | 0 },
  ] as const;
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const bus = new RecordingBus();
    bus.inputs.set(t.port, [0x1234565c]);
    const c = machine(t.code, {
      bus,
      setup: (c) => {
        c.regs[Reg.EAX] = 0xaaaaaaaa | 0;
        c.regs[Reg.EDX] = 0xffff0000 | t.port; // only DX is the port
      },
    });
    const o = run(c, 10);
    expect(o.vector).toBeNull();
    if (t.dir === "in") {
      expect(bus.ports).toEqual([{ dir: "in", port: t.port, size: t.size, value: 0x1234565c & [0, 0xff, 0xffff, 0, -1][t.size] }]);
      expect(c.regs[Reg.EAX] >>> 0).toBe(t.eax);
    } else {
      expect(bus.ports).toEqual([{ dir: "out", port: t.port, size: t.size, value: t.value }]);
    }
  });
});

describe("ioPermitted follows the TSS I/O permission bitmap when CPL > IOPL", () => {
  interface Case {
    name: string;
    port: number;
    size: number;
    setup: (c: Core) => void;
    allowed: boolean;
  }
  const cpl3 = (c: Core) => ring3(c);
  const cases: Case[] = [
    { name: "real mode: always", port: 0x80, size: 1, allowed: true, setup: (c) => { c.cr0 &= ~1; c.trLimit = 0; } },
    { name: "CPL 0 = IOPL: the bitmap is not consulted", port: 0x80, size: 1, allowed: true, setup: (c) => denyPort(c, 0x80) },
    { name: "CPL 3 = IOPL 3: not consulted", port: 0x80, size: 1, allowed: true, setup: (c) => { cpl3(c); setIopl(c, 3); denyPort(c, 0x80); } },
    { name: "CPL 3 > IOPL 2, bit clear", port: 0x80, size: 1, allowed: true, setup: (c) => { cpl3(c); setIopl(c, 2); } },
    { name: "CPL 3 > IOPL 0, bit set", port: 0x80, size: 1, allowed: false, setup: (c) => { cpl3(c); denyPort(c, 0x80); } },
    { name: "neighbouring port denied, own bit clear", port: 0x80, size: 1, allowed: true, setup: (c) => { cpl3(c); denyPort(c, 0x81); denyPort(c, 0x7f); } },
    { name: "word access checks both ports (2nd denied)", port: 0x80, size: 2, allowed: false, setup: (c) => { cpl3(c); denyPort(c, 0x81); } },
    { name: "dword access checks 4 ports (4th denied)", port: 0x80, size: 4, allowed: false, setup: (c) => { cpl3(c); denyPort(c, 0x83); } },
    { name: "dword access, 5th port denied: allowed", port: 0x80, size: 4, allowed: true, setup: (c) => { cpl3(c); denyPort(c, 0x84); } },
    { name: "word access across a bitmap byte (3F7H, 3F8H denied)", port: 0x3f7, size: 2, allowed: false, setup: (c) => { cpl3(c); denyPort(c, 0x3f8); } },
    { name: "dword access across a byte (3FEH, 401H denied)", port: 0x3fe, size: 4, allowed: false, setup: (c) => { cpl3(c); denyPort(c, 0x401); } },
    { name: "highest port FFFFH, bit clear", port: 0xffff, size: 1, allowed: true, setup: cpl3 },
    {
      name: "map base at the TSS limit: no bitmap, all denied", port: 0x80, size: 1, allowed: false,
      setup: (c) => { cpl3(c); c.ram[TSS + 0x66] = TSS_LIMIT & 0xff; c.ram[TSS + 0x67] = TSS_LIMIT >> 8; },
    },
    {
      name: "second bitmap byte beyond the limit", port: 0x80, size: 1, allowed: false,
      setup: (c) => { cpl3(c); c.trLimit = TSS_IOMAP + (0x80 >> 3); },
    },
    {
      name: "both bitmap bytes within the limit", port: 0x80, size: 1, allowed: true,
      setup: (c) => { cpl3(c); c.trLimit = TSS_IOMAP + (0x80 >> 3) + 1; },
    },
    { name: "TR never loaded (limit 0)", port: 0x80, size: 1, allowed: false, setup: (c) => { cpl3(c); c.trLimit = 0; } },
    { name: "TSS limit below 67H", port: 0x80, size: 1, allowed: false, setup: (c) => { cpl3(c); c.trLimit = 0x66; } },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    const c = machine([]);
    t.setup(c);
    expect(ioPermitted(c, t.port, t.size)).toBe(t.allowed);
  });
});

describe("a denied port access raises #GP(0) before touching the port", () => {
  it.each([
    ["in al,dx", [0xec]],
    ["out dx,eax", [0xef]],
    ["out 80h,al", [0xe6, 0x80]],
    ["rep insb", [0xf3, 0x6c]],
    ["rep outsw", [0x66, 0xf3, 0x6f]],
    ["outsb", [0x6e]],
  ] as const)("%s", (_n, code) => {
    const bus = new RecordingBus();
    const c = machine(code, {
      bus,
      setup: (c) => {
        ring3(c);
        denyPort(c, 0x80);
        c.regs[Reg.EDX] = 0x80;
        c.regs[Reg.ECX] = 3;
        c.regs[Reg.ESI] = DATA;
        c.regs[Reg.EDI] = DATA + 0x100;
      },
    });
    const o = run(c, 10);
    expect(o).toEqual({ vector: GP, errorCode: 0, eip: CODE });
    expect(bus.ports).toEqual([]);
    expect(c.regs[Reg.ECX]).toBe(3);
    expect(c.regs[Reg.ESI]).toBe(DATA);
    expect(c.regs[Reg.EDI]).toBe(DATA + 0x100);
  });

  it.each([
    ["rep insb", [0xf3, 0x6c]],
    ["rep outsd", [0xf3, 0x6f]],
  ] as const)("%s checks the permission before the count: #GP(0) even with ECX = 0 (Bochs)", (_n, code) => {
    const bus = new RecordingBus();
    const c = machine(code, { bus, setup: (c) => { ring3(c); denyPort(c, 0x80); c.regs[Reg.EDX] = 0x80; c.regs[Reg.ECX] = 0; } });
    expect(run(c, 10)).toEqual({ vector: GP, errorCode: 0, eip: CODE });
    expect(bus.ports).toEqual([]);
  });

  it("an allowed port works at CPL 3", () => {
    const bus = new RecordingBus();
    const c = machine([0xe6, 0x81], { bus, setup: (c) => { ring3(c); denyPort(c, 0x80); c.regs[Reg.EAX] = 7; } });
    expect(run(c, 10).vector).toBeNull();
    expect(bus.ports).toEqual([{ dir: "out", port: 0x81, size: 1, value: 7 }]);
  });
});

describe("INS and OUTS move between DX's port and memory", () => {
  it("rep outsb sends the bytes at DS:ESI in order", () => {
    const bus = new RecordingBus();
    const code = [0xf3, 0x6e];
    const c = machine(code, {
      bus,
      setup: (c) => {
        c.ram.set([...Buffer.from("hi!\n")], DATA);
        c.regs[Reg.ESI] = DATA;
        c.regs[Reg.ECX] = 4;
        c.regs[Reg.EDX] = 0xe9;
      },
    });
    expect(run(c, 10).eip).toBe(endOf(code));
    expect(bus.ports.map((p) => [p.port, p.size, p.value])).toEqual([[0xe9, 1, 0x68], [0xe9, 1, 0x69], [0xe9, 1, 0x21], [0xe9, 1, 0x0a]]);
    expect(c.regs[Reg.ESI]).toBe(DATA + 4);
  });

  it("rep outsd with DF = 1 walks down", () => {
    const bus = new RecordingBus();
    const c = machine([0xf3, 0x6f], {
      bus,
      setup: (c) => {
        c.ram.set([1, 0, 0, 0, 2, 0, 0, 0], DATA);
        c.regs[Reg.ESI] = DATA + 4;
        c.regs[Reg.ECX] = 2;
        c.regs[Reg.EDX] = 0x300;
        c.setEflags(0x400, 0x400);
      },
    });
    run(c, 10);
    expect(bus.ports.map((p) => [p.size, p.value])).toEqual([[4, 2], [4, 1]]);
    expect(c.regs[Reg.ESI]).toBe(DATA - 4);
  });

  it("rep insw stores the words read from the port at ES:EDI", () => {
    const bus = new RecordingBus();
    bus.inputs.set(0x1f0, [0x1111, 0x2222, 0x3333]);
    const c = machine([0x66, 0xf3, 0x6d], {
      bus,
      setup: (c) => {
        c.regs[Reg.EDI] = DATA;
        c.regs[Reg.ECX] = 3;
        c.regs[Reg.EDX] = 0x1f0;
      },
    });
    run(c, 10);
    expect([...c.ram.subarray(DATA, DATA + 7)]).toEqual([0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0]);
    expect(bus.ports.every((p) => p.dir === "in" && p.port === 0x1f0 && p.size === 2)).toBe(true);
    expect(c.regs[Reg.EDI]).toBe(DATA + 6);
    expect(c.regs[Reg.ECX]).toBe(0);
  });

  it("insd without rep reads one dword", () => {
    const bus = new RecordingBus();
    bus.inputs.set(0x60, [0xdeadbeef | 0]);
    const c = machine([0x6d], { bus, setup: (c) => { c.regs[Reg.EDI] = DATA; c.regs[Reg.EDX] = 0x60; } });
    run(c, 10);
    expect(c.read32(DATA) >>> 0).toBe(0xdeadbeef);
    expect(c.regs[Reg.EDI]).toBe(DATA + 4);
  });
});
