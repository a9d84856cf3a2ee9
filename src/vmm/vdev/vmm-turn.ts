/**
 * One "turn" of a shared device's VMM code: an exit handler's register access or doorbell, or the physical
 * interrupt handler. Inside a turn, guest vectors to raise are collected (one raise per partition per turn,
 * after all state is written, as abi.ts orders it: write the results, then raise), and a physical
 * interrupt that arrives while the backend is in the middle of programming the device (a command that
 * fails at once raises the line synchronously) is handled when the turn ends instead of re-entering it.
 * On hardware the same holds because the VMM runs its handler with interrupts off.
 * No Intel SDM section applies. Leaves out: nothing (bookkeeping only).
 */
import type { VdevHost } from "./vdev.ts";

export class VmmTurn {
  private depth = 0;
  private toRaise: VdevHost[] = [];
  private deferredIrq: (() => void) | null = null;

  /** Run `fn` as (part of) a turn. */
  run<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      if (--this.depth === 0) this.flush();
    }
  }

  /** Raise `host`'s vector at the end of the turn (at once outside a turn). */
  raise(host: VdevHost): void {
    if (this.depth === 0) {
      host.raise();
      return;
    }
    if (!this.toRaise.includes(host)) this.toRaise.push(host);
  }

  /** Run the interrupt handler now, or at the end of the current turn if one is in progress. */
  interrupt(handler: () => void): void {
    if (this.depth > 0) {
      this.deferredIrq = handler;
      return;
    }
    this.run(handler);
  }

  /** End of the outermost turn: a deferred interrupt first (its completions join the batch), then one
   * raise per partition. */
  private flush(): void {
    this.depth++;
    try {
      for (let irq = this.deferredIrq; irq !== null; irq = this.deferredIrq) {
        this.deferredIrq = null;
        irq();
      }
    } finally {
      this.depth--;
    }
    const raise = this.toRaise;
    this.toRaise = [];
    for (const h of raise) h.raise();
  }
}
