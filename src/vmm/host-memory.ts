/**
 * Host-physical memory as the VMM hands it out: 4 KiB pages from a range of RAM, optionally restricted to
 * page colours of a cache level (shared/DESIGN.md §3, issue 6 "cache ways or page colours for its memory and
 * for the VMM's own data"). A page's colour is the cache-set bits above the 4 KiB offset (MemoryHierarchy
 * colourOf); giving a partition only some colours confines its lines to those sets of the shared cache, the
 * software partitioning of Liedtke et al. (1997) and of Jailhouse/Bao "cache colouring".
 * Deterministic: lowest free page first. Leaves out: freeing (partitions are static), large pages.
 */

export const PAGE = 4096;

export class HostMemory {
  private readonly free: Uint8Array;
  private readonly firstPage: number;

  /** Pages [startBytes, endBytes) of RAM; `colourOf(pa)` and `colours` describe the colour level. */
  constructor(
    readonly startBytes: number,
    readonly endBytes: number,
    private readonly colourOf: (pa: number) => number = () => 0,
  ) {
    this.firstPage = startBytes / PAGE;
    this.free = new Uint8Array((endBytes - startBytes) / PAGE).fill(1);
  }

  /** One page of an allowed colour (null = any). Throws when none is left (the scenario validator checks
   * sizes first, so this is a model invariant). */
  page(colours: ReadonlySet<number> | null = null): number {
    const f = this.free;
    for (let i = 0; i < f.length; i++) {
      if (f[i] === 0) continue;
      const pa = (this.firstPage + i) * PAGE;
      if (colours !== null && !colours.has(this.colourOf(pa))) continue;
      f[i] = 0;
      return pa;
    }
    throw new RangeError(`host memory: no free page${colours !== null ? ` of colours ${[...colours].join(",")}` : ""} in [${hex(this.startBytes)}, ${hex(this.endBytes)})`);
  }

  /** `count` pages: contiguous from the lowest free run when colours is null, else page by page. */
  pages(count: number, colours: ReadonlySet<number> | null = null): number[] {
    if (colours !== null) return Array.from({ length: count }, () => this.page(colours));
    const f = this.free;
    let run = 0;
    for (let i = 0; i < f.length; i++) {
      run = f[i] === 1 ? run + 1 : 0;
      if (run === count) {
        const first = i - count + 1;
        f.fill(0, first, i + 1);
        return Array.from({ length: count }, (_, k) => (this.firstPage + first + k) * PAGE);
      }
    }
    throw new RangeError(`host memory: no ${count} contiguous free pages in [${hex(this.startBytes)}, ${hex(this.endBytes)})`);
  }

  /** Take a fixed range (a partition placed with hostBaseMiB): every page must be free. */
  take(startBytes: number, bytes: number): number[] {
    const out: number[] = [];
    for (let pa = startBytes; pa < startBytes + bytes; pa += PAGE) {
      const i = pa / PAGE - this.firstPage;
      if (i < 0 || i >= this.free.length || this.free[i] === 0) throw new RangeError(`host memory: page ${hex(pa)} is not free`);
      this.free[i] = 0;
      out.push(pa);
    }
    return out;
  }

  freePages(): number {
    let n = 0;
    for (const b of this.free) n += b;
    return n;
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
