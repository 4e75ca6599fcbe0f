// The things open right now (a backend's exchanges and connections, the connections with a
// deadline), for a membership that changes on every request or connection.
//
// Not a JavaScript Set, on purpose. Once a Set has lived long enough to sit in V8's old generation
// (after an idle minute, or the first full collection), every rehash that add/delete churn causes
// leaves the obsolete table pointing at its successor, and the young-generation collector counts
// a dead old table as alive: each member added since the last full collection then survives and
// is promoted with everything it holds. Measured in the proxy: 1.3 KB of every HTTP/1.1 request
// promoted, four times the scavenge time, a full collection every two seconds, 35-43 µs of CPU per
// request instead of 31-35. Here the members sit in an array, a member removed is replaced by the
// last one, and each member keeps its own position: no table, nothing left behind.

/**
 * Where a member keeps its position. A class whose instances join an OpenSet on a hot path
 * declares it (`[OPEN_SLOT]: number | undefined = undefined`), so that joining does not change
 * the object's shape.
 */
export const OPEN_SLOT: unique symbol = Symbol("open-set slot");

/** What an OpenSet holds: its position is kept on it (one OpenSet at a time). */
export interface OpenSetMember {
  [OPEN_SLOT]?: number | undefined;
}

export class OpenSet<T extends OpenSetMember> {
  readonly #members: T[] = [];

  get size(): number {
    return this.#members.length;
  }

  add(member: T): void {
    const slot = member[OPEN_SLOT];
    if (slot !== undefined && this.#members[slot] === member) return;
    if (slot !== undefined) throw new Error("OpenSet: the member belongs to another set");
    member[OPEN_SLOT] = this.#members.length;
    this.#members.push(member);
  }

  /** Removes `member`; false when it was not in the set. */
  delete(member: T): boolean {
    const slot = member[OPEN_SLOT];
    if (slot === undefined || this.#members[slot] !== member) return false;
    member[OPEN_SLOT] = undefined;
    const last = this.#members.pop()!;
    if (last !== member) {
      this.#members[slot] = last;
      last[OPEN_SLOT] = slot;
    }
    return true;
  }

  has(member: T): boolean {
    const slot = member[OPEN_SLOT];
    return slot !== undefined && this.#members[slot] === member;
  }

  /** A copy of the members (they may leave the set while the caller goes through them). */
  toArray(): T[] {
    return this.#members.slice();
  }

  /**
   * Calls `visit` on each member, from the last: the member visited may leave the set meanwhile
   * (the last one, visited already, takes its place). When a visit removes others, one may be
   * visited twice or left for the next time.
   */
  forEach(visit: (member: T) => void): void {
    for (let i = this.#members.length - 1; i >= 0; i--) {
      const member = this.#members[i];
      if (member !== undefined) visit(member);
      if (i > this.#members.length) i = this.#members.length;
    }
  }

  clear(): void {
    for (const member of this.#members) member[OPEN_SLOT] = undefined;
    this.#members.length = 0;
  }
}
