import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { BackupMetadata, Database } from "better-sqlite3";
import { DatabaseError } from "./errors.js";

/**
 * Copies a live database to `destPath` (SQLite's online backup) while it keeps serving reads and
 * writes. The copy is written beside the destination and renamed into place when complete, so
 * `destPath` never holds half a backup.
 */
export async function backupDatabase(db: Database, destPath: string): Promise<BackupMetadata> {
  const dest = resolve(destPath);
  const partial = `${dest}.partial-${process.pid}`;
  try {
    mkdirSync(dirname(dest), { recursive: true });
    removeQuietly(partial);
    // All remaining pages in one step after the first: a step-wise backup restarts whenever another
    // connection writes between steps, so a busy writer could keep it from ever finishing.
    const meta = await db.backup(partial, { progress: () => 0x7fffffff });
    renameSync(partial, dest);
    return meta;
  } catch (err) {
    removeQuietly(partial);
    const reason = err instanceof Error ? err.message : String(err);
    throw new DatabaseError("BACKUP_FAILED", db.name, `backup of ${db.name} to ${dest} failed: ${reason}`, {
      cause: err,
    });
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Nothing to remove, or nowhere to remove it from: the backup error says what went wrong.
  }
}
