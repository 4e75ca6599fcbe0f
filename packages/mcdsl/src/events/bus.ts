import type { JsonObject } from "@bufbuild/protobuf";
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventData } from "./catalog.js";
import type { EventSource, McpEvent } from "./envelope.js";
import { EventsError, reasonOf } from "./errors.js";
import { type Published, type PublishOptions, publishEvent } from "./publish.js";
import { type ReplayOptions, replayEvents } from "./replay.js";
import { ensureStream, type StreamOptions, type StreamOutcome } from "./stream.js";
import { type SubscribeOptions, type Subscription, subscribeEvents } from "./subscribe.js";

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
  const where = servers.join(", ");

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: options.name,
      token: options.token,
      timeout: options.connectTimeoutMs ?? 5_000,
      // A platform service waits out a NATS restart, and is back soon after it.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
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
  try {
    const jsm = await jetstreamManager(nc);
    return new EventBus(nc, jsm, { app: options.app, node: options.node });
  } catch (err) {
    await nc.close();
    throw new EventsError(
      "NO_JETSTREAM",
      `NATS at ${where} does not offer JetStream (start nats-server with -js): ${reasonOf(err)}`,
      { cause: err },
    );
  }
}

/** The platform's event bus: stream MCP_EVENTS on mcp.>, envelope mcp.events.v1.Event. */
export class EventBus {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;
  #connected = true;

  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    readonly source: EventSource,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jsm.jetstream();
    void this.#watchStatus();
  }

  /**
   * False while the connection to NATS is down (the client reconnects by itself): a publisher can
   * keep its events for later at once instead of waiting out the publish timeout.
   */
  get connected(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect" || status.type === "staleConnection") this.#connected = false;
      else if (status.type === "reconnect") this.#connected = true;
    }
  }

  /** Creates or adjusts the MCP_EVENTS stream (file storage; 30 days by default). Idempotent. */
  ensureStream(options?: StreamOptions): Promise<StreamOutcome> {
    this.#open();
    return ensureStream(this.#jsm, options);
  }

  /**
   * Publishes an event and waits for JetStream to store it. Known types (see EventData) have their
   * data checked at compile time; any other valid mcp.* type takes a JSON object.
   */
  publish<T extends string>(type: T, data: EventData<T>, options?: PublishOptions): Promise<Published> {
    this.#open();
    return publishEvent(this.#js, this.source, type, data, options);
  }

  /** Starts a durable consumer: one that was down catches up from where it left off. */
  async subscribe<T = JsonObject>(options: SubscribeOptions<T>): Promise<Subscription> {
    this.#open();
    const inner = await subscribeEvents(this.#js, this.#jsm, options);
    const subscription: Subscription = {
      durable: inner.durable,
      stop: async () => {
        this.#subscriptions.delete(subscription);
        await inner.stop();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Past events in order (see ReplayOptions); `follow: true` keeps going with new ones. */
  replay<T = JsonObject>(options?: ReplayOptions): AsyncIterable<McpEvent<T>> {
    this.#open();
    return replayEvents<T>(this.#js, this.#jsm, options);
  }

  /** Stops every subscription (letting handlers finish) and drains the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    if (this.#nc.isClosed()) return;
    // Draining needs the server; during an outage there is nothing to drain to.
    if (this.#connected) await this.#nc.drain();
    else await this.#nc.close();
  }

  #open(): void {
    if (this.#closed) throw new EventsError("CLOSED", "the event bus is closed");
  }
}
