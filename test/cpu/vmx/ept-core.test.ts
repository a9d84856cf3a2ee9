/**
 * EPT in the core's translation (src/cpu/vmx/ept-core.ts, paging.ts): EPT-induced VM exits of a running guest.
 *
 * References: SDM Vol. 3C 28.2.1 (every guest-physical address of a 2-D walk goes through EPT; with CR0.PG = 0
 * the linear address is the guest-physical one), 28.2.3.1 (misconfiguration: bits 2:0 = 010b), 28.2.3.2 (the
 * violation cases, guest paging-structure reads are data reads, A/D updates data writes, with EPTP bit 6
 * guest paging-structure accesses are writes), Table 27-7 (qualification: bits 0/1/2 read/write/fetch, bits 5:3
 * the AND of the entries' R/W/X, bit 7 guest-linear valid, bit 8 the access was to the translation of the
 * linear address rather than a paging-structure entry), 27.2.1 (guest-physical and guest-linear fields), 28.2.4
 * (EPT A/D: bit 8 of every entry used, bit 9 of the leaf on a write), 25.1/27.2.4 (an exit during event
 * delivery reports IDT-vectoring information), and kvm-unit-tests ept_access_test_* (vmx.md "EPT
 * permissions": not-present -> 48 with bit 0/1/2; W without R -> 49). Expected values are computed by hand
 * from the harness's memory map (ept-core-harness.ts).
 */
import { describe, expect, it } from "vitest";
import { dword, eax } from "../../../src/guests/asm/index.ts";
import {
  EPT_PD, EPT_PDPT, EPT_PML4, EPT_RWX, ENABLE_EPT, eptGuest as eptGuestOn, type EptGuestOptions, GUEST, GUEST_IDT,
  GUEST_PT1, GUEST_STACK, UNRESTRICTED_GUEST,
} from "./ept-core-harness.ts";

/** Linear 0x400123 is guest-physical 0x300123 (the harness's PT1 maps 4 MiB.. to 3 MiB..). */
const LIN = 0x400123, GPA = 0x300123;
const READ = 1, WRITE = 2, FETCH = 4, LINEAR_VALID = 0x80, TRANSLATION = 0x100;

/** Every case runs on the core with the cache and TLB model (TimedCore) and on the functional core. */
describe.each([["TimedCore", true], ["functional Core", false]])("%s", (_name, caches) => {
  const eptGuest = (o: EptGuestOptions) => eptGuestOn({ ...o, caches });

  describe("EPT violations of a guest with paging (exit 48, Table 27-7)", () => {
    it("a read of a page whose EPT PTE is not present: bits 0, 7, 8; permissions 000; GPA and linear fields", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => h.setEpt(GPA, 0),
      });
      h.run();
      expect(h.exits).toHaveLength(1);
      const e = h.exits[0];
      expect(e.reason).toBe(48);
      expect(e.qualification).toBe(READ | LINEAR_VALID | TRANSLATION);
      expect([e.gpa, e.gpaHigh, e.linear]).toEqual([GPA, 0, LIN]);
      expect(e.rip).toBe(GUEST); // a fault: the guest RIP is the instruction's (28.2.3)
    });

    it("a write to the not-present page: bit 1; the store did not happen", () => {
      const h = eptGuest({
        code: (a) => a.mov(dword(LIN), 0x11223344).hlt(),
        prepare: (h) => h.setEpt(GPA, 0),
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.linear])).toEqual([
        [48, WRITE | LINEAR_VALID | TRANSLATION, GPA, LIN],
      ]);
      expect(h.dv.getUint32(GPA, true)).toBe(0);
    });

    it("a jump into the not-present page: the fetch exits with bit 2 and the target as guest RIP", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, 0x400000).insn("jmp", eax),
        prepare: (h) => h.setEpt(0x300000, 0),
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.linear, e.rip])).toEqual([
        [48, FETCH | LINEAR_VALID | TRANSLATION, 0x300000, 0x400000, 0x400000],
      ]);
    });

    it("a write to an EPT read-only page after a read of it: bit 1 and bits 5:3 = 001 (the read left no write right)", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).mov(dword(LIN), 0x55).hlt(),
        prepare: (h) => {
          h.setEpt(GPA, (0x300000 | 0x31) >>> 0); // R only, WB
          h.dv.setUint32(GPA, 0xcafe, true);
        },
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.linear])).toEqual([
        [48, WRITE | (1 << 3) | LINEAR_VALID | TRANSLATION, GPA, LIN],
      ]);
      expect(h.exits[0].rip).toBe(GUEST + 5); // the store, after the 5-byte load (A1 imm32)
      expect(h.c.regs[0]).toBe(0xcafe);
      expect(h.dv.getUint32(GPA, true)).toBe(0xcafe);
    });

    it("a PUSH onto an EPT read-only stack page: ESP and memory unchanged, RIP of the PUSH", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, 7).insn("push", eax).hlt(),
        prepare: (h) => h.setEpt(GUEST_STACK - 4, ((GUEST_STACK - 0x1000) | 0x31) >>> 0),
      });
      h.run();
      const e = h.exits[0];
      expect([e.reason, e.qualification, e.gpa]).toEqual([48, WRITE | (1 << 3) | LINEAR_VALID | TRANSLATION, GUEST_STACK - 4]);
      expect([e.rip, e.rsp]).toEqual([GUEST + 5, GUEST_STACK]);
      expect(h.dv.getUint32(GUEST_STACK - 4, true)).toBe(0);
    });

    it("executing from a page without X that was just read: bit 2, bits 5:3 = 011 (R, W)", () => {
      const target = 0x401000; // guest-physical 0x301000: read/write, no execute
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(target)).mov(eax, target).insn("jmp", eax),
        prepare: (h) => {
          h.setEpt(0x301000, (0x301000 | 0x33) >>> 0);
          h.m.ram[0x301000] = 0xf4; // HLT, were it executed
        },
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.rip])).toEqual([
        [48, FETCH | (3 << 3) | LINEAR_VALID | TRANSLATION, 0x301000, target],
      ]);
      expect(h.c.halted).toBe(true); // in the host stub, not in the guest
      expect(h.c.nonRoot).toBe(false);
    });

    it("the guest page table on a not-present EPT page: bit 8 clear, the GPA is the PTE's", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => h.setEpt(GUEST_PT1, 0),
      });
      h.run();
      // LIN's PTE: PT1 + 4 * ((0x400123 >>> 12) & 0x3ff) = PT1 + 0.
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.linear])).toEqual([
        [48, READ | LINEAR_VALID, GUEST_PT1, LIN],
      ]);
    });

    it("with EPT A/D (EPTP bit 6) the guest paging-structure read counts as a write: bits 0 and 1 (Table 27-7 note 1)", () => {
      const h = eptGuest({
        ad: true,
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => h.setEpt(GUEST_PT1, (GUEST_PT1 | 0x31) >>> 0), // read-only
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa])).toEqual([
        [48, READ | WRITE | (1 << 3) | LINEAR_VALID, GUEST_PT1],
      ]);
    });

    it("a guest accessed-flag update needs EPT write permission; a violation on the final page writes no flag", () => {
      // PTE without A on an EPT read-only page table: the read walk passes, the A update is a data write (28.2.3.2).
      const a1 = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => {
          h.setEpt(GUEST_PT1, (GUEST_PT1 | 0x31) >>> 0);
          h.dv.setUint32(h.guestPte(LIN), 0x300007, true); // P, RW, US; A and D clear
        },
      });
      a1.run();
      expect(a1.exits.map((e) => [e.reason, e.qualification, e.gpa])).toEqual([
        [48, WRITE | (1 << 3) | LINEAR_VALID, GUEST_PT1],
      ]);
      expect(a1.dv.getUint32(a1.guestPte(LIN), true)).toBe(0x300007);
      // Final page not present, PTE without A: the exit leaves the guest PTE's A clear.
      const a2 = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => {
          h.setEpt(GPA, 0);
          h.dv.setUint32(h.guestPte(LIN), 0x300007, true);
        },
      });
      a2.run();
      expect(a2.exits.map((e) => e.reason)).toEqual([48]);
      expect(a2.dv.getUint32(a2.guestPte(LIN), true)).toBe(0x300007);
    });

    it("an exit while delivering INT 30H (IDT page not present) reports the software interrupt as IDT-vectoring", () => {
      const h = eptGuest({
        code: (a) => a.insn("int", 0x30).hlt(),
        prepare: (h) => h.setEpt(GUEST_IDT, 0),
      });
      h.run();
      const e = h.exits[0];
      // The gate of vector 30H is at IDT + 0x180 (a data read of a linear address: bits 0, 7, 8).
      expect([e.reason, e.qualification, e.gpa, e.linear]).toEqual([48, READ | LINEAR_VALID | TRANSLATION, GUEST_IDT + 0x180, GUEST_IDT + 0x180]);
      // Valid, type 4 (software interrupt), vector 30H (SDM Table 24-17).
      expect(e.idtVectoring >>> 0).toBe(0x80000430);
      expect(e.rip).toBe(GUEST);
    });
  });

  describe("EPT misconfiguration (exit 49, 28.2.3.1)", () => {
    it("a leaf with W but not R: exit 49 with the guest-physical address", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => h.setEpt(GPA, (0x300000 | 0x32) >>> 0),
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.gpa, e.rip])).toEqual([[49, GPA, GUEST]]);
    });

    it("a PDE with reserved bit 3 set: 49 for any address under it", () => {
      const h = eptGuest({
        code: (a) => a.mov(eax, dword(0x200010)).hlt(),
        prepare: (h) => h.dv.setUint32(EPT_PD + 8, h.dv.getUint32(EPT_PD + 8, true) | 8, true),
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.gpa])).toEqual([[49, 0x200010]]);
    });
  });

  describe("EPT accessed and dirty flags (28.2.4)", () => {
    const A = 1 << 8, D = 1 << 9;
    function run(ad: boolean) {
      const h = eptGuest({
        ad,
        code: (a) => a.mov(eax, dword(LIN)).mov(dword(0x401000), eax).hlt(),
        prepare: (h) => {
          // Clear every flag the set-up left (none: the harness writes entries without A/D).
          expect(h.eptLow(GPA) & (A | D)).toBe(0);
        },
      });
      h.run();
      expect(h.exits).toEqual([]);
      expect(h.c.halted && h.c.nonRoot).toBe(true);
      return h;
    }

    it("with EPTP bit 6: A on every entry used, D on a written page and on the guest page tables (accessed as writes)", () => {
      const h = run(true);
      const flags = (pa: number) => h.dv.getUint32(pa, true) & (A | D);
      expect(flags(EPT_PML4)).toBe(A);
      expect(flags(EPT_PDPT)).toBe(A);
      expect(flags(EPT_PD + 8)).toBe(A); // the PDE of 2-4 MiB (GPA 0x300000, 0x301000)
      expect(flags(h.eptPte(GPA))).toBe(A); // read only
      expect(flags(h.eptPte(0x301000))).toBe(A | D); // written
      expect(flags(h.eptPte(GUEST_PT1))).toBe(A | D); // guest page table: a write for EPT
      expect(flags(h.eptPte(GUEST))).toBe(A); // the code page: fetched
    });

    it("without EPTP bit 6 no entry changes", () => {
      const h = run(false);
      for (const pa of [EPT_PML4, EPT_PDPT, EPT_PD + 8, h.eptPte(GPA), h.eptPte(0x301000), h.eptPte(GUEST_PT1)]) {
        expect(h.dv.getUint32(pa, true) & (A | D)).toBe(0);
      }
    });
  });

  describe("guest paging off (unrestricted guest): linear = guest-physical, still through EPT (28.2.1)", () => {
    it("a read of a not-present page exits 48 with bit 8 set and GPA = linear; other pages run", () => {
      const h = eptGuest({
        proc2: ENABLE_EPT | UNRESTRICTED_GUEST,
        paging: false,
        code: (a) => a.mov(eax, dword(0x5000)).mov(dword(0x5004), eax).mov(eax, dword(GPA)).hlt(),
        prepare: (h) => {
          h.setEpt(GPA, 0);
          h.dv.setUint32(0x5000, 0x1234, true);
        },
      });
      h.run();
      expect(h.exits.map((e) => [e.reason, e.qualification, e.gpa, e.linear, e.rip])).toEqual([
        [48, READ | LINEAR_VALID | TRANSLATION, GPA, GPA, GUEST + 10],
      ]);
      expect(h.dv.getUint32(0x5004, true)).toBe(0x1234);
    });

    it("EPT remaps a guest-physical page: the guest sees the host page EPT names", () => {
      const h = eptGuest({
        proc2: ENABLE_EPT | UNRESTRICTED_GUEST,
        paging: false,
        code: (a) => a.mov(eax, dword(0x7000)).hlt(),
        prepare: (h) => {
          h.setEpt(0x7000, (0x9a000 | EPT_RWX) >>> 0);
          h.dv.setUint32(0x7000, 1, true);
          h.dv.setUint32(0x9a000, 2, true);
        },
      });
      h.run();
      expect(h.exits).toEqual([]);
      expect(h.c.regs[0]).toBe(2);
    });
  });

  describe("a host without EPT is unchanged", () => {
    it("a guest without 'enable EPT' reads guest-physical = host-physical through its own paging only", () => {
      const h = eptGuest({
        proc2: 0,
        code: (a) => a.mov(eax, dword(LIN)).hlt(),
        prepare: (h) => {
          h.setEpt(GPA, 0); // ignored: EPT is off
          h.dv.setUint32(GPA, 77, true);
        },
      });
      h.run();
      expect(h.exits).toEqual([]);
      expect(h.c.regs[0]).toBe(77);
      expect(h.c.ept).toBeNull();
    });
  });
});
