import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { DatabaseError } from "./errors.js";
import { applyMigrations, checkSchemaVersion, type Migration, validateMigrations } from "./migrations.js";

export interface OpenDatabaseOptions {
  /** The schema history, oldest first (see {@link Migration}). */
  migrations: readonly Migration[];
  /** Open without writing: no migration, no WAL switch; the file must exist and be at the latest version. */
  readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * Why this Node cannot open a database, or undefined when it can. better-sqlite3 13's native
 * module, built for Node 24, kills an older Node with a segmentation fault and no message (a
 * Node 20 first on PATH did exactly that to mc-proxy), so the version is checked first.
 */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const major = Number(version.split(".")[0]);
  if (major >= 24) return undefined;
  return `SQLite needs Node 24 or later, and this is Node ${version} (${process.execPath}): put Node 24 first on PATH`;
}

/**
 * Opens (creating it and its directory if needed) the SQLite file at `path`, configured for a
 * registry, and brings its schema up to date:
 * - `journal_mode=WAL`: readers do not block the writer;
 * - `synchronous=FULL`: a committed transaction survives a power cut, not only a process crash
 *   (registries must not lose a write they acknowledged);
 * - `foreign_keys=ON`, and `busy_timeout` so concurrent writers wait instead of failing at once.
 * ":memory:" works too (for tests), without WAL.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions): Database {
  validateMigrations(options.migrations, path);
  const readonly = options.readonly ?? false;
  const inMemory = path === ":memory:";
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new DatabaseError(
      "OPEN_FAILED",
      path,
      `busyTimeoutMs must be a whole number ≥ 0, got ${busyTimeoutMs}`,
    );
  }

  const unsupported = unsupportedNode();
  if (unsupported)
    throw new DatabaseError("OPEN_FAILED", path, `cannot open database ${path}: ${unsupported}`);

  let db: Database;
  try {
    if (!inMemory && !readonly) mkdirSync(dirname(path), { recursive: true });
    db = new BetterSqlite3(path, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  } catch (err) {
    throw openFailed(path, err);
  }

  try {
    configure(db, path, readonly, inMemory);
    const latest = options.migrations.length;
    checkSchemaVersion(db, path, latest, !readonly);
    if (!readonly) applyMigrations(db, options.migrations, path);
    return db;
  } catch (err) {
    db.close();
    throw err instanceof DatabaseError ? err : openFailed(path, err);
  }
}

function configure(db: Database, path: string, readonly: boolean, inMemory: boolean): void {
  // Reading the schema first makes a file that is not a database fail here, with a clear message.
  db.pragma("schema_version");
  if (!readonly && !inMemory) {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      throw new DatabaseError(
        "OPEN_FAILED",
        path,
        `database ${path}: could not switch to WAL (journal_mode is ${mode})`,
      );
    }
  }
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
}

function openFailed(path: string, err: unknown): DatabaseError {
  const code = (err as NodeJS.ErrnoException).code;
  // mkdir's own words name the syscall, not the problem (a file where a folder should be...).
  const reason =
    code === "EEXIST" || code === "ENOTDIR"
      ? `a part of ${dirname(path)} is a file, not a directory`
      : code === "EACCES"
        ? `permission denied creating ${dirname(path)}`
        : err instanceof Error
          ? err.message
          : String(err);
  return new DatabaseError("OPEN_FAILED", path, `cannot open database ${path}: ${reason}`, { cause: err });
}
