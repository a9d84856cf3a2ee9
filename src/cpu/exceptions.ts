/**
 * Processor exceptions as the core raises them (SDM Vol. 3A 6.3.1 Table 6-1, 6.15; double-fault classes
 * from 6.15 Table 6-4). A fault is thrown as a CpuFault out of an instruction handler and caught by the
 * core's run loop, which restores EIP to the faulting instruction and delivers the exception to the
 * guest (interrupts.ts). It never escapes the core.
 *
 * Every vector 0-19 is classified here: fault / trap / abort (what the saved EIP points at), whether it
 * pushes an error code, and its benign / contributory / page-fault class for the double-fault rules.
 * Vectors 20-31 are reserved on IA-32 processors without #VE/#CP and are treated as benign faults.
 *
 * Leaves out: #VE (20) and #CP (21), which belong to features the model does not implement.
 */

export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11, SS = 12,
  GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

export const VECTOR_NAMES: Record<number, string> = {
  0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM", 8: "#DF",
  9: "coprocessor segment overrun", 10: "#TS", 11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF", 15: "reserved",
  16: "#MF", 17: "#AC", 18: "#MC", 19: "#XM",
};

/** What the saved CS:EIP of an exception points at (SDM Vol. 3A 6.5). */
export type ExceptionType = "fault" | "trap" | "fault/trap" | "abort" | "interrupt";

/** Double-fault class (SDM Vol. 3A 6.15 Table 6-4). */
export type FaultClass = "benign" | "contributory" | "page-fault";

export interface ExceptionInfo {
  readonly type: ExceptionType;
  readonly errorCode: boolean;
  readonly class: FaultClass;
}

const info = (type: ExceptionType, errorCode: boolean, cls: FaultClass): ExceptionInfo => ({ type, errorCode, class: cls });

/** SDM Vol. 3A Table 6-1 (type, error code) and Table 6-4 (class), vectors 0-19. */
export const EXCEPTIONS: readonly ExceptionInfo[] = [
  info("fault", false, "contributory"), //   0 #DE
  info("fault/trap", false, "benign"), //      1 #DB: instruction breakpoints are faults, the rest traps
  info("interrupt", false, "benign"), //       2 NMI
  info("trap", false, "benign"), //            3 #BP
  info("trap", false, "benign"), //            4 #OF
  info("fault", false, "benign"), //           5 #BR
  info("fault", false, "benign"), //           6 #UD
  info("fault", false, "benign"), //           7 #NM
  info("abort", true, "benign"), //            8 #DF (error code always 0; its class is its own)
  info("fault", false, "benign"), //           9 coprocessor segment overrun (386 only; never raised)
  info("fault", true, "contributory"), //     10 #TS
  info("fault", true, "contributory"), //     11 #NP
  info("fault", true, "contributory"), //     12 #SS
  info("fault", true, "contributory"), //     13 #GP
  info("fault", true, "page-fault"), //       14 #PF
  info("fault", false, "benign"), //          15 reserved
  info("fault", false, "benign"), //          16 #MF
  info("fault", true, "benign"), //           17 #AC (error code always 0)
  info("abort", false, "benign"), //          18 #MC
  info("fault", false, "benign"), //          19 #XM
];

const RESERVED: ExceptionInfo = info("fault", false, "benign");

export function exceptionInfo(vector: number): ExceptionInfo {
  return vector < EXCEPTIONS.length ? EXCEPTIONS[vector] : RESERVED;
}

/** Exceptions that push an error code (SDM Vol. 3A Table 6-1). */
export function pushesErrorCode(vector: number): boolean {
  return vector < 32 && exceptionInfo(vector).errorCode;
}

/**
 * Whether an exception is fault-class for the RF rule of SDM Vol. 3A 17.3.1.1: "for any fault-class
 * exception except a debug exception generated in response to an instruction breakpoint, the value
 * pushed for RF is 1". #DB is left out (its breakpoint form keeps RF as it is).
 */
export function isFaultClass(vector: number): boolean {
  return vector < 32 && exceptionInfo(vector).type === "fault";
}

export class CpuFault {
  constructor(
    readonly vector: number,
    readonly errorCode: number = -1,
  ) {}
  get hasErrorCode(): boolean {
    return this.errorCode >= 0;
  }
  toString(): string {
    return `${VECTOR_NAMES[this.vector] ?? "vector " + this.vector}${this.hasErrorCode ? "(" + this.errorCode + ")" : ""}`;
  }
}

/** Preallocated faults that carry no error code: throwing them allocates nothing. */
const NO_CODE: CpuFault[] = [];
for (let v = 0; v < 32; v++) NO_CODE.push(new CpuFault(v));

export function fault(vector: number, errorCode = -1): never {
  throw errorCode < 0 ? NO_CODE[vector] : new CpuFault(vector, errorCode);
}
