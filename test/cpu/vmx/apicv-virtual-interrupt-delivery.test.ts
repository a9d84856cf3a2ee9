/**
 * TPR, PPR, EOI and self-IPI virtualization, evaluation and delivery of virtual interrupts.
 *
 * References (not our code):
 * - SDM Vol. 3C pseudo-code of 29.1.2 (TPR virtualization: without virtual-interrupt delivery a VM exit
 *   when VTPR[7:4] < TPR threshold, else PPR virtualization and evaluation), 29.1.3 (PPR virtualization),
 *   29.1.4 (EOI virtualization with the EOI-exit bitmap; exit qualification = vector), 29.1.5 (self-IPI
 *   virtualization), 29.2.1 (recognition: "interrupt-window exiting" 0 and RVI[7:4] > VPPR[7:4]), 29.2.2
 *   (delivery: VISR, SVI, VPPR, VIRR, RVI updates); 24.6.8 (EOI-exit bitmap n covers vectors 64n..64n+63);
 *   27.2.1 / Appendix C (exit reasons 43 and 45, trap-like, qualification 0 for 43);
 * - kvm-unit-tests x86/vmx_tests.c: vmx_basic_vid_test (RVI = nr at VM entry, or a TPR write after entry;
 *   the ISR runs once iff class(nr) > class(TPR), and RVI is 0 after it ran, nr otherwise),
 *   vmx_eoi_virt_test (a lower-priority vector in VIRR behind nr is delivered after nr's EOI: two ISR runs,
 *   both VIRR bits clear; with all EOI-exit bits set, each EOI causes exit 45), vmx_eoi_bitmap_ioapic_scan_test
 *   (EOI-exit bit clear: the EOI does not exit). The guest there runs in x2APIC mode (enable_vid sets
 *   "virtualize x2APIC mode"), so the ISR's EOI is WRMSR 80BH and MOV CR8 becomes WRMSR 808H here (IA-32).
 */
import { describe, expect, it } from "vitest";
import {
  deliverVirtualInterrupt,
  eoiExitBitmapBit,
  eoiVirtualization,
  pendingVirtualInterrupt,
  pprVirtualization,
  selfIpiVirtualization,
  tprVirtualization,
  vmEntryVirtualInterrupts,
  type ApicvExit,
} from "../../../src/cpu/vmx/virtual-interrupt-delivery.ts";
import { x2apicMsrWrite } from "../../../src/cpu/vmx/apic-msr-virtualization.ts";
import type { ApicvContext } from "../../../src/cpu/vmx/virtual-apic-page.ts";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import {
  PROC_INTERRUPT_WINDOW_EXITING,
  PROC2_APIC_REGISTER_VIRTUALIZATION,
  PROC2_VIRTUAL_INTERRUPT_DELIVERY,
  PROC2_VIRTUALIZE_X2APIC_MODE,
} from "../../../src/cpu/vmx/vmx-controls.ts";
import { makeFixture, type Fixture } from "./apicv-harness.ts";

const VID = PROC2_VIRTUAL_INTERRUPT_DELIVERY;
/** kvm-unit-tests enable_vid(): virtual-interrupt delivery with virtualize x2APIC mode. */
const KVM_VID = VID | PROC2_VIRTUALIZE_X2APIC_MODE | PROC2_APIC_REGISTER_VIRTUALIZATION;
const ISR = 0x100;
const IRR = 0x200;

describe("PPR virtualization (SDM 29.1.3)", () => {
  it.each([
    // [VTPR, SVI, VPPR]
    [0x00, 0x00, 0x00],
    [0x35, 0x00, 0x35], // VTPR & FFH, low nibble kept
    [0x35, 0x31, 0x35], // same class: VTPR wins
    [0x35, 0x41, 0x40], // SVI's class is higher: SVI & F0H
    [0x0f, 0x10, 0x10],
    [0xabcdef45, 0x20, 0x45], // only VTPR[7:4] compares, only VTPR[7:0] is copied
    [0xff, 0xfe, 0xff],
  ])("VTPR %i, SVI %i -> VPPR %i", (vtpr, svi, vppr) => {
    const f = makeFixture({ proc2: VID, intStatus: svi << 8 });
    f.setVapic(0xa0, 0xdeadbeef);
    f.setVapic(0x80, vtpr);
    expect(pprVirtualization(f.ctx)).toBe(vppr);
    expect(f.vapic(0xa0)).toBe(vppr); // the whole 32-bit VPPR field is written
  });
});

describe("TPR virtualization (SDM 29.1.2)", () => {
  it("without virtual-interrupt delivery: exit 43 (qualification 0) exactly when VTPR[7:4] < threshold", () => {
    for (let cls = 0; cls < 16; cls++) {
      for (let threshold = 0; threshold < 16; threshold++) {
        for (const low of [0x0, 0xf]) {
          const f = makeFixture({ tprThreshold: threshold });
          f.setVapic(0x80, (cls << 4) | low);
          const r = tprVirtualization(f.ctx);
          if (cls < threshold) expect(r).toEqual({ kind: "exit", reason: 43, qualification: 0 });
          else expect(r).toEqual({ kind: "continue", pending: null });
          expect(f.vapic(0xa0)).toBe(0); // no PPR virtualization without delivery
        }
      }
    }
  });

  it("with virtual-interrupt delivery the threshold is ignored: PPR virtualization, then evaluation", () => {
    const f = makeFixture({ proc2: VID, tprThreshold: 15, intStatus: 0x0061 });
    f.setVapic(0x80, 0x70);
    expect(tprVirtualization(f.ctx)).toEqual({ kind: "continue", pending: null });
    expect(f.vapic(0xa0)).toBe(0x70);
    f.setVapic(0x80, 0x50);
    expect(tprVirtualization(f.ctx)).toEqual({ kind: "continue", pending: 0x61 });
    expect(f.vapic(0xa0)).toBe(0x50);
  });
});

describe("evaluation of pending virtual interrupts (SDM 29.2.1)", () => {
  it.each([
    // [RVI, VPPR, recognized]
    [0x00, 0x00, false],
    [0x10, 0x00, true],
    [0x3f, 0x30, false], // same class is not enough
    [0x40, 0x3f, true],
    [0x40, 0x4f, false],
    [0xff, 0xef, true],
  ])("RVI %i, VPPR %i: recognized %s", (rvi, vppr, recognized) => {
    const f = makeFixture({ proc2: VID, intStatus: rvi });
    f.setVapic(0xa0, vppr);
    expect(pendingVirtualInterrupt(f.ctx)).toBe(recognized ? rvi : null);
  });

  it("nothing is recognized while 'interrupt-window exiting' is 1, or without virtual-interrupt delivery", () => {
    const f = makeFixture({ proc2: VID, proc: PROC_INTERRUPT_WINDOW_EXITING, intStatus: 0x80 });
    expect(pendingVirtualInterrupt(f.ctx)).toBe(null);
    expect(vmEntryVirtualInterrupts(f.ctx)).toBe(null);
    const g = makeFixture({ intStatus: 0x80 });
    expect(pendingVirtualInterrupt(g.ctx)).toBe(null);
  });

  it("VM entry performs PPR virtualization before evaluating (VPPR left stale by software is recomputed)", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x0051 });
    f.setVapic(0xa0, 0xff);
    f.setVapic(0x80, 0x20);
    expect(vmEntryVirtualInterrupts(f.ctx)).toBe(0x51);
    expect(f.vapic(0xa0)).toBe(0x20);
  });
});

describe("virtual-interrupt delivery (SDM 29.2.2)", () => {
  it("moves RVI from VIRR to VISR, sets SVI and VPPR, and RVI to the next VIRR vector", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x3093 });
    for (const v of [0x93, 0x72, 0x41]) f.setVapic(IRR | ((v & 0xe0) >> 1), f.vapic(IRR | ((v & 0xe0) >> 1)) | (1 << (v & 31)));
    f.setVapic(ISR + 0x10, 1 << 16); // VISR holds 0x30
    expect(deliverVirtualInterrupt(f.ctx)).toBe(0x93);
    expect(f.vectors(ISR)).toEqual([0x30, 0x93]);
    expect(f.svi()).toBe(0x93);
    expect(f.vapic(0xa0)).toBe(0x90);
    expect(f.vectors(IRR)).toEqual([0x41, 0x72]);
    expect(f.rvi()).toBe(0x72);
  });

  it("RVI becomes 0 when VIRR is empty (RVI need not have been in VIRR)", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x0055 });
    expect(deliverVirtualInterrupt(f.ctx)).toBe(0x55);
    expect(f.rvi()).toBe(0);
    expect(f.vectors(ISR)).toEqual([0x55]);
  });
});

describe("EOI virtualization (SDM 29.1.4)", () => {
  it("clears SVI's VISR bit, sets SVI to the next VISR vector, redoes VPPR, evaluates", () => {
    const f = makeFixture({ proc2: VID, intStatus: (0x51 << 8) | 0x45 });
    setBits(f, ISR, [0x32, 0x51]);
    setBits(f, IRR, [0x45]);
    f.setVapic(0xa0, 0x50);
    expect(eoiVirtualization(f.ctx)).toEqual({ kind: "continue", pending: 0x45 });
    expect(f.vectors(ISR)).toEqual([0x32]);
    expect(f.svi()).toBe(0x32);
    expect(f.vapic(0xa0)).toBe(0x30);
  });

  it("SVI becomes 0 when VISR empties, and VPPR then follows VTPR", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x6000 });
    setBits(f, ISR, [0x60]);
    f.setVapic(0x80, 0x17);
    expect(eoiVirtualization(f.ctx)).toEqual({ kind: "continue", pending: null });
    expect(f.svi()).toBe(0);
    expect(f.vapic(0xa0)).toBe(0x17);
  });

  it("the EOI-exit bitmap bit of the vector gives exit 45 with the vector as qualification, for every vector", () => {
    for (let v = 0; v < 256; v++) {
      // SDM 24.6.8: bitmap n holds vectors 64n..64n+63; bit v & 63, in the HIGH dword when >= 32.
      const eoiExit: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
      const bit = v & 63;
      eoiExit[v >> 6][bit >= 32 ? 1 : 0] = (1 << (bit & 31)) >>> 0;
      const f = makeFixture({ proc2: VID, intStatus: v << 8, eoiExit });
      setBits(f, ISR, [v]);
      expect(eoiExitBitmapBit(f.ctx, v)).toBe(true);
      expect(eoiExitBitmapBit(f.ctx, v ^ 1)).toBe(false);
      expect(eoiVirtualization(f.ctx)).toEqual({ kind: "exit", reason: 45, qualification: v });
      // The state is updated before the exit.
      expect(f.vectors(ISR)).toEqual([]);
      expect(f.svi()).toBe(0);
    }
  });

  it("a set bit for another vector does not make this EOI exit", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x4100, eoiExit: [[0, 0], [1 << 2, 0], [0, 0], [0, 0]] });
    setBits(f, ISR, [0x41]);
    expect(eoiVirtualization(f.ctx)).toEqual({ kind: "continue", pending: null });
  });
});

describe("self-IPI virtualization (SDM 29.1.5)", () => {
  it("sets VIRR, raises RVI only upward, evaluates", () => {
    const f = makeFixture({ proc2: VID, intStatus: 0x0040 });
    f.setVapic(0x80, 0x50);
    f.setVapic(0xa0, 0x50);
    expect(selfIpiVirtualization(f.ctx, 0x30)).toEqual({ kind: "continue", pending: null });
    expect(f.rvi()).toBe(0x40);
    expect(selfIpiVirtualization(f.ctx, 0x61)).toEqual({ kind: "continue", pending: 0x61 });
    expect(f.rvi()).toBe(0x61);
    expect(f.vectors(IRR)).toEqual([0x30, 0x61]);
  });
});

function setBits(f: Fixture, base: number, vectors: number[]): void {
  for (const v of vectors) {
    const off = base | ((v & 0xe0) >> 1);
    f.setVapic(off, f.vapic(off) | (1 << (v & 31)));
  }
}

/**
 * The kvm-unit-tests guest with IF = 1 and no STI/MOV SS blocking: at each instruction boundary a
 * recognized virtual interrupt is delivered; its ISR counts the vector and does EOI (WRMSR 80BH). Stops at
 * a VM exit (returned) or when nothing more is recognized. Plain checks (not expect) keep the large tables
 * below fast; a broken invariant throws.
 */
function runGuest(ctx: ApicvContext, isrLog: number[]): ApicvExit | null {
  for (let guard = 0; guard < 16; guard++) {
    const v = pendingVirtualInterrupt(ctx);
    if (v === null) return null;
    const delivered = deliverVirtualInterrupt(ctx);
    if (delivered !== v) throw new Error(`delivered ${delivered}, recognized ${v}`);
    isrLog.push(v);
    const eoi = x2apicMsrWrite(ctx, 0x80b, 0, 0);
    if (eoi.kind !== "virtualized") throw new Error(`EOI not virtualized: ${eoi.kind}`);
    if (eoi.outcome.kind === "exit") return eoi.outcome;
    // The evaluation the EOI step ran agrees with the boundary check.
    if (eoi.outcome.pending !== pendingVirtualInterrupt(ctx)) throw new Error("evaluation disagrees");
  }
  throw new Error("runaway guest");
}

function enterGuest(ctx: ApicvContext, isrLog: number[]): ApicvExit | null {
  vmEntryVirtualInterrupts(ctx);
  return runGuest(ctx, isrLog);
}

describe("kvm-unit-tests vmx_basic_vid_test: virtual-interrupt delivery at VM entry and after a TPR write", () => {
  it("vectors 20H-FFH x TPR 0-255: the ISR runs once iff class(nr) > class(TPR); RVI 0 then, nr otherwise", () => {
    const f = makeFixture({ proc2: KVM_VID });
    const wrong: string[] = [];
    let cases = 0;
    for (let nr = 0x20; nr < 0x100; nr++) {
      for (let tpr = 0; tpr < 256; tpr++) {
        const want = nr >> 4 > tpr >> 4 ? 1 : 0;
        for (const tprVirt of [false, true]) {
          f.set(VmcsField.GUEST_INTERRUPT_STATUS, nr);
          const log: number[] = [];
          let exit: ApicvExit | null;
          if (!tprVirt) {
            f.setVapic(0x80, tpr);
            exit = enterGuest(f.ctx, log);
          } else {
            // Enter with VTPR = FFH (nothing deliverable), then the guest lowers its TPR.
            f.setVapic(0x80, 0xff);
            exit = enterGuest(f.ctx, log);
            if (log.length !== 0) wrong.push(`nr ${nr}: delivered at entry with VTPR FFH`);
            const w = x2apicMsrWrite(f.ctx, 0x808, tpr, 0);
            if (w.kind !== "virtualized" || w.outcome.kind !== "continue") wrong.push(`TPR write ${tpr}: ${w.kind}`);
            exit ??= runGuest(f.ctx, log);
          }
          const status = f.rvi() | (f.svi() << 8); // GUEST_INT_STATUS as the test reads it
          if (exit !== null || log.length !== want || status !== (want ? 0 : nr)) {
            wrong.push(`nr ${nr} tpr ${tpr} tprVirt ${tprVirt}: exit ${exit?.reason} isr ${log} status ${status}`);
          }
          cases++;
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(cases).toBe(224 * 256 * 2);
  });
});

describe("kvm-unit-tests vmx_eoi_virt_test: EOI virtualization lets a masked lower-priority vector in", () => {
  for (const eoiExits of [false, true]) {
    it(`nr 22H-FFH with every lower vector from 21H in VIRR, EOI-exit bitmap ${eoiExits ? "all ones" : "zero"}`, () => {
      const ones: [number, number][] = [0, 1, 2, 3].map(() => [0xffffffff, 0xffffffff]);
      const f = makeFixture({ proc2: KVM_VID, eoiExit: eoiExits ? ones : undefined });
      const wrong: string[] = [];
      for (let nr = 0x22; nr < 0x100; nr++) {
        for (let lo = 0x21; lo < nr; lo++) {
          setBits(f, IRR, [lo]);
          f.set(VmcsField.GUEST_INTERRUPT_STATUS, nr);
          f.setVapic(0x80, 0);
          const log: number[] = [];
          const exits: number[] = [];
          let exit = enterGuest(f.ctx, log);
          while (exit !== null) {
            exits.push(exit.reason === 45 ? exit.qualification : -exit.reason);
            exit = enterGuest(f.ctx, log); // L1 resumes L2 at once
          }
          const ok =
            log.length === 2 && log[0] === nr && log[1] === lo &&
            (eoiExits ? exits.length === 2 && exits[0] === nr && exits[1] === lo : exits.length === 0) &&
            f.vapic(IRR | ((lo & 0xe0) >> 1)) === 0 && f.vapic(IRR | ((nr & 0xe0) >> 1)) === 0 &&
            f.vapic(ISR | ((lo & 0xe0) >> 1)) === 0 && f.vapic(ISR | ((nr & 0xe0) >> 1)) === 0 &&
            f.rvi() === 0 && f.svi() === 0;
          if (!ok) wrong.push(`nr ${nr} lo ${lo}: isr ${log} exits ${exits} rvi ${f.rvi()} svi ${f.svi()}`);
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      // One case in full, with the readers the SDM describes.
      setBits(f, IRR, [0x41]);
      f.set(VmcsField.GUEST_INTERRUPT_STATUS, 0x42);
      const log: number[] = [];
      const exit = enterGuest(f.ctx, log);
      expect(exit).toEqual(eoiExits ? { kind: "exit", reason: 45, qualification: 0x42 } : null);
      if (exit !== null) expect(enterGuest(f.ctx, log)?.qualification).toBe(0x41);
      expect(log).toEqual([0x42, 0x41]);
      expect(f.vectors(IRR)).toEqual([]);
      expect(f.vectors(ISR)).toEqual([]);
    });
  }
});

describe("kvm-unit-tests vmx_eoi_bitmap_ioapic_scan_test: an EOI whose bitmap bit is clear does not exit", () => {
  it("vector 79 (the test's) is delivered and its EOI completes in the guest", () => {
    const f = makeFixture({ proc2: KVM_VID, intStatus: 79, eoiExit: [[0, 0], [0, 0], [0, 0], [0, 0]] });
    const log: number[] = [];
    expect(enterGuest(f.ctx, log)).toBe(null);
    expect(log).toEqual([79]);
  });
});
