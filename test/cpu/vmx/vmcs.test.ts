/**
 * The VMCS region, VMREAD/VMWRITE width rules and the on-chip copies of active VMCSs.
 *
 * References (not our code):
 * - SDM Vol. 3C 24.2 Table 24-1 (bytes 0-3 revision identifier with the shadow-VMCS indicator in bit 31,
 *   bytes 4-7 VMX-abort indicator, the rest implementation-specific);
 * - SDM 24.11.2 (VMREAD/VMWRITE by field width: 16-bit fields use bits 15:0 and zero-extend; 32-bit fields
 *   all 32 bits; 64-bit and natural-width fields with the full access type outside IA-32e mode read bits 31:0
 *   and, on VMWRITE, clear bits 63:32 ("if the VMCS field is longer, the high bits of the field are cleared",
 *   SDM Vol. 2 VMWRITE); the HIGH access type reads and writes bits 63:32 only);
 * - SDM 30.3 VMREAD/VMWRITE pseudocode: an unsupported component gives VMfailValid(12) before the read-only
 *   check gives VMfailValid(13); IA32_VMX_MISC[29] lets VMWRITE write the VM-exit information fields;
 * - SDM 24.11.1 / 30.3 VMCLEAR: VMCS data may be kept on the processor while active; VMCLEAR copies it to the
 *   region and sets the launch state to clear;
 * - kvm-unit-tests x86/vmx.c (shared/reference/vmx.md §3a): test_vmwrite_vmread (every field round-trips under
 *   its width mask, read-only fields skipped), test_vmcs_high, test_vmclear_flushing (after VMCLEAR a copy of
 *   the region VMPTRLD-ed elsewhere has every field), test_vmcs_lifecycle (several VMCSs keep their own values;
 *   VMPTRLD of the current VMCS keeps pending VMWRITEs), VMREAD/VMWRITE(~0) -> error 12;
 * - vmx.md §1a: the region sizes real processors report (1024 on Merom and later, 2048 on Penryn).
 * Where a test checks a choice the SDM leaves to the implementation (our layout; what happens to memory
 * writes to an active VMCS), it says so: those check the documentation in vmcs.ts's header.
 */
import { describe, expect, it } from "vitest";
import {
  VMCS_ABORT_OFFSET,
  VMCS_DATA_OFFSET,
  VMCS_LAUNCH_STATE_OFFSET,
  VMCS_LAYOUT_BYTES,
  VMCS_REVISION_OFFSET,
  VmcsCache,
  fieldAddress,
  fieldOffset,
  readField,
  writeField,
  writeFieldAsProcessor,
  type PhysicalMemory32,
} from "../../../src/cpu/vmx/vmcs.ts";
import { VMCS_FIELDS, VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";

/** 64 KiB of RAM that counts accesses. */
class Ram implements PhysicalMemory32 {
  readonly words = new Uint32Array(0x4000);
  reads = 0;
  writes = 0;
  read32(pa: number): number {
    this.reads++;
    return this.words[pa >>> 2];
  }
  write32(pa: number, value: number): void {
    this.writes++;
    this.words[pa >>> 2] = value;
  }
  peek(pa: number): number {
    return this.words[pa >>> 2];
  }
  poke(pa: number, v: number): void {
    this.words[pa >>> 2] = v;
  }
}

const A = 0x1000, B = 0x2000, C = 0x3000;
const REVISION = 0x12;

function setup(opts: ConstructorParameters<typeof VmcsCache>[1] = {}) {
  const ram = new Ram();
  for (const pa of [A, B, C]) ram.poke(pa, REVISION);
  return { ram, cache: new VmcsCache(ram, opts) };
}

/** A value per field that differs between fields and sets high bits. */
function pattern(enc: number): number {
  return (Math.imul(enc + 1, 0x9e3779b1) ^ 0xa5a5a5a5) >>> 0;
}

const MASK = { "16": 0xffff, "32": 0xffffffff, natural: 0xffffffff, "64": 0xffffffff } as const;

describe("region layout (SDM 24.2 Table 24-1; offsets past byte 7 are our documented choice)", () => {
  it("keeps the revision identifier at byte 0 and the VMX-abort indicator at byte 4", () => {
    expect(VMCS_REVISION_OFFSET).toBe(0);
    expect(VMCS_ABORT_OFFSET).toBe(4);
  });

  it("fits the layout in 1024 bytes, the smallest region size of vmx.md §1a", () => {
    expect(VMCS_LAYOUT_BYTES).toBeLessThanOrEqual(1024);
    expect(() => new VmcsCache(new Ram(), { regionBytes: 1024 })).not.toThrow();
    expect(() => new VmcsCache(new Ram(), { regionBytes: 2048 })).not.toThrow();
    expect(() => new VmcsCache(new Ram(), { regionBytes: 512 })).toThrow(/cannot hold/);
  });

  it("gives every supported field its own dwords after the header and launch state, inside the layout", () => {
    const owner = new Map<number, string>();
    const claim = (off: number, who: string) => {
      expect(off % 4, who).toBe(0);
      expect(off, who).toBeGreaterThanOrEqual(VMCS_DATA_OFFSET);
      expect(off + 4, who).toBeLessThanOrEqual(VMCS_LAYOUT_BYTES);
      expect(owner.get(off), `${who} overlaps`).toBeUndefined();
      owner.set(off, who);
    };
    for (const f of VMCS_FIELDS) {
      const off = fieldOffset(f.encoding)!;
      claim(off, f.name);
      if (f.highEncoding !== undefined) {
        expect(fieldOffset(f.highEncoding), `${f.name} HIGH`).toBe(off + 4);
        claim(off + 4, `${f.name}_HIGH`);
      }
    }
    expect(VMCS_LAUNCH_STATE_OFFSET).toBeLessThan(VMCS_DATA_OFFSET);
  });

  it.each([
    // The header's block table: base + index * slot size.
    ["GUEST_RIP (natural guest, index 15)", VmcsField.GUEST_RIP, 0x340 + 15 * 4],
    ["HOST_RIP (natural host, index 11)", VmcsField.HOST_RIP, 0x3c0 + 11 * 4],
    ["EPT_POINTER_HIGH (64-bit control, index 13)", VmcsField.EPT_POINTER_HIGH, 0x080 + 13 * 8 + 4],
    ["VPID (16-bit control, index 0)", VmcsField.VPID, 0x010],
    ["EXIT_REASON (32-bit read-only, index 1)", VmcsField.EXIT_REASON, 0x230 + 4],
  ])("places %s where the header's table says", (_what, enc, off) => {
    expect(fieldOffset(enc)).toBe(off);
    expect(fieldAddress(A, enc)).toBe(A + off);
  });
});

describe("VMREAD/VMWRITE width rules (SDM 24.11.2)", () => {
  it("keeps bits 15:0 of a 16-bit field and reads it zero-extended", () => {
    const { cache } = setup();
    const r = cache.load(A);
    expect(writeField(r, VmcsField.GUEST_CS_SELECTOR, 0xdeadbeef)).toBe(0);
    expect(readField(r, VmcsField.GUEST_CS_SELECTOR)).toBe(0xbeef);
  });

  it("keeps all 32 bits of a 32-bit and of a natural-width field (32 bits in this model)", () => {
    const { cache } = setup();
    const r = cache.load(A);
    writeField(r, VmcsField.GUEST_CS_LIMIT, 0xffffffff);
    writeField(r, VmcsField.GUEST_RIP, -0x76543211); // = 0x89ABCDEF as a signed int
    expect(readField(r, VmcsField.GUEST_CS_LIMIT)).toBe(0xffffffff);
    expect(readField(r, VmcsField.GUEST_RIP)).toBe(0x89abcdef);
  });

  it("clears bits 63:32 of a 64-bit field on a FULL VMWRITE and keeps bits 31:0 on a HIGH one", () => {
    const { cache } = setup();
    const r = cache.load(A);
    expect(writeField(r, VmcsField.TSC_OFFSET_HIGH, 0x12345678)).toBe(0);
    expect(writeField(r, VmcsField.TSC_OFFSET, 0x9abcdef0)).toBe(0);
    expect(readField(r, VmcsField.TSC_OFFSET)).toBe(0x9abcdef0);
    expect(readField(r, VmcsField.TSC_OFFSET_HIGH)).toBe(0);
    expect(writeField(r, VmcsField.TSC_OFFSET_HIGH, 0xfedcba98)).toBe(0);
    expect(readField(r, VmcsField.TSC_OFFSET)).toBe(0x9abcdef0);
    expect(readField(r, VmcsField.TSC_OFFSET_HIGH)).toBe(0xfedcba98);
  });

  it("lets the HIGH encoding reach bits 63:32 both ways (kvm-unit-tests test_vmcs_high)", () => {
    const { cache } = setup();
    const r = cache.load(A);
    // test_vmcs_high: VMWRITE(TSC_OFFSET, 0x0123456789ABCDEF) in 64-bit mode, then VMREAD of field+1 gives
    // 0x01234567. A 32-bit host writes the two halves: FULL first (clearing the high half), then HIGH.
    writeField(r, VmcsField.TSC_OFFSET, 0x89abcdef);
    writeField(r, VmcsField.TSC_OFFSET_HIGH, 0x01234567);
    expect(readField(r, VmcsField.TSC_OFFSET_HIGH)).toBe(0x01234567);
    expect(readField(r, VmcsField.TSC_OFFSET)).toBe(0x89abcdef);
    // and writing HIGH alone changes what FULL+HIGH read as a whole (test_vmcs_high's second half).
    writeField(r, VmcsField.TSC_OFFSET_HIGH, 0x76543210);
    expect(readField(r, VmcsField.TSC_OFFSET_HIGH)).toBe(0x76543210);
  });

  it("round-trips every writable field under its width mask (kvm-unit-tests test_vmwrite_vmread)", () => {
    const { cache } = setup();
    const r = cache.load(A);
    const writable = VMCS_FIELDS.filter((f) => f.type !== "read-only");
    for (const f of writable) {
      expect(writeField(r, f.encoding, pattern(f.encoding)), f.name).toBe(0);
      if (f.highEncoding !== undefined) expect(writeField(r, f.highEncoding, pattern(f.highEncoding)), f.name).toBe(0);
    }
    for (const f of writable) {
      expect(readField(r, f.encoding), f.name).toBe((pattern(f.encoding) & MASK[f.width]) >>> 0);
      if (f.highEncoding !== undefined) expect(readField(r, f.highEncoding), `${f.name} HIGH`).toBe(pattern(f.highEncoding));
    }
  });
});

describe("unsupported and read-only components (SDM 30.3; Table 30-1 errors 12 and 13)", () => {
  it.each([
    ["~0 (kvm-unit-tests try_invvpid / vmentry_movss_shadow_test)", 0xffffffff],
    ["a reserved bit (12) on GUEST_RIP", VmcsField.GUEST_RIP | 0x1000],
    ["bits 31:15 on GUEST_RIP", (VmcsField.GUEST_RIP | 0x10000) >>> 0],
    ["the HIGH access type on a 32-bit field", VmcsField.GUEST_CS_LIMIT | 1],
    ["the HIGH access type on a natural-width field", VmcsField.GUEST_RIP | 1],
    ["the HIGH access type on a 16-bit field", VmcsField.GUEST_CS_SELECTOR | 1],
    ["PML address (a field the model leaves out)", 0x200e],
    ["an index beyond the guest 32-bit fields", 0x4830],
    ["a read-only-typed encoding that names no field (12 before 13)", 0x4410],
  ])("%s: VMREAD gives undefined (error 12), VMWRITE error 12", (_what, enc) => {
    const { cache } = setup({ vmwriteToReadOnly: false });
    const r = cache.load(A);
    expect(readField(r, enc)).toBeUndefined();
    expect(writeField(r, enc, 1)).toBe(12);
  });

  it("fails a VMWRITE to every read-only field with 13 and leaves the field unchanged", () => {
    const { cache } = setup();
    const r = cache.load(A);
    const ro = VMCS_FIELDS.filter((f) => f.type === "read-only");
    expect(ro.map((f) => f.name)).toContain("EXIT_QUALIFICATION");
    for (const f of ro) {
      writeFieldAsProcessor(r, f.encoding, 0x1234);
      expect(writeField(r, f.encoding, 0x5678), f.name).toBe(13);
      expect(readField(r, f.encoding), f.name).toBe(0x1234);
      if (f.highEncoding !== undefined) expect(writeField(r, f.highEncoding, 1), `${f.name} HIGH`).toBe(13);
    }
  });

  it("lets VMWRITE write read-only fields when IA32_VMX_MISC[29] is reported", () => {
    const { cache } = setup({ vmwriteToReadOnly: true });
    const r = cache.load(A);
    expect(writeField(r, VmcsField.EXIT_QUALIFICATION, 0xcafe)).toBe(0);
    expect(readField(r, VmcsField.EXIT_QUALIFICATION)).toBe(0xcafe);
    expect(writeField(r, VmcsField.GUEST_PHYSICAL_ADDRESS_HIGH, 0xf)).toBe(0);
    expect(readField(r, VmcsField.GUEST_PHYSICAL_ADDRESS_HIGH)).toBe(0xf);
  });

  it("treats a field of a feature the processor lacks as unsupported (Appendix B footnotes)", () => {
    const { cache } = setup({ features: ["ept"] });
    const r = cache.load(A);
    expect(readField(r, VmcsField.VPID)).toBeUndefined();
    expect(writeField(r, VmcsField.VPID, 1)).toBe(12);
    expect(writeField(r, VmcsField.VMX_PREEMPTION_TIMER_VALUE, 1)).toBe(12);
    expect(writeField(r, VmcsField.EPT_POINTER, 0x5e)).toBe(0);
    expect(readField(r, VmcsField.EPT_POINTER)).toBe(0x5e);
  });

  it("lets the processor write exit information with the width rules, and refuses an unsupported field", () => {
    const { cache } = setup();
    const r = cache.load(A);
    writeFieldAsProcessor(r, VmcsField.GUEST_PHYSICAL_ADDRESS_HIGH, 7);
    writeFieldAsProcessor(r, VmcsField.GUEST_PHYSICAL_ADDRESS, 0xfee00000);
    expect(readField(r, VmcsField.GUEST_PHYSICAL_ADDRESS)).toBe(0xfee00000);
    expect(readField(r, VmcsField.GUEST_PHYSICAL_ADDRESS_HIGH)).toBe(0);
    expect(() => writeFieldAsProcessor(r, 0x200e, 1)).toThrow(/unsupported/);
  });
});

describe("active VMCSs, VMPTRLD and VMCLEAR (SDM 24.11.1, 30.3)", () => {
  it("keeps the data across VMCLEAR and a later VMPTRLD (write, clear, load again, read back)", () => {
    const { ram, cache } = setup();
    let r = cache.load(A);
    writeField(r, VmcsField.GUEST_RIP, 0x00101234);
    writeField(r, VmcsField.EPT_POINTER, 0x0030501e);
    writeField(r, VmcsField.EPT_POINTER_HIGH, 0x1);
    writeField(r, VmcsField.GUEST_TR_SELECTOR, 0x28);
    cache.clear(A);
    expect(cache.get(A)).toBeUndefined();
    // The data is in memory now, at the documented offsets.
    expect(ram.peek(fieldAddress(A, VmcsField.GUEST_RIP)!)).toBe(0x00101234);
    // A fresh processor (another cache on the same memory) sees it too.
    const other = new VmcsCache(ram);
    r = other.load(A);
    expect(readField(r, VmcsField.GUEST_RIP)).toBe(0x00101234);
    expect(readField(r, VmcsField.EPT_POINTER)).toBe(0x0030501e);
    expect(readField(r, VmcsField.EPT_POINTER_HIGH)).toBe(1);
    expect(readField(r, VmcsField.GUEST_TR_SELECTOR)).toBe(0x28);
    // And the same processor, loading it again.
    r = cache.load(A);
    expect(readField(r, VmcsField.GUEST_RIP)).toBe(0x00101234);
  });

  it("puts every field in the region at VMCLEAR, so a copy of the region holds them (kvm-unit-tests test_vmclear_flushing)", () => {
    const { ram, cache } = setup();
    const r = cache.load(A);
    const writable = VMCS_FIELDS.filter((f) => f.type !== "read-only");
    for (const f of writable) writeField(r, f.encoding, pattern(f.encoding));
    cache.clear(A);
    for (let off = 0; off < 4096; off += 4) ram.poke(B + off, ram.peek(A + off));
    const copy = cache.load(B);
    for (const f of writable) expect(readField(copy, f.encoding), f.name).toBe((pattern(f.encoding) & MASK[f.width]) >>> 0);
  });

  it("keeps each VMCS's values apart and keeps pending VMWRITEs over a VMPTRLD of the current VMCS (test_vmcs_lifecycle)", () => {
    const { cache } = setup();
    const a = cache.load(A);
    writeField(a, VmcsField.GUEST_RIP, 0xa);
    const b = cache.load(B);
    writeField(b, VmcsField.GUEST_RIP, 0xb);
    expect(cache.load(A)).toBe(a);
    expect(readField(cache.load(A), VmcsField.GUEST_RIP)).toBe(0xa);
    writeField(a, VmcsField.GUEST_RSP, 0x5a);
    expect(readField(cache.load(A), VmcsField.GUEST_RSP)).toBe(0x5a); // VMPTRLD A while A is current
    expect(readField(cache.load(B), VmcsField.GUEST_RIP)).toBe(0xb);
    cache.clear(B);
    expect(readField(cache.load(B), VmcsField.GUEST_RIP)).toBe(0xb);
    expect(cache.activeAddresses()).toEqual([A, B]);
  });

  it("does not read or write memory on VMREAD/VMWRITE of an active VMCS (data kept on the processor)", () => {
    const { ram, cache } = setup();
    const r = cache.load(A);
    const reads = ram.reads, writes = ram.writes;
    writeField(r, VmcsField.HOST_RIP, 0xc0001000);
    readField(r, VmcsField.HOST_RIP);
    cache.load(A);
    expect([ram.reads, ram.writes]).toEqual([reads, writes]);
    expect(ram.peek(fieldAddress(A, VmcsField.HOST_RIP)!)).toBe(0);
  });

  it("ignores memory writes to an active region and overwrites them at VMCLEAR (undefined in the SDM; our documented choice)", () => {
    const { ram, cache } = setup();
    const r = cache.load(A);
    writeField(r, VmcsField.GUEST_RIP, 0x1111);
    ram.poke(fieldAddress(A, VmcsField.GUEST_RIP)!, 0x2222);
    expect(readField(r, VmcsField.GUEST_RIP)).toBe(0x1111);
    cache.clear(A);
    expect(ram.peek(fieldAddress(A, VmcsField.GUEST_RIP)!)).toBe(0x1111);
  });

  it("writes data back on flush and keeps the VMCS active", () => {
    const { ram, cache } = setup();
    const r = cache.load(A);
    writeField(r, VmcsField.GUEST_RIP, 0x3333);
    cache.flush(A);
    expect(ram.peek(fieldAddress(A, VmcsField.GUEST_RIP)!)).toBe(0x3333);
    expect(cache.get(A)).toBe(r);
    writeField(r, VmcsField.GUEST_RIP, 0x4444);
    expect(ram.peek(fieldAddress(A, VmcsField.GUEST_RIP)!)).toBe(0x3333);
    const b = cache.load(B);
    writeField(b, VmcsField.GUEST_RIP, 0x5555);
    cache.flushAll();
    expect(ram.peek(fieldAddress(A, VmcsField.GUEST_RIP)!)).toBe(0x4444);
    expect(ram.peek(fieldAddress(B, VmcsField.GUEST_RIP)!)).toBe(0x5555);
  });

  it("never writes the revision identifier or the abort indicator back (bytes 0-7 belong to software / VMX abort)", () => {
    const { ram, cache } = setup();
    cache.load(A);
    ram.poke(A, 0x80000000 | REVISION); // software sets the shadow indicator while A is active (undefined, but ...)
    ram.poke(A + 4, 0);
    cache.clear(A);
    expect(ram.peek(A)).toBe((0x80000000 | REVISION) >>> 0);
    expect(cache.readRevisionDword(A)).toBe((0x80000000 | REVISION) >>> 0);
    cache.writeAbortIndicator(A, 3);
    expect(ram.peek(A + VMCS_ABORT_OFFSET)).toBe(3);
  });
});

describe("launch state (SDM 24.1, 30.3 VMCLEAR/VMLAUNCH)", () => {
  it("starts clear for a zeroed region, stays launched while the VMCS is active, and VMCLEAR makes it clear", () => {
    const { ram, cache } = setup();
    let r = cache.load(A);
    expect(r.launched).toBe(false);
    r.launched = true; // what VMLAUNCH does on success
    cache.load(B); // another VMCS becomes current ...
    r = cache.load(A); // ... and A again: still launched (the state belongs to the VMCS)
    expect(r.launched).toBe(true);
    cache.flush(A);
    expect(ram.peek(A + VMCS_LAUNCH_STATE_OFFSET) & 0xff).toBe(1);
    cache.clear(A);
    expect(ram.peek(A + VMCS_LAUNCH_STATE_OFFSET)).toBe(0);
    expect(cache.load(A).launched).toBe(false);
  });

  it("VMCLEAR of a VMCS that is not active changes only the launch state in memory", () => {
    const { ram, cache } = setup();
    for (let off = 4; off < 4096; off += 4) ram.poke(C + off, 0x5a5a0000 | off);
    ram.poke(C + VMCS_LAUNCH_STATE_OFFSET, 1);
    const before = ram.words.slice(C >>> 2, (C + 4096) >>> 2);
    cache.clear(C);
    const after = ram.words.slice(C >>> 2, (C + 4096) >>> 2);
    const changed = [...after.keys()].filter((i) => after[i] !== before[i]).map((i) => i * 4);
    expect(changed).toEqual([VMCS_LAUNCH_STATE_OFFSET]);
    expect(after[VMCS_LAUNCH_STATE_OFFSET >>> 2]).toBe(0);
    expect(cache.get(C)).toBeUndefined();
  });
});
