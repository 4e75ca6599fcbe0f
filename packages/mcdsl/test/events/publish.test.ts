import type { JsonObject } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { connectEvents } from "../../src/events/index.js";
import { freePort, startNatsServer } from "../../src/testing/index.js";
import { useNats } from "./use-nats.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe("publish", () => {
  const nats = useNats();

  it("stores the envelope that reads back exactly, stamped with id, time and source", async () => {
    const bus = await nats.bus({ app: "cert-broker", node: "node7" });
    await bus.ensureStream();
    const before = Date.now();
    const published = await bus.publish(
      "mcp.cert.issued",
      { hostname: "www.example.com", serial: "0a1b", notAfter: "2027-02-20T00:00:00Z" },
      { subject: "www.example.com", deployId: "01JDA6Z0M7Q4S8YV2W3X5K9N1P" },
    );
    expect(published).toEqual({ id: expect.stringMatching(ULID), sequence: 1, duplicate: false });

    const events = [];
    for await (const e of bus.replay()) events.push(e);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toEqual({
      id: published.id,
      time: expect.any(Date),
      source: { app: "cert-broker", node: "node7" },
      type: "mcp.cert.issued",
      subject: "www.example.com",
      deployId: "01JDA6Z0M7Q4S8YV2W3X5K9N1P",
      data: { hostname: "www.example.com", serial: "0a1b", notAfter: "2027-02-20T00:00:00Z" },
      sequence: 1,
    });
    expect(event!.time.getTime()).toBeGreaterThanOrEqual(before);
    expect(event!.time.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("puts readable JSON on the wire, seen by a plain NATS subscriber", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const raw = await nats.raw();
    const sub = raw.subscribe("mcp.>", { max: 1 });
    await raw.flush();
    const { id } = await bus.publish("mcp.dns.created", {
      recordId: "r1",
      zone: "svc.mcp.metacircular.net",
      name: "hello.svc.mcp.metacircular.net",
      type: "A",
      value: "10.0.0.5",
      owner: "hello",
    });
    for await (const m of sub) {
      expect(m.subject).toBe("mcp.dns.created");
      expect(m.headers?.get("Nats-Msg-Id")).toBe(id);
      expect(JSON.parse(m.string())).toEqual({
        id,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
        source: { app: "tester", node: "node1" },
        type: "mcp.dns.created",
        data: expect.objectContaining({ name: "hello.svc.mcp.metacircular.net", value: "10.0.0.5" }),
      });
    }
  });

  it("refuses invalid types and data before anything reaches NATS", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    // Typed as plain strings and unknown data: what a caller with run-time values would pass.
    const hostnameInType: string = "mcp.dns.created.www.example.com";
    await expect(bus.publish(hostnameInType, {})).rejects.toMatchObject({
      code: "INVALID_TYPE",
    });
    await expect(bus.publish("events.x", {})).rejects.toMatchObject({ code: "INVALID_TYPE" });
    await expect(
      bus.publish("mcp.backup.done", { at: new Date() } as unknown as JsonObject),
    ).rejects.toMatchObject({
      code: "INVALID_DATA",
    });
    const jsm = await jetstreamManager(await nats.raw());
    expect((await jsm.streams.info("MCP_EVENTS")).state.messages).toBe(0);
  });

  it("stores a re-published event (same id) once", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const first = await bus.publish("mcp.backup.done", { file: "a.db" });
    const again = await bus.publish("mcp.backup.done", { file: "a.db" }, { id: first.id });
    expect(again).toEqual({ id: first.id, sequence: first.sequence, duplicate: true });
    const other = await bus.publish("mcp.backup.done", { file: "a.db" });
    expect(other.sequence).toBe(first.sequence + 1);
    const ids = [];
    for await (const e of bus.replay()) ids.push(e.id);
    expect(ids).toEqual([first.id, other.id]);
  });

  it("refuses an id that is not a ULID", async () => {
    const bus = await nats.bus();
    await expect(bus.publish("mcp.x", {}, { id: "42" })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      message: 'event mcp.x: id "42" is not a ULID',
    });
  });

  it("says so when no stream stores the events yet", async () => {
    const bus = await nats.bus();
    await expect(bus.publish("mcp.x", {})).rejects.toMatchObject({
      code: "NO_JETSTREAM",
      message: expect.stringContaining("was ensureStream() called?"),
    });
  });

  it("refuses to work once closed", async () => {
    const bus = await nats.bus();
    await bus.close();
    expect(() => bus.publish("mcp.x", {})).toThrow(expect.objectContaining({ code: "CLOSED" }));
  });
});

describe("connectEvents", () => {
  it("names the server it cannot reach", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await expect(connectEvents({ servers: url, name: "t", app: "a", node: "n" })).rejects.toMatchObject({
      code: "UNREACHABLE",
      message: expect.stringContaining(`cannot reach NATS at ${url}: `),
    });
  });

  it("refuses missing app or node", async () => {
    await expect(
      connectEvents({ servers: "nats://127.0.0.1:1", name: "t", app: "", node: "n" }),
    ).rejects.toThrow("connectEvents: app must be a non-empty string");
  });

  it("uses a token, and says when it is wrong", async () => {
    const server = await startNatsServer({ token: "s3cret" });
    try {
      const ok = await connectEvents({
        servers: server.url,
        name: "t",
        app: "a",
        node: "n",
        token: "s3cret",
      });
      await ok.ensureStream();
      expect((await ok.publish("mcp.x", {})).sequence).toBe(1);
      await ok.close();
      await expect(
        connectEvents({ servers: server.url, name: "t", app: "a", node: "n", token: "wrong" }),
      ).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringContaining(server.url) });
    } finally {
      await server.stop();
    }
  });

  it("says when the server has no JetStream", async () => {
    const server = await startNatsServer({ jetstream: false });
    try {
      await expect(
        connectEvents({ servers: server.url, name: "t", app: "a", node: "n" }),
      ).rejects.toMatchObject({
        code: "NO_JETSTREAM",
        message: expect.stringContaining(`NATS at ${server.url} does not offer JetStream`),
      });
    } finally {
      await server.stop();
    }
  });
});
