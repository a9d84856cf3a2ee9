/**
 * The simulation's one event queue (shared/DESIGN.md §4): events are totally ordered by
 * (tick, priority, insertion sequence), so two runs that schedule the same events in the same order fire
 * them in the same order, whatever else happens. Tick = one core cycle.
 *
 * A binary min-heap of event records. Cancelling marks the record and leaves it in the heap (it is
 * dropped when it reaches the top), so cancel is O(1) and the order of the others is unaffected.
 *
 * `onScheduled` lets the machine learn that an event was scheduled earlier than the point its cores are
 * running to, so the core that caused it can stop in time (shared/DESIGN.md §4: cores stop at the next
 * event that can affect them).
 */

export type Tick = number;

/** Lower runs first among events of the same tick. */
export const enum EventPriority {
  /** Hardware state changes (a timer expiring, a device completing). */
  DEVICE = 10,
  /** Interrupt delivery to cores (after the devices of the same tick raised their lines). */
  INTERRUPT = 20,
  /** Probes and statistics sampling: see the state after everything of the tick happened. */
  PROBE = 90,
}

export class SimEvent {
  cancelled = false;
  constructor(
    readonly tick: Tick,
    readonly priority: number,
    readonly seq: number,
    readonly fire: (tick: Tick) => void,
    /** For traces and diagnostics ("lapic0.timer", "uart0.thre"). */
    readonly label: string,
  ) {}
}

function before(a: SimEvent, b: SimEvent): boolean {
  if (a.tick !== b.tick) return a.tick < b.tick;
  if (a.priority !== b.priority) return a.priority < b.priority;
  return a.seq < b.seq;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  /** The tick of the event being fired, or of the last one fired; the time the queue has reached. */
  now: Tick = 0;
  /** Events fired so far (statistics). */
  fired = 0;
  /** Called after an event is scheduled (the machine shortens a running core's window with it). */
  onScheduled: ((tick: Tick) => void) | null = null;

  /** Schedule `fire` at absolute `tick` (not before now). */
  at(tick: Tick, fire: (tick: Tick) => void, label = "event", priority: number = EventPriority.DEVICE): SimEvent {
    if (!Number.isFinite(tick)) throw new RangeError(`event queue: ${label}: tick ${tick} is not finite`);
    const t = Math.max(Math.ceil(tick), this.now);
    const ev = new SimEvent(t, priority, this.seq++, fire, label);
    this.push(ev);
    this.onScheduled?.(t);
    return ev;
  }

  /** Schedule `fire` `delay` ticks after now. */
  after(delay: Tick, fire: (tick: Tick) => void, label = "event", priority: number = EventPriority.DEVICE): SimEvent {
    return this.at(this.now + delay, fire, label, priority);
  }

  cancel(ev: SimEvent | null | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** Tick of the earliest pending event, or Infinity. */
  nextTick(): Tick {
    this.dropCancelled();
    return this.heap.length === 0 ? Infinity : this.heap[0].tick;
  }

  /** Number of pending (not cancelled) events. */
  get size(): number {
    let n = 0;
    for (const e of this.heap) if (!e.cancelled) n++;
    return n;
  }

  /** Fire, in order, every event whose tick is <= `tick` (including ones scheduled while doing so);
   * afterwards now = max(now, tick). */
  runUntil(tick: Tick): void {
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (top === undefined || top.tick > tick) break;
      this.pop();
      if (top.tick > this.now) this.now = top.tick;
      this.fired++;
      top.fire(top.tick);
    }
    if (tick > this.now) this.now = tick;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    let k = h.length;
    h.push(ev);
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!before(ev, h[p])) break;
      h[k] = h[p];
      k = p;
    }
    h[k] = ev;
  }

  private pop(): SimEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let k = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * k + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[k] = h[c];
        k = c;
      }
      h[k] = last;
    }
    return top;
  }
}
