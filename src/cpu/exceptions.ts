/**
 * Processor exceptions as the core raises them (SDM Vol. 3A 6.3.1 Table 6-1, 6.15). A fault is thrown
 * as a CpuFault out of an instruction handler and caught by the core's run loop, which restores EIP to
 * the faulting instruction and delivers the exception to the guest. It never escapes the core.
 */

export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11, SS = 12,
  GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

export const VECTOR_NAMES: Record<number, string> = {
  0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM", 8: "#DF", 10: "#TS",
  11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF", 16: "#MF", 17: "#AC", 18: "#MC", 19: "#XM",
};

/** Exceptions that push an error code (SDM Vol. 3A Table 6-1). */
export function pushesErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
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
