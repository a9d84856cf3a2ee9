/**
 * Debug-console output routines for bare-metal guests, emitted into an Asm program: `puts` (string at
 * ESI: length by REPNE SCASB, output by REP OUTSB), `print_dec` (EAX unsigned decimal, by DIV),
 * `print_hex` (EAX as 0x + 8 digits, by ROL and XLAT). All preserve every register (PUSHAD/POPAD) and
 * need a stack and DF = 0. The port is the debugcon convention of QEMU and Bochs (0xE9).
 *
 * Leaves out: formatting options (width, signed numbers), other consoles (the UART comes later).
 */
import { al, type Asm, dl, dx, eax, ebx, ecx, edi, edx, esi, type LabelRef } from "../asm/index.ts";

export const DEBUGCON_PORT = 0xe9;
export const DEBUG_EXIT_PORT = 0xf4;

/** Print the NUL-terminated string at `label`. Clobbers ESI. */
export function puts(a: Asm, label: LabelRef): void {
  a.mov(esi, label);
  a.call("puts");
}

/** Print one character. Clobbers AL. */
export function putc(a: Asm, ch: string): void {
  a.mov(al, ch.charCodeAt(0));
  a.out(DEBUGCON_PORT, al);
}

/** A NUL-terminated string at a label. */
export function cstr(a: Asm, label: string, s: string): void {
  a.label(label);
  a.db(s, 0);
}

/** Emit the routines (once per program, anywhere that is not executed by falling through). */
export function emitConsoleLib(a: Asm): void {
  a.label("puts");
  a.pushad();
  a.mov(edi, esi);
  a.xor(eax, eax);
  a.mov(ecx, -1);
  a.repne().scasb();
  a.not(ecx);
  a.dec(ecx);
  a.mov(dx, DEBUGCON_PORT);
  a.rep().outsb();
  a.popad();
  a.ret();

  a.label("print_dec");
  a.pushad();
  a.mov(ecx, 10);
  a.xor(ebx, ebx);
  a.label("print_dec.div");
  a.xor(edx, edx);
  a.div(ecx);
  a.push(edx);
  a.inc(ebx);
  a.test(eax, eax);
  a.jnz("print_dec.div");
  a.label("print_dec.out");
  a.pop(eax);
  a.add(al, 0x30);
  a.out(DEBUGCON_PORT, al);
  a.dec(ebx);
  a.jnz("print_dec.out");
  a.popad();
  a.ret();

  a.label("print_hex");
  a.pushad();
  a.mov(edx, eax);
  putc(a, "0");
  putc(a, "x");
  a.mov(ebx, "hex_digits");
  a.mov(ecx, 8);
  a.label("print_hex.digit");
  a.rol(edx, 4);
  a.mov(al, dl);
  a.and(al, 0x0f);
  a.xlatb();
  a.out(DEBUGCON_PORT, al);
  a.loop("print_hex.digit");
  a.popad();
  a.ret();

  a.label("hex_digits");
  a.db("0123456789ABCDEF");
}
