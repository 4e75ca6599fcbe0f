// A cap on client connections across all listeners, so that a flood of idle connections meets a
// clean refusal instead of running the process out of file descriptors: at EMFILE the admin API,
// the route database and certificate reloads would fail too. The default comes from the process's
// open-file limit, leaving room for backend sockets (an L4 connection holds two descriptors).
// A second cap per client address keeps one client from taking all of it, and so everyone's place.
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";

/** Descriptors kept for everything else: listeners, the database, the API, certificate files. */
const RESERVED_FDS = 256;
/** When the limit cannot be read (not Linux): nginx's default worker_connections × 10. */
const FALLBACK = 10_000;

/** The soft limit on open files (from /proc/self/limits), or undefined when unknown. */
export function openFileLimit(limits = "/proc/self/limits"): number | undefined {
  try {
    const line = readFileSync(limits, "utf8").match(/^Max open files\s+(\d+|unlimited)/m);
    if (!line) return undefined;
    return line[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** `max_connections = 0`: half of what the open-file limit leaves after the reserve. */
export function defaultMaxConnections(fileLimit: number | undefined): number {
  if (fileLimit === undefined) return FALLBACK;
  if (!Number.isFinite(fileLimit)) return 1_000_000;
  return Math.max(16, Math.floor((fileLimit - RESERVED_FDS) / 2));
}

/** `max_connections_per_client = 0`: a quarter of the whole cap (at least 64). */
export function defaultPerClient(max: number): number {
  return Math.max(64, Math.floor(max / 4));
}

export type Refusal = "over_capacity" | "client_over_capacity";

export class ConnectionGate {
  #open = 0;
  /** Open connections by client address: one address must not take the whole capacity. */
  readonly #byClient = new Map<string, number>();
  /** Called when the last connection closes (shutdown waits on it). */
  readonly #whenEmpty = new Set<() => void>();

  constructor(
    readonly max: number,
    readonly perClient: number,
  ) {}

  /** Client connections open now. */
  get open(): number {
    return this.#open;
  }

  /** Counts `socket` in until it closes; otherwise says which cap refuses it (the caller closes it). */
  admit(socket: Socket): Refusal | undefined {
    if (this.#open >= this.max) return "over_capacity";
    const client = socket.remoteAddress ?? "";
    const fromClient = this.#byClient.get(client) ?? 0;
    if (fromClient >= this.perClient) return "client_over_capacity";
    this.#byClient.set(client, fromClient + 1);
    this.#open++;
    socket.once("close", () => {
      const left = (this.#byClient.get(client) ?? 1) - 1;
      if (left === 0) this.#byClient.delete(client);
      else this.#byClient.set(client, left);
      if (--this.#open === 0) for (const done of this.#whenEmpty) done();
    });
    return undefined;
  }

  /** Resolves true when no connection is open, false when `ms` passes first. */
  drained(ms: number): Promise<boolean> {
    if (this.#open === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (empty: boolean) => {
        clearTimeout(timer);
        this.#whenEmpty.delete(done);
        resolve(empty);
      };
      const done = () => finish(true);
      const timer = setTimeout(() => finish(false), ms);
      this.#whenEmpty.add(done);
    });
  }
}
