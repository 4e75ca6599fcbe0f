import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { backupDatabase, openDatabase } from "../../src/sqlite/index.js";
import { ensureBuilt } from "./built-library.js";
import { useTempDir } from "./temp-dir.js";
import { startWriter, type WriterProcess } from "./writer-process.js";

const migrations = [
  {
    version: 1,
    name: "create rows",
    up: "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)",
  },
];

describe("backupDatabase", () => {
  const tempDir = useTempDir();
  let writer: WriterProcess | undefined;
  beforeAll(() => ensureBuilt("sqlite"));
  afterEach(async () => {
    await writer?.kill();
  });

  it("copies a database while another process keeps writing to it", async () => {
    const path = join(tempDir(), "live.db");
    const dest = join(tempDir(), "backups", "live-copy.db");
    writer = startWriter(path);
    await writer.waitFor(300);

    const db = openDatabase(path, { migrations });
    const committedBefore = [...writer.committed];
    const meta = await backupDatabase(db, dest);
    const committedAfterStart = writer.committed.length;
    db.close();
    await writer.kill();

    expect(meta.remainingPages).toBe(0);
    expect(committedAfterStart).toBeGreaterThan(committedBefore.length); // it really wrote during the backup
    expect(readdirSync(join(tempDir(), "backups"))).toEqual(["live-copy.db"]); // no partial file left

    const restored = openDatabase(dest, { migrations });
    expect(restored.pragma("integrity_check", { simple: true })).toBe("ok");
    const ids = new Set(restored.prepare("SELECT id FROM rows").pluck().all() as number[]);
    expect(committedBefore.filter((id) => !ids.has(id))).toEqual([]);
    restored.close();
  });

  it("fails with the paths named and leaves nothing behind", async () => {
    const db = openDatabase(join(tempDir(), "a.db"), { migrations });
    const dest = join(tempDir(), "a.db", "inside-a-file.db"); // its "directory" is a file
    await expect(backupDatabase(db, dest)).rejects.toMatchObject({
      code: "BACKUP_FAILED",
      message: expect.stringContaining(`to ${dest} failed`),
    });
    expect(existsSync(`${dest}.partial-${process.pid}`)).toBe(false);
    db.close();
  });
});
