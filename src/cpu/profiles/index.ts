/**
 * The catalogue of CPU profiles (issue "Quad-core platform", "Time and determinism" and "Cycle
 * accounting"): one profile per processor generation that the VT-x work needs (shared/reference/vmx.md
 * 1a: Core 2, Nehalem, Sandy Bridge, Haswell, Skylake client), looked up by the id a scenario names.
 *
 * Follows: the CpuProfile type of cpu/profile.ts; each profile file cites its own sources. Leaves out:
 * Penryn, Westmere, Ivy Bridge, Broadwell and later generations (a scenario can derive them from the
 * nearest profile with overrideProfile, docs/cpu-profiles.md).
 */
import type { CpuProfile } from "../profile.ts";
import { CORE2_Q6600 } from "./core2-q6600.ts";
import { NEHALEM } from "./nehalem.ts";
import { SANDYBRIDGE } from "./sandybridge.ts";
import { HASWELL } from "./haswell.ts";
import { SKYLAKE } from "./skylake.ts";

export { CORE2_Q6600, NEHALEM, SANDYBRIDGE, HASWELL, SKYLAKE };

/** Profiles are shared by every machine built from them: frozen, so a change must go through overrideProfile. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object" && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** All profiles by id, oldest generation first. */
export const PROFILES: Readonly<Record<string, CpuProfile>> = deepFreeze({
  [CORE2_Q6600.id]: CORE2_Q6600,
  [NEHALEM.id]: NEHALEM,
  [SANDYBRIDGE.id]: SANDYBRIDGE,
  [HASWELL.id]: HASWELL,
  [SKYLAKE.id]: SKYLAKE,
});

export const DEFAULT_PROFILE_ID = "core2-q6600";

/** The profile called `id`; a RangeError naming the known ids when there is none. */
export function getProfile(id: string): CpuProfile {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, id) ? PROFILES[id] : undefined;
  if (p === undefined) {
    throw new RangeError(`unknown CPU profile '${id}'; known profiles: ${Object.keys(PROFILES).join(", ")}`);
  }
  return p;
}
