// The note store: notes and their tags in SQLite, through mcdsl's openDatabase (WAL, synchronous=FULL,
// migrations). Plain TypeScript types here; the API layer converts them to protobuf at the edge.
import { EventOutbox, type EventOutboxOptions, outboxMigration } from "@mcp/mcdsl/events";
import { type Database, type Migration, openDatabase } from "@mcp/mcdsl/sqlite";
import { ulid } from "ulidx";

export interface Note {
  id: string;
  author: string;
  text: string;
  tags: string[];
  createdAt: Date;
}

export interface NoteFilter {
  author?: string;
  tag?: string;
  limit?: number;
}

const migrations: Migration[] = [
  {
    version: 1,
    name: "create notes and note_tags",
    up: `
      CREATE TABLE notes (
        id         TEXT PRIMARY KEY,
        author     TEXT NOT NULL,
        text       TEXT NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE TABLE note_tags (
        note_id TEXT NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
        tag     TEXT NOT NULL,
        PRIMARY KEY (note_id, tag)
      );
      CREATE INDEX note_tags_by_tag ON note_tags(tag);
    `,
  },
  // mcp.note.* events wait here, written with their change, until NATS has them.
  outboxMigration(2),
];

interface NoteRow {
  id: string;
  author: string;
  text: string;
  created_ms: number;
  tags: string | null;
}

export class NoteStore {
  readonly #db: Database;

  constructor(path: string) {
    this.#db = openDatabase(path, { migrations });
  }

  /** The event outbox in this database: events recorded in a transaction() commit with it. */
  outbox(options: EventOutboxOptions): EventOutbox {
    return new EventOutbox(this.#db, options);
  }

  /** Runs `fn` in one transaction (better-sqlite3's: it nests, and rolls back on throw). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  create(author: string, text: string, tags: string[]): Note {
    const note: Note = { id: ulid(), author, text, tags: [...new Set(tags)].sort(), createdAt: new Date() };
    this.#db.transaction(() => {
      this.#db
        .prepare("INSERT INTO notes (id, author, text, created_ms) VALUES (?, ?, ?, ?)")
        .run(note.id, note.author, note.text, note.createdAt.getTime());
      this.#writeTags(note.id, note.tags);
    })();
    return note;
  }

  get(id: string): Note | undefined {
    const row = this.#db.prepare<[string], NoteRow>(`${SELECT_NOTE} WHERE n.id = ?`).get(id);
    return row && toNote(row);
  }

  list(filter: NoteFilter): Note[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.author) {
      where.push("n.author = ?");
      args.push(filter.author);
    }
    if (filter.tag) {
      where.push("EXISTS (SELECT 1 FROM note_tags f WHERE f.note_id = n.id AND f.tag = ?)");
      args.push(filter.tag);
    }
    const sql = `${SELECT_NOTE} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY n.id LIMIT ?`;
    args.push(filter.limit ?? 1000);
    return this.#db
      .prepare<(string | number)[], NoteRow>(sql)
      .all(...args)
      .map(toNote);
  }

  /** Replaces text and tags; returns undefined when the note does not exist. */
  update(id: string, text: string, tags: string[]): Note | undefined {
    const changed = this.#db.transaction(() => {
      const result = this.#db.prepare("UPDATE notes SET text = ? WHERE id = ?").run(text, id);
      if (result.changes === 0) return false;
      this.#db.prepare("DELETE FROM note_tags WHERE note_id = ?").run(id);
      this.#writeTags(id, [...new Set(tags)]);
      return true;
    })();
    return changed ? this.get(id) : undefined;
  }

  delete(id: string): boolean {
    return this.#db.prepare("DELETE FROM notes WHERE id = ?").run(id).changes > 0;
  }

  close(): void {
    this.#db.close();
  }

  #writeTags(id: string, tags: string[]): void {
    const insert = this.#db.prepare("INSERT INTO note_tags (note_id, tag) VALUES (?, ?)");
    for (const tag of tags) insert.run(id, tag);
  }
}

const SELECT_NOTE = `SELECT n.id, n.author, n.text, n.created_ms,
  (SELECT group_concat(t.tag, char(31)) FROM (SELECT tag FROM note_tags WHERE note_id = n.id ORDER BY tag) t) AS tags
  FROM notes n`;

function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    author: row.author,
    text: row.text,
    tags: row.tags ? row.tags.split("\u001f") : [],
    createdAt: new Date(row.created_ms),
  };
}
