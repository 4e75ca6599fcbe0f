import type { JsonObject } from "@bufbuild/protobuf";
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventData } from "./catalog.js";
import type { EventSource, McpEvent } from "./envelope.js";
import { EventsError, reasonOf } from "./errors.js";
import { type Published, type PublishOptions, publishEvent } from "./publish.js";
import { type ReplayOptions, replayEvents } from "./replay.js";
import { ensureStream, type StreamOptions, type StreamOutcome } from "./stream.js";
import { reportToStderr, type SubscribeOptions, type Subscription, subscribeEvents } from "./subscribe.js";

export interface EventBusOptions {
  /** NATS URLs, e.g. "nats://127.0.0.1:4222" (several for a cluster). */
  servers: string | string[];
  /** The connection's name, shown by NATS monitoring, e.g. "mcns@node1". */
  name: string;
  /** Stamped on every event this bus publishes. */
  app: string;
  node: string;
  token?: string;
  /** How long the first connection may take (default 5 s). Later, the client reconnects forever. */
  connectTimeoutMs?: number;
}

/**
 * Connects to NATS and checks that JetStream answers. Fails with UNREACHABLE (naming the URLs),
 * UNAUTHORIZED or NO_JETSTREAM.
 */
export async function connectEvents(options: EventBusOptions): Promise<EventBus> {
  const servers = checkOptions(options);
  const link = await openLink(options, servers, false);
  return new EventBus(link, { app: options.app, node: options.node });
}

/**
 * A bus that connects in the background (keeping on until NATS answers) and ensures the
 * MCP_EVENTS stream (default settings), so that an app
 * starts (and serves) whatever the start order: until then `connected` is false, `publish` fails
 * at once with UNREACHABLE (an outbox keeps the event), subscriptions start once connected, and
 * `ensureStream`/`replay` wait. `onLinked` hears the first connection (no argument), and each
 * attempt to set up JetStream that failed and will be tried again (`retrying` true): a NATS that
 * went down or was slow to answer right after the connection (a timeout) had left the bus without
 * events until the process restarted, its outbox growing. A NATS without JetStream is reported
 * the same way, again and again, until an operator starts it with -js.
 */
export function connectEventsInBackground(
  options: EventBusOptions,
  onLinked?: (err?: EventsError, retrying?: boolean) => void,
): EventBus {
  const servers = checkOptions(options);
  let stopped = false;
  let nc: NatsConnection | undefined;
  const link = (async () => {
    nc = await connectNats(options, servers, true);
    for (let wait = 500; ; wait = Math.min(2 * wait, 10_000)) {
      if (stopped) break;
      try {
        const l = await linkJetStream(nc, servers);
        // The stream is in place before the bus counts as connected: consumers and publishes need it.
        await ensureStream(l.jsm);
        return l;
      } catch (err) {
        if (stopped) break;
        onLinked?.(err instanceof EventsError ? err : new EventsError("UNREACHABLE", reasonOf(err)), true);
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
      }
    }
    await nc.close();
    throw new EventsError("CLOSED", "the event bus is closed");
  })();
  link.then(
    () => onLinked?.(),
    (err: EventsError) => {
      if (!stopped) onLinked?.(err);
    },
  );
  return new EventBus(link, { app: options.app, node: options.node }, () => {
    stopped = true;
    void nc?.close();
  });
}

function checkOptions(options: EventBusOptions): string[] {
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  for (const [field, value] of [
    ["app", options.app],
    ["node", options.node],
    ["name", options.name],
  ] as const) {
    if (typeof value !== "string" || value.trim() === "") {
      throw new EventsError("INVALID_OPTIONS", `connectEvents: ${field} must be a non-empty string`);
    }
  }
  if (servers.length === 0) throw new EventsError("INVALID_OPTIONS", "connectEvents: no NATS servers given");
  return servers;
}

interface Link {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
}

async function openLink(options: EventBusOptions, servers: string[], waitForServer: boolean): Promise<Link> {
  const nc = await connectNats(options, servers, waitForServer);
  try {
    return await linkJetStream(nc, servers);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

async function connectNats(
  options: EventBusOptions,
  servers: string[],
  waitForServer: boolean,
): Promise<NatsConnection> {
  const where = servers.join(", ");
  try {
    return await connect({
      servers,
      name: options.name,
      token: options.token,
      timeout: options.connectTimeoutMs ?? 5_000,
      // A platform service waits out a NATS restart, and is back soon after it.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: waitForServer,
    });
  } catch (err) {
    const unauthorized = err instanceof Error && err.name === "AuthorizationError";
    throw new EventsError(
      unauthorized ? "UNAUTHORIZED" : "UNREACHABLE",
      unauthorized
        ? `NATS at ${where} refused the credentials: ${reasonOf(err)}`
        : `cannot reach NATS at ${where}: ${reasonOf(err)}`,
      { cause: err },
    );
  }
}

/** JetStream on a connection; NO_JETSTREAM when it does not answer. */
async function linkJetStream(nc: NatsConnection, servers: string[]): Promise<Link> {
  try {
    const jsm = await jetstreamManager(nc);
    return { nc, jsm, js: jsm.jetstream() };
  } catch (err) {
    throw new EventsError(
      "NO_JETSTREAM",
      `NATS at ${servers.join(", ")} does not offer JetStream (start nats-server with -js): ${reasonOf(err)}`,
      { cause: err },
    );
  }
}

/** The platform's event bus: stream MCP_EVENTS on mcp.>, envelope mcp.events.v1.Event. */
export class EventBus {
  /** Set once connected (at once for connectEvents; later for a bus connecting in the background). */
  #link: Link | undefined;
  readonly #linked: Promise<Link>;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;
  #connected = false;

  constructor(
    link: Link | Promise<Link>,
    readonly source: EventSource,
    /** Stops a background connection still being set up (close() before it was linked). */
    private readonly stopConnecting?: () => void,
  ) {
    if (link instanceof Promise) {
      this.#linked = link;
      link.then(
        (l) => {
          if (this.#closed) return void l.nc.close();
          this.#use(l);
        },
        // A background connection that fails for good (no JetStream) is reported to its caller.
        () => {},
      );
    } else {
      this.#linked = Promise.resolve(link);
      this.#use(link);
    }
  }

  #use(link: Link): void {
    this.#link = link;
    this.#connected = true;
    void this.#watchStatus(link.nc);
    this.#tellConnected();
  }

  readonly #onConnected = new Set<() => void>();

  /** Calls `listener` each time the bus (re)connects: a publisher with events held back sends them. */
  onConnected(listener: () => void): void {
    this.#onConnected.add(listener);
  }

  #tellConnected(): void {
    for (const listener of this.#onConnected) listener();
  }

  /**
   * False until connected, and while the connection to NATS is down (the client reconnects by
   * itself): a publisher can keep its events for later at once instead of waiting out a timeout.
   */
  get connected(): boolean {
    return this.#link !== undefined && this.#connected && !this.#link.nc.isClosed();
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "staleConnection") this.#connected = false;
      else if (status.type === "reconnect") {
        this.#connected = true;
        this.#tellConnected();
      }
    }
  }

  /** Creates or adjusts the MCP_EVENTS stream (file storage; 30 days by default). Idempotent. */
  async ensureStream(options?: StreamOptions): Promise<StreamOutcome> {
    this.#open();
    return ensureStream((await this.#linked).jsm, options);
  }

  /**
   * Publishes an event and waits for JetStream to store it. Known types (see EventData) have their
   * data checked at compile time; any other valid mcp.* type takes a JSON object. Before the first
   * connection: UNREACHABLE at once.
   */
  publish<T extends string>(type: T, data: EventData<T>, options?: PublishOptions): Promise<Published> {
    this.#open();
    if (!this.#link) {
      return Promise.reject(
        new EventsError("UNREACHABLE", `event ${type} was not stored: not connected to NATS yet`),
      );
    }
    return publishEvent(this.#link.js, this.source, type, data, options);
  }

  /**
   * Starts a durable consumer: one that was down catches up from where it left off. Before the
   * first connection it is returned at once and starts when connected (stop() before that cancels it).
   */
  async subscribe<T = JsonObject>(options: SubscribeOptions<T>): Promise<Subscription> {
    this.#open();
    let inner: Subscription | undefined;
    let stopped = false;
    const starting = this.#linked.then(async (link) => {
      if (stopped || this.#closed) return;
      inner = await subscribeEvents(link.js, link.jsm, options);
      if (stopped) await inner.stop();
    });
    if (this.#link) await starting;
    else {
      const report = options.onError ?? reportToStderr;
      starting.catch((err: unknown) =>
        report(err instanceof EventsError ? err : new EventsError("UNREACHABLE", reasonOf(err))),
      );
    }
    const subscription: Subscription = {
      durable: options.durable,
      stop: async () => {
        stopped = true;
        this.#subscriptions.delete(subscription);
        await inner?.stop();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Past events in order (see ReplayOptions); `follow: true` keeps going with new ones. */
  replay<T = JsonObject>(options?: ReplayOptions): AsyncIterable<McpEvent<T>> {
    this.#open();
    if (this.#link) return replayEvents<T>(this.#link.js, this.#link.jsm, options);
    const linked = this.#linked;
    return {
      async *[Symbol.asyncIterator]() {
        const link = await linked;
        yield* replayEvents<T>(link.js, link.jsm, options);
      },
    };
  }

  /** Stops every subscription (letting handlers finish) and drains the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#link) this.stopConnecting?.();
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    const nc = this.#link?.nc;
    if (!nc || nc.isClosed()) return;
    // Draining needs the server; during an outage there is nothing to drain to.
    if (this.#connected) await nc.drain();
    else await nc.close();
  }

  #open(): void {
    if (this.#closed) throw new EventsError("CLOSED", "the event bus is closed");
  }
}
