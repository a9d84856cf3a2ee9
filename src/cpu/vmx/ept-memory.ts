/**
 * How the EPT walk reaches host-physical memory: the two accessor shapes the walk accepts (a 64-bit one
 * returning [low, high] dwords, or a 32-bit one read twice), and the two operations the walk needs on an
 * 8-byte EPT paging-structure entry (SDM Vol. 3C 28.2.2: entries are 64 bits, little-endian): load both
 * halves, and store the low half (the accessed and dirty flags of 28.2.4 are bits 8 and 9, so an A/D update
 * never changes the high dword).
 *
 * Leaves out: the locked read-modify-write a real processor uses for A/D updates (the model runs one core
 * at a time, so nothing can slip between our read and our write), and any memory-type effect of the EPTP's
 * paging-structure memory type on these accesses (the caller's cache model decides that).
 */

/** Physical memory as 64-bit words: `read64` returns [bits 31:0, bits 63:32]. */
export interface EptMemory64 {
  read64(pa: number): readonly [number, number];
  write64(pa: number, lo: number, hi: number): void;
}

/** Physical memory as 32-bit words (the shape of the core's physical accessors). */
export interface EptMemory32 {
  read32(pa: number): number;
  write32(pa: number, value: number): void;
}

export type EptMemory = EptMemory64 | EptMemory32;

/** The entry last loaded by `loadEntry` (copied out by the caller before anything else can run). */
export const loaded = { lo: 0, hi: 0 };

/** Read the 8-byte entry at host-physical `pa` into `loaded` (both halves as unsigned 32-bit numbers). */
export function loadEntry(mem: EptMemory, pa: number): void {
  if ("read32" in mem) {
    loaded.lo = mem.read32(pa) >>> 0;
    loaded.hi = mem.read32(pa + 4) >>> 0;
  } else {
    const pair = mem.read64(pa);
    loaded.lo = pair[0] >>> 0;
    loaded.hi = pair[1] >>> 0;
  }
}

/** Replace bits 31:0 of the entry at `pa`, keeping bits 63:32 as they are in memory. */
export function storeEntryLow(mem: EptMemory, pa: number, lo: number): void {
  if ("write32" in mem) {
    mem.write32(pa, lo >>> 0);
  } else {
    mem.write64(pa, lo >>> 0, mem.read64(pa)[1] >>> 0);
  }
}
