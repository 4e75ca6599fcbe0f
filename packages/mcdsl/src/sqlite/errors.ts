/** What went wrong while opening, migrating or backing up a database. */
export type DatabaseErrorCode =
  /** The migration list in the code is malformed (a programming error, caught before touching the file). */
  | "INVALID_MIGRATIONS"
  /** The file's schema is newer than this build: the binary was downgraded or the file comes from elsewhere. */
  | "SCHEMA_TOO_NEW"
  /** A read-only open found a schema older than this build expects (it cannot migrate it). */
  | "SCHEMA_TOO_OLD"
  /** A migration threw; everything it and the migrations in the same run did was rolled back. */
  | "MIGRATION_FAILED"
  /** The file could not be opened or configured (missing, unreadable, not a database, WAL refused). */
  | "OPEN_FAILED"
  /** The online backup failed. */
  | "BACKUP_FAILED";

/** An error from mcdsl/sqlite: `code` for programs, `message` (naming the file) for people. */
export class DatabaseError extends Error {
  override name = "DatabaseError";
  constructor(
    readonly code: DatabaseErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
