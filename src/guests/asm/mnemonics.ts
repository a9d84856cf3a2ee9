/**
 * Every mnemonic and alias the opcode table (src/cpu/isa) lets the assembler select, as a literal list
 * so that TypeScript can type one method per mnemonic on Asm. Generated from ISA (rows without noAsm,
 * their mnemonics and aliases, sorted); test/guests/asm-mnemonics.test.ts fails when the table changes
 * and prints the new list. Leaves out nothing else; prefixes (rep, lock) are Asm methods.
 */
import type { Operand } from "./operands.ts";

export const MNEMONICS = [
  "aaa", "aad", "aam", "aas", "adc", "add", "and", "arpl", "bound", "bsf", "bsr", "bswap", "bt", "btc", "btr",
  "bts", "call", "cbw", "cdq", "clc", "cld", "cli", "clts", "cmc", "cmova", "cmovae", "cmovb", "cmovbe",
  "cmovc", "cmove", "cmovg", "cmovge", "cmovl", "cmovle", "cmovna", "cmovnae", "cmovnb", "cmovnbe", "cmovnc",
  "cmovne", "cmovng", "cmovnge", "cmovnl", "cmovnle", "cmovno", "cmovnp", "cmovns", "cmovnz", "cmovo", "cmovp",
  "cmovpe", "cmovpo", "cmovs", "cmovz", "cmp", "cmpsb", "cmpsd", "cmpsw", "cmpxchg", "cmpxchg8b", "cpuid",
  "cwd", "cwde", "daa", "das", "dec", "div", "enter", "fwait", "hlt", "idiv", "imul", "in", "inc", "insb",
  "insd", "insw", "int", "int3", "into", "invd", "invept", "invlpg", "invvpid", "iret", "iretd", "ja", "jae",
  "jb", "jbe", "jc", "jcxz", "je", "jecxz", "jg", "jge", "jl", "jle", "jmp", "jna", "jnae", "jnb", "jnbe",
  "jnc", "jne", "jng", "jnge", "jnl", "jnle", "jno", "jnp", "jns", "jnz", "jo", "jp", "jpe", "jpo", "js", "jz",
  "lahf", "lar", "lds", "lea", "leave", "les", "lfs", "lgdt", "lgs", "lidt", "lldt", "lmsw", "lodsb", "lodsd",
  "lodsw", "loop", "loope", "loopne", "loopnz", "loopz", "lsl", "lss", "ltr", "mov", "movsb", "movsd", "movsw",
  "movsx", "movzx", "mul", "neg", "nop", "not", "or", "out", "outsb", "outsd", "outsw", "pause", "pop", "popa",
  "popad", "popf", "popfd", "push", "pusha", "pushad", "pushf", "pushfd", "rcl", "rcr", "rdmsr", "rdpmc",
  "rdtsc", "rdtscp", "ret", "retf", "rol", "ror", "sahf", "sal", "sar", "sbb", "scasb", "scasd", "scasw",
  "seta", "setae", "setb", "setbe", "setc", "sete", "setg", "setge", "setl", "setle", "setna", "setnae",
  "setnb", "setnbe", "setnc", "setne", "setng", "setnge", "setnl", "setnle", "setno", "setnp", "setns",
  "setnz", "seto", "setp", "setpe", "setpo", "sets", "setz", "sgdt", "shl", "shld", "shr", "shrd", "sidt",
  "sldt", "smsw", "stc", "std", "sti", "stosb", "stosd", "stosw", "str", "sub", "sysenter", "sysexit", "test",
  "ud2", "verr", "verw", "vmcall", "vmclear", "vmlaunch", "vmptrld", "vmptrst", "vmread", "vmresume",
  "vmwrite", "vmxoff", "vmxon", "wait", "wbinvd", "wrmsr", "xadd", "xchg", "xlat", "xlatb", "xor",
] as const;

export type Mnemonic = (typeof MNEMONICS)[number];

/** One method per mnemonic: a.add(eax, 1), a.jne("loop"), a.movsb(). */
export type MnemonicMethods<T> = { [K in Mnemonic]: (...ops: Operand[]) => T };
