// Host-port leases (DESIGN.md section 5): a random port in the configured range that is not
// leased, not inside the kernel's ephemeral range and passes a bind check. The lease row is
// written BEFORE the bind check, so the primary key serializes concurrent requests (two deploys,
// even two processes, can never get one port) and the port is persisted before anything uses it.
import type { LeaseOwner, LeaseStore, PortLease } from "../store/leases.js";
import { canBind } from "./bind-check.js";
import { formatRange, type PortRange, readLocalPortRange } from "./local-range.js";

export const DEFAULT_PORT_RANGE: PortRange = { min: 10000, max: 60000 };

/** No port is left to lease: maps to Connect's ResourceExhausted. */
export class PortsExhaustedError extends Error {
  readonly code = "RESOURCE_EXHAUSTED";

  constructor(message: string) {
    super(message);
    this.name = "PortsExhaustedError";
  }
}

export interface PortAllocatorOptions {
  range?: PortRange;
  /** The kernel's ephemeral range to skip; default read from /proc, `null` to skip nothing. */
  localRange?: PortRange | null;
  /** Default: Math.random. */
  random?: () => number;
}

export class PortAllocator {
  readonly range: PortRange;
  readonly localRange: PortRange | undefined;
  readonly #leases: LeaseStore;
  readonly #random: () => number;

  constructor(leases: LeaseStore, options: PortAllocatorOptions = {}) {
    const range = options.range ?? DEFAULT_PORT_RANGE;
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1 || range.max > 65535) {
      throw new RangeError(`port range ${formatRange(range)} must lie within 1-65535`);
    }
    if (range.min > range.max) throw new RangeError(`port range ${formatRange(range)} is empty (min > max)`);
    this.range = range;
    this.localRange = options.localRange === null ? undefined : (options.localRange ?? readLocalPortRange());
    this.#leases = leases;
    this.#random = options.random ?? Math.random;
  }

  /** Leases one port for owner; PortsExhaustedError when none is left. */
  async lease(owner: LeaseOwner): Promise<PortLease> {
    const leased = this.#leases.leasedIn(this.range.min, this.range.max);
    const candidates = this.#candidates(leased);
    let busy = 0;
    let taken = 0;
    // A lazy Fisher-Yates shuffle: each step draws a random untried candidate.
    for (let remaining = candidates.length; remaining > 0; remaining--) {
      const pick = Math.floor(this.#random() * remaining);
      const port = candidates[pick]!;
      candidates[pick] = candidates[remaining - 1]!;
      if (!this.#leases.tryInsert(port, owner)) {
        taken++; // leased by a concurrent request since we read the set
        continue;
      }
      if (await canBind(port)) return this.#leases.get(port)!;
      this.#leases.release(port);
      busy++;
    }
    throw new PortsExhaustedError(this.#exhaustedMessage(owner, leased.size + taken, busy));
  }

  /** Leases a port for each owner, all or none. */
  async leaseAll(owners: LeaseOwner[]): Promise<PortLease[]> {
    const done: PortLease[] = [];
    try {
      for (const owner of owners) done.push(await this.lease(owner));
      return done;
    } catch (err) {
      for (const lease of done) this.#leases.release(lease.hostPort);
      throw err;
    }
  }

  release(hostPort: number): boolean {
    return this.#leases.release(hostPort);
  }

  /**
   * Start-up reclaim: releases every lease whose owner is gone (isOwnerAlive false) and returns
   * them. Run it after crashed deploys were recovered, so their leases are judged on the result.
   */
  reclaim(isOwnerAlive: (lease: PortLease) => boolean): PortLease[] {
    const gone = this.#leases.list().filter((lease) => !isOwnerAlive(lease));
    for (const lease of gone) this.#leases.release(lease.hostPort);
    return gone;
  }

  #candidates(leased: Set<number>): number[] {
    const out: number[] = [];
    const local = this.localRange;
    for (let port = this.range.min; port <= this.range.max; port++) {
      if (leased.has(port)) continue;
      if (local && port >= local.min && port <= local.max) continue;
      out.push(port);
    }
    return out;
  }

  #exhaustedMessage(owner: LeaseOwner, leased: number, busy: number): string {
    const what = `${owner.service}/${owner.component}${owner.route ? ` route ${owner.route}` : ""}`;
    const local = this.localRange
      ? `, the kernel's ephemeral range ${formatRange(this.localRange)} skipped`
      : "";
    return (
      `no free host port for ${what} in ${formatRange(this.range)}${local}: ${leased} leased, ` +
      `${busy} in use by other processes; widen [ports] range or stop a service`
    );
  }
}
