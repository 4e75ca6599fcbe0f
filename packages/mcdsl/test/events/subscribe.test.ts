import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import type { EventData, EventsError, McpEvent } from "../../src/events/index.js";
import { collector, useNats } from "./use-nats.js";

describe("subscribe", () => {
  const nats = useNats();

  it("delivers matching events to a durable consumer, typed as asked", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const got = collector<McpEvent<EventData<"mcp.cert.renewed">>>();
    await bus.subscribe<EventData<"mcp.cert.renewed">>({
      durable: "proxy-renewals",
      filter: "mcp.cert.renewed",
      handler: (e) => got.add(e),
    });
    await bus.publish("mcp.cert.issued", {
      hostname: "a.example.com",
      serial: "1",
      notAfter: "2027-01-01T00:00:00Z",
    });
    const { id } = await bus.publish(
      "mcp.cert.renewed",
      { hostname: "a.example.com", serial: "2", previousSerial: "1", notAfter: "2027-03-01T00:00:00Z" },
      { subject: "a.example.com" },
    );
    const [event] = await got.waitFor(1);
    expect(event).toMatchObject({ id, type: "mcp.cert.renewed", subject: "a.example.com", sequence: 2 });
    expect(event!.data.previousSerial).toBe("1");
  });

  it("catches up after a restart from where it left off, without redelivering acked events", async () => {
    const publisher = await nats.bus();
    await publisher.ensureStream();
    await publisher.publish("mcp.deploy.hello.started", {
      service: "hello",
      node: "node1",
      components: ["web"],
    });

    const firstRun = collector<McpEvent>();
    const consumerBus = await nats.bus({ app: "consumer" });
    const sub = await consumerBus.subscribe({
      durable: "deploy-watch",
      filter: "mcp.deploy.>",
      handler: (e) => firstRun.add(e),
    });
    await firstRun.waitFor(1);
    await sub.stop();

    // Published while the consumer is down.
    await publisher.publish("mcp.deploy.hello.completed", { service: "hello", durationMs: 1200 });
    await publisher.publish("mcp.deploy.hello.failed", {
      service: "hello",
      step: "health",
      error: "timeout",
    });

    // A new process (new connection) with the same durable name.
    const restartedBus = await nats.bus({ app: "consumer" });
    const secondRun = collector<McpEvent>();
    await restartedBus.subscribe({
      durable: "deploy-watch",
      filter: "mcp.deploy.>",
      handler: (e) => secondRun.add(e),
    });
    const caughtUp = await secondRun.waitFor(2);
    expect(caughtUp.map((e) => e.type)).toEqual(["mcp.deploy.hello.completed", "mcp.deploy.hello.failed"]);

    // Nothing else arrives (the first event was acked); the server agrees nothing is outstanding.
    const jsm = await jetstreamManager(await nats.raw());
    const info = await jsm.consumers.info("MCP_EVENTS", "deploy-watch");
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    expect(secondRun.items).toHaveLength(2);
  });

  it("redelivers an event whose handler threw, after the retry delay", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const attempts = collector<{ sequence: number; at: number }>();
    const errors = collector<EventsError>();
    await bus.subscribe({
      durable: "flaky",
      filter: "mcp.x",
      retryDelayMs: () => 200,
      onError: (err) => errors.add(err),
      handler: (e) => {
        attempts.add({ sequence: e.sequence!, at: Date.now() });
        if (attempts.items.length < 3) throw new Error("database is locked");
      },
    });
    await bus.publish("mcp.x", { n: 1 });
    const [a, b, c] = await attempts.waitFor(3);
    expect([a!.sequence, b!.sequence, c!.sequence]).toEqual([1, 1, 1]);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(180);
    expect(errors.items.map((e) => e.code)).toEqual(["HANDLER_FAILED", "HANDLER_FAILED"]);
    expect(errors.items[0]!.message).toMatch(
      /consumer flaky: handling mcp.x #1 \(attempt 1\) failed: database is locked; retrying in 200 ms/,
    );

    const jsm = await jetstreamManager(await nats.raw());
    const waitForAck = async () => {
      for (;;) {
        const info = await jsm.consumers.info("MCP_EVENTS", "flaky");
        if (info.num_ack_pending === 0) return info;
      }
    };
    expect((await waitForAck()).ack_floor.stream_seq).toBe(1);
  });

  it("skips and reports a message that is not an event", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const raw = await nats.raw();
    const errors = collector<EventsError>();
    const got = collector<McpEvent>();
    await bus.subscribe({ durable: "robust", handler: (e) => got.add(e), onError: (e) => errors.add(e) });
    const { jetstream } = await import("@nats-io/jetstream");
    await jetstream(raw).publish("mcp.junk", "not json");
    await bus.publish("mcp.x", { ok: true });
    await got.waitFor(1);
    const [error] = await errors.waitFor(1);
    expect(error).toMatchObject({
      code: "BAD_ENVELOPE",
      message: expect.stringContaining("stream message 1"),
    });
  });

  it("refuses a durable that exists with another filter, and bad names", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const sub = await bus.subscribe({ durable: "d1", filter: "mcp.cert.>", handler: () => {} });
    await sub.stop();
    await expect(
      bus.subscribe({ durable: "d1", filter: "mcp.dns.>", handler: () => {} }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining('exists with filter "mcp.cert.>", not "mcp.dns.>"'),
    });
    await expect(bus.subscribe({ durable: "a.b", handler: () => {} })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
    await expect(bus.subscribe({ durable: "ok", filter: "dns.>", handler: () => {} })).rejects.toMatchObject({
      code: "INVALID_FILTER",
    });
  });

  it("starts a new durable at new events only when asked", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await bus.publish("mcp.x", { n: 1 });
    const got = collector<McpEvent>();
    await bus.subscribe({ durable: "only-new", deliver: "new", handler: (e) => got.add(e) });
    await bus.publish("mcp.x", { n: 2 });
    const [event] = await got.waitFor(1);
    expect(event!.data).toEqual({ n: 2 });
  });

  it("close() waits for the handler in progress, and its event is acked", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const started = collector<number>();
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    await bus.subscribe({
      durable: "slow",
      handler: async (e) => {
        started.add(e.sequence!);
        await finished;
      },
    });
    await bus.publish("mcp.x", {});
    await started.waitFor(1);
    let closed = false;
    const closing = bus.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    finish();
    await closing;
    const jsm = await jetstreamManager(await nats.raw());
    expect((await jsm.consumers.info("MCP_EVENTS", "slow")).ack_floor.stream_seq).toBe(1);
  });

  it("stop() holds back no unhandled event, so a restarted consumer gets the rest at once", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const first = collector<number>();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const sub = await bus.subscribe({
      durable: "batch",
      handler: async (e) => {
        first.add(e.sequence!);
        await released;
      },
    });
    for (let n = 1; n <= 3; n++) await bus.publish("mcp.x", { n });
    await first.waitFor(1);
    const stopping = sub.stop();
    release();
    await stopping;
    expect(first.items).toEqual([1]);

    const second = collector<number>();
    await bus.subscribe({ durable: "batch", handler: (e) => second.add(e.sequence!) });
    // Well within the 30 s ack wait: nothing was fetched ahead and left to time out.
    expect(await second.waitFor(2, 5_000)).toEqual([2, 3]);
  });

  it("gives up on an event after maxDeliver attempts and moves on", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    const attempts = collector<number>();
    const errors = collector<EventsError>();
    await bus.subscribe({
      durable: "bounded",
      maxDeliver: 2,
      retryDelayMs: () => 50,
      onError: (err) => errors.add(err),
      handler: (e) => {
        attempts.add(e.sequence!);
        if (e.sequence === 1) throw new Error("poison");
      },
    });
    await bus.publish("mcp.x", { n: 1 });
    await bus.publish("mcp.x", { n: 2 });
    await attempts.waitFor(3);
    const [, second] = await errors.waitFor(2);
    expect(second!.message).toMatch(/#1 \(attempt 2\) failed: poison; giving up after 2 attempts/);
    expect(attempts.items.filter((s) => s === 1)).toEqual([1, 1]);
    expect(attempts.items).toContain(2);
  });
});
