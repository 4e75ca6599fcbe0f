import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseError, type Migration, openDatabase, unsupportedNode } from "../../src/sqlite/index.js";
import { useTempDir } from "./temp-dir.js";

const migrations: Migration[] = [
  {
    version: 1,
    name: "create owners",
    up: "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
  },
  {
    version: 2,
    name: "create records",
    up: "CREATE TABLE records (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES owners(id))",
  },
];

describe("openDatabase", () => {
  const tempDir = useTempDir();

  it("sets WAL, synchronous=FULL, foreign keys and the default 5 s busy timeout", () => {
    const db = openDatabase(join(tempDir(), "a.db"), { migrations });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("synchronous", { simple: true })).toBe(2); // 2 = FULL
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    db.close();
  });

  it("enforces foreign keys", () => {
    const db = openDatabase(join(tempDir(), "a.db"), { migrations });
    expect(() => db.prepare("INSERT INTO records (owner_id) VALUES (42)").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it("takes a configured busy timeout", () => {
    const db = openDatabase(join(tempDir(), "a.db"), { migrations, busyTimeoutMs: 1234 });
    expect(db.pragma("busy_timeout", { simple: true })).toBe(1234);
    db.close();
  });

  it("creates missing parent directories", () => {
    const path = join(tempDir(), "deep", "er", "registry.db");
    openDatabase(path, { migrations }).close();
    expect(existsSync(path)).toBe(true);
  });

  it("keeps WAL mode for later connections of the same file", () => {
    const path = join(tempDir(), "a.db");
    openDatabase(path, { migrations }).close();
    const again = openDatabase(path, { migrations, readonly: true });
    expect(again.pragma("journal_mode", { simple: true })).toBe("wal");
    again.close();
  });

  it("opens read-only without writing", () => {
    const path = join(tempDir(), "a.db");
    const rw = openDatabase(path, { migrations });
    rw.prepare("INSERT INTO owners (name) VALUES ('alice')").run();
    rw.close();
    const ro = openDatabase(path, { migrations, readonly: true });
    expect(ro.prepare("SELECT name FROM owners").pluck().all()).toEqual(["alice"]);
    expect(() => ro.prepare("INSERT INTO owners (name) VALUES ('bob')").run()).toThrow(/readonly/);
    ro.close();
  });

  it("refuses a read-only open of a missing file, naming it", () => {
    const path = join(tempDir(), "missing.db");
    expect(() => openDatabase(path, { migrations, readonly: true })).toThrow(
      expect.objectContaining({ code: "OPEN_FAILED", message: expect.stringContaining(path) }),
    );
    expect(existsSync(path)).toBe(false);
  });

  it("refuses a read-only open of a schema older than the code (it cannot migrate)", () => {
    const path = join(tempDir(), "a.db");
    openDatabase(path, { migrations: migrations.slice(0, 1) }).close();
    expect(() => openDatabase(path, { migrations, readonly: true })).toThrow(
      expect.objectContaining({ code: "SCHEMA_TOO_OLD" }),
    );
  });

  it("refuses a file that is not a database, naming it", () => {
    const path = join(tempDir(), "notes.db");
    writeFileSync(path, "these are not the pages you are looking for ".repeat(100));
    let error: unknown;
    try {
      openDatabase(path, { migrations });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({ code: "OPEN_FAILED", path });
    expect((error as Error).message).toMatch(/cannot open database .*notes\.db: file is not a database/);
  });

  it("works in memory (for tests), without WAL", () => {
    const db = openDatabase(":memory:", { migrations });
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    db.close();
  });

  it("rejects a bad busy timeout", () => {
    expect(() => openDatabase(join(tempDir(), "a.db"), { migrations, busyTimeoutMs: -1 })).toThrow(
      /busyTimeoutMs must be a whole number/,
    );
  });
});

describe("unsupportedNode", () => {
  it("accepts Node 24 and later, and refuses older ones with a message naming the version", () => {
    expect(unsupportedNode("24.0.0")).toBeUndefined();
    expect(unsupportedNode("25.1.2")).toBeUndefined();
    expect(unsupportedNode(process.versions.node)).toBeUndefined();
    expect(unsupportedNode("20.20.2")).toMatch(
      /needs Node 24 or later, and this is Node 20\.20\.2 \(.+\): put Node 24 first on PATH/,
    );
    expect(unsupportedNode("garbage")).toMatch(/this is Node garbage/);
  });
});
