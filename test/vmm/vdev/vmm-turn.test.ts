/**
 * VmmTurn: the ordering abi.ts prescribes for a completion (write the results, then raise) held across a
 * whole VMM turn, and an interrupt that arrives while the VMM is inside a turn (on hardware the VMM runs
 * with interrupts off, so the interrupt is taken after the handler finishes). Reference: abi.ts
 * "Paravirtual devices" (completion order) and the SDM's IF semantics (Vol. 3A 6.8.1: maskable interrupts
 * are held while IF = 0 and taken when it is set again).
 */
import { describe, expect, it } from "vitest";
import { VmmTurn } from "../../../src/vmm/vdev/vmm-turn.ts";
import type { VdevHost } from "../../../src/vmm/vdev/vdev.ts";

function host(log: string[], name: string): VdevHost {
  return { raise: () => log.push(`raise ${name}`) } as unknown as VdevHost;
}

describe("VmmTurn", () => {
  it("raises once per partition, after the turn's work and after an interrupt deferred during it", () => {
    const t = new VmmTurn();
    const log: string[] = [];
    const a = host(log, "a"), b = host(log, "b");
    t.run(() => {
      t.raise(a);
      log.push("work 1");
      t.interrupt(() => {
        log.push("irq");
        t.raise(b);
        t.raise(a);
      });
      t.run(() => t.raise(a));
      log.push("work 2");
    });
    expect(log).toEqual(["work 1", "work 2", "irq", "raise a", "raise b"]);
  });

  it("outside a turn an interrupt runs at once and a raise is immediate", () => {
    const t = new VmmTurn();
    const log: string[] = [];
    t.raise(host(log, "x"));
    t.interrupt(() => log.push("irq"));
    expect(log).toEqual(["raise x", "irq"]);
  });

  it("an interrupt raised by the deferred handler itself runs after it, in the same turn", () => {
    const t = new VmmTurn();
    const log: string[] = [];
    t.run(() => {
      t.interrupt(() => {
        log.push("irq 1");
        t.interrupt(() => log.push("irq 2"));
        log.push("irq 1 end");
      });
    });
    expect(log).toEqual(["irq 1", "irq 1 end", "irq 2"]);
  });
});
