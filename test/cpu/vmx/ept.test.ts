/**
 * EPT translation against hand-built EPT paging structures in a Uint8Array. References (not our code):
 * SDM Vol. 3C 28.2.2 (which guest-physical address bits index each level: 47:39, 38:30, 29:21, 20:12; how
 * the final address is formed for 4-KByte, 2-MByte and 1-GByte pages), Tables 28-1 .. 28-6 (entry formats:
 * reserved, ignored and address bits, with N = MAXPHYADDR = 36), 28.2.3.1 (the misconfiguration causes),
 * 28.2.3.2 (violations; guest paging-structure accesses treated as writes when EPTP bit 6 is set),
 * Table 27-7 (exit qualification bits 0-5, 7, 8, 12 and its notes), 28.2.4 (accessed and dirty flags).
 * Every entry, entry address and expected number below is written out by hand from those tables.
 */
import { describe, expect, it } from "vitest";
import {
  type EptMisconfig,
  type EptResult,
  type EptTranslateOptions,
  type EptTranslation,
  type EptViolation,
  eptTranslate,
} from "../../../src/cpu/vmx/ept.ts";
import type { EptMemory32, EptMemory64 } from "../../../src/cpu/vmx/ept-memory.ts";

const RAM_SIZE = 0x10000;

/** 32-bit little-endian accessor over `ram`; addresses outside it throw (a wrong entry address shows). */
function mem32(ram: Uint8Array, base = 0): EptMemory32 {
  const view = new DataView(ram.buffer);
  const at = (pa: number): number => {
    const off = pa - base;
    if (!(off >= 0 && off + 4 <= ram.length)) throw new Error(`access outside test RAM: 0x${pa.toString(16)}`);
    return off;
  };
  return {
    read32: (pa) => view.getUint32(at(pa), true),
    write32: (pa, v) => view.setUint32(at(pa), v >>> 0, true),
  };
}

function mem64(ram: Uint8Array): EptMemory64 {
  const m = mem32(ram);
  return {
    read64: (pa) => [m.read32(pa), m.read32(pa + 4)],
    write64: (pa, lo, hi) => {
      m.write32(pa, lo);
      m.write32(pa + 4, hi);
    },
  };
}

function put(ram: Uint8Array, pa: number, lo: number, hi = 0): void {
  const view = new DataView(ram.buffer);
  view.setUint32(pa, lo >>> 0, true);
  view.setUint32(pa + 4, hi >>> 0, true);
}

function getLo(ram: Uint8Array, pa: number): number {
  return new DataView(ram.buffer).getUint32(pa, true);
}
function getHi(ram: Uint8Array, pa: number): number {
  return new DataView(ram.buffer).getUint32(pa + 4, true);
}

/** EPTP: PML4 at 0x1000, walk length 4 (bits 5:3 = 3), memory type WB (6); `ad` sets bit 6. */
function eptp(ad = false): [number, number] {
  return [0x1000 | (3 << 3) | 6 | (ad ? 0x40 : 0), 0];
}

// G = 0x80_8060_4ABC: bits 47:39 = 1, 38:30 = 2, 29:21 = 3, 20:12 = 4, offset 0xABC (28.2.2).
const G = 0x80_8060_4abc;
const PML4E = 0x1000 + 1 * 8; // 0x1008
const PDPTE = 0x2000 + 2 * 8; // 0x2010
const PDE = 0x3000 + 3 * 8; // 0x3018
const PTE = 0x4000 + 4 * 8; // 0x4020

/** Four levels for G, all RWX; the PTE maps 0x9_8765_4000, WB (bits 5:3 = 6). */
function fourLevel(): Uint8Array {
  const ram = new Uint8Array(RAM_SIZE);
  put(ram, PML4E, 0x2007);
  put(ram, PDPTE, 0x3007);
  put(ram, PDE, 0x4007);
  put(ram, PTE, 0x87654037, 0x9);
  return ram;
}

const BASE: EptTranslateOptions = { executeOnlyAllowed: false };

function ok(r: EptResult): EptTranslation {
  if (!("hpa" in r)) throw new Error(`expected a translation, got ${JSON.stringify(r)}`);
  return r;
}
function viol(r: EptResult): EptViolation["violation"] {
  if (!("violation" in r)) throw new Error(`expected a violation, got ${JSON.stringify(r)}`);
  return r.violation;
}
function misc(r: EptResult): EptMisconfig["misconfig"] {
  if (!("misconfig" in r)) throw new Error(`expected a misconfiguration, got ${JSON.stringify(r)}`);
  return r.misconfig;
}
function kind(r: EptResult): "ok" | "V" | "M" {
  return "hpa" in r ? "ok" : "violation" in r ? "V" : "M";
}

describe("4-level walk (SDM 28.2.2)", () => {
  it("translates a 4-KByte page: address bits 35:12 from the PTE, 11:0 from the GPA", () => {
    const ram = fourLevel();
    const reads: [number, number][] = [];
    const t = ok(eptTranslate(mem32(ram), eptp(), G, "read", { ...BASE, onEntryRead: (pa, l) => reads.push([pa, l]) }));
    expect(t.hpa).toBe(0x9_8765_4abc);
    expect(t.memType).toBe(6);
    expect(t.ignorePat).toBe(false);
    expect(t.perms).toBe(7);
    expect(t.pageSize).toBe(4096);
    expect(t.levels).toBe(4);
    expect(reads).toEqual([[0x1008, 4], [0x2010, 3], [0x3018, 2], [0x4020, 1]]);
  });

  it("indexes a GPA below 4 GiB: 0x1234_5678 uses entries 0, 0, 0x91, 0x145", () => {
    const ram = new Uint8Array(RAM_SIZE);
    put(ram, 0x1000, 0x2007);
    put(ram, 0x2000, 0x3007);
    put(ram, 0x3000 + 0x91 * 8, 0x4007);
    put(ram, 0x4000 + 0x145 * 8, 0x00abc000 | 0x37);
    const reads: number[] = [];
    const t = ok(eptTranslate(mem32(ram), eptp(), 0x1234_5678, "write", { ...BASE, onEntryRead: (pa) => reads.push(pa) }));
    expect(reads).toEqual([0x1000, 0x2000, 0x3488, 0x4a28]);
    expect(t.hpa).toBe(0x00abc678);
  });

  it("uses GPA bits 31:30 in the PDPTE index: 0xC000_1000 uses PDPTE 3", () => {
    const ram = new Uint8Array(RAM_SIZE);
    put(ram, 0x1000, 0x2007);
    put(ram, 0x2000 + 3 * 8, 0x3007);
    put(ram, 0x3000, 0x4007);
    put(ram, 0x4000 + 1 * 8, 0x00555000 | 0x37);
    expect(ok(eptTranslate(mem32(ram), eptp(), 0xc000_1234, "read", BASE)).hpa).toBe(0x00555234);
  });

  it("follows table addresses above 4 GiB (bits 35:32 of each entry)", () => {
    // The same tables seen at host-physical 0xF_0000_0000 + offset.
    const HIGH = 0xf_0000_0000;
    const ram = new Uint8Array(RAM_SIZE);
    put(ram, 0x1008, 0x2007, 0xf);
    put(ram, 0x2010, 0x3007, 0xf);
    put(ram, 0x3018, 0x4007, 0xf);
    put(ram, 0x4020, 0x11111037, 0xf);
    const reads: number[] = [];
    const t = ok(eptTranslate(mem32(ram, HIGH), [0x101e, 0xf], G, "read", { ...BASE, onEntryRead: (pa) => reads.push(pa) }));
    expect(reads).toEqual([HIGH + 0x1008, HIGH + 0x2010, HIGH + 0x3018, HIGH + 0x4020]);
    expect(t.hpa).toBe(0xf_1111_1abc);
  });

  it("gives the same result through the 64-bit accessor", () => {
    const a = eptTranslate(mem32(fourLevel()), eptp(), G, "fetch", BASE);
    const b = eptTranslate(mem64(fourLevel()), eptp(), G, "fetch", BASE);
    expect(b).toEqual(a);
    expect(ok(b).hpa).toBe(0x9_8765_4abc);
  });

  it("rejects a GPA that is negative, fractional or not below 2^48", () => {
    const m = mem32(fourLevel());
    for (const gpa of [-1, 0.5, 2 ** 48, Number.NaN]) {
      expect(() => eptTranslate(m, eptp(), gpa, "read", BASE)).toThrow(RangeError);
    }
  });
});

describe("large pages (Tables 28-2 and 28-4)", () => {
  it("maps a 2-MByte page at the PDE: bits 35:21 from the PDE, 20:0 from the GPA; type and ignore-PAT from the PDE", () => {
    const ram = fourLevel();
    // 0xA_BCE0_0000, bit 7 (page), bit 6 (ignore PAT), type 4 (WT), RWX.
    put(ram, PDE, 0xbce00000 | 0x80 | 0x40 | (4 << 3) | 7, 0xa);
    const t = ok(eptTranslate(mem32(ram), eptp(), G, "write", BASE));
    expect(t.hpa).toBe(0xa_bce0_4abc);
    expect(t.memType).toBe(4);
    expect(t.ignorePat).toBe(true);
    expect(t.pageSize).toBe(0x200000);
    expect(t.levels).toBe(3);
  });

  it("maps a 1-GByte page at the PDPTE: bits 35:30 from the PDPTE, 29:0 from the GPA", () => {
    const ram = fourLevel();
    put(ram, PDPTE, 0xc0000000 | 0x80 | (1 << 3) | 5, 0x7); // 0x7_C000_0000, WC, R-X
    const t = ok(eptTranslate(mem32(ram), eptp(), G, "fetch", BASE));
    expect(t.hpa).toBe(0x7_c060_4abc);
    expect(t.memType).toBe(1);
    expect(t.perms).toBe(5);
    expect(t.pageSize).toBe(0x40000000);
    expect(t.levels).toBe(2);
  });

  it("treats bit 7 of the PDPTE / PDE as reserved when 1-GByte / 2-MByte pages are not supported (A.10 bits 17, 16)", () => {
    const ram1 = fourLevel();
    put(ram1, PDPTE, 0xc0000000 | 0x80 | 0x37, 0x7);
    expect(misc(eptTranslate(mem32(ram1), eptp(), G, "read", { ...BASE, pages1G: false }))).toEqual({
      gpa: G,
      level: 3,
      cause: "reserved-bit",
    });
    const ram2 = fourLevel();
    put(ram2, PDE, 0xbce00000 | 0x80 | 0x37, 0xa);
    expect(misc(eptTranslate(mem32(ram2), eptp(), G, "read", { ...BASE, pages2M: false })).level).toBe(2);
    expect(kind(eptTranslate(mem32(ram2), eptp(), G, "read", { ...BASE, pages1G: false }))).toBe("ok");
  });
});

describe("permissions of the leaf entry, upper levels RWX (28.2.3, Table 27-7)", () => {
  // Bits 2:0 of the PTE -> outcome and qualification for read / write / fetch, without execute-only
  // support. Qualification = access bit (0 read, 1 write, 2 fetch) | the entry's RWX in bits 5:3.
  const table: [rwx: number, read: string, write: string, fetch: string][] = [
    [0b000, "V 0x01", "V 0x02", "V 0x04"], // not present: bits 5:3 are 0
    [0b001, "ok", "V 0x0a", "V 0x0c"],
    [0b010, "M", "M", "M"], // write-only
    [0b011, "ok", "ok", "V 0x1c"],
    [0b100, "M", "M", "M"], // execute-only, not supported
    [0b101, "ok", "V 0x2a", "ok"],
    [0b110, "M", "M", "M"], // write/execute
    [0b111, "ok", "ok", "ok"],
  ];
  for (const [rwx, ...want] of table) {
    it(`PTE bits 2:0 = ${rwx.toString(2).padStart(3, "0")}b`, () => {
      const got = (["read", "write", "fetch"] as const).map((access) => {
        const ram = fourLevel();
        put(ram, PTE, 0x87654030 | rwx, 0x9);
        const r = eptTranslate(mem32(ram), eptp(), G, access, BASE);
        return "violation" in r ? `V 0x${r.violation.qualification.toString(16).padStart(2, "0")}` : kind(r);
      });
      expect(got).toEqual(want);
    });
  }

  it("execute-only (100b) is a valid entry when IA32_VMX_EPT_VPID_CAP bit 0 allows it", () => {
    const got = (["read", "write", "fetch"] as const).map((access) => {
      const ram = fourLevel();
      put(ram, PTE, 0x87654034, 0x9);
      const r = eptTranslate(mem32(ram), eptp(), G, access, { executeOnlyAllowed: true });
      return "violation" in r ? `V 0x${r.violation.qualification.toString(16)}` : kind(r);
    });
    expect(got).toEqual(["V 0x21", "V 0x22", "ok"]);
  });

  it("ANDs the permissions of all levels: PML4E R-X, PDE RW-, others RWX give R only", () => {
    const ram = fourLevel();
    put(ram, PML4E, 0x2005);
    put(ram, PDE, 0x4003);
    const m = mem32(ram);
    expect(ok(eptTranslate(m, eptp(), G, "read", BASE)).perms).toBe(1);
    expect(viol(eptTranslate(m, eptp(), G, "write", BASE)).qualification).toBe(0x0a);
    expect(viol(eptTranslate(m, eptp(), G, "fetch", BASE)).qualification).toBe(0x0c);
  });

  it("stops at a not-present entry (bits 2:0 = 000, bits 63:3 ignored) and reports bits 5:3 as 0", () => {
    const ram = fourLevel();
    put(ram, PDE, 0xfffffff8, 0xffffffff);
    const reads: number[] = [];
    const r = eptTranslate(mem32(ram), eptp(), G, "read", { ...BASE, onEntryRead: (pa) => reads.push(pa) });
    expect(viol(r)).toEqual({ qualification: 0x01, gpa: G });
    expect(r.levels).toBe(3);
    expect(reads).toEqual([0x1008, 0x2010, 0x3018]);
  });
});

describe("EPT misconfigurations (28.2.3.1)", () => {
  const ENTRY = [PML4E, PDPTE, PDE, PTE];
  const LEVEL = [4, 3, 2, 1];
  const present = [0x2007, 0x3007, 0x4007, 0x87654037];

  for (let i = 0; i < 4; i++) {
    it(`bits 2:0 = 010b and 110b at level ${LEVEL[i]} are write-without-read`, () => {
      for (const rwx of [0b010, 0b110]) {
        const ram = fourLevel();
        put(ram, ENTRY[i], (present[i] & ~7) | rwx, i === 3 ? 0x9 : 0);
        expect(misc(eptTranslate(mem32(ram), eptp(), G, "read", BASE))).toEqual({
          gpa: G,
          level: LEVEL[i],
          cause: "write-without-read",
        });
      }
    });

    it(`bits 2:0 = 100b at level ${LEVEL[i]} without the execute-only capability`, () => {
      const ram = fourLevel();
      put(ram, ENTRY[i], (present[i] & ~7) | 4, i === 3 ? 0x9 : 0);
      expect(misc(eptTranslate(mem32(ram), eptp(), G, "fetch", BASE)).cause).toBe("execute-only");
      // With the capability the walk goes on; a fetch is allowed, X being set everywhere.
      expect(kind(eptTranslate(mem32(ram), eptp(), G, "fetch", { executeOnlyAllowed: true }))).toBe("ok");
    });

    it(`address bits 51:36 (beyond MAXPHYADDR 36) at level ${LEVEL[i]} are reserved`, () => {
      for (let bit = 36; bit <= 51; bit++) {
        const ram = fourLevel();
        put(ram, ENTRY[i], present[i], (i === 3 ? 0x9 : 0) | (1 << (bit - 32)));
        expect(misc(eptTranslate(mem32(ram), eptp(), G, "read", BASE)), `bit ${bit}`).toEqual({
          gpa: G,
          level: LEVEL[i],
          cause: "reserved-bit",
        });
      }
    });

    it(`ignored bits 11:8 and 63:52 at level ${LEVEL[i]} change nothing`, () => {
      const ram = fourLevel();
      put(ram, ENTRY[i], present[i] | 0xf00, (i === 3 ? 0x9 : 0) | 0xfff00000);
      expect(ok(eptTranslate(mem32(ram), eptp(), G, "read", BASE)).hpa).toBe(0x9_8765_4abc);
    });
  }

  it("address bit 35 is within MAXPHYADDR 36 and is used", () => {
    const ram = fourLevel();
    put(ram, PTE, 0x87654037, 0x8);
    expect(ok(eptTranslate(mem32(ram), eptp(), G, "read", BASE)).hpa).toBe(0x8_8765_4abc);
  });

  const reservedLow: [name: string, entry: number, base: number, hi: number, bits: number[]][] = [
    ["PML4E bits 7:3 (Table 28-1)", PML4E, 0x2007, 0, [3, 4, 5, 6, 7]],
    ["PDPTE (page directory) bits 6:3 (Table 28-3)", PDPTE, 0x3007, 0, [3, 4, 5, 6]],
    ["PDE (page table) bits 6:3 (Table 28-5)", PDE, 0x4007, 0, [3, 4, 5, 6]],
    ["1-GByte PDPTE bits 29:12 (Table 28-2)", PDPTE, 0xc0000000 | 0x80 | 0x37, 0x7, range(12, 29)],
    ["2-MByte PDE bits 20:12 (Table 28-4)", PDE, 0xbce00000 | 0x80 | 0x37, 0xa, range(12, 20)],
  ];
  for (const [name, entry, lo, hi, bits] of reservedLow) {
    it(`reserved: ${name}`, () => {
      const ram = fourLevel();
      put(ram, entry, lo, hi);
      expect(kind(eptTranslate(mem32(ram), eptp(), G, "read", BASE))).toBe("ok");
      for (const bit of bits) {
        put(ram, entry, (lo | (1 << bit)) >>> 0, hi);
        expect(misc(eptTranslate(mem32(ram), eptp(), G, "read", BASE)).cause, `bit ${bit}`).toBe("reserved-bit");
      }
    });
  }

  it("PTE bit 7 is ignored (Table 28-6), PTE bits 5:3 are its memory type", () => {
    const ram = fourLevel();
    put(ram, PTE, 0x87654037 | 0x80, 0x9);
    expect(ok(eptTranslate(mem32(ram), eptp(), G, "read", BASE)).pageSize).toBe(4096);
  });

  const leaves: [name: string, entry: number, lo: number, hi: number, level: number][] = [
    ["PTE", PTE, 0x87654007, 0x9, 1],
    ["2-MByte PDE", PDE, 0xbce00087, 0xa, 2],
    ["1-GByte PDPTE", PDPTE, 0xc0000087, 0x7, 3],
  ];
  for (const [name, entry, lo, hi, level] of leaves) {
    it(`memory type in the ${name}: 2, 3, 7 are reserved; 0, 1, 4, 5, 6 are UC, WC, WT, WP, WB`, () => {
      const outcome = [0, 1, 2, 3, 4, 5, 6, 7].map((type) => {
        const ram = fourLevel();
        put(ram, entry, lo | (type << 3), hi);
        const r = eptTranslate(mem32(ram), eptp(), G, "read", BASE);
        if ("misconfig" in r) {
          expect(r.misconfig).toEqual({ gpa: G, level, cause: "memory-type" });
          return "M";
        }
        expect(ok(r).memType).toBe(type);
        return "ok";
      });
      expect(outcome).toEqual(["ok", "ok", "M", "M", "ok", "ok", "ok", "M"]);
    });
  }

  it("a misconfiguration wins over a permission violation on the same walk", () => {
    const ram = fourLevel();
    put(ram, PML4E, 0x2001); // read-only above
    put(ram, PTE, 0x87654007 | (7 << 3), 0x9); // memory type 7
    expect(misc(eptTranslate(mem32(ram), eptp(), G, "write", BASE))).toEqual({ gpa: G, level: 1, cause: "memory-type" });
  });

  it("an entry below a not-present one is never looked at", () => {
    const ram = fourLevel();
    put(ram, PDPTE, 0x3000); // not present
    put(ram, PTE, 0x87654002, 0x9); // would be write-only
    expect(viol(eptTranslate(mem32(ram), eptp(), G, "read", BASE)).qualification).toBe(0x01);
  });
});

describe("exit qualification (Table 27-7)", () => {
  function notPresentLeaf(): Uint8Array {
    const ram = fourLevel();
    put(ram, PTE, 0);
    return ram;
  }

  it("bit 7 and bit 8 set for an access to the final translation of a linear address", () => {
    const v = viol(eptTranslate(mem32(notPresentLeaf()), eptp(), G, "read", { ...BASE, guestLinear: 0x0804_8123 }));
    expect(v).toEqual({ qualification: 0x181, gpa: G, guestLinear: 0x0804_8123 });
  });

  it("bit 7 set, bit 8 clear for an access to a guest paging-structure entry", () => {
    const v = viol(
      eptTranslate(mem32(notPresentLeaf()), eptp(), G, "write", { ...BASE, guestLinear: 0x1000, fromGuestPagingWalk: true }),
    );
    expect(v.qualification).toBe(0x82);
  });

  it("bits 7 and 8 clear without a guest linear address (PDPTE loads by MOV to CR3)", () => {
    const v = viol(eptTranslate(mem32(notPresentLeaf()), eptp(), G, "read", { ...BASE, fromGuestPagingWalk: true }));
    expect(v).toEqual({ qualification: 0x01, gpa: G });
  });

  it("bit 12 is the caller's NMI unblocking due to IRET", () => {
    const v = viol(eptTranslate(mem32(notPresentLeaf()), eptp(), G, "read", { ...BASE, nmiUnblocking: true }));
    expect(v.qualification).toBe(0x1001);
  });

  it("reports the full guest-physical address, offset included", () => {
    const v = viol(eptTranslate(mem32(notPresentLeaf()), eptp(), G + 0x123, "fetch", BASE));
    expect(v.gpa).toBe(0x80_8060_4bdf);
    expect(v.qualification).toBe(0x04);
  });

  it("with EPT A/D on, a guest page-walk read of a read-only page is a write: bits 0 and 1 set (note 1)", () => {
    const ram = fourLevel();
    put(ram, PTE, 0x87654031, 0x9); // R only
    const opts = { ...BASE, guestLinear: 0x2000, fromGuestPagingWalk: true };
    expect(viol(eptTranslate(mem32(ram), eptp(true), G, "read", opts)).qualification).toBe(0x8b);
    // Without A/D the same access is a read and is allowed.
    expect(kind(eptTranslate(mem32(ram), eptp(false), G, "read", opts))).toBe("ok");
    // PDPTE loads (no linear address) stay reads even with A/D on (28.2.3.2).
    expect(kind(eptTranslate(mem32(ram), eptp(true), G, "read", { ...BASE, fromGuestPagingWalk: true }))).toBe("ok");
  });
});

describe("accessed and dirty flags (28.2.4)", () => {
  const ALL = [PML4E, PDPTE, PDE, PTE];

  it("EPTP bit 6 set: a read sets bit 8 in every entry used and no dirty flag; a second read writes nothing", () => {
    const ram = fourLevel();
    const writes: [number, number][] = [];
    const opts = { ...BASE, onEntryWrite: (pa: number, l: number) => writes.push([pa, l]) };
    ok(eptTranslate(mem32(ram), eptp(true), G, "read", opts));
    expect(ALL.map((pa) => getLo(ram, pa))).toEqual([0x2107, 0x3107, 0x4107, 0x87654137]);
    expect(writes).toEqual([[0x1008, 4], [0x2010, 3], [0x3018, 2], [0x4020, 1]]);
    writes.length = 0;
    ok(eptTranslate(mem32(ram), eptp(true), G, "read", opts));
    expect(writes).toEqual([]);
  });

  it("a write sets bit 9 in the entry that maps the page only", () => {
    const ram = fourLevel();
    ok(eptTranslate(mem32(ram), eptp(true), G, "write", BASE));
    expect(ALL.map((pa) => getLo(ram, pa))).toEqual([0x2107, 0x3107, 0x4107, 0x87654337]);
    expect(getHi(ram, PTE)).toBe(0x9);
  });

  it("the dirty flag of a 2-MByte page is in the PDE", () => {
    const ram = fourLevel();
    put(ram, PDE, 0xbce00037 | 0x80, 0xa);
    ok(eptTranslate(mem32(ram), eptp(true), G, "write", BASE));
    expect([PML4E, PDPTE, PDE].map((pa) => getLo(ram, pa))).toEqual([0x2107, 0x3107, 0xbce003b7]);
    expect(getLo(ram, PTE)).toBe(0x87654037); // not part of the walk
  });

  it("a guest page-walk read counts as a write for the dirty flag when A/D is on", () => {
    const ram = fourLevel();
    ok(eptTranslate(mem32(ram), eptp(true), G, "read", { ...BASE, guestLinear: 0, fromGuestPagingWalk: true }));
    expect(getLo(ram, PTE)).toBe(0x87654337);
  });

  it("without EPTP bit 6 memory is not written", () => {
    const ram = fourLevel();
    const before = ram.slice();
    const writes: number[] = [];
    for (const access of ["read", "write", "fetch"] as const) {
      ok(eptTranslate(mem32(ram), eptp(false), G, access, { ...BASE, onEntryWrite: (pa) => writes.push(pa) }));
    }
    expect(ram).toEqual(before);
    expect(writes).toEqual([]);
  });

  it("a walk that ends in a violation sets no flag (as Bochs)", () => {
    const ram = fourLevel();
    put(ram, PTE, 0x87654035, 0x9); // R-X
    const before = ram.slice();
    viol(eptTranslate(mem32(ram), eptp(true), G, "write", BASE));
    expect(ram).toEqual(before);
  });

  it("the 64-bit accessor keeps the high dword (address and ignored bits) when it sets a flag", () => {
    const ram = fourLevel();
    put(ram, PTE, 0x87654037, 0xabc00009);
    ok(eptTranslate(mem64(ram), eptp(true), G, "write", BASE));
    expect([getLo(ram, PTE), getHi(ram, PTE)]).toEqual([0x87654337, 0xabc00009]);
  });
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let b = from; b <= to; b++) out.push(b);
  return out;
}
