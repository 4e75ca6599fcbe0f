import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase, statementCache } from "../../src/sqlite/index.js";
import { ensureBuilt } from "./built-library.js";
import { useTempDir } from "./temp-dir.js";

const migrations = [
  { version: 1, name: "create rows", up: "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL)" },
];

describe("statementCache", () => {
  const tempDir = useTempDir();
  beforeAll(() => ensureBuilt("sqlite"));

  it("prepares each SQL text once per database, and the statement works on every use", () => {
    const db = openDatabase(join(tempDir(), "a.db"), { migrations });
    const sql = statementCache(db);
    const insert = sql("INSERT INTO rows (name) VALUES (?)");
    expect(sql("INSERT INTO rows (name) VALUES (?)")).toBe(insert);
    for (const name of ["a", "b", "c"]) sql("INSERT INTO rows (name) VALUES (?)").run(name);
    const byName = sql<[string], { id: number; name: string }>("SELECT * FROM rows WHERE name = ?");
    expect(byName).not.toBe(insert);
    expect(byName.get("b")).toEqual({ id: 2, name: "b" });
    expect(sql<[string], { id: number }>("SELECT * FROM rows WHERE name = ?").get("c")?.id).toBe(3);
    // Another database gets statements of its own.
    const other = openDatabase(join(tempDir(), "b.db"), { migrations });
    expect(statementCache(other)("INSERT INTO rows (name) VALUES (?)")).not.toBe(insert);
    other.close();
    db.close();
  });

  // What it is for: a prepare() per call leaves compiled statements in the C heap. 2,000 lookups and
  // inserts, each way, in a fresh process (so other tests' allocations do not count).
  it("keeps the C heap flat where a prepare per call grows it by megabytes", () => {
    const growth = (mode: string) =>
      Number(
        execFileSync(
          process.execPath,
          ["--expose-gc", join(import.meta.dirname, "fixtures", "statement-heap.mjs"), tempDir(), mode],
          { encoding: "utf8" },
        ).trim(),
      );
    const perCall = growth("per-call");
    const cached = growth("cached");
    expect(perCall).toBeGreaterThan(4096);
    expect(cached).toBeLessThan(1024);
  });
});
