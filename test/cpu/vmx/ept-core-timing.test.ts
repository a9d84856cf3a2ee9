/**
 * What EPT walks and VPIDs cost on the core with the cache and TLB model (src/cpu/timed-core.ts,
 * cache/tlb-model.ts), and what INVVPID and INVEPT drop.
 *
 * References: SDM Vol. 3C 28.2.1 (a 2-D walk: every guest paging-structure reference and the final
 * guest-physical address are translated through EPT), 28.3.1 (combined mappings tagged by VPID and EP4TA),
 * 28.3.3.1 (INVEPT invalidates the combined mappings of the EP4TA; an EPT edit is not seen until then),
 * 28.3.3.3 (without VPIDs every VM entry and exit invalidates the VPID 0000H mappings; with VPIDs they do not;
 * INVVPID types 0 and 1), and the Skylake profile (src/cpu/profiles/skylake.ts): pageWalkCycles = 20 per walk
 * pass, a 64-entry 4-way DTLB, L1D 32 KiB 8-way. Expected figures are hand-computed from those.
 *
 * The guest touches N = 16 pages (linear 5 MiB + k * 1040H, guest-physical 4 MiB + k * 1040H, so each line
 * falls in its own L1 set), exits with VMCALL, and touches them again between two RDTSCs (EBP = the loop's
 * cycles), then exits again. Everything the walks read (guest PD/PT lines, EPT PML4E/PDPTE/PDE/PTE lines) was
 * read by the first loop and stays in the L1D (at most 7 lines share a set of 8 ways), so a walk's reads add
 * no miss cycles and the difference between two runs is the walks' fixed cost alone:
 *   passes of one TLB miss = 1 (guest walk) + 2 (EPT walks of the guest PDE and PTE) + 1 (the final address) = 4,
 *   so 4 * 20 = 80 cycles per page, and between the exits 17 pages miss (the 16 and the code page).
 */
import { describe, expect, it } from "vitest";
import { dword, eax, ecx, edi, esi, ebp } from "../../../src/guests/asm/index.ts";
import type { Asm } from "../../../src/guests/asm/index.ts";
import { getProfile } from "../../../src/cpu/profiles/index.ts";
import {
  EPT_PML4, EPT_RWX, ENABLE_EPT, ENABLE_VPID, eptGuest, type EptGuest, type EptGuestOptions, skipAndResume,
  UNRESTRICTED_GUEST,
} from "./ept-core-harness.ts";

const N = 16;
const BASE = 0x500000, STRIDE = 0x1040;
const WALK = getProfile("skylake").tlb.pageWalkCycles;
const VMCALL_LEN = 3;
const EPTP = EPT_PML4 | (3 << 3) | 6;

function touchLoop(a: Asm, label: string): Asm {
  return a.mov(esi, BASE).mov(ecx, N).label(label).mov(eax, dword(esi)).insn("add", esi, STRIDE).insn("dec", ecx).jnz(label);
}

const guestCode = (a: Asm) => {
  touchLoop(a, "warm").insn("vmcall");
  a.rdtsc().mov(edi, eax);
  touchLoop(a, "again").rdtsc().insn("sub", eax, edi).mov(ebp, eax).insn("vmcall").hlt();
};

interface Measured {
  /** TimedCore.walkCyclesCharged, walks and refills between the end of the first exit's handling and the second exit. */
  walkCycles: number;
  walks: number;
  refilled: number;
  /** The second loop's cycles, measured by the guest (RDTSC). */
  loopCycles: number;
}

/** Run the guest; `between` runs in the VMM after the first VMCALL exit, before VMRESUME. */
function measure(o: Partial<EptGuestOptions>, between?: (h: EptGuest) => void): Measured {
  let at = { walkCycles: 0, walks: 0, refilled: 0 };
  let m: Measured | null = null;
  const h = eptGuest({
    ...o,
    code: guestCode,
    onExit: (e, h) => {
      const t = h.timed();
      expect(e.reason).toBe(18); // VMCALL
      if (h.exits.length === 1) {
        between?.(h);
        const ok = skipAndResume(h, VMCALL_LEN);
        at = { walkCycles: t.walkCyclesCharged, walks: t.walks, refilled: t.refilled };
        return ok;
      }
      m = {
        walkCycles: t.walkCyclesCharged - at.walkCycles, walks: t.walks - at.walks, refilled: t.refilled - at.refilled,
        loopCycles: h.c.regs[5],
      };
      return false;
    },
  });
  h.run();
  expect(h.exits.map((e) => e.reason)).toEqual([18, 18]);
  return m!;
}

describe("the fixed cost of a TLB miss: pageWalkCycles per walk pass", () => {
  it.each([
    ["guest paging without EPT: the guest walk", { proc2: 0 }, 1],
    ["EPT and 4 KiB guest paging: guest walk + EPT walks of the PDE, the PTE and the final address", {}, 4],
    ["EPT with guest paging off: one EPT walk", { proc2: ENABLE_EPT | UNRESTRICTED_GUEST, paging: false }, 1],
  ] as const)("%s", (_name, o, passes) => {
    const r = measure(o);
    expect(WALK).toBe(20);
    expect(r.walks).toBe(N + 1);
    expect(r.walkCycles).toBe((N + 1) * passes * WALK);
  });
});

describe("VPID: the TLB model keeps the guest's translations across VM exits and entries (28.3.3.3)", () => {
  const withVpid = { proc2: ENABLE_EPT | ENABLE_VPID, vpid: 1 };

  it("without VPID the 17 pages walk again after the exit (17 x 80 cycles); with VPID they are refilled free", () => {
    const noVpid = measure({});
    const vpid = measure(withVpid);
    expect(noVpid).toMatchObject({ walkCycles: 17 * 4 * WALK, walks: 17, refilled: 0 });
    expect(vpid).toMatchObject({ walkCycles: 0, walks: 0, refilled: 17 });
    // The loop itself (16 pages, the code page was walked before the first RDTSC): 16 x 80 = 1280 cycles more,
    // and nothing else differs (the walks' reads hit the L1D).
    expect(noVpid.loopCycles - vpid.loopCycles).toBe(N * 4 * WALK);
  });

  it("INVVPID single-context of the guest's VPID drops its entries: every page walks again", () => {
    const r = measure(withVpid, (h) => expect(h.api.invvpid(1, 1)).toEqual({ ok: true }));
    expect(r).toMatchObject({ walkCycles: 17 * 4 * WALK, walks: 17, refilled: 0 });
  });

  it("INVVPID single-context of another VPID drops nothing", () => {
    const r = measure(withVpid, (h) => expect(h.api.invvpid(1, 2)).toEqual({ ok: true }));
    expect(r).toMatchObject({ walkCycles: 0, walks: 0, refilled: 17 });
  });

  it("INVVPID individual-address drops that page only", () => {
    const r = measure(withVpid, (h) => expect(h.api.invvpid(0, 1, BASE + 3 * STRIDE)).toEqual({ ok: true }));
    expect(r).toMatchObject({ walkCycles: 4 * WALK, walks: 1, refilled: 16 });
  });

  it("INVEPT single-context drops the combined mappings of the EP4TA", () => {
    const r = measure(withVpid, (h) => expect(h.api.invept(1, EPTP)).toEqual({ ok: true }));
    expect(r).toMatchObject({ walkCycles: 17 * 4 * WALK, walks: 17, refilled: 0 });
  });
});

describe("INVEPT after an EPT edit (28.3.3.1)", () => {
  const LIN = 0x401000, GPA = 0x301000, OTHER = 0x9b000;

  /** The guest reads [LIN] three times with VMCALLs between; the VMM remaps GPA to OTHER at the first exit and
   * runs INVEPT at the second when asked. */
  function run(o: Partial<EptGuestOptions>, invept: boolean): number[] {
    const h = eptGuest({
      ...o,
      code: (a) => a.mov(eax, dword(LIN)).insn("vmcall").mov(ecx, dword(LIN)).insn("vmcall").mov(edi, dword(LIN)).hlt(),
      prepare: (h) => {
        h.dv.setUint32(GPA, 0x0a0a, true);
        h.dv.setUint32(OTHER, 0x0b0b, true);
      },
      onExit: (e, h) => {
        expect(e.reason).toBe(18);
        if (h.exits.length === 1) h.setEpt(GPA, (OTHER | EPT_RWX) >>> 0);
        if (h.exits.length === 2 && invept) expect(h.api.invept(1, EPTP)).toEqual({ ok: true });
        return skipAndResume(h, VMCALL_LEN);
      },
    });
    h.run();
    expect(h.exits.length).toBe(2);
    expect(h.c.halted && h.c.nonRoot).toBe(true);
    return [h.c.regs[0], h.c.regs[1], h.c.regs[7]];
  }

  it("with VPID the old mapping stays in use until INVEPT; after it the guest sees the new page", () => {
    expect(run({ proc2: ENABLE_EPT | ENABLE_VPID, vpid: 1 }, true)).toEqual([0x0a0a, 0x0a0a, 0x0b0b]);
  });

  it("without INVEPT the stale combined mapping survives every transition with VPID", () => {
    expect(run({ proc2: ENABLE_EPT | ENABLE_VPID, vpid: 1 }, false)).toEqual([0x0a0a, 0x0a0a, 0x0a0a]);
  });

  it("without VPID the transitions flush the TLB: the edit is seen at the next entry", () => {
    expect(run({}, false)).toEqual([0x0a0a, 0x0b0b, 0x0b0b]);
  });
});

