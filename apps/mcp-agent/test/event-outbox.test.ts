// Deploy events in the registry's event outbox, on a real SQLite file and a real nats-server. An
// agent upgraded from schema version 2 (its own deploy_events table) with events NATS never took
// must still publish them, each once, with the id, time, subject and deployId they were made with.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectEvents, type EventBus, type McpEvent } from "@mcp/mcdsl/events";
import { createLogger } from "@mcp/mcdsl/log";
import { openDatabase } from "@mcp/mcdsl/sqlite";
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "../src/store/registry.js";
import { migrations } from "../src/store/schema.js";

const logger = createLogger({ app: "test", level: "silent" });
let nats: NatsServer;
let bus: EventBus;
let dir: string;
let path: string;

beforeAll(async () => {
  nats = await startNatsServer();
  bus = await connectEvents({ servers: nats.url, name: "test", app: "mcp-agent", node: "test" });
  await bus.ensureStream();
});

afterAll(async () => {
  await bus?.close();
  await nats?.stop();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-outbox-"));
  path = join(dir, "registry.db");
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function stored(service: string): Promise<McpEvent[]> {
  const out: McpEvent[] = [];
  for await (const e of bus.replay({ filter: `mcp.deploy.${service}.>` })) out.push(e);
  return out;
}

interface OldRow {
  id: string;
  type: string;
  subject: string | null;
  data: Record<string, string | string[]>;
  time_ms: number;
  published: 0 | 1;
}

// Rows as the version 2 agent wrote them (ULIDs made the way it made them).
const T0 = Date.parse("2026-11-20T10:00:00Z");
const oldRows = (service: string): OldRow[] => [
  {
    id: "01JDTZ0000AAAAAAAAAAAAAAAA",
    type: `mcp.deploy.${service}.started`,
    subject: null,
    data: { service, node: "n1", components: ["web"], status: "done", message: "deploying" },
    time_ms: T0,
    published: 1,
  },
  {
    id: "01JDTZ0000AAAAAAAAAAAAAAAB",
    type: `mcp.deploy.${service}.cert.ready`,
    subject: `${service}.example.org`,
    data: {
      service,
      hostname: `${service}.example.org`,
      serial: "0A",
      status: "done",
      message: "certificate",
    },
    time_ms: T0 + 1,
    published: 0,
  },
  {
    id: "01JDTZ0000AAAAAAAAAAAAAAAC",
    type: `mcp.deploy.${service}.container.started`,
    subject: null,
    data: { service, component: "web", container: `${service}-web`, status: "done", message: "started" },
    time_ms: T0 + 2,
    published: 0,
  },
];

/** A registry file at schema version 2 holding one deploy and its events, as the old agent left it. */
function versionTwoRegistry(service: string): void {
  const db = openDatabase(path, { migrations: migrations.slice(0, 2) });
  db.prepare(
    `INSERT INTO deploys (id, service, spec_json, outcome, started_ms) VALUES ('D1', ?, '{}', 'in_progress', ?)`,
  ).run(service, T0);
  const insert = db.prepare(
    `INSERT INTO deploy_events (id, deploy_id, type, subject, data_json, time_ms, published)
     VALUES (?, 'D1', ?, ?, ?, ?, ?)`,
  );
  for (const r of oldRows(service)) {
    insert.run(r.id, r.type, r.subject, JSON.stringify(r.data), r.time_ms, r.published);
  }
  expect(db.pragma("user_version", { simple: true })).toBe(2);
  db.close();
}

describe("deploy events in the event outbox", () => {
  it("an upgraded agent publishes the events the old one left unpublished, once each, as they were made", async () => {
    const service = "upgraded";
    versionTwoRegistry(service);
    const [started, cert, container] = oldRows(service);
    // The old build published the started event; it may also have published cert.ready and died
    // before it marked it: JetStream must keep that one once.
    for (const r of [started!, cert!]) {
      await bus.publish(r.type, r.data, {
        id: r.id,
        time: new Date(r.time_ms),
        subject: r.subject ?? undefined,
        deployId: "D1",
      });
    }

    const registry = new Registry(path);
    try {
      const tables = registry.db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%event%'",
        )
        .all()
        .map((t) => t.name);
      expect(tables).toEqual(["event_outbox"]);
      const outbox = registry.outbox({ bus, logger });
      expect(outbox.pending).toBe(2);
      await outbox.flush();
      expect(outbox.pending).toBe(0);
    } finally {
      registry.close();
    }

    const events = await stored(service);
    expect(
      events.map((e) => ({
        id: e.id,
        type: e.type,
        subject: e.subject,
        deployId: e.deployId,
        data: e.data,
        time: e.time.getTime(),
      })),
    ).toEqual(
      [started!, cert!, container!].map((r) => ({
        id: r.id,
        type: r.type,
        subject: r.subject ?? undefined,
        deployId: "D1",
        data: r.data,
        time: r.time_ms,
      })),
    );
  });

  it("a registry made by the current schema starts with an empty outbox and no deploy_events table", () => {
    const registry = new Registry(path);
    try {
      expect(registry.db.pragma("user_version", { simple: true })).toBe(migrations.length);
      expect(registry.outbox({ logger }).pending).toBe(0);
      expect(() => registry.db.prepare("SELECT * FROM deploy_events")).toThrow(/no such table/);
    } finally {
      registry.close();
    }
  });
});
