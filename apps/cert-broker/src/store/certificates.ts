// Certificates and their state in SQLite (mcdsl/sqlite: WAL, synchronous=FULL, migrations). The PEMs
// live here too; private keys do not (they are 0600 files, see cert-files.ts). Plain TypeScript types:
// the API layer converts them to protobuf.

import { EventOutbox, type EventOutboxOptions, outboxMigration } from "@mcp/mcdsl/events";
import {
  type Database,
  type Migration,
  openDatabase,
  type StatementCache,
  statementCache,
} from "@mcp/mcdsl/sqlite";
import type { KeyType } from "../issuer/crypto.js";

/** What is stored; EXPIRING and EXPIRED are derived from the dates when read. */
export type StoredStatus = "valid" | "superseded" | "revoked";
export type Status = StoredStatus | "expiring" | "expired";

export interface CertificateRecord {
  serial: string;
  service: string;
  hostnames: string[];
  keyType: KeyType;
  clientAuth: boolean;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  status: StoredStatus;
  revokedAt?: Date;
  revocationReason?: number;
  renews?: string;
  replacedBy?: string;
  fingerprint: string;
  certPem: string;
  chainPem: string;
  /** When the scheduler renews it: two thirds of the lifetime, minus jitter. */
  renewAt: Date;
  /** After a failed renewal: when to try again. */
  retryAt?: Date;
  renewalFailures: number;
  lastError?: string;
  /** mcp.cert.expiring has been published for it. */
  expiringNotified: boolean;
}

export interface ListFilter {
  service?: string;
  hostname?: string;
  status?: Status;
  limit: number;
  /** Continue after this position (from the previous page). */
  after?: { issuedMs: number; serial: string };
}

const migrations: Migration[] = [
  {
    version: 1,
    name: "create certificates and certificate_hostnames",
    up: `
      CREATE TABLE certificates (
        serial            TEXT PRIMARY KEY,
        service           TEXT NOT NULL,
        key_type          TEXT NOT NULL,
        client_auth       INTEGER NOT NULL,
        issuer            TEXT NOT NULL,
        not_before_ms     INTEGER NOT NULL,
        not_after_ms      INTEGER NOT NULL,
        issued_ms         INTEGER NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('valid', 'superseded', 'revoked')),
        revoked_ms        INTEGER,
        revocation_reason INTEGER,
        renews            TEXT,
        replaced_by       TEXT,
        fingerprint       TEXT NOT NULL,
        cert_pem          TEXT NOT NULL,
        chain_pem         TEXT NOT NULL,
        renew_at_ms       INTEGER NOT NULL,
        retry_at_ms       INTEGER,
        renewal_failures  INTEGER NOT NULL DEFAULT 0,
        last_error        TEXT,
        expiring_notified INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX certificates_by_service ON certificates(service, status);
      CREATE INDEX certificates_by_issue ON certificates(issued_ms DESC, serial DESC);
      CREATE TABLE certificate_hostnames (
        serial   TEXT NOT NULL REFERENCES certificates(serial) ON DELETE CASCADE,
        hostname TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (serial, hostname)
      );
      CREATE INDEX certificate_hostnames_by_name ON certificate_hostnames(hostname);
    `,
  },
  // Certificate events wait here, written with their change, until NATS has them (mcdsl/events outbox).
  outboxMigration(2),
];

interface Row {
  serial: string;
  service: string;
  key_type: string;
  client_auth: number;
  issuer: string;
  not_before_ms: number;
  not_after_ms: number;
  issued_ms: number;
  status: StoredStatus;
  revoked_ms: number | null;
  revocation_reason: number | null;
  renews: string | null;
  replaced_by: string | null;
  fingerprint: string;
  cert_pem: string;
  chain_pem: string;
  renew_at_ms: number;
  retry_at_ms: number | null;
  renewal_failures: number;
  last_error: string | null;
  expiring_notified: number;
  hostnames: string;
}

const SELECT = `SELECT c.*, (SELECT group_concat(h.hostname, ' ') FROM
  (SELECT hostname FROM certificate_hostnames WHERE serial = c.serial ORDER BY position) h) AS hostnames
  FROM certificates c`;

export class CertificateStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(path: string) {
    this.#db = openDatabase(path, { migrations });
    this.#sql = statementCache(this.#db);
  }

  /** The event outbox in this database: events recorded inside transaction() commit with the change. */
  outbox(options: EventOutboxOptions): EventOutbox {
    return new EventOutbox(this.#db, options);
  }

  /** Runs `fn` in one transaction (a change and its event); the store's own writes nest inside. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** Stores a new certificate and marks `supersedes` as replaced by it, in one transaction. */
  insert(record: CertificateRecord, supersedes: string[]): void {
    this.#db.transaction(() => {
      this.#sql(
        `INSERT INTO certificates (serial, service, key_type, client_auth, issuer, not_before_ms, not_after_ms,
             issued_ms, status, renews, fingerprint, cert_pem, chain_pem, renew_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?, ?, ?)`,
      ).run(
        record.serial,
        record.service,
        record.keyType,
        record.clientAuth ? 1 : 0,
        record.issuer,
        record.notBefore.getTime(),
        record.notAfter.getTime(),
        record.issuedAt.getTime(),
        record.renews ?? null,
        record.fingerprint,
        record.certPem,
        record.chainPem,
        record.renewAt.getTime(),
      );
      const insertName = this.#sql(
        "INSERT INTO certificate_hostnames (serial, hostname, position) VALUES (?, ?, ?)",
      );
      for (const [i, name] of record.hostnames.entries()) insertName.run(record.serial, name, i);
      const supersede = this.#sql(
        "UPDATE certificates SET status = 'superseded', replaced_by = ? WHERE serial = ? AND status = 'valid'",
      );
      for (const serial of supersedes) supersede.run(record.serial, serial);
    })();
  }

  get(serial: string): CertificateRecord | undefined {
    const row = this.#sql<[string], Row>(`${SELECT} WHERE c.serial = ?`).get(serial);
    return row && toRecord(row);
  }

  /** Current (valid) certificates holding any of these hostnames, of any service. */
  currentFor(hostnames: string[]): CertificateRecord[] {
    if (hostnames.length === 0) return [];
    const marks = hostnames.map(() => "?").join(", ");
    // Prepared per call: its text varies with the number of names, so it is not cached.
    return this.#db
      .prepare<string[], Row>(
        `${SELECT} WHERE c.status = 'valid' AND c.serial IN
          (SELECT serial FROM certificate_hostnames WHERE hostname IN (${marks}))
         ORDER BY c.issued_ms DESC`,
      )
      .all(...hostnames)
      .map(toRecord);
  }

  /** Every current certificate, oldest first. */
  current(): CertificateRecord[] {
    return this.#sql<[], Row>(`${SELECT} WHERE c.status = 'valid' ORDER BY c.issued_ms`).all().map(toRecord);
  }

  list(filter: ListFilter, now: Date): CertificateRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.service) {
      where.push("c.service = ?");
      args.push(filter.service);
    }
    if (filter.hostname) {
      where.push(
        "EXISTS (SELECT 1 FROM certificate_hostnames f WHERE f.serial = c.serial AND f.hostname = ?)",
      );
      args.push(filter.hostname);
    }
    const t = now.getTime();
    switch (filter.status) {
      case undefined:
        break;
      case "valid":
        where.push("c.status = 'valid' AND c.not_after_ms > ? AND c.renew_at_ms > ?");
        args.push(t, t);
        break;
      case "expiring":
        where.push("c.status = 'valid' AND c.not_after_ms > ? AND c.renew_at_ms <= ?");
        args.push(t, t);
        break;
      case "expired":
        where.push("c.status IN ('valid', 'superseded') AND c.not_after_ms <= ?");
        args.push(t);
        break;
      default:
        where.push("c.status = ?");
        args.push(filter.status);
    }
    if (filter.after) {
      where.push("(c.issued_ms < ? OR (c.issued_ms = ? AND c.serial < ?))");
      args.push(filter.after.issuedMs, filter.after.issuedMs, filter.after.serial);
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY c.issued_ms DESC, c.serial DESC LIMIT ?`;
    args.push(filter.limit);
    return this.#sql<(string | number)[], Row>(sql)
      .all(...args)
      .map(toRecord);
  }

  revoke(serial: string, reasonCode: number, at: Date): void {
    this.#sql(
      "UPDATE certificates SET status = 'revoked', revoked_ms = ?, revocation_reason = ? WHERE serial = ? AND status != 'revoked'",
    ).run(at.getTime(), reasonCode, serial);
  }

  /** Revoked certificates not yet expired: what the CRL lists. */
  revokedUnexpired(now: Date): CertificateRecord[] {
    return this.#sql<[number], Row>(
      `${SELECT} WHERE c.status = 'revoked' AND c.not_after_ms > ? ORDER BY c.revoked_ms`,
    )
      .all(now.getTime())
      .map(toRecord);
  }

  /** Superseded certificates not yet expired: their files for names they alone had may be left. */
  supersededUnexpired(now: Date): CertificateRecord[] {
    return this.#sql<[number], Row>(`${SELECT} WHERE c.status = 'superseded' AND c.not_after_ms > ?`)
      .all(now.getTime())
      .map(toRecord);
  }

  /** Current certificates whose renewal time (and retry time, after a failure) has come. */
  dueForRenewal(now: Date): CertificateRecord[] {
    const t = now.getTime();
    return this.#sql<[number, number], Row>(
      `${SELECT} WHERE c.status = 'valid' AND c.renew_at_ms <= ? AND (c.retry_at_ms IS NULL OR c.retry_at_ms <= ?)
         ORDER BY c.renew_at_ms`,
    )
      .all(t, t)
      .map(toRecord);
  }

  recordRenewalFailure(serial: string, error: string, retryAt: Date): void {
    this.#sql(
      "UPDATE certificates SET renewal_failures = renewal_failures + 1, last_error = ?, retry_at_ms = ? WHERE serial = ?",
    ).run(error, retryAt.getTime(), serial);
  }

  markExpiringNotified(serial: string): void {
    this.#sql("UPDATE certificates SET expiring_notified = 1 WHERE serial = ?").run(serial);
  }

  /** Every serial, for the start-up check of key files. */
  serials(): Set<string> {
    return new Set(
      this.#sql<[], { serial: string }>("SELECT serial FROM certificates")
        .all()
        .map((r) => r.serial),
    );
  }

  close(): void {
    this.#db.close();
  }
}

function toRecord(row: Row): CertificateRecord {
  const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  const date = (ms: number | null) => (ms === null ? undefined : new Date(ms));
  return {
    serial: row.serial,
    service: row.service,
    hostnames: row.hostnames ? row.hostnames.split(" ") : [],
    keyType: row.key_type as KeyType,
    clientAuth: row.client_auth === 1,
    issuer: row.issuer,
    notBefore: new Date(row.not_before_ms),
    notAfter: new Date(row.not_after_ms),
    issuedAt: new Date(row.issued_ms),
    status: row.status,
    revokedAt: date(row.revoked_ms),
    revocationReason: opt(row.revocation_reason),
    renews: opt(row.renews),
    replacedBy: opt(row.replaced_by),
    fingerprint: row.fingerprint,
    certPem: row.cert_pem,
    chainPem: row.chain_pem,
    renewAt: new Date(row.renew_at_ms),
    retryAt: date(row.retry_at_ms),
    renewalFailures: row.renewal_failures,
    lastError: opt(row.last_error),
    expiringNotified: row.expiring_notified === 1,
  };
}

/** The status a reader sees at `now`. */
export function statusAt(record: CertificateRecord, now: Date): Status {
  if (record.status === "revoked") return "revoked";
  if (record.notAfter.getTime() <= now.getTime()) return "expired";
  if (record.status === "superseded") return "superseded";
  return record.renewAt.getTime() <= now.getTime() ? "expiring" : "valid";
}
