// The record database's tables (numbered migrations, mcdsl/sqlite) and a records row as the store
// reads it.
import { outboxMigration } from "@mcp/mcdsl/events";
import type { Migration } from "@mcp/mcdsl/sqlite";
import type { DnsRecord, RecordData } from "./record.js";

export const migrations: Migration[] = [
  {
    version: 1,
    name: "create zones and records",
    up: `
      CREATE TABLE zones (
        name   TEXT PRIMARY KEY,
        serial INTEGER NOT NULL
      );
      CREATE TABLE records (
        id         TEXT PRIMARY KEY,
        zone       TEXT NOT NULL,
        name       TEXT NOT NULL,
        type       TEXT NOT NULL,
        ttl        INTEGER NOT NULL,
        data       TEXT NOT NULL,
        owner      TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      CREATE INDEX records_by_name ON records(name, type, id);
      CREATE INDEX records_by_zone ON records(zone, name, type, id);
      CREATE INDEX records_by_owner ON records(owner);
    `,
  },
  // Record events wait here, written with their change, until NATS has them (mcdsl/events outbox).
  outboxMigration(2),
];

export interface RecordRow {
  id: string;
  zone: string;
  name: string;
  type: string;
  ttl: number;
  data: string;
  owner: string;
  created_ms: number;
  updated_ms: number;
}

export function toRecord(row: RecordRow): DnsRecord {
  return {
    id: row.id,
    zone: row.zone,
    name: row.name,
    ttl: row.ttl,
    data: JSON.parse(row.data) as RecordData,
    owner: row.owner,
    createdAt: new Date(row.created_ms),
    updatedAt: new Date(row.updated_ms),
  };
}
