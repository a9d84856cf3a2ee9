/**
 * Default static cost, in core cycles, of each instruction timing class (isa/types.ts TimingClass).
 * These are the throughput-order costs of a Pentium-class in-order core (Intel Pentium optimization
 * manual, Agner Fog's instruction tables); the platform layer replaces them with a CPU profile's table
 * and adds the cache model's latencies.
 */
import type { TimingClass } from "./isa/types.ts";

export const DEFAULT_COSTS: Readonly<Record<TimingClass, number>> = {
  alu: 1, mov: 1, load: 1, store: 1, lea: 1, stack: 1, xchg: 2, atomic: 3,
  mul: 4, div: 25, shift: 1, bit: 2, bcd: 3,
  branch: 1, call: 2, ret: 2, string: 3, io: 100, flag: 1, nop: 1,
  serialize: 40, system: 10, int: 30, hlt: 1,
};

export function costOf(cls: TimingClass): number {
  return DEFAULT_COSTS[cls];
}
