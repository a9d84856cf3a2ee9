/**
 * The guest side of the result log (src/vmm/abi.ts LOG_*): `log_init` and `log_write` emitted into an Asm
 * program. One ring per vCPU (ring i at logGpa + i * logBytes) so vCPUs never share a head. `log_write`
 * runs with interrupts disabled (PUSHFD/CLI/POPFD), so an ISR and the task it interrupted cannot both take
 * the same slot; it stores the record first and publishes it with one INC of HEAD, so a reader between
 * two instructions sees either the whole record or none of it. No VM exit on this path: stores only.
 *
 *   log_init   EDI = ring base, ECX = capacity (records): MAGIC, CAPACITY, HEAD = TAIL = DROPPED = 0.
 *   log_write  ESI = a 32-byte record (LogRecord layout), EDI = ring base. Full ring: DROPPED + 1.
 * Both preserve every register and EFLAGS.IF. Leaves out: variable-length records.
 */
import { type Asm, dword, eax, ecx, edi, edx, esi, esp } from "../asm/index.ts";
import { LOG_HEADER_BYTES, LOG_MAGIC, LOG_RECORD_BYTES, LogHeader } from "../../vmm/abi.ts";

export function emitLogLib(a: Asm): void {
  a.label("log_init");
  a.push(eax);
  a.mov(dword(edi, LogHeader.MAGIC), LOG_MAGIC);
  a.mov(dword(edi, LogHeader.CAPACITY), ecx);
  a.xor(eax, eax);
  a.mov(dword(edi, LogHeader.HEAD), eax);
  a.mov(dword(edi, LogHeader.TAIL), eax);
  a.mov(dword(edi, LogHeader.DROPPED), eax);
  a.pop(eax);
  a.ret();

  a.label("log_write");
  a.pushfd();
  a.cli();
  a.push(eax).push(ecx).push(edx).push(esi).push(edi);
  a.mov(eax, dword(edi, LogHeader.HEAD));
  a.mov(edx, eax);
  a.sub(edx, dword(edi, LogHeader.TAIL));
  a.cmp(edx, dword(edi, LogHeader.CAPACITY));
  a.jb("log_write.room");
  a.insn("inc", dword(edi, LogHeader.DROPPED));
  a.jmp("log_write.out");
  a.label("log_write.room");
  a.xor(edx, edx);
  a.insn("div", dword(edi, LogHeader.CAPACITY));
  a.shl(edx, 5); // * LOG_RECORD_BYTES
  a.lea(edi, dword({ base: edi, index: edx, scale: 1, disp: LOG_HEADER_BYTES }));
  a.mov(ecx, LOG_RECORD_BYTES / 4);
  a.rep().movsd();
  a.mov(edi, dword(esp));
  a.insn("inc", dword(edi, LogHeader.HEAD));
  a.label("log_write.out");
  a.pop(edi).pop(esi).pop(edx).pop(ecx).pop(eax);
  a.popfd();
  a.ret();
}
