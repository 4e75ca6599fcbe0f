import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { connectEvents, type EventBus, type EventBusOptions } from "../../src/events/index.js";
import { type NatsServer, startNatsServer } from "../../src/testing/index.js";

export interface NatsFixture {
  server(): NatsServer;
  /** A bus on the test's server, closed after the test. */
  bus(options?: Partial<EventBusOptions>): Promise<EventBus>;
  /** A plain NATS connection (no mcdsl), closed after the test. */
  raw(): Promise<NatsConnection>;
}

/**
 * One real nats-server per test file; each test starts with no MCP_EVENTS stream (deleted before it)
 * and gets its own connections, closed after it.
 */
export function useNats(): NatsFixture {
  let server: NatsServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    const nc = await connect({ servers: server!.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete("MCP_EVENTS").catch(() => false);
    await nc.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  return {
    server: () => server!,
    async bus(options = {}) {
      const bus = await connectEvents({
        servers: server!.url,
        name: "test",
        app: "tester",
        node: "node1",
        ...options,
      });
      cleanups.push(() => bus.close());
      return bus;
    },
    async raw() {
      const nc = await connect({ servers: server!.url });
      cleanups.push(() => nc.close());
      return nc;
    },
  };
}

/** Gathers what a handler receives; `waitFor(n)` resolves once n items have arrived. */
export function collector<T>(): {
  items: T[];
  add: (item: T) => void;
  waitFor: (n: number, ms?: number) => Promise<T[]>;
} {
  const items: T[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    items,
    add(item) {
      items.push(item);
      for (const w of waiters.filter((w) => items.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    async waitFor(n, ms = 10_000) {
      if (items.length < n) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ n, resolve })),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`got ${items.length} of ${n} items within ${ms} ms`)),
              ms,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      }
      return items.slice(0, n);
    },
  };
}
