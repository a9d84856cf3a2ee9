/**
 * Bulk fast paths for REP MOVS and REP STOS (SDM Vol. 2 MOVS, STOS, REP): whole runs of elements are
 * moved with Uint8Array.copyWithin / fill on the physical range instead of one element at a time.
 *
 * They are an optimisation only and must be unobservable: they run when DF = 0, the address size is 32
 * bits, no offset wraps, and bulkRange() vouches for both ranges; anything else returns to the
 * element-by-element loop in string.ts, which defines the semantics. Work is split at 4 KiB page
 * boundaries so that, once paging exists, each step needs one translation per side. A forward MOVS whose
 * destination starts inside its own source is an element-wise pattern replication, not a memmove, so
 * that case is also left to the element loop. Stores into pages that hold decoded code are reported as
 * the core's write paths do (self-modifying code, SDM Vol. 3A 8.1.3).
 *
 * Segment checks and paging are bulkRange's: it declines whatever the element loop must handle.
 */
import type { CoreState } from "../core-state.ts";
import type { Insn } from "../insn.ts";

// Local constants rather than imported const enums (see string.ts): registers.ts Reg/Seg, BRK_SMC.
const EAX = 0, ECX = 1, ESI = 6, EDI = 7, ES = 0;
const BRK_SMC = 8;
const PAGE_CODE = 1, PAGE_ROM = 2; // core-state.ts PageFlag
const PAGE = 4096;
const TWO32 = 4294967296;

/**
 * Physical offset in c.ram of `len` bytes at offset `off` of segment `seg` (read, or written when
 * `write`), or -1 when the range may not be touched in bulk: the segment needs checks (limit, type,
 * alignment), the TLB holds no translation allowing the access at this CPL (the element loop then walks
 * the page tables, faults or sets the accessed/dirty bits), or the page is not plain RAM. Callers never
 * pass a range that crosses a 4 KiB page.
 */
export function bulkRange(c: CoreState, seg: number, off: number, len: number, write: boolean): number {
  if (c.segCheck[seg] !== 0) return -1;
  const lin = (c.segBase[seg] + off) | 0;
  const e = (write ? c.tlbW : c.tlbR)[lin >>> 12];
  if (e === 0) return -1;
  const pa = (e ^ lin ^ 1) >>> 0;
  if (pa + len > c.ramSize) return -1;
  if (write && (c.pageFlags[pa >>> 12] & PAGE_ROM) !== 0) return -1;
  c.touchRange(pa, len, write); // the cache model's charge for the bytes moved (timed cores)
  return pa;
}

/** Report a bulk store of `len` bytes within one page to the decoded-block cache, as c.write* do. */
function storedTo(c: CoreState, pa: number, len: number): void {
  if ((c.pageFlags[pa >>> 12] & PAGE_CODE) !== 0 && c.onCodeWrite(pa, len)) c.brk |= BRK_SMC;
}

/** Elements (of `size` bytes) that fit before the next page boundary of both linear addresses. */
function elementsInPage(c: CoreState, i: Insn, srcOff: number, dstOff: number, size: number, max: number): number {
  const dLin = (c.segBase[ES] + dstOff) >>> 0;
  let bytes = PAGE - (dLin & (PAGE - 1));
  if (srcOff >= 0) {
    const sLin = (c.segBase[i.seg] + srcOff) >>> 0;
    const s = PAGE - (sLin & (PAGE - 1));
    if (s < bytes) bytes = s;
  }
  const n = Math.floor(bytes / size);
  return n < max ? n : max;
}

/**
 * REP MOVS with DF = 0 and 32-bit addressing: moves up to `max` elements in bulk, updating ESI, EDI and
 * ECX after every step (so a later fault leaves a restartable state). Returns the elements moved; fewer
 * than `max` means the rest must go element by element.
 */
export function bulkMovs(c: CoreState, i: Insn, max: number): number {
  const r = c.regs;
  const size = i.osize;
  let done = 0;
  while (done < max) {
    const si = r[ESI] >>> 0;
    const di = r[EDI] >>> 0;
    const n = elementsInPage(c, i, si, di, size, max - done);
    if (n === 0) break;
    const len = n * size;
    if (si + len > TWO32 || di + len > TWO32) break;
    const ps = bulkRange(c, i.seg, si, len, false);
    const pd = bulkRange(c, ES, di, len, true);
    if (ps < 0 || pd < 0) break;
    if (pd > ps && pd < ps + len) break; // forward overlap: replication semantics, element loop
    c.ram.copyWithin(pd, ps, ps + len);
    storedTo(c, pd, len);
    r[ESI] = si + len;
    r[EDI] = di + len;
    r[ECX] = (r[ECX] >>> 0) - n;
    done += n;
  }
  return done;
}

/** REP STOS with DF = 0 and 32-bit addressing; same contract as bulkMovs. */
export function bulkStos(c: CoreState, i: Insn, max: number): number {
  const r = c.regs;
  const size = i.osize;
  const v = r[EAX];
  const b0 = v & 0xff;
  const uniform = size === 1 || (size === 2 ? ((v >>> 8) & 0xff) === b0 : (v & 0xffff) === (v >>> 16) && ((v >>> 8) & 0xff) === b0);
  let done = 0;
  while (done < max) {
    const di = r[EDI] >>> 0;
    const n = elementsInPage(c, i, -1, di, size, max - done);
    if (n === 0) break;
    const len = n * size;
    if (di + len > TWO32) break;
    const pd = bulkRange(c, ES, di, len, true);
    if (pd < 0) break;
    if (uniform) {
      c.ram.fill(b0, pd, pd + len);
    } else {
      // Lay down one element, then double the filled prefix: log2(n) copies.
      if (size === 2) c.ramView.setUint16(pd, v, true);
      else c.ramView.setInt32(pd, v, true);
      let filled = size;
      while (filled < len) {
        const k = filled < len - filled ? filled : len - filled;
        c.ram.copyWithin(pd + filled, pd, pd + k);
        filled += k;
      }
    }
    storedTo(c, pd, len);
    r[EDI] = di + len;
    r[ECX] = (r[ECX] >>> 0) - n;
    done += n;
  }
  return done;
}

/**
 * REPE/REPNE SCASB with DF = 0 and 32-bit addressing: scans RAM for the first byte that ends the
 * repetition (REPNE: equal to AL, REPE: different from AL) within up to `max` elements, page by page.
 * Registers advance past every examined byte and the flags are those of the last comparison, exactly
 * as the element loop leaves them. Returns the elements examined; `stopped` tells the caller whether
 * the condition ended the repetition.
 */
export function bulkScasb(c: CoreState, i: Insn, max: number, repne: boolean): number {
  const r = c.regs;
  const al = r[EAX] & 0xff;
  const ram = c.ram;
  let done = 0;
  while (done < max) {
    const di = r[EDI] >>> 0;
    const n = elementsInPage(c, i, -1, di, 1, max - done);
    if (n === 0 || di + n > TWO32) break;
    const pd = bulkRange(c, ES, di, n, false);
    if (pd < 0) break;
    let k: number;
    if (repne) {
      const hit = ram.subarray(pd, pd + n).indexOf(al);
      k = hit < 0 ? n : hit + 1;
    } else {
      k = 0;
      while (k < n && ram[pd + k] === al) k++;
      k = k < n ? k + 1 : n;
    }
    lastCompare(c, al, ram[pd + k - 1]);
    r[EDI] = di + k;
    r[ECX] = (r[ECX] >>> 0) - k;
    done += k;
    if (k < n || (ram[pd + k - 1] === al) === repne) break;
  }
  return done;
}

/** REPE/REPNE CMPSB with DF = 0 and 32-bit addressing; same contract as bulkScasb. */
export function bulkCmpsb(c: CoreState, i: Insn, max: number, repne: boolean): number {
  const r = c.regs;
  const ram = c.ram;
  let done = 0;
  while (done < max) {
    const si = r[ESI] >>> 0;
    const di = r[EDI] >>> 0;
    const n = elementsInPage(c, i, si, di, 1, max - done);
    if (n === 0 || si + n > TWO32 || di + n > TWO32) break;
    const ps = bulkRange(c, i.seg, si, n, false);
    const pd = bulkRange(c, ES, di, n, false);
    if (ps < 0 || pd < 0) break;
    let k = 0;
    if (repne) while (k < n && ram[ps + k] !== ram[pd + k]) k++;
    else while (k < n && ram[ps + k] === ram[pd + k]) k++;
    k = k < n ? k + 1 : n;
    lastCompare(c, ram[ps + k - 1], ram[pd + k - 1]);
    r[ESI] = si + k;
    r[EDI] = di + k;
    r[ECX] = (r[ECX] >>> 0) - k;
    done += k;
    if (k < n || (ram[ps + k - 1] === ram[pd + k - 1]) === repne) break;
  }
  return done;
}

/** The lazy flag record of CMP a, b on bytes (flags.ts FlagOp.SUB), as the element loop leaves it. */
function lastCompare(c: CoreState, a: number, b: number): void {
  c.fop = 3;
  c.fa = a;
  c.fb = b;
  c.fres = (a - b) | 0;
  c.fmask = 0xff;
  c.fsign = 0x80;
}
