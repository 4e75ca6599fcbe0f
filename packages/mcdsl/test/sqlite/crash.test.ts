import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/sqlite/index.js";
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

describe("a writer killed with SIGKILL", () => {
  const tempDir = useTempDir();
  let writer: WriterProcess | undefined;
  beforeAll(() => ensureBuilt("sqlite"));
  afterEach(async () => {
    await writer?.kill();
  });

  it("loses no row whose commit had returned", async () => {
    const path = join(tempDir(), "crash.db");
    writer = startWriter(path);
    await writer.waitFor(300);
    await writer.kill();
    expect(writer.child.signalCode).toBe("SIGKILL");

    const printed = [...writer.committed];
    const db = openDatabase(path, { migrations });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const stored = new Set(db.prepare("SELECT id FROM rows").pluck().all() as number[]);
    const missing = printed.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(printed.length);
    db.close();
  });
});
