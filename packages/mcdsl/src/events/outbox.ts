// A transactional outbox: an app records an event in the SQLite transaction that makes the change
// it reports, and publishes it after the commit. An event NATS did not acknowledge (an outage, a
// crash between the commit and the publish) stays recorded and is published again later, in order,
// with its first id and time, so JetStream keeps it once within its de-duplication window. A change
// the API acknowledged is never left without its event, and a NATS outage never fails the change.
import type { Database, Statement } from "better-sqlite3";
import type { Logger } from "pino";
import { monotonicFactory } from "ulidx";
import type { Migration } from "../sqlite/migrations.js";
import type { EventBus } from "./bus.js";
import type { EventData } from "./catalog.js";

/** The outbox's table, as a migration of the app's own database (give it the next version). */
export function outboxMigration(version: number): Migration {
  return {
    version,
    name: "event outbox",
    up: `
      CREATE TABLE event_outbox (
        id        TEXT PRIMARY KEY,
        type      TEXT NOT NULL,
        subject   TEXT,
        deploy_id TEXT,
        data      TEXT NOT NULL,
        time_ms   INTEGER NOT NULL
      );
    `,
  };
}

export interface EventOutboxOptions {
  /** Without a bus (no [events] servers) nothing is recorded, unless `recordOnly`. */
  bus?: EventBus;
  /**
   * Records without a bus, and never publishes: for a writer on another thread (a worker's own
   * connection) whose events the outbox with the bus, on the same database, publishes.
   */
  recordOnly?: boolean;
  logger: Logger;
  /** After a failed publish, the next attempt (default 2 s). */
  retryMs?: number;
  /** How long flush() waits for the publish before it returns (default 2 s; it goes on after). */
  waitMs?: number;
}

interface Row {
  id: string;
  type: string;
  subject: string | null;
  deploy_id: string | null;
  data: string;
  time_ms: number;
}

const ulid = monotonicFactory();
/** Publishes in flight at once while draining (JetStream keeps their order: one connection). */
const WINDOW = 32;

export class EventOutbox {
  readonly #insert: Statement;
  readonly #oldest: Statement<[], Row>;
  readonly #delete: Statement;
  readonly #count: Statement<[], { n: number }>;
  #draining: Promise<void> | undefined;
  /** Another pass is wanted (a flush came while a drain ran). */
  #again = false;
  #retry: NodeJS.Timeout | undefined;
  /** Set while NATS refuses: flush() then returns at once, the retry timer carries on. */
  #failing = false;
  #closed = false;

  constructor(
    db: Database,
    private readonly options: EventOutboxOptions,
  ) {
    this.#insert = db.prepare(
      "INSERT INTO event_outbox (id, type, subject, deploy_id, data, time_ms) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#oldest = db.prepare("SELECT * FROM event_outbox ORDER BY id LIMIT 100");
    this.#delete = db.prepare("DELETE FROM event_outbox WHERE id = ?");
    this.#count = db.prepare("SELECT count(*) AS n FROM event_outbox");
    // Back from an outage (or connected late): what waits goes out now, not at the next retry.
    options.bus?.onConnected(() => {
      if (!this.#closed && this.pending > 0) void this.#drain();
    });
  }

  /** Records an event: call it inside the transaction that makes the change, then flush(). */
  record<T extends string>(
    type: T,
    data: EventData<T>,
    options: { subject?: string; deployId?: string } = {},
  ): void {
    if (!this.options.bus && !this.options.recordOnly) return;
    this.#insert.run(
      ulid(),
      type,
      options.subject ?? null,
      options.deployId ?? null,
      JSON.stringify(data),
      Date.now(),
    );
  }

  /** Events recorded and not yet acknowledged by JetStream. */
  get pending(): number {
    return this.#count.get()?.n ?? 0;
  }

  /**
   * Publishes what is recorded, oldest first, and resolves when that is done or after `waitMs`,
   * whichever comes first (at once while NATS is failing): the caller's answer never waits on an
   * outage, and what is left is retried every `retryMs`.
   */
  async flush(): Promise<void> {
    if (!this.options.bus || this.#closed) return;
    const draining = this.#drain();
    if (this.#failing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      draining,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.waitMs ?? 2_000);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Stops retrying; waits a moment (1 s at most) for a publish in progress. What is left is
   * published by the next start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#draining,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * One drain at a time. A flush that comes while one runs asks for another pass: checked with no
   * await between the check and the end, so an event recorded at the last moment is not left.
   */
  #drain(): Promise<void> {
    this.#again = true;
    this.#draining ??= (async () => {
      try {
        while (this.#again && !this.#closed) {
          this.#again = false;
          if (!(await this.#publishAll())) break;
        }
      } finally {
        this.#draining = undefined;
      }
    })();
    return this.#draining;
  }

  /**
   * Publishes every recorded event, oldest first; false when NATS refused one (retried later).
   * Up to WINDOW publishes are in flight at once: they leave on the one connection in the order
   * they were recorded and JetStream stores them in that order, while a 5,000-record import's
   * events no longer wait on one round trip each.
   */
  async #publishAll(): Promise<boolean> {
    const { bus } = this.options;
    if (!bus) return true;
    for (;;) {
      const rows = this.#oldest.all();
      if (rows.length === 0 || this.#closed) break;
      for (let at = 0; at < rows.length; at += WINDOW) {
        const window = rows.slice(at, at + WINDOW);
        const results = await Promise.allSettled(window.map((row) => this.#publish(row)));
        // Closed meanwhile (the database may be closing): the rows stay, published again next time.
        if (this.#closed) return true;
        // What JetStream acknowledged is done; one it refused is kept and sent again with its id.
        results.forEach((r, i) => {
          if (r.status === "fulfilled") this.#delete.run(window[i]!.id);
        });
        const refused = results.find((r) => r.status === "rejected");
        if (refused) return this.#refused((refused as PromiseRejectedResult).reason);
      }
    }
    if (this.#failing) this.options.logger.info("events published again after the outage");
    this.#failing = false;
    return true;
  }

  #publish(row: Row): Promise<unknown> {
    const bus = this.options.bus!;
    // Known to be down: no attempt (it would wait out the publish timeout), keep for later.
    if (!bus.connected) return Promise.reject(new Error("not connected to NATS"));
    return bus.publish(row.type, JSON.parse(row.data) as EventData<string>, {
      id: row.id,
      time: new Date(row.time_ms),
      subject: row.subject ?? undefined,
      deployId: row.deploy_id ?? undefined,
    });
  }

  /** NATS refused an event: warn once per outage and retry later. */
  #refused(err: unknown): false {
    if (!this.#failing) {
      this.options.logger.warn(
        { err: (err as Error).message, pending: this.pending },
        "events not published: kept, and retried until NATS takes them",
      );
    }
    this.#failing = true;
    this.#scheduleRetry();
    return false;
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#drain();
    }, this.options.retryMs ?? 2_000);
    this.#retry.unref();
  }
}
