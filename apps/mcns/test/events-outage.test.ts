// Record events through a NATS outage, with the built process and a real nats-server that the test
// stops and starts: record changes and zone imports do not fail or wait on NATS (DNS answers them at
// once), and each event reaches the stream once NATS is back, also when the process died before it
// could publish them.
import { connectEvents, type McpEvent } from "@mcp/mcdsl/events";
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, startMcns, ZONE } from "./harness.js";

// Each call waits at most 2 s on the publish (the outbox's waitMs), then answers.
const PROMPT_MS = 4_000;

let nats: NatsServer;
let mcns: Mcns;

beforeEach(async () => {
  nats = await startNatsServer();
  mcns = await startMcns({ extra: `[events]\nservers = ["${nats.url}"]\nnode = "test-node"\n` });
});

afterEach(async () => {
  await mcns?.stop();
  await nats?.stop();
});

async function dnsEvents(): Promise<McpEvent[]> {
  const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test-node" });
  try {
    const seen: McpEvent[] = [];
    for await (const event of bus.replay({ fromSequence: 1, filter: "mcp.dns.>" })) seen.push(event);
    return seen;
  } finally {
    await bus.close();
  }
}

/** The stream's record events once it holds `count` of them. */
async function eventsOnceThere(count: number): Promise<McpEvent[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const seen = await dnsEvents();
    if (seen.length >= count || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a call and fails if it took longer than PROMPT_MS. */
async function promptly<T>(call: Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await call;
  expect(Date.now() - started).toBeLessThan(PROMPT_MS);
  return result;
}

describe("record events through a NATS outage", () => {
  it("creates, updates and imports promptly while NATS is down; each event is in the stream once after", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    await nats.down();

    const { record } = await promptly(
      agent.createRecord({ record: rec("blip", "A", address("192.0.2.40")) }),
    );
    expect((await dig(mcns.dnsPort, `blip.${ZONE}`, "A")).answer).toEqual([
      `blip.${ZONE}. 300 IN A 192.0.2.40`,
    ]);
    await promptly(agent.updateRecord({ record: { ...record!, data: address("192.0.2.41") } }));
    const imported = await promptly(
      agent.importZone({ zone: ZONE, text: "one IN A 192.0.2.51\ntwo IN A 192.0.2.52\n", owner: "web" }),
    );
    expect(imported.created).toBe(2);

    await nats.up();
    const seen = await eventsOnceThere(4);
    expect(seen.map((e) => [e.type, e.subject, e.data])).toEqual([
      [
        "mcp.dns.created",
        `blip.${ZONE}`,
        {
          recordId: record!.id,
          zone: ZONE,
          name: `blip.${ZONE}`,
          type: "A",
          value: "192.0.2.40",
          owner: "web",
        },
      ],
      [
        "mcp.dns.updated",
        `blip.${ZONE}`,
        {
          recordId: record!.id,
          zone: ZONE,
          name: `blip.${ZONE}`,
          type: "A",
          value: "192.0.2.41",
          owner: "web",
        },
      ],
      ["mcp.dns.created", `one.${ZONE}`, expect.objectContaining({ value: "192.0.2.51" })],
      ["mcp.dns.created", `two.${ZONE}`, expect.objectContaining({ value: "192.0.2.52" })],
    ]);
    // NATS is reachable again: the next change is published at once, and nothing a second time.
    await agent.deleteRecord({ id: record!.id, owner: "web" });
    expect((await dnsEvents()).map((e) => e.type)).toEqual([
      "mcp.dns.created",
      "mcp.dns.updated",
      "mcp.dns.created",
      "mcp.dns.created",
      "mcp.dns.deleted",
    ]);
  });

  it("publishes at the next start the event of a record created while NATS was down by a process that died", async () => {
    await nats.down();
    const { record } = await mcns
      .client(mcns.tokens.agent)
      .createRecord({ record: rec("crash", "A", address("192.0.2.60")) });
    await mcns.process.kill();

    await nats.up();
    await mcns.start();
    const seen = await eventsOnceThere(1);
    expect(seen.map((e) => [e.type, e.subject, e.data.recordId])).toEqual([
      ["mcp.dns.created", `crash.${ZONE}`, record!.id],
    ]);
  });
});
