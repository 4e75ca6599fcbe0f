// mcdsl/sqlite: SQLite files for registries (better-sqlite3, WAL, synchronous=FULL, numbered migrations).
// Transactions: use better-sqlite3's own `db.transaction(fn)`; it nests and rolls back on throw.
export type { Database, Statement } from "better-sqlite3";
export { backupDatabase } from "./backup.js";
export { DatabaseError, type DatabaseErrorCode } from "./errors.js";
export { type Migration, schemaVersion } from "./migrations.js";
export { type OpenDatabaseOptions, openDatabase, unsupportedNode } from "./open.js";
export { type StatementCache, statementCache } from "./statements.js";
