import * as net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { describe, expect, it } from "vitest";
import { startNotesServer } from "./fixtures/harness.js";
import { until } from "./fixtures/tools.js";

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

describe("graceful shutdown", () => {
  for (const [name, transport] of [
    ["gRPC over h2c", (url: string) => createGrpcTransport({ baseUrl: url })],
    ["Connect over HTTP/1.1", (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" })],
  ] as const) {
    it(`lets an in-flight call (${name}) finish and refuses new connections`, async () => {
      const s = await startNotesServer({ shutdownTimeoutMs: 10_000 });
      const client = createClient(NoteService, transport(s.server.url!));
      const headers = { authorization: `Bearer ${s.tokens.writer}` };
      const hold = s.store.holdNextCreate();
      const call = client.createNote({ text: "in flight" }, { headers });
      await hold.entered;

      const closed = s.server.close();
      expect(await connectRefused(s.server.addresses.tcp!.port)).toBe(true);
      hold.release();
      const { note } = await call;
      expect(note?.text).toBe("in flight");
      expect(await closed).toBe(true);
      await s.stop();
    });
  }

  it("cuts off what is still running when the timeout passes", async () => {
    const s = await startNotesServer({ shutdownTimeoutMs: 200 });
    const client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
    const stream = client.watchNotes({}, { headers: { authorization: `Bearer ${s.tokens.admin}` } });
    const next = stream[Symbol.asyncIterator]().next();
    await until(() => s.store.watcherCount === 1);
    const started = Date.now();
    expect(await s.server.close()).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(next).rejects.toThrow();
    expect(s.store.watcherCount).toBe(0);
    expect(s.logs).toContainEqual(expect.objectContaining({ msg: "stopped", graceful: false }));
    await s.stop();
  });
});
