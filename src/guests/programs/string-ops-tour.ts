/**
 * A bare-metal guest that runs the IA-32 string instructions through their cases (SDM Vol. 1 7.3.9,
 * Vol. 2 MOVS/STOS/LODS/SCAS/CMPS/INS/OUTS and the REP prefixes): forward and backward (DF), byte/word/
 * dword, overlapping copies, REP with ECX = 0, REPE/REPNE termination, port string I/O, and prints the
 * results with ESI/EDI/ECX and the arithmetic flags after each, on the debug console. It exits through
 * isa-debug-exit with STRING_TOUR_EXIT_VALUE. Used to compare vmxsim with qemu-system-i386 byte for byte.
 *
 * Leaves out: 16-bit addressing (address-size prefix) and segment overrides, which need a non-flat setup.
 */
import { al, ax, Asm, buildMultiboot, dword, eax, ecx, edi, edx, esi, esp, lbl, type LabelRef } from "../asm/index.ts";
import { cstr, DEBUG_EXIT_PORT, DEBUGCON_PORT, emitConsoleLib, putc, puts } from "./console-lib.ts";

export const STRING_TOUR_EXIT_VALUE = 0x20;

const ARITH_FLAGS = 0x8d5; // OF SF ZF AF PF CF: what CMPS/SCAS define
const BSS_STACK_TOP = 0x2000;
const BUF = (n: number) => lbl("bss", 0x200 + n * 0x80); // scratch buffers, zero-filled

export function buildStringOpsTour(): Uint8Array {
  return buildMultiboot(body, { bssBytes: BSS_STACK_TOP }).bytes;
}

let strings: [string, string][] = [];
let nLines = 0;

/** Start an output line with a title. */
function line(a: Asm, title: string): void {
  const l = `t${nLines++}`;
  strings.push([l, `\n${title}: `]);
  puts(a, l);
}

/** A string constant, returning its label. */
function text(s: string): string {
  const l = `s${strings.length}`;
  strings.push([l, s]);
  return l;
}

/**
 * Print ESI and EDI relative to the given bases, ECX, and the flags, as they were right after the
 * instruction before (PUSHFD/PUSHAD snapshot; the print routines preserve everything else).
 */
function snapshot(a: Asm, siBase: LabelRef | null, diBase: LabelRef | null): void {
  a.pushfd();
  a.pushad(); // [esp]: EDI, +4 ESI, +8 EBP, +12 ESP, +16 EBX, +20 EDX, +24 ECX, +28 EAX, +32 EFLAGS
  // Offsets below the base print as 2^32 - n (the routine prints unsigned numbers).
  if (siBase !== null) {
    puts(a, text(" esi=+"));
    a.mov(eax, dword(esp, 4));
    a.sub(eax, siBase);
    a.call("print_dec");
  }
  if (diBase !== null) {
    puts(a, text(" edi=+"));
    a.mov(eax, dword(esp, 0));
    a.sub(eax, diBase);
    a.call("print_dec");
  }
  puts(a, text(" ecx="));
  a.mov(eax, dword(esp, 24));
  a.call("print_dec");
  puts(a, text(" flags="));
  a.mov(eax, dword(esp, 32));
  a.and(eax, ARITH_FLAGS);
  a.call("print_hex");
  a.popad();
  a.popfd();
}

function body(a: Asm): void {
  strings = [];
  nLines = 0;
  a.mov(esp, lbl("bss", BSS_STACK_TOP));
  a.cld();
  puts(a, text("string instruction tour"));

  // 1. REP MOVSB forward.
  line(a, "rep movsb, forward, 26 bytes");
  a.mov(esi, "alphabet");
  a.mov(edi, BUF(0));
  a.mov(ecx, 26);
  a.rep().movsb();
  snapshot(a, "alphabet", BUF(0));
  putc(a, " ");
  puts(a, BUF(0));

  // 2. Overlapping forward copy replicates the pattern (byte at a time, as the SDM's loop says).
  line(a, "rep movsb, overlapping");
  a.mov(dword(BUF(1)), 0x2d2b2a3c); // "<*+-"
  a.mov(esi, BUF(1));
  a.mov(edi, lbl("bss", 0x200 + 0x80 + 4));
  a.mov(ecx, 20);
  a.rep().movsb();
  puts(a, BUF(1));

  // 3. Backward copy (DF = 1): pointers decrement, end one below the start.
  line(a, "std; rep movsb, backward");
  a.mov(esi, lbl("alphabet", 25));
  a.mov(edi, lbl("bss", 0x200 + 2 * 0x80 + 25));
  a.mov(ecx, 26);
  a.std();
  a.rep().movsb();
  a.cld();
  snapshot(a, "alphabet", BUF(2));
  putc(a, " ");
  puts(a, BUF(2));

  // 4. REP STOSW and STOSD, forward and backward.
  line(a, "rep stosw ax=0x2e2d x7, then std; stosd");
  a.mov(edi, BUF(3));
  a.mov(ax, 0x2e2d); // "-."
  a.mov(ecx, 7);
  a.rep().stosw();
  a.mov(eax, 0x3e3e3e3e); // ">>>>"
  a.std();
  a.stosd();
  a.cld();
  snapshot(a, null, BUF(3));
  putc(a, " ");
  puts(a, BUF(3));

  // 5. LODSD summing a table.
  line(a, "lodsd sum of 6 dwords");
  a.mov(esi, "table");
  a.mov(ecx, 6);
  a.xor(edx, edx);
  a.label("sum.loop");
  a.lodsd();
  a.add(edx, eax);
  a.loop("sum.loop");
  a.mov(eax, edx);
  a.call("print_hex");
  snapshot(a, "table", null);

  // 6. REPNE SCASB stops on the match.
  line(a, "repne scasb for 'Q'");
  a.mov(edi, "alphabet");
  a.mov(ecx, 26);
  a.mov(al, 0x51);
  a.repne().scasb();
  snapshot(a, null, "alphabet");

  // 7. REPNE SCASB without a match runs ECX down to 0 with ZF = 0.
  line(a, "repne scasb for '!' (absent)");
  a.mov(edi, "alphabet");
  a.mov(ecx, 26);
  a.mov(al, 0x21);
  a.repne().scasb();
  snapshot(a, null, "alphabet");

  // 8. REPE CMPSB stops at the first difference; flags from the differing pair.
  line(a, "repe cmpsb HELLO WORLD / HELLO THERE");
  a.mov(esi, "hello1");
  a.mov(edi, "hello2");
  a.mov(ecx, 11);
  a.repe().cmpsb();
  snapshot(a, "hello1", "hello2");

  // 9. REPE CMPSD over equal data ends with ZF = 1, ECX = 0.
  line(a, "repe cmpsd, equal");
  a.mov(esi, "table");
  a.mov(edi, "table");
  a.mov(ecx, 6);
  a.repe().cmpsd();
  snapshot(a, "table", "table");

  // 10. REPE CMPSW with the first word different (signed/unsigned flags differ).
  line(a, "repe cmpsw 0x8000 vs 0x0001");
  a.mov(esi, "words");
  a.mov(edi, lbl("words", 2));
  a.mov(ecx, 1);
  a.repe().cmpsw();
  snapshot(a, "words", "words");

  // 11. REP with ECX = 0 does nothing, not even the flags.
  line(a, "rep movsd / repe cmpsb with ecx=0");
  a.mov(esi, "alphabet");
  a.mov(edi, BUF(4));
  a.xor(ecx, ecx); // ZF = 1, PF = 1
  a.rep().movsd();
  a.repe().cmpsb();
  snapshot(a, "alphabet", BUF(4));

  // 12. SCASW / SCASD without REP.
  line(a, "scasw, scasd");
  a.mov(edi, "words");
  a.mov(ax, 0x8000);
  a.scasw();
  a.mov(eax, 0x12345678);
  a.scasd();
  snapshot(a, null, "words");

  // 13. OUTSB backward prints a string reversed.
  line(a, "std; rep outsb, backward");
  a.mov(esi, lbl("reversed", 8));
  a.mov(ecx, 9);
  a.mov(edx, DEBUGCON_PORT);
  a.std();
  a.rep().outsb();
  a.cld();
  snapshot(a, "reversed", null);

  // 14. REP INSB from debugcon reads its readback byte 0xE9.
  line(a, "rep insb x4 from port 0xe9");
  a.mov(edi, BUF(5));
  a.mov(ecx, 4);
  a.mov(edx, DEBUGCON_PORT);
  a.rep().insb();
  a.mov(eax, dword(BUF(5)));
  a.call("print_hex");
  snapshot(a, null, BUF(5));

  // 15. IN from a port nobody claims reads all ones.
  line(a, "in eax, 0xe8 (unclaimed)");
  a.in(eax, 0xe8);
  a.call("print_hex");

  line(a, "done");
  puts(a, text("exit through isa-debug-exit\n"));
  a.mov(al, STRING_TOUR_EXIT_VALUE);
  a.out(DEBUG_EXIT_PORT, al);
  a.cli();
  a.hlt();

  emitConsoleLib(a);
  cstr(a, "alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  cstr(a, "hello1", "HELLO WORLD");
  cstr(a, "hello2", "HELLO THERE");
  cstr(a, "reversed", "!desrever");
  a.align(4);
  a.label("table");
  a.dd(1, 0x7fffffff, 0x10, 0xffffffff, 0x12345678, 0x80000000);
  a.label("words");
  a.dw(0x8000, 0x0001, 0x5678, 0x1234);
  for (const [l, s] of strings) cstr(a, l, s);
  a.align(4096);
  a.label("bss");
}
