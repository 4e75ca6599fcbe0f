import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { connectEvents } from "../../src/events/index.js";
import { startNatsServer } from "../../src/testing/index.js";
import { useNats } from "./use-nats.js";

const DAY_MS = 24 * 3600 * 1000;

describe("ensureStream", () => {
  const nats = useNats();

  it("creates MCP_EVENTS on mcp.> with file storage and 30 days, then leaves it alone", async () => {
    const bus = await nats.bus();
    expect(await bus.ensureStream()).toBe("created");
    expect(await bus.ensureStream()).toBe("unchanged");
    const jsm = await jetstreamManager(await nats.raw());
    const { config } = await jsm.streams.info("MCP_EVENTS");
    expect(config).toMatchObject({
      subjects: ["mcp.>"],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(30 * DAY_MS),
      duplicate_window: nanos(60 * 60 * 1000),
    });
  });

  it("changes the age of an existing stream in place, keeping its events", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await bus.publish("mcp.x", { n: 1 });
    expect(await bus.ensureStream({ maxAgeMs: 7 * DAY_MS })).toBe("updated");
    const jsm = await jetstreamManager(await nats.raw());
    const info = await jsm.streams.info("MCP_EVENTS");
    expect(info.config.max_age).toBe(nanos(7 * DAY_MS));
    expect(info.state.messages).toBe(1);
  });

  it("puts back the subjects if someone changed them", async () => {
    const jsm = await jetstreamManager(await nats.raw());
    await jsm.streams.add({ name: "MCP_EVENTS", subjects: ["mcp.deploy.>"], storage: StorageType.File });
    const bus = await nats.bus();
    expect(await bus.ensureStream()).toBe("updated");
    expect((await jsm.streams.info("MCP_EVENTS")).config.subjects).toEqual(["mcp.>"]);
  });

  it("refuses a stream with memory storage rather than dropping its events", async () => {
    const jsm = await jetstreamManager(await nats.raw());
    await jsm.streams.add({ name: "MCP_EVENTS", subjects: ["mcp.>"], storage: StorageType.Memory });
    const bus = await nats.bus();
    await expect(bus.ensureStream()).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("exists with memory storage"),
    });
  });

  it("refuses nonsense settings", async () => {
    const bus = await nats.bus();
    await expect(bus.ensureStream({ maxAgeMs: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(bus.ensureStream({ maxAgeMs: 1000, duplicateWindowMs: 5000 })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
  });
});

describe("the stream on disk", () => {
  it("keeps its events across a nats-server restart, and the bus reconnects", async () => {
    const server = await startNatsServer();
    try {
      const bus = await connectEvents({ servers: server.url, name: "t", app: "a", node: "n" });
      await bus.ensureStream();
      const first = await bus.publish("mcp.x", { n: 1 });
      await server.restart();
      // The same bus reconnects on its own. The first attempt may go out on the dead socket before the
      // client notices; the retry carries the same message id, so the event is still stored once.
      const second = await bus.publish("mcp.x", { n: 2 }, { timeoutMs: 1_000 });
      expect(second.sequence).toBe(first.sequence + 1);
      const seen = [];
      for await (const e of bus.replay()) seen.push(e.data);
      expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
      await bus.close();
    } finally {
      await server.stop();
    }
  });
});
