/*
 * Differential-test harness: runs batches of generated IA-32 code snippets natively on the host CPU
 * (32-bit user mode, built with `gcc -m32`) and records the architectural outcome of each, so that
 * the TypeScript side (test/cpu/differential) can compare vmxsim's core against real hardware (the reference).
 *
 * Memory layout (identical on the vmxsim side):
 *   0x00200000  data window, 4 KiB, RW: memory operands and the snippet's stack (ESP points in here)
 *   0x00300000  code, RWX: the snippet, followed by `jmp [ss:EXIT_PTR]` back to the saving stub
 *   0x00310000  control page, RW: register images the entry/exit stubs load and store (absolute
 *               addresses, so the stubs need no relocations and the binary may be PIE)
 *
 * Input file (little-endian): "VXDI", u32 version (1), u32 case count, then per case:
 *   u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI), u32 eflags, u32 memory seed, u32 code length,
 *   code bytes padded to a multiple of 4.
 * Output file: "VXDO", u32 version (2), u32 count, then per case:
 *   u32 status (0 = reached the end, 1 = signal, 2 = timeout), u32 signal, u32 trapno, u32 err,
 *   u32 eip (at the signal; 0 otherwise), u32 regs[8], u32 eflags, u32 sregs[5] (DS ES FS GS SS),
 *   u32 n, then n x u32 (offset << 8 | new byte) for every byte of the data window that differs from
 *   its initial image. The snippet runs with the process's selectors (CS 0x23, DS/ES/SS 0x2b, FS 0,
 *   GS 0x63 on x86-64 Linux); those it loads are reported and the C environment's put back.
 * Faults are caught with sigaction on an alternate stack (the snippet's ESP points into the data window
 * and must not receive a signal frame) and left with siglongjmp; trapno/err come from the ucontext, so
 * #DE, #UD, #BP, #OF, #BR, #GP are told apart exactly. A 250 ms interval timer catches runaway code.
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
#include <ucontext.h>

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
#define C_CODE_PTR 0x84
#define C_EXIT_PTR 0x88
#define C_SAVED_SREGS 0x90 /* DS ES FS GS of the C environment */

__asm__(
    ".text\n"
    ".globl vx_enter\n"
    "vx_enter:\n"
    "  pushal\n"
    "  pushfl\n"
    "  movl %esp, 0x310080\n"
    "  movw %ds, 0x310090\n"
    "  movw %es, 0x310092\n"
    "  movw %fs, 0x310094\n"
    "  movw %gs, 0x310096\n"
    "  pushl 0x310020\n"
    "  popfl\n"
    "  movl 0x310000, %eax\n"
    "  movl 0x310004, %ecx\n"
    "  movl 0x310008, %edx\n"
    "  movl 0x31000c, %ebx\n"
    "  movl 0x310014, %ebp\n"
    "  movl 0x310018, %esi\n"
    "  movl 0x31001c, %edi\n"
    "  movl 0x310010, %esp\n"
    "  jmp *0x310084\n"
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
extern void vx_exit(void);

static sigjmp_buf jb;
static volatile uint32_t cur_case, watch_case = 0xffffffffu;
static volatile int in_snippet;
static uint32_t sig_no, sig_trapno, sig_err, sig_eip, sig_regs[8], sig_efl, sig_sregs[5];
static int timed_out;

static void on_signal(int sig, siginfo_t *si, void *ctxp) {
  (void)si;
  /* The snippet may have loaded other selectors; glibc needs its TLS in GS. */
  __asm__ volatile("movw %%ss:0x310096, %%gs\n movw %%ss:0x310090, %%ds\n movw %%ss:0x310092, %%es\n"
                   "movw %%ss:0x310094, %%fs" ::: "memory");
  ucontext_t *uc = (ucontext_t *)ctxp;
  greg_t *g = uc->uc_mcontext.gregs;
  if (sig == SIGALRM) {
    if (!in_snippet) return;
    if (watch_case != cur_case) { /* first tick in this case: give it one more interval */
      watch_case = cur_case;
      return;
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
  ctrl[C_CODE_PTR / 4] = CODE_ADDR;
  ctrl[C_EXIT_PTR / 4] = (uint32_t)(uintptr_t)vx_exit;

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
    uint32_t seed = h[9], clen = h[10];
    pos += 44;
    if (clen > CODE_SIZE - 16 || pos + clen > (size_t)len) { fprintf(stderr, "harness: bad code length\n"); return 2; }
    memcpy(ctrl + C_IN_REGS / 4, h, 32);
    ctrl[C_IN_EFL / 4] = h[8];
    memcpy(code, buf + pos, clen);
    /* jmp dword [ss:EXIT_PTR] (SS: the snippet may have loaded a null selector into DS) */
    code[clen] = 0x36;
    code[clen + 1] = 0xff;
    code[clen + 2] = 0x25;
    uint32_t exitp = CTRL_ADDR + C_EXIT_PTR;
    memcpy(code + clen + 3, &exitp, 4);
    __builtin___clear_cache((char *)code, (char *)code + clen + 7);
    pos += (clen + 3) & ~3u;
    fill_window((uint32_t *)data, seed);
    memcpy(initial, data, DATA_SIZE);

    uint32_t regs[8], efl, sregs[5];
    volatile uint32_t status = 0;
    timed_out = 0;
    cur_case = n;
    if (sigsetjmp(jb, 0) == 0) {
      in_snippet = 1;
      vx_enter();
      in_snippet = 0;
      memcpy(regs, ctrl + C_OUT_REGS / 4, 32);
      efl = ctrl[C_OUT_EFL / 4];
      for (int k = 0; k < 5; k++) sregs[k] = ((uint16_t *)ctrl)[C_OUT_SREGS / 2 + k];
      sig_no = sig_trapno = sig_err = sig_eip = 0;
    } else {
      in_snippet = 0;
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
