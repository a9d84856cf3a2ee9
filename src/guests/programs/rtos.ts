/**
 * The `rtos` guest program (issue 6 "Guests"): the RTOS kernel of src/guests/rtos, built for one partition
 * with the partition's drivers (src/guests/drivers). Shape `(config, env) => GuestImage` like every program;
 * `cfg` is the scenario's RtosGuestConfig (src/scenario/config.ts; the kernel restates its shape in
 * rtos/config.ts because guests may not import scenario). Follows the abi.ts boot state and result log;
 * the SDM sections are in the kernel's parts. Leaves out: nothing beyond what the kernel leaves out.
 */
import type { GuestEnv, GuestImage } from "../guest-env.ts";
import { emitDrivers } from "../drivers/index.ts";
import type { RtosSpec } from "../rtos/config.ts";
import { buildRtosKernel } from "../rtos/kernel.ts";

export function buildRtosGuest(cfg: RtosSpec, env: GuestEnv): GuestImage {
  return buildRtosKernel(cfg, env, (a, e) => emitDrivers(a, e));
}
