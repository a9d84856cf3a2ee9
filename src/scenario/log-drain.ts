/**
 * The probe that drains the guests' result logs (src/vmm/abi.ts LOG_*) from outside: it reads each vCPU's
 * ring in guest memory through the partition's map, hands every new record on, and advances TAIL as the
 * VMM's reader. It runs between machine windows in TypeScript and touches no cache model, so measuring
 * never perturbs the guest (shared/DESIGN.md §3). A ring whose HEAD went backwards (the partition was
 * restarted and the guest re-initialised it) is read again from 0.
 */
import type { Partition } from "../vmm/partition.ts";
import { LOG_HEADER_BYTES, LOG_MAGIC, LOG_RECORD_BYTES, LogHeader, LogRecord } from "../vmm/abi.ts";

export interface LogEntry {
  partition: number;
  vcpu: number;
  kind: number;
  id: number;
  v0: number;
  t0: number;
  t1: number;
  v1: number;
  v2: number;
}

export class LogDrain {
  private readonly tails: number[];
  dropped = 0;

  constructor(private readonly p: Partition, private readonly vcpus: number, private readonly sink: (e: LogEntry) => void) {
    this.tails = new Array<number>(vcpus).fill(0);
  }

  drain(): void {
    const p = this.p;
    if (p.logGpa === null || p.logBytes === 0) return;
    for (let i = 0; i < this.vcpus; i++) {
      const ring = p.logGpa + i * p.logBytes;
      if (p.read32(ring + LogHeader.MAGIC) !== LOG_MAGIC) continue;
      const cap = p.read32(ring + LogHeader.CAPACITY) ?? 0;
      const head = p.read32(ring + LogHeader.HEAD) ?? 0;
      if (cap === 0) continue;
      if (head < this.tails[i]) this.tails[i] = 0;
      let tail = Math.max(this.tails[i], head - cap);
      for (; tail < head; tail++) {
        const at = ring + LOG_HEADER_BYTES + (tail % cap) * LOG_RECORD_BYTES;
        const b = p.read(at, LOG_RECORD_BYTES);
        if (b === null) break;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        this.sink({
          partition: p.id, vcpu: i,
          kind: dv.getUint16(LogRecord.KIND, true), id: dv.getUint16(LogRecord.ID, true), v0: dv.getUint32(LogRecord.V0, true),
          t0: u64(dv, LogRecord.T0), t1: u64(dv, LogRecord.T1), v1: dv.getUint32(LogRecord.V1, true), v2: dv.getUint32(LogRecord.V2, true),
        });
      }
      this.tails[i] = tail;
      p.write32(ring + LogHeader.TAIL, tail);
    }
  }

  /** Records the guests dropped (their rings were full), summed over the rings. */
  droppedNow(): number {
    const p = this.p;
    if (p.logGpa === null) return 0;
    let n = 0;
    for (let i = 0; i < this.vcpus; i++) {
      const ring = p.logGpa + i * p.logBytes;
      if (p.read32(ring + LogHeader.MAGIC) === LOG_MAGIC) n += p.read32(ring + LogHeader.DROPPED) ?? 0;
    }
    return n;
  }
}

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 2 ** 32;
}
