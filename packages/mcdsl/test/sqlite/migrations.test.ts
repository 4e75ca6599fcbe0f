import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type Migration, openDatabase, schemaVersion } from "../../src/sqlite/index.js";
import { useTempDir } from "./temp-dir.js";

const v1: Migration = {
  version: 1,
  name: "create services",
  up: "CREATE TABLE services (name TEXT PRIMARY KEY, image TEXT NOT NULL)",
};
const v2: Migration = {
  version: 2,
  name: "add ports",
  up: `CREATE TABLE ports (port INTEGER PRIMARY KEY, service TEXT NOT NULL REFERENCES services(name));
       CREATE INDEX ports_by_service ON ports (service);`,
};
const v3: Migration = {
  version: 3,
  name: "backfill tags",
  up: (db) => {
    db.exec("ALTER TABLE services ADD COLUMN tag TEXT");
    db.prepare("UPDATE services SET tag = substr(image, instr(image, ':') + 1)").run();
  },
};

function tables(db: Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
}

describe("migrations", () => {
  const tempDir = useTempDir();
  const dbPath = () => join(tempDir(), "registry.db");

  it("brings a new file to the latest version", () => {
    const db = openDatabase(dbPath(), { migrations: [v1, v2, v3] });
    expect(schemaVersion(db)).toBe(3);
    expect(tables(db)).toEqual(["ports", "services"]);
    db.close();
  });

  it("upgrades an existing file step by step and keeps its rows", () => {
    const first = openDatabase(dbPath(), { migrations: [v1] });
    first.prepare("INSERT INTO services VALUES ('hello', 'hello:1.2')").run();
    first.close();

    const second = openDatabase(dbPath(), { migrations: [v1, v2, v3] });
    expect(schemaVersion(second)).toBe(3);
    expect(second.prepare("SELECT name, image, tag FROM services").all()).toEqual([
      { name: "hello", image: "hello:1.2", tag: "1.2" },
    ]);
    second.close();

    // Opening again at the same version runs nothing (v3 would fail: the column exists).
    const third = openDatabase(dbPath(), { migrations: [v1, v2, v3] });
    expect(schemaVersion(third)).toBe(3);
    third.close();
  });

  it("rolls back every migration of a run when one fails, and names the failing one", () => {
    openDatabase(dbPath(), { migrations: [v1] }).close();
    const broken: Migration = { version: 3, name: "add broken index", up: "CREATE INDEX x ON nowhere (y)" };

    expect(() => openDatabase(dbPath(), { migrations: [v1, v2, broken] })).toThrow(
      expect.objectContaining({
        code: "MIGRATION_FAILED",
        message: expect.stringMatching(
          /migration 3 \(add broken index\) failed: no such table: main\.nowhere; nothing was changed, the schema stays at version 1/,
        ),
      }),
    );

    const db = openDatabase(dbPath(), { migrations: [v1] });
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(["services"]); // v2's table was rolled back with the failure
    db.close();
  });

  it("refuses a database newer than the code", () => {
    openDatabase(dbPath(), { migrations: [v1, v2, v3] }).close();
    expect(() => openDatabase(dbPath(), { migrations: [v1, v2] })).toThrow(
      expect.objectContaining({
        code: "SCHEMA_TOO_NEW",
        message: `database ${dbPath()} is at schema version 3 but this build knows only up to 2; upgrade the binary or restore a backup`,
      }),
    );
  });

  it.each([
    ["a gap", [v1, v3], /migration at index 1 has version 3, expected 2/],
    ["not starting at 1", [v2], /migration at index 0 has version 2, expected 1/],
    ["out of order", [v2, v1], /migration at index 0 has version 2, expected 1/],
    ["a duplicate", [v1, v1], /migration at index 1 has version 1, expected 2/],
    ["no name", [{ ...v1, name: " " }], /migration at index 0 \(version 1\) has no name/],
  ])("rejects a list with %s before touching the file", (_, list, message) => {
    expect(() => openDatabase(dbPath(), { migrations: list })).toThrow(
      expect.objectContaining({ code: "INVALID_MIGRATIONS", message: expect.stringMatching(message) }),
    );
    expect(existsSync(dbPath())).toBe(false);
  });

  it("refuses an async migration, which a transaction cannot wait for", () => {
    const asyncStep = {
      version: 1,
      name: "async step",
      up: async (db: Database) => {
        db.exec("CREATE TABLE t (x)");
      },
    } as unknown as Migration;
    expect(() => openDatabase(dbPath(), { migrations: [asyncStep] })).toThrow(
      /migration 1 \(async step\) failed: up\(\) returned a promise/,
    );
    const db = openDatabase(dbPath(), { migrations: [] });
    expect(tables(db)).toEqual([]);
    db.close();
  });
});
