// The record store: records and zone serials in SQLite through mcdsl's openDatabase (WAL,
// synchronous=FULL, migrations). Every change raises its zone's SOA serial in the same transaction,
// and `onChange` (the DNS index) is called inside that transaction, so a change is served as soon
// as it is committed and a failed index update rolls the change back.
import { EventOutbox, type EventOutboxOptions } from "@mcp/mcdsl/events";
import { type Database, openDatabase, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";
import { monotonicFactory } from "ulidx";
import type { ZoneConfig } from "../config.js";
import { addToEntry, type NameEntry, type NameRecords, nameEntry, removeFromEntry } from "./name-records.js";
import type { DnsRecord, RecordData, RecordType, Zone } from "./record.js";
import { migrations, type RecordRow, toRecord } from "./schema.js";

// Monotonic: ids made in the same millisecond (a zone import) still sort in creation order, and
// only the first of them costs fresh randomness.
const ulid = monotonicFactory();

export interface RecordFilter {
  zone?: string;
  name?: string;
  type?: RecordType;
  owner?: string;
  /** Keyset pagination: records strictly after this (name, type, id). */
  after?: { name: string; type: string; id: string };
  limit?: number;
}

export type Change =
  | { kind: "created"; record: DnsRecord; zone: Zone }
  | { kind: "updated"; record: DnsRecord; previous: DnsRecord; zone: Zone }
  | { kind: "deleted"; record: DnsRecord; zone: Zone };

export class RecordStore {
  readonly #db: Database;
  readonly #zones = new Map<string, Zone>();
  /** Prepared once: preparing is most of the cost of a single-row change (a 100k-record import). */
  readonly #sql: StatementCache;
  /** Called inside each change's transaction; throwing rolls the change back. */
  onChange: (change: Change) => void = () => {};
  /**
   * The batch under way: its changes so far (to undo in the index), the zones whose serial rose, and
   * the records at the names read so far (kept current by its changes).
   */
  #batch: { changes: Change[]; raised: Set<string>; atName: Map<string, NameEntry> } | undefined;

  /**
   * `busyTimeoutMs`: how long opening, and then each change, waits for another process's write lock
   * (mcdsl's default: 5 s). `failFastWhenLocked`: once open, a change meeting the lock fails at once
   * (SQLITE_BUSY) instead: SQLite waits synchronously, so a server (DNS on the same event loop)
   * waits in its own way (api/errors.ts: runWhenUnlocked).
   */
  constructor(
    path: string,
    zones: ZoneConfig[],
    options: { busyTimeoutMs?: number; failFastWhenLocked?: boolean } = {},
  ) {
    this.#db = openDatabase(path, { migrations, busyTimeoutMs: options.busyTimeoutMs });
    this.#sql = statementCache(this.#db);
    const serialOf = this.#db.prepare<[string], { serial: number }>(
      "SELECT serial FROM zones WHERE name = ?",
    );
    const insertZone = this.#db.prepare("INSERT INTO zones (name, serial) VALUES (?, ?)");
    this.#db.transaction(() => {
      for (const z of zones) {
        let serial = serialOf.get(z.name)?.serial;
        if (serial === undefined) {
          serial = nextSerial(0);
          insertZone.run(z.name, serial);
        }
        this.#zones.set(z.name, {
          name: z.name,
          primaryNs: z.primary_ns,
          adminMailbox: z.admin_mailbox,
          ns: z.ns ?? [z.primary_ns],
          serial,
          refresh: z.refresh,
          retry: z.retry,
          expire: z.expire,
          negativeTtl: z.negative_ttl,
          defaultTtl: z.default_ttl,
          writers: z.writers,
        });
      }
      this.#moveIntoChildZones();
    })();
    if (options.failFastWhenLocked) this.#db.pragma("busy_timeout = 0");
  }

  /**
   * A zone configured inside another takes the parent's records at its names: DNS serves them from
   * the child, so the child's writers, not the parent's, may change them. Only when zones nest.
   */
  #moveIntoChildZones(): void {
    const nested = [...this.#zones.keys()].some(
      (z) => z.includes(".") && this.zoneFor(z.slice(z.indexOf(".") + 1)),
    );
    if (!nested) return;
    const move = this.#db.prepare("UPDATE records SET zone = ? WHERE id = ?");
    const rows = this.#db.prepare("SELECT id, zone, name FROM records").raw().all() as [
      string,
      string,
      string,
    ][];
    for (const [id, zone, name] of rows) {
      const longest = this.zoneFor(name);
      if (longest && longest.name !== zone && this.#zones.has(zone)) move.run(longest.name, id);
    }
  }

  get open(): boolean {
    return this.#db.open;
  }

  /**
   * Records that another connection to this database created and committed (an ImportZone run on a
   * worker thread): the zones' serials are read again, and every record reaches `onChange` in one
   * synchronous pass, so DNS goes from none of them to all of them.
   */
  adoptCreated(records: DnsRecord[]): void {
    const serialOf = this.#sql<[string], { serial: number }>("SELECT serial FROM zones WHERE name = ?");
    for (const name of new Set(records.map((r) => r.zone))) {
      const zone = this.#zones.get(name);
      const serial = serialOf.get(name)?.serial;
      if (zone && serial !== undefined) this.#zones.set(name, { ...zone, serial });
    }
    for (const record of records) {
      const zone = this.#zones.get(record.zone);
      if (zone) this.onChange({ kind: "created", record, zone });
    }
  }

  /** The event outbox in this database: events recorded inside batch() commit with its changes. */
  outbox(options: EventOutboxOptions): EventOutbox {
    return new EventOutbox(this.#db, options);
  }

  zones(): Zone[] {
    return [...this.#zones.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  zone(name: string): Zone | undefined {
    return this.#zones.get(name);
  }

  /** The longest configured zone that contains `name` (lower case, no trailing dot). */
  zoneFor(name: string): Zone | undefined {
    for (let n = name; ; ) {
      const zone = this.#zones.get(n);
      if (zone) return zone;
      const dot = n.indexOf(".");
      if (dot < 0) return undefined;
      n = n.slice(dot + 1);
    }
  }

  recordCount(zone: string): number {
    return this.#sql<[string], { n: number }>("SELECT count(*) AS n FROM records WHERE zone = ?").get(zone)!
      .n;
  }

  get(id: string): DnsRecord | undefined {
    const row = this.#sql<[string], RecordRow>("SELECT * FROM records WHERE id = ?").get(id);
    return row && toRecord(row);
  }

  /**
   * Every record of a configured zone with only what DNS needs, for building the index at start:
   * raw rows and no dates, so loading 100,000 records leaves little garbage behind.
   */
  *forIndex(): IterableIterator<Pick<DnsRecord, "id" | "zone" | "name" | "ttl" | "data">> {
    const rows = this.#db.prepare("SELECT id, zone, name, ttl, data FROM records").raw().iterate();
    for (const [id, zone, name, ttl, data] of rows as Iterable<[string, string, string, number, string]>) {
      if (this.#zones.has(zone)) yield { id, zone, name, ttl, data: JSON.parse(data) as RecordData };
    }
  }

  list(filter: RecordFilter): DnsRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    for (const key of ["zone", "name", "type", "owner"] as const) {
      const value = filter[key];
      if (value) {
        where.push(`${key} = ?`);
        args.push(value);
      }
    }
    if (filter.after) {
      where.push("(name, type, id) > (?, ?, ?)");
      args.push(filter.after.name, filter.after.type, filter.after.id);
    }
    const sql = `SELECT * FROM records ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY name, type, id LIMIT ?`;
    args.push(filter.limit ?? 1000);
    return this.#sql<(string | number)[], RecordRow>(sql)
      .all(...args)
      .map(toRecord);
  }

  /**
   * The records at a name (all types), for the API's RRset, CNAME and size rules. A batch reads a
   * name once and keeps it current: an import of thousands of records at one name read and compared
   * them all again for every line (a 4,000-line file held the event loop, DNS included, for a minute).
   */
  atName(name: string): NameRecords {
    const cached = this.#batch?.atName.get(name);
    if (cached) return cached;
    const entry = nameEntry(
      this.#sql<[string], RecordRow>("SELECT * FROM records WHERE name = ? ORDER BY type, id")
        .all(name)
        .map(toRecord),
    );
    this.#batch?.atName.set(name, entry);
    return entry;
  }

  /** The records of `zone` at `name` and below it (a delegation there would hide them). */
  atOrBelow(zone: string, name: string): DnsRecord[] {
    const suffix = `.${name}`;
    return this.#sql<[string, string, number, string], RecordRow>(
      "SELECT * FROM records WHERE zone = ? AND (name = ? OR substr(name, -?) = ?) ORDER BY name, type, id",
    )
      .all(zone, name, suffix.length, suffix)
      .map(toRecord);
  }

  create(input: { zone: string; name: string; ttl: number; data: RecordData; owner: string }): DnsRecord {
    const now = new Date();
    const record: DnsRecord = { id: ulid(), ...input, createdAt: now, updatedAt: now };
    return this.#change(record.zone, (zone) => {
      this.#sql(
        `INSERT INTO records (id, zone, name, type, ttl, data, owner, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        record.id,
        record.zone,
        record.name,
        record.data.type,
        record.ttl,
        JSON.stringify(record.data),
        record.owner,
        now.getTime(),
        now.getTime(),
      );
      this.#changed({ kind: "created", record, zone });
      return record;
    });
  }

  /** Replaces ttl and data; undefined when the record is gone. */
  update(id: string, ttl: number, data: RecordData): DnsRecord | undefined {
    const previous = this.get(id);
    if (!previous) return undefined;
    const record: DnsRecord = { ...previous, ttl, data, updatedAt: new Date() };
    return this.#change(record.zone, (zone) => {
      this.#sql("UPDATE records SET ttl = ?, data = ?, updated_ms = ? WHERE id = ?").run(
        ttl,
        JSON.stringify(data),
        record.updatedAt.getTime(),
        id,
      );
      this.#changed({ kind: "updated", record, previous, zone });
      return record;
    });
  }

  /** Removes a record; undefined when it was already gone. */
  delete(id: string): DnsRecord | undefined {
    const record = this.get(id);
    if (!record) return undefined;
    if (!this.#zones.has(record.zone)) {
      // Left in a zone no longer configured: DNS does not serve it and there is no serial to raise.
      this.#sql("DELETE FROM records WHERE id = ?").run(id);
      return record;
    }
    return this.#change(record.zone, (zone) => {
      this.#sql("DELETE FROM records WHERE id = ?").run(id);
      this.#changed({ kind: "deleted", record, zone });
      return record;
    });
  }

  /**
   * Runs several changes in one transaction (a zone import; a change and its event): all or nothing. Each change reaches
   * `onChange` as it is made; when `fn` throws, the transaction rolls back and `onChange` is given
   * the inverse of every change, newest first, so the index is as before. All of it is synchronous,
   * so no DNS query sees a half-done batch. Each zone's serial rises once per batch.
   */
  batch<T>(fn: () => T): T {
    if (this.#batch) throw new Error("batches do not nest");
    const zonesBefore = new Map(this.#zones);
    this.#batch = { changes: [], raised: new Set(), atName: new Map() };
    const { changes } = this.#batch;
    try {
      // IMMEDIATE: the write lock is taken (or waited for, busyTimeoutMs) before the first read, so
      // another process's write transaction makes this wait, not fail at once when it upgrades.
      return this.#db.transaction(fn).immediate();
    } catch (err) {
      for (const [name, zone] of zonesBefore) this.#zones.set(name, zone);
      for (const change of changes.reverse())
        this.onChange(inverse(change, zonesBefore.get(change.zone.name)!));
      throw err;
    } finally {
      this.#batch = undefined;
    }
  }

  close(): void {
    this.#db.close();
  }

  #changed(change: Change): void {
    this.onChange(change);
    this.#batch?.changes.push(change);
    const cached = this.#batch?.atName.get(change.record.name);
    if (!cached) return;
    if (change.kind !== "created") removeFromEntry(cached, change.record);
    if (change.kind !== "deleted") addToEntry(cached, change.record);
  }

  /** Raises the zone's serial and runs `write` in one transaction; the in-memory serial follows a commit. */
  #change<T>(zoneName: string, write: (zone: Zone) => T): T {
    const current = this.#zones.get(zoneName);
    if (!current) throw new Error(`zone "${zoneName}" is not configured`);
    const batch = this.#batch;
    const raise = !batch?.raised.has(zoneName);
    const zone = raise ? { ...current, serial: nextSerial(current.serial) } : current;
    const result = this.#db
      .transaction(() => {
        if (raise) this.#sql("UPDATE zones SET serial = ? WHERE name = ?").run(zone.serial, zone.name);
        return write(zone);
      })
      .immediate();
    this.#zones.set(zone.name, zone);
    batch?.raised.add(zoneName);
    return result;
  }
}

/**
 * The next SOA serial: the Unix time in seconds when that is ahead (so serials stay meaningful across
 * a lost database), else one more, wrapping as RFC 1982 serial arithmetic allows.
 */
export function nextSerial(serial: number): number {
  const now = Math.floor(Date.now() / 1000) >>> 0;
  const bumped = (serial + 1) >>> 0;
  return ((now - bumped) | 0) > 0 ? now : bumped;
}

/** The change that undoes `change`, with the zone as it was before the batch. */
function inverse(change: Change, zone: Zone): Change {
  switch (change.kind) {
    case "created":
      return { kind: "deleted", record: change.record, zone };
    case "deleted":
      return { kind: "created", record: change.record, zone };
    case "updated":
      return { kind: "updated", record: change.previous, previous: change.record, zone };
  }
}
