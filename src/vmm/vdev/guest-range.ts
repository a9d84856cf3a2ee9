/**
 * Checks of guest buffers against the partition's RAM, as the VMM does before it lets a physical device
 * DMA on a partition's behalf (the IOMMU-like check of issue 6: a buffer outside the partition is refused
 * and reported, never transferred). VdevHost.gpaToHpa answers for ranges that are in RAM AND contiguous in
 * host memory; a range that is in RAM but spread over non-adjacent host pages (page colouring) is found
 * by asking page by page, so the check costs no guest-memory access (it is the VMM's memory-map lookup).
 * No Intel SDM section applies. Leaves out: sub-page host mappings (host pages are at least 4 KiB).
 */
import type { VdevHost } from "./vdev.ts";

const PAGE = 4096;

/** [gpa, gpa + bytes) lies in the partition's RAM (bytes >= 1). */
export function inGuestRam(host: VdevHost, gpa: number, bytes: number): boolean {
  if (!(Number.isInteger(gpa) && Number.isInteger(bytes)) || gpa < 0 || bytes < 1 || gpa + bytes > 0x100000000) return false;
  if (host.gpaToHpa(gpa, bytes) !== null) return true;
  const end = gpa + bytes;
  for (let p = gpa; p < end; ) {
    const next = Math.min(end, (Math.floor(p / PAGE) + 1) * PAGE);
    if (host.gpaToHpa(p, next - p) === null) return false;
    p = next;
  }
  return true;
}
