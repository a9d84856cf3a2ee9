/**
 * Harness for the paging, TLB, alignment, boundary-event and code-cache tests: the machine of ./harness.ts
 * (1 MiB RAM, flat GDT, IDT of `jmp $` stubs at 900H + 4 * vector, TSS with SS0:ESP0 = 10H:7000H, code
 * at 1000H) with 32-bit paging structures written straight into RAM from the SDM Vol. 3A 4.3 layouts
 * (Figure 4-4, Tables 4-4 to 4-6), not through the code under test:
 * - the page directory at PD; PDE 0 points to PT_LOW, which identity-maps the first MiB (every page
 *   P | R/W | U/S unless `lowFlags` says otherwise, A = D = 0);
 * - PDE 1 points to PT_TEST: the linear window WIN (400000H-7FFFFFH) whose PTEs the tests fill with
 *   `ptes` (linear address -> PTE), mapping onto the spare physical frames frame(0..); PDE 1 has the flags
 *   `winPde` (default P | R/W | U/S);
 * - further PDEs (`pdes`: index -> raw PDE) for 4 MiB pages and the like.
 * Paging is switched on in the setup by the control-register writers (writeCr3/writeCr4/writeCr0), as
 * MOV CR would do it, after the harness's own setup (so `cpl3` is already in force).
 */
import type { Core } from "../../../src/cpu/core.ts";
import { writeCr0, writeCr3, writeCr4 } from "../../../src/cpu/control-registers.ts";
import type { Asm } from "../../../src/guests/asm/index.ts";
import { go, sys, type Outcome, type Sys, type SysOptions } from "./harness.ts";

export * from "./harness.ts";

/** PTE/PDE bits (SDM Vol. 3A Tables 4-5 and 4-6; PS and G as in Table 4-4). */
export const P = 1, RW = 2, US = 4, PWT = 8, PCD = 16, A = 32, D = 64, PS = 128, G = 256;
/** CR0 and CR4 bits (SDM Vol. 3A 2.5, Figure 2-7). */
export const CR0_PG = 0x80000000, CR0_WP = 1 << 16, CR0_AM = 1 << 18;
export const CR4_PSE = 1 << 4, CR4_PGE = 1 << 7;
/** Page-fault error-code bits (SDM Vol. 3A 4.7, Figure 4-12). */
export const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8;
export const PF = 14, AC = 17, DB = 1, NMI = 2;

export const PD = 0x20000;
export const PT_LOW = 0x21000;
export const PT_TEST = 0x22000;
/** Linear window mapped by PT_TEST (PDE 1). */
export const WIN = 0x400000;
/** Spare physical frames for the window: frame(0) = 40000H ... frame(191) = FF000H. */
export const frame = (n: number): number => 0x40000 + n * 0x1000;

export interface PagingOptions extends SysOptions {
  /** Flags of every identity-mapped low page (default P | RW | US). */
  lowFlags?: number;
  /** Per-page overrides of the low identity map: page number -> flags. */
  lowPages?: Readonly<Record<number, number>>;
  /** Flags of PDE 0 (default P | RW | US). */
  lowPde?: number;
  /** Flags of PDE 1, the window's (default P | RW | US). */
  winPde?: number;
  /** PTEs of the window: linear address (in WIN) -> raw PTE. */
  ptes?: Readonly<Record<number, number>>;
  /** Raw PDEs by index (2 .. 1023), e.g. 4 MiB pages. */
  pdes?: Readonly<Record<number, number>>;
  cr4?: number;
  /** CR0.WP (default false). */
  wp?: boolean;
  /** CR0.AM. */
  am?: boolean;
  /** Leave paging off (the structures are still written). */
  noPaging?: boolean;
}

export function writePhys32(c: Core, pa: number, v: number): void {
  new DataView(c.ram.buffer, c.ram.byteOffset).setUint32(pa, v >>> 0, true);
}

export function readPhys32(c: Core, pa: number): number {
  return new DataView(c.ram.buffer, c.ram.byteOffset).getUint32(pa, true);
}

/** Physical address of the PDE for `lin` (CR3 = PD). */
export const pdeAddr = (lin: number): number => PD + ((lin >>> 22) << 2);

/** Physical address of the PTE for `lin`, read from the PDE in RAM. */
export function pteAddr(c: Core, lin: number): number {
  const pde = readPhys32(c, pdeAddr(lin));
  return ((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
}

export const pde = (c: Core, lin: number): number => readPhys32(c, pdeAddr(lin));
export const setPde = (c: Core, lin: number, v: number): void => writePhys32(c, pdeAddr(lin), v);
export const pte = (c: Core, lin: number): number => readPhys32(c, pteAddr(c, lin));
export const setPte = (c: Core, lin: number, v: number): void => writePhys32(c, pteAddr(c, lin), v);

/** Write the paging structures described by `o` into RAM. */
export function buildTables(c: Core, o: PagingOptions = {}): void {
  const ram = c.ram;
  ram.fill(0, PD, PT_TEST + 0x1000);
  writePhys32(c, PD, PT_LOW | (o.lowPde ?? P | RW | US));
  writePhys32(c, PD + 4, PT_TEST | (o.winPde ?? P | RW | US));
  for (let p = 0; p < 256; p++) {
    writePhys32(c, PT_LOW + p * 4, (p << 12) | (o.lowPages?.[p] ?? o.lowFlags ?? P | RW | US));
  }
  for (const [lin, v] of Object.entries(o.ptes ?? {})) setPte(c, Number(lin), v);
  for (const [n, v] of Object.entries(o.pdes ?? {})) writePhys32(c, PD + Number(n) * 4, v);
}

/** Switch paging on as MOV CR3 / MOV CR4 / MOV CR0 would. */
export function enablePaging(c: Core, o: PagingOptions = {}): void {
  writeCr3(c, PD);
  writeCr4(c, o.cr4 ?? 0);
  writeCr0(c, c.cr0 | CR0_PG | (o.wp ? CR0_WP : 0) | (o.am ? CR0_AM : 0));
}

/** Assemble `build` at CODE and build the machine with paging on (./harness.ts sys + the tables). */
export function paged(build: (a: Asm) => void, o: PagingOptions = {}): Sys {
  return sys(build, {
    ...o,
    setup: (c, sym) => {
      buildTables(c, o);
      if (!o.noPaging) enablePaging(c, o);
      o.setup?.(c, sym);
    },
  });
}

/** Build, run up to `budget` instructions, report the outcome. */
export function runPaged(build: (a: Asm) => void, o: PagingOptions = {}, budget = 200): { s: Sys; o: Outcome } {
  const s = paged(build, o);
  return { s, o: go(s, budget) };
}

/** An IDT gate (SDM Vol. 3A Figure 6-2) written into the harness IDT at run time; `type` E = interrupt,
 * F = trap gate; the IDT limit grows to cover the vector. */
export function setGate(c: Core, vector: number, offset: number, type = 0xe, dpl = 0, selector = 0x08): void {
  const a = c.idtBase + vector * 8;
  writePhys32(c, a, ((selector & 0xffff) << 16) | (offset & 0xffff));
  writePhys32(c, a + 4, (offset & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8));
  if (c.idtLimit < vector * 8 + 7) c.idtLimit = vector * 8 + 7;
}

/** Bytes of physical RAM. */
export const physBytes = (c: Core, pa: number, n: number): number[] => Array.from(c.ram.subarray(pa, pa + n));
