/**
 * The bundled bare-metal demo guest (`vmxsim demo`, `npm start`): a Multiboot-1 kernel written with
 * vmxsim's own assembler that explains itself on the debug console (port 0xE9) while it exercises
 * the core: it checks the Multiboot magic and reads the RAM size from the information structure
 * (Multiboot 0.6.96 §3.2-3.3), sieves the primes
 * below 100 (REP STOSB, nested loops, byte memory operands), computes fib(20) by recursive calls,
 * a bitwise CRC-32 (LODSB, SHR/XOR), copies and compares a buffer (REP MOVSD/MOVSB, REPE CMPSB), prints
 * decimal (DIV) and hex (ROL, XLAT) numbers and strings (REPNE SCASB + REP OUTSB), checks its own
 * results, and leaves through QEMU's isa-debug-exit (port 0xF4) with DEMO_EXIT_VALUE when every
 * check passed (DEMO_FAIL_VALUE otherwise). Its output is identical under qemu-system-i386.
 *
 * Leaves out: interrupts and anything a timer would need (there is no interrupt source on the board).
 */
import { al, Asm, buildMultiboot, byte, dl, dword, eax, ebx, ecx, edi, edx, esi, esp, lbl } from "../asm/index.ts";
import { cstr, DEBUG_EXIT_PORT, emitConsoleLib, putc, puts } from "./console-lib.ts";

export const DEMO_EXIT_VALUE = 0x10;
export const DEMO_FAIL_VALUE = 0x11;

const SIEVE_N = 100;
const STACK_BYTES = 4096;
const FIB_N = 20;
const FOX = "The quick brown fox jumps over the lazy dog";
/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of FOX: the standard check value. */
const FOX_CRC32 = 0x414fa339;

// Layout of the zero-filled memory after the image (bss). It starts on a page of its own: the core
// detects self-modifying code per 4 KiB page, so a stack or variables sharing a page with code would
// make every store re-decode that page (correct, but slow).
const BSS_SIEVE = 0;
const BSS_COPY = BSS_SIEVE + SIEVE_N;
const BSS_VARS = 0x100;
const VARS = ["mb_magic", "mb_info", "failures", "fib_calls"] as const;
const BSS_STACK_TOP = 0x400 + STACK_BYTES;

/** A variable in the bss (dword). */
const v = (name: (typeof VARS)[number]) => dword(lbl("bss", BSS_VARS + 4 * VARS.indexOf(name)));

/** Assemble the demo as a Multiboot image (flat, a.out-kludge header, loaded at 1 MiB). */
export function buildDemoKernel(): Uint8Array {
  return buildMultiboot(body, { bssBytes: BSS_STACK_TOP }).bytes;
}

/** Print "(ok)" or "(FAILED)" by the zero flag, counting failures. */
function okIfEqual(a: Asm, tag: string): void {
  a.je(`${tag}.ok`);
  a.inc(v("failures"));
  puts(a, "s_failed");
  a.jmp(`${tag}.done`);
  a.label(`${tag}.ok`);
  puts(a, "s_ok");
  a.label(`${tag}.done`);
}

function body(a: Asm): void {
  a.mov(esp, lbl("bss", BSS_STACK_TOP));
  a.mov(v("mb_magic"), eax);
  a.mov(v("mb_info"), ebx);
  a.cld();
  puts(a, "s_banner");

  // --- what the boot loader passed (Multiboot §3.2, §3.3) ---
  puts(a, "s_boot");
  a.mov(eax, v("mb_magic"));
  a.call("print_hex");
  a.cmp(eax, 0x2badb002);
  okIfEqual(a, "magic");
  putc(a, "\n");
  a.mov(ebx, v("mb_info"));
  a.test(byte(ebx), 1); // flags bit 0: mem_lower/mem_upper valid
  a.jz("no_mem");
  // RAM = 1 MiB + mem_upper KiB, rounded to MiB: firmware keeps a few KiB for itself (QEMU's SeaBIOS
  // reports 128 KiB less than the RAM), so the exact KiB differ between machines; the MiB do not.
  puts(a, "s_mem");
  a.mov(eax, dword(ebx, 8));
  a.add(eax, 1024 + 512);
  a.shr(eax, 10);
  a.call("print_dec");
  puts(a, "s_mib");
  putc(a, "\n");
  a.label("no_mem");

  // --- sieve of Eratosthenes below SIEVE_N ---
  a.mov(edi, lbl("bss", BSS_SIEVE));
  a.mov(ecx, SIEVE_N);
  a.mov(al, 1);
  a.rep().stosb();
  a.mov(byte(lbl("bss", BSS_SIEVE)), 0);
  a.mov(byte(lbl("bss", BSS_SIEVE + 1)), 0);
  a.mov(ebx, 2);
  a.label("sieve.outer");
  a.mov(eax, ebx);
  a.mul(ebx);
  a.cmp(eax, SIEVE_N);
  a.jae("sieve.done");
  a.cmp(byte({ base: ebx, disp: lbl("bss", BSS_SIEVE) }), 0);
  a.je("sieve.next");
  a.label("sieve.inner");
  a.mov(byte({ base: eax, disp: lbl("bss", BSS_SIEVE) }), 0);
  a.add(eax, ebx);
  a.cmp(eax, SIEVE_N);
  a.jb("sieve.inner");
  a.label("sieve.next");
  a.inc(ebx);
  a.jmp("sieve.outer");
  a.label("sieve.done");
  puts(a, "s_primes");
  a.xor(ebx, ebx);
  a.xor(edi, edi);
  a.label("primes.loop");
  a.cmp(byte({ base: ebx, disp: lbl("bss", BSS_SIEVE) }), 0);
  a.je("primes.skip");
  a.mov(eax, ebx);
  a.call("print_dec");
  putc(a, " ");
  a.inc(edi);
  a.label("primes.skip");
  a.inc(ebx);
  a.cmp(ebx, SIEVE_N);
  a.jb("primes.loop");
  putc(a, "(");
  a.mov(eax, edi);
  a.call("print_dec");
  puts(a, "s_primes_end");
  a.cmp(edi, 25);
  okIfEqual(a, "primes");
  putc(a, "\n");

  // --- fib(FIB_N) by recursion, counting the calls ---
  puts(a, "s_fib");
  a.mov(eax, FIB_N);
  a.call("fib");
  a.push(eax);
  a.mov(eax, v("fib_calls"));
  a.call("print_dec");
  puts(a, "s_fib_calls");
  a.pop(eax);
  a.call("print_dec");
  a.cmp(eax, 6765);
  okIfEqual(a, "fib");
  putc(a, "\n");

  // --- CRC-32 of FOX, bit by bit ---
  puts(a, "s_crc");
  a.mov(esi, "fox");
  a.mov(ecx, FOX.length);
  a.mov(edx, -1);
  a.label("crc.byte");
  a.lodsb();
  a.xor(dl, al);
  a.push(ecx);
  a.mov(ecx, 8);
  a.label("crc.bit");
  a.shr(edx, 1);
  a.jnc("crc.nox");
  a.xor(edx, 0xedb88320);
  a.label("crc.nox");
  a.loop("crc.bit");
  a.pop(ecx);
  a.loop("crc.byte");
  a.not(edx);
  a.mov(eax, edx);
  a.call("print_hex");
  a.cmp(eax, FOX_CRC32);
  okIfEqual(a, "crc");
  putc(a, "\n");

  // --- copy with REP MOVSD + REP MOVSB, compare with REPE CMPSB ---
  puts(a, "s_copy");
  a.mov(esi, "fox");
  a.mov(edi, lbl("bss", BSS_COPY));
  a.mov(ecx, FOX.length >> 2);
  a.rep().movsd();
  a.mov(ecx, FOX.length & 3);
  a.rep().movsb();
  a.mov(esi, "fox");
  a.mov(edi, lbl("bss", BSS_COPY));
  a.mov(ecx, FOX.length);
  a.repe().cmpsb();
  okIfEqual(a, "copy");
  putc(a, "\n");

  // --- verdict and exit ---
  a.cmp(v("failures"), 0);
  a.jne("verdict.fail");
  puts(a, "s_pass");
  a.mov(al, DEMO_EXIT_VALUE);
  a.out(DEBUG_EXIT_PORT, al);
  a.jmp("stop");
  a.label("verdict.fail");
  puts(a, "s_fail");
  a.mov(al, DEMO_FAIL_VALUE);
  a.out(DEBUG_EXIT_PORT, al);
  a.label("stop"); // without isa-debug-exit: halt for good
  a.cli();
  a.hlt();
  a.jmp("stop");

  emitConsoleLib(a);

  // fib: EAX = fib(EAX), naively recursive; counts calls in fib_calls.
  a.label("fib");
  a.inc(v("fib_calls"));
  a.cmp(eax, 2);
  a.jb("fib.ret");
  a.push(ebx);
  a.push(eax);
  a.dec(eax);
  a.call("fib");
  a.mov(ebx, eax);
  a.pop(eax);
  a.sub(eax, 2);
  a.call("fib");
  a.add(eax, ebx);
  a.pop(ebx);
  a.label("fib.ret");
  a.ret();

  // --- data ---
  a.label("fox");
  a.db(FOX, 0);
  const str = (name: string, s: string) => cstr(a, name, s);
  str("s_banner",
    "vmxsim bare-metal demo: a Multiboot kernel written with vmxsim's own assembler\n" +
    "(src/guests/programs/demo.ts). It prints through the debug console (port 0xE9)\n" +
    "and checks its own results:\n");
  str("s_boot", "  boot loader handed over EAX = ");
  str("s_mem", "  memory reported in the Multiboot information structure (1 MiB + mem_upper): ");
  str("s_mib", " MiB");
  str("s_primes", "  primes below 100 (sieve: REP STOSB, nested loops): ");
  str("s_primes_end", " primes)");
  str("s_fib", `  fib(${FIB_N}) by `);
  str("s_fib_calls", " recursive calls = ");
  str("s_crc", `  CRC-32 of "${FOX}" (LODSB, SHR, XOR) = `);
  str("s_copy", `  copied ${FOX.length} bytes with REP MOVSD + REP MOVSB; REPE CMPSB compares them`);
  str("s_ok", " (ok)");
  str("s_failed", " (FAILED)");
  str("s_pass",
    `all checks passed; writing 0x${DEMO_EXIT_VALUE.toString(16)} to isa-debug-exit (port 0xF4) ends the run ` +
    `with exit status (0x${DEMO_EXIT_VALUE.toString(16)} << 1) | 1 = ${(DEMO_EXIT_VALUE << 1) | 1}\n`);
  str("s_fail",
    `some checks FAILED; writing 0x${DEMO_FAIL_VALUE.toString(16)} to isa-debug-exit: exit status ${(DEMO_FAIL_VALUE << 1) | 1}\n`);
  a.align(4096);
  a.label("bss");
}
