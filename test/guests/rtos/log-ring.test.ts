/**
 * The guest's log-ring routines (src/guests/rtos/log-ring.ts) run on the model, and the ring is checked
 * against the layout src/vmm/abi.ts specifies: records in slot head % capacity, HEAD published after the
 * record, DROPPED counting what did not fit. Reference: abi.ts's LOG_* specification (our own ABI).
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../../src/cpu/machine.ts";
import { Asm, dword, eax, ecx, edi, esi, esp } from "../../../src/guests/asm/index.ts";
import { emitLogLib } from "../../../src/guests/rtos/log-ring.ts";
import { LOG_HEADER_BYTES, LOG_MAGIC, LogHeader } from "../../../src/vmm/abi.ts";

const CODE = 0x10000, RING = 0x20000, REC = 0x30000;

describe("log ring", () => {
  it("writes records in order and drops what does not fit", () => {
    const a = new Asm({ bits: 32, origin: CODE });
    a.mov(esp, 0x9000).mov(edi, RING).mov(ecx, 2).call("log_init");
    for (let k = 1; k <= 3; k++) {
      a.mov(dword(REC), k).mov(dword(REC + 28), 0x100 + k);
      a.mov(esi, REC).call("log_write");
    }
    // The reader takes one; the next write fits again.
    a.mov(dword(RING + LogHeader.TAIL), 1);
    a.mov(dword(REC), 4).mov(esi, REC).call("log_write");
    a.mov(eax, 0).hlt();
    emitLogLib(a);
    const m = new Machine({ ramBytes: 1 << 20 });
    m.ram.set(a.build().bytes, CODE);
    m.core.resetToFlat32(CODE);
    m.run(100_000);
    const dv = new DataView(m.ram.buffer);
    const u32 = (o: number) => dv.getUint32(RING + o, true);
    expect(u32(LogHeader.MAGIC)).toBe(LOG_MAGIC);
    expect(u32(LogHeader.CAPACITY)).toBe(2);
    expect(u32(LogHeader.HEAD)).toBe(3);
    expect(u32(LogHeader.DROPPED)).toBe(1);
    // slot 0: record 1, then overwritten by record 4 (head 2 % 2 = 0); slot 1: record 2.
    expect(u32(LOG_HEADER_BYTES)).toBe(4);
    expect(u32(LOG_HEADER_BYTES + 32)).toBe(2);
    expect(u32(LOG_HEADER_BYTES + 32 + 28)).toBe(0x102);
  });
});
