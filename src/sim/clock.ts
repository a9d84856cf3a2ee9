/**
 * What a device sees of time (shared/DESIGN.md §4): the current tick, the tick rate, and the event
 * queue to schedule its own future (a timer expiring, a transfer completing).
 *
 * During a core's access to a device, now() is that core's exact time (its local clock at the
 * instruction doing the access), which may run ahead of the queue by up to one quantum; the machine
 * provides that clock. QueueClock is the plain version for devices driven by the queue alone (tests).
 */
import { EventPriority, type EventQueue, type SimEvent, type Tick } from "./event-queue.ts";

export interface Clock {
  /** Current simulated time in ticks (core cycles). */
  now(): Tick;
  /** Ticks per second: the core clock frequency of the CPU profile. */
  readonly hz: number;
  /** Schedule `fire` at absolute `tick` (clamped to the queue's present). */
  at(tick: Tick, fire: (tick: Tick) => void, label?: string, priority?: number): SimEvent;
  cancel(ev: SimEvent | null | undefined): void;
}

/** Ticks for a duration in nanoseconds at `hz` ticks per second (rounded to the nearest tick). */
export function nsToTicks(ns: number, hz: number): Tick {
  return Math.round((ns * hz) / 1e9);
}

/** Nanoseconds of `ticks` at `hz`. */
export function ticksToNs(ticks: Tick, hz: number): number {
  return (ticks * 1e9) / hz;
}

export class QueueClock implements Clock {
  constructor(readonly queue: EventQueue, readonly hz: number) {}

  now(): Tick {
    return this.queue.now;
  }

  at(tick: Tick, fire: (tick: Tick) => void, label?: string, priority: number = EventPriority.DEVICE): SimEvent {
    return this.queue.at(tick, fire, label, priority);
  }

  cancel(ev: SimEvent | null | undefined): void {
    this.queue.cancel(ev);
  }
}
