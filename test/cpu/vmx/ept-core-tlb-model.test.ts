/**
 * The TLB timing model's context tags (src/cpu/cache/tlb-model.ts) on hand-computed traces.
 *
 * References: SDM Vol. 3C 28.3.1 (linear and combined mappings are tagged with the VPID, combined ones also with
 * the EP4TA), 28.3.3.3 and the INVVPID operation section (type 0 individual-address: the page for that VPID;
 * type 1 single-context; type 2 all-context: every VPID but 0000H; type 3 single-context retaining globals),
 * 28.3.3.1 and INVEPT (the combined mappings of the EP4TA, or of every EP4TA), and LRU set-associativity as in
 * Hennessy & Patterson appendix B (8 entries, 2 ways: 4 sets, set = page & 3).
 */
import { describe, expect, it } from "vitest";
import { TlbModel } from "../../../src/cpu/cache/tlb-model.ts";

const GLOBAL = 32; // tlb.ts TlbRight.GLOBAL

describe("contexts (VPID, EP4TA)", () => {
  it("context 0 is the host (VPID 0, no EPT); a pair gets the same number every time", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    expect(t.context(0, -1)).toBe(0);
    const g = t.context(1, 0x100000);
    expect(g).toBe(1);
    expect(t.context(1, 0x100000)).toBe(1);
    expect(t.context(1, 0x200000)).toBe(2); // same VPID, another EPT: another context
    expect(t.contexts).toBe(3);
  });

  it("the same page of two contexts takes two ways of its set; the third context's insert evicts the LRU one", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    const a = t.context(1, 0x100000), b = t.context(2, 0x100000);
    expect(t.insert(4, false, 0, 0x4000, 1)).toBe(-1);
    expect(t.insert(4, false, a, 0x9000, 3)).toBe(-1);
    expect(t.has(4, false, 0) && t.has(4, false, a)).toBe(true);
    expect(t.insert(4, false, b, 0xa000, 1)).toBe(4); // set 0 = {host 4, a 4}: LRU is the host's
    expect(t.evictedCtx).toBe(0);
    expect(t.find(4, a)).toBe(true);
    expect([t.foundPaBase, t.foundRights]).toEqual([0x9000, 3]);
    expect(t.find(4, 0)).toBe(false);
  });

  it("a page inserted again keeps its way and takes the new translation", () => {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    t.insert(1, false, 0, 0x1000, 1);
    expect(t.insert(1, false, 0, 0x5000, 3)).toBe(-1);
    expect(t.find(1, 0)).toBe(true);
    expect([t.foundPaBase, t.foundRights]).toEqual([0x5000, 3]);
  });
});

describe("what the invalidations drop", () => {
  function filled() {
    const t = new TlbModel({ entries: 8, ways: 2, largeEntries: 0 });
    const v1a = t.context(1, 0x100000), v1b = t.context(1, 0x200000), v2 = t.context(2, 0x100000);
    t.insert(0, false, 0, 0, 1); // host
    t.insert(1, false, v1a, 0, 1);
    t.insert(2, false, v1a, 0, 1 | GLOBAL);
    t.insert(3, false, v1b, 0, 1);
    t.insert(5, false, v2, 0, 1);
    const held = () => [t.has(0, false, 0), t.has(1, false, v1a), t.has(2, false, v1a), t.has(3, false, v1b), t.has(5, false, v2)];
    return { t, held, v1a };
  }

  it("INVVPID single-context (VPID 1): both of VPID 1's contexts, not VPID 2 nor the host", () => {
    const { t, held } = filled();
    t.dropVpid(1);
    expect(held()).toEqual([true, false, false, false, true]);
  });

  it("INVVPID single-context retaining globals keeps VPID 1's global page", () => {
    const { t, held } = filled();
    t.dropVpid(1, true);
    expect(held()).toEqual([true, false, true, false, true]);
  });

  it("INVVPID all-context: every VPID but 0000H", () => {
    const { t, held } = filled();
    t.dropVpid(-1);
    expect(held()).toEqual([true, false, false, false, false]);
  });

  it("a transition without VPID drops VPID 0's entries only", () => {
    const { t, held } = filled();
    t.dropVpid(0);
    expect(held()).toEqual([false, true, true, true, true]);
  });

  it("INVEPT single-context (EP4TA 100000H): the contexts with that EP4TA, whatever their VPID", () => {
    const { t, held } = filled();
    t.dropEp4ta(0x100000);
    expect(held()).toEqual([true, false, false, true, false]);
  });

  it("INVEPT all-context: every context with EPT, not the host's", () => {
    const { t, held } = filled();
    t.dropEp4ta(-1);
    expect(held()).toEqual([true, false, false, false, false]);
  });

  it("INVVPID individual-address: the page of VPID 1 only", () => {
    const { t, held } = filled();
    t.dropPageOfVpid(2, 1);
    t.dropPageOfVpid(5, 1); // page 5 belongs to VPID 2: kept
    expect(held()).toEqual([true, true, false, true, true]);
  });

  it("INVLPG / MOV to CR3 of one context: invalidate(page, ctx) and dropContext(ctx)", () => {
    const { t, held, v1a } = filled();
    t.invalidate(1, false, 0); // the host has no page 1: nothing
    expect(held()).toEqual([true, true, true, true, true]);
    t.dropContext(v1a);
    expect(held()).toEqual([true, false, false, true, true]);
  });
});
