/**
 * Differential tests against the host CPU: the memory layout and data-window fill shared by the native
 * harness (harness.c) and the vmxsim runner, and the shape of one test case and of its outcome.
 * Reference: none by itself; it must stay byte-for-byte identical to harness.c (fill_window, addresses).
 */

/** Data window: memory operands and the snippet's stack live here (4 KiB, both sides). */
export const DATA_ADDR = 0x00200000;
export const DATA_SIZE = 0x1000;
/** Snippet code. */
export const CODE_ADDR = 0x00300000;
export const CODE_MAX = 0x1000 - 16;

/**
 * EFLAGS bits compared after a case (before removing the undefined ones): arithmetic, TF, IF, DF,
 * IOPL, NT, AC, ID. Not RF (set in the host's fault frames), VM, VIF, VIP.
 */
export const EFLAGS_COMPARED = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x3000 | 0x4000 |
  0x40000 | 0x200000;

const EDGE = new Uint32Array([
  0x00000000, 0x00000001, 0xffffffff, 0x80000000, 0x7fffffff, 0x00000080, 0x0000007f, 0x00008000,
  0x00007fff, 0x000000ff, 0x0000ffff, 0x80808080, 0x7f7f7f7f, 0xff00ff00, 0x00ff00ff, 0xfffffffe,
]);

/** xorshift32 fill, words weighted to edge values. Mirror of fill_window() in harness.c. */
export function fillWindow(out: Uint8Array, seed: number): void {
  const w = new Int32Array(out.buffer, out.byteOffset, DATA_SIZE / 4);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < DATA_SIZE / 4; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    w[i] = (x & 7) < 2 ? EDGE[(x >>> 3) & 15] : x;
  }
}

/** What the mask logic needs to know about one generated instruction (keyed by its code offset). */
export interface InsnInfo {
  /** Offset of the instruction from CODE_ADDR. */
  off: number;
  /** Mnemonic as given to the assembler ("adc", "shl", "movsd", "cmovne" ...). */
  mnem: string;
  /** Operation size in bytes (1, 2, 4; 8 for CMPXCHG8B). */
  size: number;
  /** Shift/rotate/SHLD count: an immediate, or "cl". */
  count?: number | "cl";
  /** REP/REPE/REPNE prefixed string instruction. */
  rep?: boolean;
  /** Assembly text for reports. */
  text: string;
}

/**
 * Execution modes (harness.c): flat 32-bit; 32-bit code with DS/ES/SS a 16-bit data segment based at
 * the data window (SP stack); and that with a 16-bit code segment based at CODE_ADDR.
 */
export const enum Mode { FLAT32 = 0, SEG16 = 1, CODE16 = 3 }
/** LDT selectors of the 16-bit segments (harness.c install_ldt). */
export const SEL_DATA16 = 0x07;
export const SEL_CODE16 = 0x0f;

/** One test case: initial state plus code (already assembled). */
export interface DiffCase {
  id: number;
  mode: Mode;
  /** Instruction groups it exercises (for coverage counts and reports). */
  groups: string[];
  /** EAX ECX EDX EBX ESP EBP ESI EDI. */
  regs: number[];
  eflags: number;
  seed: number;
  code: Uint8Array;
  insns: InsnInfo[];
}

export type OutcomeKind = "end" | "exception" | "timeout";

export interface Outcome {
  kind: OutcomeKind;
  /** Exception vector (SDM Vol. 3A Table 6-1) when kind = "exception". */
  vector: number;
  /** EIP at the exception: the faulting instruction (faults) or the next one (traps: #BP, #OF). */
  eip: number;
  /** Error code of the exception, when it has one (#GP, #SS, #NP, #TS, #PF, #AC), else -1. */
  errorCode: number;
  regs: number[];
  eflags: number;
  /** Selectors in DS, ES, FS, GS, SS. */
  sregs: number[];
  /** Final data window. */
  window: Uint8Array;
}

export const REG_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;
export const SREG_NAMES = ["ds", "es", "fs", "gs", "ss"] as const;

const FLAG_NAMES: [number, string][] = [
  [0x1, "CF"], [0x4, "PF"], [0x10, "AF"], [0x40, "ZF"], [0x80, "SF"], [0x100, "TF"], [0x200, "IF"],
  [0x400, "DF"], [0x800, "OF"], [0x4000, "NT"], [0x10000, "RF"], [0x40000, "AC"], [0x200000, "ID"],
];

export function flagNames(bits: number): string {
  const n = FLAG_NAMES.filter(([b]) => (bits & b) !== 0).map(([, s]) => s);
  return n.length ? n.join(" ") : "-";
}

export const hex = (v: number, w = 8): string => (v >>> 0).toString(16).padStart(w, "0");
