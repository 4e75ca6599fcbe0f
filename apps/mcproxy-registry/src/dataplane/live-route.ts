// A route as the data plane holds it: current backends (picked per connection or request) and the
// backends a SetBackend replaced, draining until their connections finish or the deadline passes.
import type { DrainingBackend, Route } from "../routes/types.js";
import { BackendState } from "./backend.js";

interface Draining {
  state: BackendState;
  deadline: Date;
  timer: NodeJS.Timeout;
}

export class LiveRoute {
  route: Route;
  #backends: BackendState[];
  #cumulative: number[] | undefined;
  #next = 0;
  readonly #draining = new Map<string, Draining>();

  constructor(route: Route) {
    this.route = route;
    this.#backends = route.backends.map((b) => new BackendState(b));
    this.#cumulative = weights(this.#backends);
  }

  /**
   * The backend for the next connection: round robin, or by weight when weights differ, passing
   * over backends marked down (and `avoid`, the one that just failed). When none is left, one of
   * them anyway: it may be back, and a refusal costs the client no more than no attempt.
   */
  pick(avoid?: BackendState): BackendState {
    const list = this.#backends;
    if (list.length === 1) return list[0]!;
    const now = Date.now();
    for (let i = 0; i < list.length; i++) {
      const backend = this.#choose(list);
      if (backend !== avoid && backend.isUp(now)) return backend;
    }
    return list.find((b) => b !== avoid && b.isUp(now)) ?? list.find((b) => b !== avoid) ?? list[0]!;
  }

  #choose(list: BackendState[]): BackendState {
    const cumulative = this.#cumulative;
    if (!cumulative) return list[this.#next++ % list.length]!;
    const ticket = Math.random() * cumulative[cumulative.length - 1]!;
    return list[cumulative.findIndex((c) => ticket < c)] ?? list[0]!;
  }

  /**
   * Switches to new backends at once. A backend kept in the new list keeps its connections; the
   * others drain: closed when idle, or cut after `drainMs`.
   */
  switchTo(route: Route, drainMs: number): void {
    const old = new Map(this.#backends.map((b) => [b.address, b]));
    this.route = route;
    this.#backends = route.backends.map((b) => {
      const kept = old.get(b.address) ?? this.#undrain(b.address);
      old.delete(b.address);
      return kept && kept.weight === b.weight ? kept : new BackendState(b);
    });
    this.#cumulative = weights(this.#backends);
    for (const state of old.values()) this.#drain(state, drainMs);
  }

  draining(): DrainingBackend[] {
    return [...this.#draining.values()].map((d) => ({
      address: d.state.address,
      weight: d.state.weight,
      deadline: d.deadline,
    }));
  }

  /** The route is gone: cut every connection, current and draining. */
  close(): void {
    for (const b of this.#backends) b.close();
    for (const address of [...this.#draining.keys()]) this.#undrain(address)?.close();
  }

  #drain(state: BackendState, drainMs: number): void {
    const timer = setTimeout(() => this.#undrain(state.address)?.close(), drainMs);
    timer.unref();
    this.#draining.set(state.address, { state, deadline: new Date(Date.now() + drainMs), timer });
    state.whenIdle(() => this.#undrain(state.address)?.close());
  }

  #undrain(address: string): BackendState | undefined {
    const d = this.#draining.get(address);
    if (!d) return undefined;
    clearTimeout(d.timer);
    this.#draining.delete(address);
    d.state.whenIdle(() => {});
    return d.state;
  }
}

function weights(list: BackendState[]): number[] | undefined {
  if (list.every((b) => b.weight === list[0]?.weight)) return undefined;
  let sum = 0;
  return list.map((b) => {
    sum += b.weight;
    return sum;
  });
}
