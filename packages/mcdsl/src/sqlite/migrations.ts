import type { Database } from "better-sqlite3";
import { DatabaseError } from "./errors.js";

/**
 * One step of a database's schema history. Versions count up from 1 with no gaps; a released
 * migration is never edited, a change is a new migration.
 */
export interface Migration {
  version: number;
  /** Said in errors and logs, e.g. "create records". */
  name: string;
  /**
   * SQL (may hold several statements) or a synchronous function. It runs inside a transaction, so
   * statements SQLite refuses there (VACUUM, PRAGMA foreign_keys/journal_mode) do not belong here.
   */
  up: string | ((db: Database) => void);
}

/** Checks the list's shape: versions 1, 2, 3, … in order, a name and an `up` each. */
export function validateMigrations(migrations: readonly Migration[], path: string): void {
  migrations.forEach((m, index) => {
    const where = `migration at index ${index}`;
    if (m.version !== index + 1) {
      throw new DatabaseError(
        "INVALID_MIGRATIONS",
        path,
        `${where} has version ${m.version}, expected ${index + 1}: versions must run 1, 2, 3, … in order without gaps`,
      );
    }
    if (typeof m.name !== "string" || m.name.trim() === "") {
      throw new DatabaseError("INVALID_MIGRATIONS", path, `${where} (version ${m.version}) has no name`);
    }
    if (typeof m.up !== "string" && typeof m.up !== "function") {
      throw new DatabaseError(
        "INVALID_MIGRATIONS",
        path,
        `migration ${m.version} (${m.name}): up must be SQL text or a function`,
      );
    }
  });
}

export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function tooNew(path: string, current: number, latest: number): DatabaseError {
  return new DatabaseError(
    "SCHEMA_TOO_NEW",
    path,
    `database ${path} is at schema version ${current} but this build knows only up to ${latest}; ` +
      "upgrade the binary or restore a backup",
  );
}

/** Refuses a file whose schema this build does not know (newer) or, if it cannot migrate, an older one. */
export function checkSchemaVersion(db: Database, path: string, latest: number, canMigrate: boolean): void {
  const current = schemaVersion(db);
  if (current > latest) throw tooNew(path, current, latest);
  if (!canMigrate && current < latest) {
    throw new DatabaseError(
      "SCHEMA_TOO_OLD",
      path,
      `database ${path} is at schema version ${current} but this build needs ${latest}; ` +
        "open it read-write once to migrate it",
    );
  }
}

/**
 * Applies the migrations the file lacks, all in one IMMEDIATE transaction together with the new
 * `user_version`: either the file reaches the latest version or it stays exactly as it was. The
 * version is read again inside the transaction, so two processes starting at once migrate once.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[], path: string): number {
  const latest = migrations.length;
  // Up to date (the usual start): no write lock, so opening a registry that another process is
  // writing to hard does not wait for, or time out on, its lock.
  if (schemaVersion(db) === latest) return latest;
  const run = db.transaction(() => {
    const current = schemaVersion(db);
    if (current > latest) throw tooNew(path, current, latest);
    for (const m of migrations.slice(current)) {
      try {
        if (typeof m.up === "string") {
          db.exec(m.up);
        } else {
          const result: unknown = m.up(db);
          // A transaction cannot wait for a promise: the work after the first await would escape it.
          if (result instanceof Promise) {
            result.catch(() => {});
            throw new Error("up() returned a promise; migrations must be synchronous");
          }
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new DatabaseError(
          "MIGRATION_FAILED",
          path,
          `database ${path}: migration ${m.version} (${m.name}) failed: ${reason}; ` +
            `nothing was changed, the schema stays at version ${current}`,
          { cause: err },
        );
      }
    }
    if (current < latest) db.pragma(`user_version = ${latest}`);
    return latest;
  });
  return run.immediate();
}
