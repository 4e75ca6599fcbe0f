import { describe, expect, it } from "vitest";
import type { EventBus, McpEvent } from "../../src/events/index.js";
import { collector, useNats } from "./use-nats.js";

async function all(iterable: AsyncIterable<McpEvent>): Promise<McpEvent[]> {
  const out: McpEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function publishNumbers(bus: EventBus, count: number, type = "mcp.x"): Promise<void> {
  for (let n = 1; n <= count; n++) await bus.publish(type, { n });
}

describe("replay", () => {
  const nats = useNats();

  it("returns every stored event in order and ends at the last one", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await publishNumbers(bus, 5);
    const events = await all(bus.replay());
    expect(events.map((e) => [e.sequence, e.data.n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  it("reads no events before any app made the stream, and a follower waits for it", async () => {
    const bus = await nats.bus();
    expect(await all(bus.replay())).toEqual([]);
    const follower = bus.replay({ follow: true })[Symbol.asyncIterator]();
    const first = follower.next();
    await new Promise((r) => setTimeout(r, 300));
    const writer = await nats.bus();
    await writer.ensureStream();
    await writer.publish("mcp.x", { n: 1 });
    expect((await first).value?.data).toEqual({ n: 1 });
    await follower.return?.();
  });

  it("starts at a sequence", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await publishNumbers(bus, 5);
    expect((await all(bus.replay({ fromSequence: 4 }))).map((e) => e.sequence)).toEqual([4, 5]);
    expect(await all(bus.replay({ fromSequence: 6 }))).toEqual([]);
  });

  it("starts at a time", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await publishNumbers(bus, 2);
    // JetStream stamps messages itself; wait until its clock has passed the last one.
    await new Promise((r) => setTimeout(r, 20));
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await bus.publish("mcp.x", { n: 3 });
    await bus.publish("mcp.x", { n: 4 });
    expect((await all(bus.replay({ fromTime: cut }))).map((e) => e.data.n)).toEqual([3, 4]);
    expect(await all(bus.replay({ fromTime: new Date(Date.now() + 60_000) }))).toEqual([]);
  });

  it("filters, and ends even when the last stored event does not match", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await bus.publish("mcp.dns.deleted", { recordId: "r1", zone: "z", name: "a.z", type: "A" });
    await bus.publish("mcp.route.removed", { routeId: "1", hostname: "a.z", port: 443 });
    await bus.publish("mcp.dns.deleted", { recordId: "r2", zone: "z", name: "b.z", type: "A" });
    await bus.publish("mcp.route.removed", { routeId: "2", hostname: "b.z", port: 443 });
    const dns = await all(bus.replay({ filter: "mcp.dns.*" }));
    expect(dns.map((e) => e.data.recordId)).toEqual(["r1", "r2"]);
    expect(await all(bus.replay({ filter: "mcp.cert.>" }))).toEqual([]);
  });

  it("ends on an empty stream", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    expect(await all(bus.replay())).toEqual([]);
  });

  it("does not include events published after it began", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await publishNumbers(bus, 3);
    const seen: number[] = [];
    for await (const e of bus.replay()) {
      seen.push(e.sequence!);
      if (seen.length === 1) await bus.publish("mcp.x", { n: 4 });
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it("follows new events when asked, until the loop breaks", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await publishNumbers(bus, 2);
    const seen = collector<number>();
    const following = (async () => {
      for await (const e of bus.replay({ follow: true })) {
        seen.add(e.sequence!);
        if (seen.items.length === 4) break;
      }
    })();
    await seen.waitFor(2);
    await bus.publish("mcp.x", { n: 3 });
    await bus.publish("mcp.x", { n: 4 });
    await following;
    expect(seen.items).toEqual([1, 2, 3, 4]);
  });

  it("refuses contradicting options", async () => {
    const bus = await nats.bus();
    await bus.ensureStream();
    await expect(all(bus.replay({ fromSequence: 1, fromTime: new Date() }))).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
    await expect(all(bus.replay({ fromSequence: 0 }))).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(all(bus.replay({ filter: "mcp.>.x" }))).rejects.toMatchObject({ code: "INVALID_FILTER" });
  });
});
