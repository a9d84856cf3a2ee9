/*
 * Differential-test harness: runs batches of generated IA-32 code snippets natively on the host CPU
 * (32-bit user mode, built with `gcc -m32`) and records the architectural outcome of each, so that
 * the TypeScript side (test/cpu/differential) can compare vmxsim's core against real hardware (the reference).
 *
 * Memory layout (identical on the vmxsim side):
 *   0x00200000  data window, 4 KiB, RW: memory operands and the snippet's stack (ESP points in here)
 *   0x00300000  code, RWX: the snippet, followed by a jump back to the saving stub (vx_exit, vx_exit16)
 *   0x00310000  control page, RW: register images the entry/exit stubs load and store (absolute
 *               addresses, so the stubs need no relocations and the binary may be PIE)
 *
 *   0x0020f000  scratch page (inside the 16-bit data segment's limit; never compared)
 *
 * Modes (per case): 0 = 32-bit code, flat segments; 1 = 32-bit code with DS/ES/SS a 16-bit data segment
 * based at the window (SS.B = 0: a 16-bit SP stack); 2 = the same with a 16-bit code segment based at
 * the code area (CS.D = 0). The 16-bit segments are LDT entries 0 (data, selector 0x07) and 1 (code,
 * 0x0F) installed with modify_ldt(2) at start-up; they stay in the LDT for every case.
 *
 * Input file (little-endian): "VXDI", u32 version (1), u32 case count, then per case:
 *   u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI), u32 eflags, u32 memory seed, u32 code length,
 *   u32 mode, code bytes padded to a multiple of 4.
 * Output file: "VXDO", u32 version (2), u32 count, then per case:
 *   u32 status (0 = reached the end, 1 = signal, 2 = timeout), u32 signal, u32 trapno, u32 err,
 *   u32 eip (at the signal; 0 otherwise), u32 regs[8], u32 eflags, u32 sregs[5] (DS ES FS GS SS),
 *   u32 n, then n x u32 (offset << 8 | new byte) for every byte of the data window that differs from
 *   its initial image. The snippet runs with the process's selectors (CS 0x23, DS/ES/SS 0x2b, FS 0,
 *   GS 0x63 on x86-64 Linux); those it loads are reported and the C environment's put back.
 * Faults are caught with sigaction on an alternate stack (the snippet's ESP points into the data window
 * and must not receive a signal frame) and left with siglongjmp; trapno/err come from the ucontext, so
 * #DE, #UD, #BP, #OF, #BR, #GP are told apart exactly. A 250 ms interval timer catches runaway code
 * (a case it interrupts once is run again from the start; twice is a timeout).
 *
 * The data window fill (fill_window) must stay identical to fillWindow() in host-runner.ts.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define DATA_ADDR 0x00200000u
#define DATA_SIZE 0x1000u
#define CODE_ADDR 0x00300000u
#define CODE_SIZE 0x1000u
#define CTRL_ADDR 0x00310000u

/* Control page cells (the asm below hard-codes these offsets from CTRL_ADDR). */
#define C_IN_REGS 0x00   /* 8 x u32 */
#define C_IN_EFL 0x20
#define C_OUT_REGS 0x40  /* 8 x u32 */
#define C_OUT_EFL 0x60
#define C_OUT_SREGS 0x64 /* 5 x u16: DS ES FS GS SS */
#define C_SAVED_ESP 0x80
#define C_CODE_PTR 0x84  /* near entry (32-bit code) */
#define C_EXIT_PTR 0x88  /* vx_exit (flat stack) */
#define C_EXIT16_PTR 0x8c /* vx_exit16 (16-bit stack segment) */
#define C_SAVED_SREGS 0x90 /* DS ES FS GS of the C environment */
#define C_CODE_FAR 0xa0  /* far entry offset:selector (16-bit code) */
#define C_DATA_SEL 0xa8  /* u16: DS/ES for the snippet */
#define C_STACK_SEL 0xaa /* u16: SS for the snippet */
#define C_FLAT_SEL 0xac  /* u16: 0x2B */

/* Modes: the 16-bit segments are LDT entries installed with modify_ldt. */
#define MODE_SEG16 1  /* DS/ES/SS: 16-bit data segment based at the window (SS.B = 0: SP stack) */
#define MODE_CODE16 2 /* CS: 16-bit code segment based at CODE_ADDR (D = 0) */
#define SEL_DATA16 0x07 /* LDT 0, RPL 3 */
#define SEL_CODE16 0x0f /* LDT 1, RPL 3 */
#define SCRATCH_ADDR 0x0020f000u /* scratch page inside the 16-bit data segment, not compared */

#define ENTER_STUB(name, jump)                 \
  ".globl " name "\n" name ":\n"              \
  "  pushal\n"                                 \
  "  pushfl\n"                                 \
  "  movl %esp, 0x310080\n"                    \
  "  movw %ds, 0x310090\n"                     \
  "  movw %es, 0x310092\n"                     \
  "  movw %fs, 0x310094\n"                     \
  "  movw %gs, 0x310096\n"                     \
  "  pushl 0x310020\n"                         \
  "  popfl\n"                                  \
  "  movl 0x310000, %eax\n"                    \
  "  movl 0x310004, %ecx\n"                    \
  "  movl 0x310008, %edx\n"                    \
  "  movl 0x31000c, %ebx\n"                    \
  "  movl 0x310014, %ebp\n"                    \
  "  movl 0x310018, %esi\n"                    \
  "  movl 0x31001c, %edi\n"                    \
  "  movw %cs:0x3100a8, %es\n"                 \
  "  movw %cs:0x3100a8, %ds\n"                 \
  "  movw %cs:0x3100aa, %ss\n"                 \
  "  movl %cs:0x310010, %esp\n"                \
  "  " jump "\n"

__asm__(
    ".text\n"
    ENTER_STUB("vx_enter", "jmp *%cs:0x310084")
    ENTER_STUB("vx_enter16", "ljmp *%cs:0x3100a0")
    /* From a 16-bit stack segment: park ESP/EAX/SS in the scratch page, switch to the flat SS. */
    ".globl vx_exit16\n"
    "vx_exit16:\n"
    "  movl %esp, %ss:0xf000\n"
    "  movl %eax, %ss:0xf004\n"
    "  movw %ss, %ax\n"
    "  movw %ax, %ss:0xf008\n"
    "  movw %cs:0x3100ac, %ax\n"
    "  movw %ax, %ss\n"
    "  movl %ss:0x20f000, %esp\n"
    "  movl %ss:0x20f004, %eax\n"
    /* The snippet may have loaded DS/ES/FS/GS: store through SS, then restore the C environment's. */
    ".globl vx_exit\n"
    "vx_exit:\n"
    "  movl %esp, %ss:0x310050\n"
    "  movl %ss:0x310080, %esp\n"
    "  pushfl\n"
    "  popl %ss:0x310060\n"
    "  movl %eax, %ss:0x310040\n"
    "  movl %ecx, %ss:0x310044\n"
    "  movl %edx, %ss:0x310048\n"
    "  movl %ebx, %ss:0x31004c\n"
    "  movl %ebp, %ss:0x310054\n"
    "  movl %esi, %ss:0x310058\n"
    "  movl %edi, %ss:0x31005c\n"
    "  movw %ds, %ss:0x310064\n"
    "  movw %es, %ss:0x310066\n"
    "  movw %fs, %ss:0x310068\n"
    "  movw %gs, %ss:0x31006a\n"
    "  movw %ss, %ss:0x31006c\n"
    "  movw %ss:0x310090, %ds\n"
    "  movw %ss:0x310092, %es\n"
    "  movw %ss:0x310094, %fs\n"
    "  movw %ss:0x310096, %gs\n"
    "  cld\n"
    "  popfl\n"
    "  popal\n"
    "  ret\n");

extern void vx_enter(void);
extern void vx_enter16(void);
extern void vx_exit(void);
extern void vx_exit16(void);

/* 16-bit LDT segments, as struct user_desc of modify_ldt(2). */
struct ldt_desc {
  unsigned int entry_number, base_addr, limit;
  unsigned int seg_32bit : 1, contents : 2, read_exec_only : 1, limit_in_pages : 1, seg_not_present : 1,
      useable : 1;
};

static int install_ldt(void) {
  struct ldt_desc d[2] = {
      {0, DATA_ADDR, 0xffff, 0, 0, 0, 0, 0, 0}, /* 16-bit data, writable */
      {1, CODE_ADDR, 0xffff, 0, 2, 0, 0, 0, 0}, /* 16-bit code, readable */
  };
  for (int k = 0; k < 2; k++)
    if (syscall(SYS_modify_ldt, 1, &d[k], sizeof d[k]) != 0) return 0;
  return 1;
}

static sigjmp_buf jb;
static volatile uint32_t cur_case, watch_case = 0xffffffffu;
static volatile int in_snippet;
static uint32_t sig_no, sig_trapno, sig_err, sig_eip, sig_regs[8], sig_efl, sig_sregs[5];
static volatile int timed_out, interrupted;

static void on_signal(int sig, siginfo_t *si, void *ctxp) {
  (void)si;
  /* The snippet may have loaded other selectors; glibc needs its TLS in GS. */
  __asm__ volatile("movw %%ss:0x310096, %%gs\n movw %%ss:0x310090, %%ds\n movw %%ss:0x310092, %%es\n"
                   "movw %%ss:0x310094, %%fs" ::: "memory");
  ucontext_t *uc = (ucontext_t *)ctxp;
  greg_t *g = uc->uc_mcontext.gregs;
  if (sig == SIGALRM) {
    if (!in_snippet) return;
    /* Never return into the snippet: the kernel's 32-bit sigreturn reloads DS/ES/FS/GS with RPL 3,
       which would change selectors the snippet loaded. The first tick in a case runs it again from
       the start; a second tick in the same case is a timeout. */
    if (watch_case != cur_case) {
      watch_case = cur_case;
      interrupted = 1;
      siglongjmp(jb, 1);
    }
    timed_out = 1;
  }
  sig_no = (uint32_t)sig;
  sig_trapno = (uint32_t)g[REG_TRAPNO];
  sig_err = (uint32_t)g[REG_ERR];
  sig_eip = (uint32_t)g[REG_EIP];
  sig_regs[0] = (uint32_t)g[REG_EAX];
  sig_regs[1] = (uint32_t)g[REG_ECX];
  sig_regs[2] = (uint32_t)g[REG_EDX];
  sig_regs[3] = (uint32_t)g[REG_EBX];
  sig_regs[4] = (uint32_t)g[REG_ESP];
  sig_regs[5] = (uint32_t)g[REG_EBP];
  sig_regs[6] = (uint32_t)g[REG_ESI];
  sig_regs[7] = (uint32_t)g[REG_EDI];
  sig_efl = (uint32_t)g[REG_EFL];
  sig_sregs[0] = (uint32_t)g[REG_DS] & 0xffff;
  sig_sregs[1] = (uint32_t)g[REG_ES] & 0xffff;
  sig_sregs[2] = (uint32_t)g[REG_FS] & 0xffff;
  sig_sregs[3] = (uint32_t)g[REG_GS] & 0xffff;
  sig_sregs[4] = (uint32_t)g[REG_SS] & 0xffff;
  siglongjmp(jb, 1);
}

/* xorshift32 fill of the data window, words weighted to edge values. Mirror: host-runner.ts. */
static const uint32_t EDGE[16] = {
    0x00000000u, 0x00000001u, 0xffffffffu, 0x80000000u, 0x7fffffffu, 0x00000080u, 0x0000007fu, 0x00008000u,
    0x00007fffu, 0x000000ffu, 0x0000ffffu, 0x80808080u, 0x7f7f7f7fu, 0xff00ff00u, 0x00ff00ffu, 0xfffffffeu,
};

static void fill_window(uint32_t *w, uint32_t seed) {
  uint32_t x = seed ? seed : 0x9e3779b9u;
  for (unsigned i = 0; i < DATA_SIZE / 4; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    w[i] = (x & 7) < 2 ? EDGE[(x >> 3) & 15] : x;
  }
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot) {
  void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || (uintptr_t)p != addr) {
    fprintf(stderr, "harness: cannot map 0x%08x\n", addr);
    exit(3);
  }
  return p;
}

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) { perror(argv[1]); return 2; }
  fseek(in, 0, SEEK_END);
  long len = ftell(in);
  fseek(in, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)len);
  if (!buf || fread(buf, 1, (size_t)len, in) != (size_t)len) { fprintf(stderr, "harness: read error\n"); return 2; }
  fclose(in);
  if (len < 12 || memcmp(buf, "VXDI", 4) != 0) { fprintf(stderr, "harness: bad input\n"); return 2; }
  uint32_t count;
  memcpy(&count, buf + 8, 4);

  uint8_t *data = map_fixed(DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE);
  uint8_t *code = map_fixed(CODE_ADDR, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  uint32_t *ctrl = map_fixed(CTRL_ADDR, 0x1000, PROT_READ | PROT_WRITE);
  uint8_t initial[DATA_SIZE];
  map_fixed(SCRATCH_ADDR, 0x1000, PROT_READ | PROT_WRITE);
  int have_ldt = install_ldt();
  ctrl[C_CODE_PTR / 4] = CODE_ADDR;
  ctrl[C_EXIT_PTR / 4] = (uint32_t)(uintptr_t)vx_exit;
  ctrl[C_EXIT16_PTR / 4] = (uint32_t)(uintptr_t)vx_exit16;
  ctrl[C_CODE_FAR / 4] = 0;
  ((uint16_t *)ctrl)[C_CODE_FAR / 2 + 2] = SEL_CODE16;
  ((uint16_t *)ctrl)[C_FLAT_SEL / 2] = 0x2b;

  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) { perror("sigaltstack"); return 3; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP, SIGALRM};
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) sigaction(sigs[k], &sa, NULL);
  struct itimerval it = {{0, 250000}, {0, 250000}};
  setitimer(ITIMER_REAL, &it, NULL);

  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror(argv[2]); return 2; }
  setvbuf(out, NULL, _IOFBF, 1 << 20);
  fwrite("VXDO", 1, 4, out);
  put32(out, 2);
  put32(out, count);

  size_t pos = 12;
  for (uint32_t n = 0; n < count; n++) {
    if (pos + 48 > (size_t)len) { fprintf(stderr, "harness: truncated input at case %u\n", n); return 2; }
    const uint32_t *h = (const uint32_t *)(buf + pos);
    uint32_t seed = h[9], clen = h[10], mode = h[11];
    pos += 48;
    if (mode != 0 && !have_ldt) { fprintf(stderr, "harness: modify_ldt unavailable, 16-bit modes cannot run\n"); return 4; }
    if (clen > CODE_SIZE - 16 || pos + clen > (size_t)len) { fprintf(stderr, "harness: bad code length\n"); return 2; }
    memcpy(ctrl + C_IN_REGS / 4, h, 32);
    ctrl[C_IN_EFL / 4] = h[8];
    memcpy(code, buf + pos, clen);
    if (mode & MODE_CODE16) {
      /* jmp dword far 0x23:vx_exit16 */
      uint32_t target = (uint32_t)(uintptr_t)vx_exit16;
      code[clen] = 0x66;
      code[clen + 1] = 0xea;
      memcpy(code + clen + 2, &target, 4);
      code[clen + 6] = 0x23;
      code[clen + 7] = 0x00;
    } else {
      /* jmp dword [cs:EXIT_PTR]: CS, as the snippet may have loaded a null selector into DS */
      code[clen] = 0x2e;
      code[clen + 1] = 0xff;
      code[clen + 2] = 0x25;
      uint32_t exitp = CTRL_ADDR + ((mode & MODE_SEG16) ? C_EXIT16_PTR : C_EXIT_PTR);
      memcpy(code + clen + 3, &exitp, 4);
    }
    __builtin___clear_cache((char *)code, (char *)code + clen + 8);
    ((uint16_t *)ctrl)[C_DATA_SEL / 2] = (mode & MODE_SEG16) ? SEL_DATA16 : 0x2b;
    ((uint16_t *)ctrl)[C_STACK_SEL / 2] = (mode & MODE_SEG16) ? SEL_DATA16 : 0x2b;
    pos += (clen + 3) & ~3u;
    uint32_t regs[8], efl, sregs[5];
    volatile uint32_t status = 0;
    timed_out = 0;
    cur_case = n;
  retry:
    fill_window((uint32_t *)data, seed);
    memcpy(initial, data, DATA_SIZE);
    interrupted = 0;
    if (sigsetjmp(jb, 0) == 0) {
      in_snippet = 1;
      if (mode & MODE_CODE16) vx_enter16();
      else vx_enter();
      in_snippet = 0;
      memcpy(regs, ctrl + C_OUT_REGS / 4, 32);
      efl = ctrl[C_OUT_EFL / 4];
      for (int k = 0; k < 5; k++) sregs[k] = ((uint16_t *)ctrl)[C_OUT_SREGS / 2 + k];
      if (mode & MODE_SEG16) sregs[4] = *(uint16_t *)(SCRATCH_ADDR + 8);
      sig_no = sig_trapno = sig_err = sig_eip = 0;
    } else {
      in_snippet = 0;
      if (interrupted) goto retry;
      status = timed_out ? 2 : 1;
      memcpy(regs, sig_regs, 32);
      memcpy(sregs, sig_sregs, sizeof sregs);
      efl = sig_efl;
    }
    put32(out, status);
    put32(out, sig_no);
    put32(out, sig_trapno);
    put32(out, sig_err);
    put32(out, sig_eip);
    fwrite(regs, 4, 8, out);
    put32(out, efl);
    fwrite(sregs, 4, 5, out);
    uint32_t ndiff = 0;
    for (unsigned i = 0; i < DATA_SIZE; i++) ndiff += data[i] != initial[i];
    put32(out, ndiff);
    for (unsigned i = 0; i < DATA_SIZE; i++)
      if (data[i] != initial[i]) put32(out, (i << 8) | data[i]);
  }
  if (fclose(out) != 0) { perror("harness: write"); return 2; }
  return 0;
}
