// One saga per service at a time: a second deploy, stop or start of the same service while one
// runs is refused (Aborted), never queued behind it.
export class ServiceBusyError extends Error {
  readonly code = "ABORTED";

  constructor(service: string, what: string) {
    super(`service ${service} is busy: ${what} is running; retry when it ends`);
    this.name = "ServiceBusyError";
  }
}

export class ServiceLocks {
  readonly #held = new Map<string, string>();

  /** Takes the service's lock or throws ServiceBusyError; returns the release function. */
  acquire(service: string, what: string): () => void {
    const holder = this.#held.get(service);
    if (holder !== undefined) throw new ServiceBusyError(service, holder);
    this.#held.set(service, what);
    return () => this.#held.delete(service);
  }

  /** Whether a saga of the service is running. */
  busy(service: string): boolean {
    return this.#held.has(service);
  }

  async with<T>(service: string, what: string, fn: () => Promise<T>): Promise<T> {
    const release = this.acquire(service, what);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
