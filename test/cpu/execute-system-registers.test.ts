/**
 * MOV to/from CR0/CR2/CR3/CR4 and DR0-DR7, SMSW, LMSW, CLTS, INVD, WBINVD, INVLPG. References: SDM Vol. 2
 * "MOV - Move to/from Control Registers" (CR1, CR5-7 #UD; invalid CR0 combinations PG without PE, NW
 * without CD #GP(0); reserved CR4 bits #GP(0); ModRM.mod ignored), SDM Vol. 3A 2.5 (CR0 bit positions,
 * reserved CR0 bits, ET hardwired to 1 on P6 and later; CR4 bits), "MOV - Move to/from Debug Registers"
 * (DR4/DR5 alias DR6/DR7 unless CR4.DE, then #UD; DR7.GD #DB), SDM Vol. 3B 17.2.3/17.2.4 (DR6/DR7 fixed
 * bits), SMSW/LMSW/CLTS pages (LMSW affects only PE MP EM TS and cannot clear PE).
 */
import { describe, expect, it } from "vitest";
import type { Core } from "../../src/cpu/core.ts";
import { Brk } from "../../src/cpu/core-state.ts";
import { Reg } from "../../src/cpu/registers.ts";
import { writeCr0, writeCr3, writeCr4 } from "../../src/cpu/control-registers.ts";
import { readDr } from "../../src/cpu/debug-registers.ts";
import { costOf } from "../../src/cpu/timing.ts";
import { CODE, DATA, endOf, machine, ring3, run } from "./system-harness.ts";

const DB = 1, UD = 6, GP = 13;

function exec(code: readonly number[], setup: (c: Core) => void) {
  const c = machine(code, { setup });
  return { c, o: run(c, 20) };
}

/** CR3 -> a page directory at 0x10000 whose first PDE maps the low 4 MiB (RAM) 1:1 through 4 KiB pages. */
function identityPageTables(c: Core): void {
  const pd = 0x10000, pt = 0x11000;
  const v = new DataView(c.ram.buffer);
  v.setUint32(pd, pt | 3, true);
  for (let p = 0; p < 1024; p++) v.setUint32(pt + p * 4, (p << 12) | 3, true);
  c.cr3 = pd;
}

describe("MOV CR0, r32 (0F 22 C0) validates and stores CR0", () => {
  const cases: { name: string; write: number; read?: number; gp?: true }[] = [
    { name: "PE ET NE", write: 0x00000031, read: 0x00000031 },
    { name: "ET is hardwired to 1", write: 0x00000001, read: 0x00000011 },
    { name: "reserved bits 6, 17, 28 are ignored and read as 0", write: 0x10020041, read: 0x00000011 },
    { name: "CD and NW together", write: 0x60000011, read: 0x60000011 },
    { name: "CD alone", write: 0x40000011, read: 0x40000011 },
    { name: "PG with PE", write: 0x80000011, read: 0x80000011 },
    { name: "WP AM MP EM TS", write: 0x0005000f, read: 0x0005001f },
    { name: "PG without PE: #GP(0)", write: 0x80000010, gp: true },
    { name: "NW without CD: #GP(0)", write: 0x20000011, gp: true },
  ];
  it.each(cases.map((t) => [t.name, t] as const))("%s", (_n, t) => {
    // mov cr0,eax / mov ebx,cr0 (0F 20 C3)
    const code = [0x0f, 0x22, 0xc0, 0x0f, 0x20, 0xc3];
    const { c, o } = exec(code, (c) => {
      c.regs[Reg.EAX] = t.write | 0;
      identityPageTables(c); // PG = 1 must find the code mapped (32-bit paging, SDM 4.3)
    });
    if (t.gp) {
      expect(o).toEqual({ vector: GP, errorCode: 0, eip: CODE });
      expect(c.cr0 >>> 0).toBe(0x00000011); // the flat start state (PE, ET; caching enabled), unchanged
    } else {
      expect(o.vector).toBeNull();
      expect(c.regs[Reg.EBX] >>> 0).toBe(t.read);
    }
  });
});

describe("MOV CR4, r32 (0F 22 E0) accepts only the bits of implemented features", () => {
  const bits: [string, number, boolean][] = [
    ["TSD", 1 << 2, true], ["DE", 1 << 3, true], ["MCE", 1 << 6, true], ["PCE", 1 << 8, true],
    ["VME", 1 << 0, false], ["PVI", 1 << 1, false], ["PSE", 1 << 4, true],
    ["PAE", 1 << 5, false], ["PGE", 1 << 7, true], ["OSFXSR", 1 << 9, false],
    ["OSXMMEXCPT", 1 << 10, false], ["VMXE (until the VT-x issue)", 1 << 13, false], ["bit 31", 1 << 31, false],
  ];
  it.each(bits)("%s", (_n, bit, ok) => {
    const code = [0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3]; // mov cr4,eax / mov ebx,cr4
    const { c, o } = exec(code, (c) => (c.regs[Reg.EAX] = bit));
    if (ok) {
      expect(o.vector).toBeNull();
      expect(c.regs[Reg.EBX]).toBe(bit);
    } else {
      expect(o).toEqual({ vector: GP, errorCode: 0, eip: CODE });
      expect(c.cr4).toBe(0);
    }
  });
});

describe("MOV CR2/CR3 store any value; CR1, CR5-CR7 do not exist", () => {
  it.each([
    ["cr2", [0x0f, 0x22, 0xd0, 0x0f, 0x20, 0xd3]],
    ["cr3", [0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xdb]],
  ] as const)("mov %s round-trips", (_n, code) => {
    const { c } = exec(code, (c) => (c.regs[Reg.EAX] = 0x12345fff));
    expect(c.regs[Reg.EBX]).toBe(0x12345fff);
  });

  it.each([
    ["mov cr1,eax", [0x0f, 0x22, 0xc8]], ["mov eax,cr1", [0x0f, 0x20, 0xc8]],
    ["mov cr5,eax", [0x0f, 0x22, 0xe8]], ["mov cr6,eax", [0x0f, 0x22, 0xf0]],
    ["mov eax,cr7", [0x0f, 0x20, 0xf8]],
  ] as const)("%s is #UD, also at CPL 3 (before the privilege check)", (_n, code) => {
    expect(exec(code, () => {}).o).toEqual({ vector: UD, errorCode: null, eip: CODE });
    expect(exec(code, ring3).o).toEqual({ vector: UD, errorCode: null, eip: CODE });
  });

  it("ignores ModRM.mod: 0F 20 05 is mov ebp,cr0 with no displacement", () => {
    const code = [0x0f, 0x20, 0x05];
    const { c, o } = exec(code, () => {});
    expect(o.eip).toBe(endOf(code));
    expect(c.regs[Reg.EBP] >>> 0).toBe(0x00000011);
  });
});

describe("loads that change what decoded blocks depend on ask the run loop to refetch", () => {
  const cases: [string, (c: Core) => void, boolean][] = [
    ["CR0.PE cleared", (c) => writeCr0(c, 0x60000010), true],
    ["CR0.PG set", (c) => writeCr0(c, 0xe0000011 | 0), true],
    ["CR0.TS set only", (c) => writeCr0(c, 0x60000019), false],
    ["CR0 rewritten unchanged", (c) => writeCr0(c, 0x60000011), false],
    ["CR3 written", (c) => writeCr3(c, 0x1000), true],
    ["CR4 changed", (c) => writeCr4(c, 4), true],
    ["CR4 rewritten unchanged", (c) => writeCr4(c, 0), false],
  ];
  it.each(cases)("%s", (_n, f, refetch) => {
    const c = machine([]);
    c.brk = 0;
    f(c);
    expect((c.brk & Brk.REFETCH) !== 0).toBe(refetch);
  });
});

describe("SMSW, LMSW and CLTS work on the low bits of CR0", () => {
  it.each([
    ["smsw eax (0F 01 E0) stores all of CR0", [0x0f, 0x01, 0xe0], 0xe005003b],
    ["smsw ax (66 0F 01 E0) stores the low word", [0x66, 0x0f, 0x01, 0xe0], 0xdead003b],
  ] as const)("%s", (_n, code, eax) => {
    const { c } = exec(code, (c) => {
      c.cr0 = 0xe005003b;
      c.regs[Reg.EAX] = 0xdeadbeef | 0;
    });
    expect(c.regs[Reg.EAX] >>> 0).toBe(eax);
  });

  it("smsw [ebx] (0F 01 23) stores 16 bits", () => {
    const { c } = exec([0x0f, 0x01, 0x23], (c) => {
      c.ram.fill(0xee, DATA, DATA + 3);
      c.regs[Reg.EBX] = DATA;
    });
    expect([...c.ram.subarray(DATA, DATA + 3)]).toEqual([0x11, 0x00, 0xee]);
  });

  it.each([
    ["sets MP EM TS, keeps PE", 0x60000011, 0x000e, 0x6000001f],
    ["cannot clear PE", 0x60000011, 0x0000, 0x60000011],
    ["clears MP EM TS", 0x6000001f, 0x0001, 0x60000011],
    ["ignores bits above 3 (NE, ET stay)", 0x60000031, 0xfff0, 0x60000031],
  ] as const)("lmsw ax (0F 01 F0) %s", (_n, cr0, ax, out) => {
    const { c } = exec([0x0f, 0x01, 0xf0], (c) => {
      c.cr0 = cr0;
      c.regs[Reg.EAX] = ax;
    });
    expect(c.cr0 >>> 0).toBe(out);
  });

  it("lmsw can set PE in real-address mode", () => {
    const c = machine([0x0f, 0x01, 0xf0], { real: true, setup: (c) => (c.regs[Reg.EAX] = 1) });
    run(c, 10);
    expect(c.cr0 & 1).toBe(1);
  });

  it("clts (0F 06) clears only CR0.TS", () => {
    const { c } = exec([0x0f, 0x06], (c) => (c.cr0 = 0x6000003f));
    expect(c.cr0 >>> 0).toBe(0x60000037);
  });
});

describe("INVD, WBINVD and INVLPG change no architectural state (no caches or TLB modelled)", () => {
  it.each([
    ["invd", [0x0f, 0x08]],
    ["wbinvd", [0x0f, 0x09]],
    ["invlpg [ebx]", [0x0f, 0x01, 0x3b]],
  ] as const)("%s", (_n, code) => {
    const c = machine(code, { setup: (c) => (c.regs[Reg.EBX] = DATA) });
    const regs = [...c.regs];
    const ram = c.ram.slice();
    c.run(1);
    expect(c.eip).toBe(endOf(code));
    expect([...c.regs]).toEqual(regs);
    expect(c.ram).toEqual(ram);
    expect(c.cycles).toBe(costOf("serialize"));
  });
});

describe("MOV DRn (0F 21 / 0F 23) keeps DR0-DR3, DR6, DR7 with their fixed bits", () => {
  // mov drN,eax / mov ebx,drN
  const mov = (n: number) => [0x0f, 0x23, 0xc0 | (n << 3), 0x0f, 0x21, 0xc3 | (n << 3)];
  it.each([
    ["DR0", 0, 0x12345678, 0x12345678],
    ["DR3", 3, 0xffffffff, 0xffffffff],
    ["DR6 written 0 reads FFFF0FF0H", 6, 0, 0xffff0ff0],
    ["DR6 written all ones: bit 12 stays 0", 6, 0xffffffff, 0xffffefff],
    ["DR7 written 0 reads 400H", 7, 0, 0x00000400],
    ["DR7 written all ones but GD: bits 11, 12, 14, 15 stay 0", 7, 0xffffdfff, 0xffff07ff],
    ["DR4 aliases DR6 when CR4.DE = 0", 4, 0x0000000f, 0xffff0fff],
    ["DR5 aliases DR7 when CR4.DE = 0", 5, 0x00000003, 0x00000403],
  ] as const)("%s", (_n, n, v, out) => {
    const { c, o } = exec(mov(n), (c) => (c.regs[Reg.EAX] = v | 0));
    expect(o.vector).toBeNull();
    expect(c.regs[Reg.EBX] >>> 0).toBe(out);
    if (n === 4 || n === 5) expect(readDr(c, n + 2) >>> 0).toBe(out);
  });

  it.each([
    ["mov dr4,eax", [0x0f, 0x23, 0xe0]], ["mov eax,dr5", [0x0f, 0x21, 0xe8]],
  ] as const)("%s with CR4.DE = 1 is #UD, also at CPL 3", (_n, code) => {
    expect(exec(code, (c) => (c.cr4 = 8)).o).toEqual({ vector: UD, errorCode: null, eip: CODE });
    expect(exec(code, (c) => { c.cr4 = 8; ring3(c); }).o).toEqual({ vector: UD, errorCode: null, eip: CODE });
  });

  it("with DR7.GD set, the next MOV DR is a #DB fault that sets DR6.BD and clears GD", () => {
    // mov dr7,eax (GD) / mov ecx,dr0
    const code = [0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc1];
    const { c, o } = exec(code, (c) => (c.regs[Reg.EAX] = 0x2000));
    expect(o).toEqual({ vector: DB, errorCode: null, eip: CODE + 3 });
    expect(readDr(c, 6) & 0x2000).toBe(0x2000);
    expect(readDr(c, 7) & 0x2000).toBe(0);
  });
});
