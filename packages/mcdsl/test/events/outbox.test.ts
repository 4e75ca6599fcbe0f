// The outbox with a real SQLite file and a real nats-server: events recorded with their change are
// published after the commit; through an outage they wait (the change is not held up), then reach
// JetStream once each, in order; a process that stops with events left publishes them next time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { EventOutbox, type McpEvent, outboxMigration } from "../../src/events/index.js";
import { openDatabase } from "../../src/sqlite/index.js";
import { useNats } from "./use-nats.js";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function database() {
  const dir = mkdtempSync(join(tmpdir(), "mcdsl-outbox-"));
  dirs.push(dir);
  const path = join(dir, "app.db");
  const open = () =>
    openDatabase(path, {
      migrations: [
        { version: 1, name: "things", up: "CREATE TABLE things (name TEXT PRIMARY KEY);" },
        outboxMigration(2),
      ],
    });
  return { open };
}

async function stored(bus: { replay(): AsyncIterable<McpEvent> }): Promise<McpEvent[]> {
  const out: McpEvent[] = [];
  for await (const e of bus.replay()) out.push(e);
  return out;
}

describe("EventOutbox", () => {
  const nats = useNats();

  it("publishes an event recorded in the change's transaction, after the commit, with its subject", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const db = database().open();
    const outbox = new EventOutbox(db, { bus, logger });
    db.transaction(() => {
      db.prepare("INSERT INTO things VALUES ('a')").run();
      outbox.record("mcp.thing.added", { name: "a" }, { subject: "a.example" });
    })();
    await outbox.flush();
    const events = await stored(bus);
    expect(events.map((e) => [e.type, e.subject, e.data])).toEqual([
      ["mcp.thing.added", "a.example", { name: "a" }],
    ]);
    expect(outbox.pending).toBe(0);
    db.close();
  });

  it("records nothing for a change that rolls back", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const db = database().open();
    const outbox = new EventOutbox(db, { bus, logger });
    expect(() =>
      db.transaction(() => {
        outbox.record("mcp.thing.added", { name: "b" });
        throw new Error("the change fails");
      })(),
    ).toThrow("the change fails");
    expect(outbox.pending).toBe(0);
    await outbox.flush();
    expect(await stored(bus)).toEqual([]);
    db.close();
  });

  it("publishes a large batch (several publishes in flight at once) in the order recorded, each once", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const db = database().open();
    const outbox = new EventOutbox(db, { bus, logger, waitMs: 10_000 });
    const names = Array.from({ length: 500 }, (_, i) => `n${i}`);
    // One change with many events, as a zone import makes.
    db.transaction(() => {
      for (const name of names) outbox.record("mcp.thing.added", { name });
    })();
    await outbox.flush();
    expect(outbox.pending).toBe(0);
    const events = await stored(bus);
    expect(events.map((e) => e.data.name)).toEqual(names);
    // In the stream's order, the ids (ULIDs, monotonic as recorded) ascend too.
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort());
    await outbox.close();
    db.close();
  });

  it("keeps events through a NATS outage without holding the caller, then publishes each once, in order", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const db = database().open();
    // A retry far off: only the reconnection can send the events in time.
    const outbox = new EventOutbox(db, { bus, logger, retryMs: 60_000, waitMs: 500 });
    await nats.server().down();
    // The client learns of the loss from its socket, a moment after the server is gone.
    await expect.poll(() => bus.connected).toBe(false);
    const startedAt = Date.now();
    for (const name of ["c1", "c2", "c3"]) {
      outbox.record("mcp.thing.added", { name });
      await outbox.flush();
    }
    // The bus knows the connection is down: no flush waits (not even waitMs, let alone the
    // publish timeout), and the events are kept. (Waiting would take 3 × waitMs = 1.5 s; the bound
    // leaves a busy machine room.)
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(bus.connected).toBe(false);
    expect(outbox.pending).toBe(3);
    await nats.server().up();
    const deadline = Date.now() + 10_000;
    while (outbox.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(outbox.pending).toBe(0);
    expect((await stored(bus)).map((e) => e.data.name)).toEqual(["c1", "c2", "c3"]);
    await outbox.close();
    db.close();
  });

  it("closes at once during an outage, keeping what it could not publish", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const db = database().open();
    const outbox = new EventOutbox(db, { bus, logger, retryMs: 200 });
    await nats.server().down();
    outbox.record("mcp.thing.added", { name: "f" });
    await outbox.flush();
    const startedAt = Date.now();
    await outbox.close();
    await bus.close();
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    expect(outbox.pending).toBe(1);
    db.close();
    await nats.server().up();
  });

  it("publishes what a stopped process left, on the next start, with the first id and time", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const { open } = database();
    const first = open();
    // Recorded, never flushed: the process died between its commit and the publish.
    new EventOutbox(first, { bus, logger }).record("mcp.thing.added", { name: "d" });
    const recorded = first.prepare("SELECT id, time_ms FROM event_outbox").get() as {
      id: string;
      time_ms: number;
    };
    first.close();

    const second = open();
    await new EventOutbox(second, { bus, logger }).flush();
    const [event] = await stored(bus);
    expect(event?.id).toBe(recorded.id);
    expect(event?.time.getTime()).toBe(recorded.time_ms);
    // Published again (a lost acknowledgement): JetStream keeps it once.
    await bus.publish(
      "mcp.thing.added",
      { name: "d" },
      { id: recorded.id, time: new Date(recorded.time_ms) },
    );
    expect(await stored(bus)).toHaveLength(1);
    second.close();
  });

  it("records without a bus when recordOnly (another connection's writer), for the outbox with the bus to publish", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const { open } = database();
    const publisher = open();
    const outbox = new EventOutbox(publisher, { bus, logger });
    // A second connection, as a worker thread's: it records in its transaction, never publishes.
    const writer = open();
    const recorder = new EventOutbox(writer, { recordOnly: true, logger });
    writer.transaction(() => {
      writer.prepare("INSERT INTO things VALUES ('f')").run();
      recorder.record("mcp.thing.added", { name: "f" });
    })();
    await recorder.flush();
    expect(await stored(bus)).toEqual([]);
    expect(outbox.pending).toBe(1);
    await outbox.flush();
    expect((await stored(bus)).map((e) => e.data)).toEqual([{ name: "f" }]);
    expect(outbox.pending).toBe(0);
    writer.close();
    publisher.close();
  });

  it("records nothing without a bus (no [events] servers)", () => {
    const db = database().open();
    const outbox = new EventOutbox(db, { logger });
    outbox.record("mcp.thing.added", { name: "e" });
    expect(outbox.pending).toBe(0);
    db.close();
  });
});
