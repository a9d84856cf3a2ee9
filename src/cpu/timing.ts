/**
 * The default instruction costs of a core built without a CPU profile (unit tests, `vmxsim exec`
 * without --profile): the throughput-order costs of a Pentium-class in-order core (Intel Pentium
 * optimization manual, Agner Fog's instruction tables). A machine built from a CPU profile
 * (profile.ts, profiles/) uses the profile's table instead.
 */
import type { TimingClass } from "./isa/types.ts";
import type { InstructionCosts } from "./profile.ts";

export const DEFAULT_COSTS: Readonly<Record<TimingClass, number>> = {
  alu: 1, mov: 1, load: 1, store: 1, lea: 1, stack: 1, xchg: 2, atomic: 3,
  mul: 4, div: 25, shift: 1, bit: 2, bcd: 3,
  branch: 1, call: 2, ret: 2, string: 3, io: 100, flag: 1, nop: 1,
  serialize: 40, vmx: 1, system: 10, int: 30, hlt: 1, rdtsc: 40,
};

export function costOf(cls: TimingClass): number {
  return DEFAULT_COSTS[cls];
}

/** DEFAULT_COSTS as a full cost table: no operand-size dependence, no taken-branch or delivery extra. */
export const DEFAULT_INSTRUCTION_COSTS: InstructionCosts = {
  classes: { ...DEFAULT_COSTS },
  divBySize: { 1: DEFAULT_COSTS.div, 2: DEFAULT_COSTS.div, 4: DEFAULT_COSTS.div },
  mulBySize: { 1: DEFAULT_COSTS.mul, 2: DEFAULT_COSTS.mul, 4: DEFAULT_COSTS.mul },
  branchTakenExtra: 0,
  repStartup: DEFAULT_COSTS.string,
  repPerElement: 1,
  interruptDelivery: 0,
  privilegeChangeExtra: 0,
};
