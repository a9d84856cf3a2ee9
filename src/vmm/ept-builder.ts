/**
 * Builds a partition's EPT paging structures in host memory (SDM Vol. 3C 28.2.2, Tables 28-1..28-6):
 * a 4-level structure (PML4 -> PDPT -> PD -> PT) mapping guest-physical 4 KiB pages to host-physical ones
 * with read/write/execute rights and a memory type (6 = WB for RAM, 0 = UC for device registers), and the
 * EPTP that names it (28.2.6: WB structures, walk length 4). Non-leaf entries allow R/W/X so the leaf
 * decides. Guest-physical addresses below 4 GiB only (32-bit guests).
 * Leaves out: 2 MiB and 1 GiB pages (every partition is mapped with 4 KiB pages, so colour-allocated and
 * contiguous memory are walked alike), accessed/dirty flags, unmapping.
 */
import { PAGE } from "./host-memory.ts";

export const EPT_READ = 1, EPT_WRITE = 2, EPT_EXEC = 4, EPT_RWX = 7;
export const MEMTYPE_UC = 0, MEMTYPE_WB = 6;

export class EptBuilder {
  readonly pml4: number;
  private readonly dv: DataView;

  /** `ram` is the machine's RAM; `allocPage` returns a zeroed host page for a table. */
  constructor(ram: Uint8Array, private readonly allocPage: () => number) {
    this.dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.pml4 = this.table();
  }

  /** EPTP bits 31:0 (bits 63:32 are 0: the tables are below 4 GiB): WB, walk length 4 - 1. */
  get eptp(): number {
    return (this.pml4 | (3 << 3) | 6) >>> 0;
  }

  /** Map the 4 KiB page at `gpa` to host page `hpa`. */
  map(gpa: number, hpa: number, rights = EPT_RWX, memType = MEMTYPE_WB): void {
    if (gpa % PAGE !== 0 || hpa % PAGE !== 0 || gpa < 0 || gpa >= 2 ** 32) throw new RangeError(`EPT map ${gpa} -> ${hpa}: not a page below 4 GiB`);
    const pdpt = this.next(this.pml4, 0);
    const pd = this.next(pdpt, Math.floor(gpa / 2 ** 30));
    const pt = this.next(pd, (gpa >>> 21) & 511);
    const leaf = pt + ((gpa >>> 12) & 511) * 8;
    this.dv.setUint32(leaf, (hpa | (memType << 3) | (rights & 7)) >>> 0, true);
    this.dv.setUint32(leaf + 4, Math.floor(hpa / 2 ** 32), true);
  }

  /** The host page a guest page maps to, or null (a check for tests and the IOMMU). */
  lookup(gpa: number): number | null {
    let t = this.pml4;
    const idx = [0, Math.floor(gpa / 2 ** 30), (gpa >>> 21) & 511, (gpa >>> 12) & 511];
    for (let level = 0; level < 4; level++) {
      const e = this.dv.getUint32(t + idx[level] * 8, true);
      if ((e & 7) === 0) return null;
      t = (e & 0xfffff000) >>> 0;
    }
    return t;
  }

  private table(): number {
    const pa = this.allocPage();
    new Uint8Array(this.dv.buffer, this.dv.byteOffset + pa, PAGE).fill(0);
    return pa;
  }

  private next(table: number, index: number): number {
    const at = table + index * 8;
    const e = this.dv.getUint32(at, true);
    if ((e & 7) !== 0) return (e & 0xfffff000) >>> 0;
    const t = this.table();
    this.dv.setUint32(at, (t | EPT_RWX) >>> 0, true);
    this.dv.setUint32(at + 4, 0, true);
    return t;
  }
}
