/**
 * Writing one result-log record (src/vmm/abi.ts LogRecord, 32 bytes) from kernel code: the record is built
 * on the stack and handed to log_write (log-ring.ts) with vCPU 0's ring from `log_ring_vcpu0`. Only vCPU 0
 * runs the kernel, so every kernel record goes to ring 0. Stack-built records are reentrant: an ISR that
 * nests on a half-built record builds its own below it. Leaves out: records of other vCPUs (parked vCPUs
 * write their BOOT record in boot.ts).
 */
import { type Asm, dword, edi, esi, esp, lbl } from "../asm/index.ts";
import { LOG_RECORD_BYTES } from "../../vmm/abi.ts";

/** Offsets of the record's fields from ESP while `fill` runs. */
export const R = { KIND_ID: 0, V0: 4, T0: 8, T1: 16, V1: 24, V2: 28 } as const;

/**
 * sub esp, 32; fill(a) stores the fields at [esp + R.*] (every field: the stack holds garbage); then
 * log_write and add esp, 32. `fill` sees ESP lowered by 32: frame data above it is at its old offset + 32.
 * Preserves every register (log_write does; ESI and EDI are saved around it).
 */
export function emitRecord(a: Asm, fill: (a: Asm) => void): void {
  a.sub(esp, LOG_RECORD_BYTES);
  fill(a);
  a.push(esi).push(edi);
  a.lea(esi, dword(esp, 8));
  a.mov(edi, dword(lbl("log_ring_vcpu0")));
  a.call("log_write");
  a.pop(edi).pop(esi);
  a.add(esp, LOG_RECORD_BYTES);
}

/** The first dword of a record: u16 KIND, u16 ID. */
export const kindId = (kind: number, id: number) => ((id & 0xffff) << 16) | kind;
