// The deploy events not yet acknowledged by NATS (an outbox). A report is written here before it
// is published, with the ULID and time it is published with, and marked once JetStream acks it.
// At start-up the agent publishes again what a crash or a NATS outage left unacknowledged:
// JetStream drops a message whose id it already has, so each event is stored once.
import type { Database } from "@mcp/mcdsl/sqlite";

export interface PendingEvent {
  /** ULID: the event's id on NATS. */
  id: string;
  deployId: string;
  /** `mcp.deploy.<service>.<step>` */
  type: string;
  subject?: string;
  data: Record<string, unknown>;
  time: Date;
}

interface Row {
  id: string;
  deploy_id: string;
  type: string;
  subject: string | null;
  data_json: string;
  time_ms: number;
}

export class DeployEventStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  add(event: PendingEvent): void {
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO deploy_events (id, deploy_id, type, subject, data_json, time_ms)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        event.id,
        event.deployId,
        event.type,
        event.subject ?? null,
        JSON.stringify(event.data),
        event.time.getTime(),
      );
  }

  /** Events not acknowledged yet, oldest first (ULIDs sort by time). */
  unpublished(): PendingEvent[] {
    return this.#db
      .prepare<[], Row>("SELECT * FROM deploy_events WHERE published = 0 ORDER BY id")
      .all()
      .map((row) => ({
        id: row.id,
        deployId: row.deploy_id,
        type: row.type,
        subject: row.subject ?? undefined,
        data: JSON.parse(row.data_json) as Record<string, unknown>,
        time: new Date(row.time_ms),
      }));
  }

  markPublished(id: string): void {
    this.#db.prepare("UPDATE deploy_events SET published = 1 WHERE id = ?").run(id);
  }
}
