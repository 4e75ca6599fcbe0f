// Routes in SQLite (mcdsl/sqlite: WAL, synchronous=FULL, migrations): what the API added survives a
// restart; bootstrap routes are kept in the same table, marked, and re-synced from the file at start.
import { EventOutbox, type EventOutboxOptions, outboxMigration } from "@mcp/mcdsl/events";
import {
  type Database,
  type Migration,
  openDatabase,
  type StatementCache,
  statementCache,
} from "@mcp/mcdsl/sqlite";
import { ulid } from "ulidx";
import type { Backend, Route, RouteSpec } from "../routes/types.js";

const migrations: Migration[] = [
  {
    version: 1,
    name: "create routes",
    up: `
      CREATE TABLE routes (
        id             TEXT PRIMARY KEY,
        listener_port  INTEGER NOT NULL,
        hostname       TEXT NOT NULL,
        mode           TEXT NOT NULL CHECK (mode IN ('l4', 'l7')),
        backends       TEXT NOT NULL,
        cert_file      TEXT,
        key_file       TEXT,
        cert_serial    TEXT NOT NULL DEFAULT '',
        owner          TEXT NOT NULL,
        bootstrap      INTEGER NOT NULL DEFAULT 0,
        proxy_protocol INTEGER NOT NULL DEFAULT 0,
        created_ms     INTEGER NOT NULL,
        updated_ms     INTEGER NOT NULL,
        UNIQUE (listener_port, hostname)
      );
    `,
  },
  // Route events wait here, written with their change, until NATS has them (mcdsl/events outbox).
  outboxMigration(2),
];

interface RouteRow {
  id: string;
  listener_port: number;
  hostname: string;
  mode: "l4" | "l7";
  backends: string;
  cert_file: string | null;
  key_file: string | null;
  cert_serial: string;
  owner: string;
  bootstrap: number;
  proxy_protocol: number;
  created_ms: number;
  updated_ms: number;
}

export interface RouteFilter {
  listenerPort?: number;
  hostname?: string;
  owner?: string;
}

export class RouteStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(path: string) {
    this.#db = openDatabase(path, { migrations });
    this.#sql = statementCache(this.#db);
  }

  get open(): boolean {
    return this.#db.open;
  }

  /** The event outbox in this database: events recorded in a transaction() commit with it. */
  outbox(options: EventOutboxOptions): EventOutbox {
    return new EventOutbox(this.#db, options);
  }

  insert(spec: RouteSpec, bootstrap = false): Route {
    const now = new Date();
    const route: Route = { ...spec, id: ulid(), bootstrap, createdAt: now, updatedAt: now };
    this.#sql(
      `INSERT INTO routes (id, listener_port, hostname, mode, backends, cert_file, key_file, cert_serial,
           owner, bootstrap, proxy_protocol, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      route.id,
      route.listenerPort,
      route.hostname,
      route.mode,
      JSON.stringify(route.backends),
      route.certificate?.certFile ?? null,
      route.certificate?.keyFile ?? null,
      route.certificate?.serial ?? "",
      route.owner,
      bootstrap ? 1 : 0,
      route.proxyProtocol ? 1 : 0,
      now.getTime(),
      now.getTime(),
    );
    return route;
  }

  get(id: string): Route | undefined {
    const row = this.#sql<[string], RouteRow>("SELECT * FROM routes WHERE id = ?").get(id);
    return row && toRoute(row);
  }

  find(listenerPort: number, hostname: string): Route | undefined {
    const row = this.#sql<[number, string], RouteRow>(
      "SELECT * FROM routes WHERE listener_port = ? AND hostname = ?",
    ).get(listenerPort, hostname);
    return row && toRoute(row);
  }

  list(filter: RouteFilter = {}): Route[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.listenerPort) {
      where.push("listener_port = ?");
      args.push(filter.listenerPort);
    }
    if (filter.hostname) {
      where.push("hostname = ?");
      args.push(filter.hostname);
    }
    if (filter.owner) {
      where.push("owner = ?");
      args.push(filter.owner);
    }
    const sql = `SELECT * FROM routes ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY listener_port, hostname`;
    return this.#sql<(string | number)[], RouteRow>(sql)
      .all(...args)
      .map(toRoute);
  }

  setBackends(id: string, backends: Backend[]): Route | undefined {
    this.#sql("UPDATE routes SET backends = ?, updated_ms = ? WHERE id = ?").run(
      JSON.stringify(backends),
      Date.now(),
      id,
    );
    return this.get(id);
  }

  setCertSerial(id: string, serial: string): void {
    this.#sql("UPDATE routes SET cert_serial = ?, updated_ms = ? WHERE id = ?").run(serial, Date.now(), id);
  }

  delete(id: string): boolean {
    return this.#sql("DELETE FROM routes WHERE id = ?").run(id).changes > 0;
  }

  /** Runs `fn` in one transaction (better-sqlite3's, so it nests and rolls back on throw). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  close(): void {
    this.#db.close();
  }
}

function toRoute(row: RouteRow): Route {
  return {
    id: row.id,
    listenerPort: row.listener_port,
    hostname: row.hostname,
    mode: row.mode,
    backends: JSON.parse(row.backends) as Backend[],
    certificate:
      row.cert_file && row.key_file
        ? { certFile: row.cert_file, keyFile: row.key_file, serial: row.cert_serial }
        : undefined,
    owner: row.owner,
    bootstrap: row.bootstrap === 1,
    proxyProtocol: row.proxy_protocol === 1,
    createdAt: new Date(row.created_ms),
    updatedAt: new Date(row.updated_ms),
  };
}
