// Timeouts for many connections with one timer: each connection keeps a deadline (a number), and a
// sweep every quarter second expires the ones past it. Setting a deadline per request is then an
// assignment, where a Node timer per request (or socket.setTimeout, refreshed on every read and
// write) costs a timer-list update each time. The price is a resolution of SWEEP_MS.

import { OpenSet, type OpenSetMember } from "../open-set.js";

export interface HasDeadline extends OpenSetMember {
  /** performance.now() after which `expire` is called; Infinity for none. */
  deadline: number;
  expire(): void;
}

const SWEEP_MS = 250;

export class Deadlines<T extends HasDeadline = HasDeadline> {
  readonly #items = new OpenSet<T>();
  #timer: NodeJS.Timeout | undefined;

  /** What is watched now (for a shutdown that has to reach every connection). */
  items(): T[] {
    return this.#items.toArray();
  }

  add(item: T): void {
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  delete(item: T): void {
    this.#items.delete(item);
    if (this.#items.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    const now = performance.now();
    this.#items.forEach((item) => {
      if (item.deadline <= now) {
        item.deadline = Number.POSITIVE_INFINITY;
        item.expire();
      }
    });
  }

  close(): void {
    this.#items.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
