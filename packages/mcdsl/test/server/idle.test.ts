// Idle HTTP/2 connections: anyone who can connect could otherwise hold a connection (a file
// descriptor) forever, as HTTP/1.1 keep-alive cannot. A session with no call open for
// idleTimeoutMs gets a GOAWAY and is closed; one with a quiet stream open (a watch) is not.
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotesServer, startNotesServer, startTlsNotesServer } from "./fixtures/harness.js";
import { until } from "./fixtures/tools.js";

const IDLE_MS = 600;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const GOAWAY = 7;

/** The frame types in `data`, a server's byte stream from its first frame. */
function frameTypes(data: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= data.length; at += 9 + data.readUIntBE(at, 3)) types.push(data[at + 3]!);
  return types;
}

describe("idle HTTP/2 connections", () => {
  let s: NotesServer;
  beforeAll(async () => {
    s = await startNotesServer({ idleTimeoutMs: IDLE_MS });
  });
  afterAll(() => s.stop());

  it("closes an h2c connection that opens no call after idleTimeoutMs, with a GOAWAY first", async () => {
    const socket = net.connect(s.server.addresses.tcp!.port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.write(Buffer.concat([PREFACE, SETTINGS]));
    const started = Date.now();
    await new Promise((resolve) => socket.once("close", resolve));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(waited).toBeLessThan(IDLE_MS + 5_000);
    expect(frameTypes(Buffer.concat(received))).toContain(GOAWAY);
  });

  it("keeps a connection whose watch is quiet past idleTimeoutMs, and closes it once the watch ends", async () => {
    const headers = { authorization: `Bearer ${s.tokens.admin}` };
    const session = http2.connect(s.server.url!);
    const closed = new Promise((resolve) => session.once("close", resolve));
    let goaway = false;
    session.on("goaway", () => {
      goaway = true;
    });
    // A gRPC call on this very session: WatchNotes, which sends nothing until a note changes.
    const watch = session.request({
      ":method": "POST",
      ":path": "/mcp.sample.v1.NoteService/WatchNotes",
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...headers,
    });
    watch.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message
    const answer: Buffer[] = [];
    watch.on("data", (chunk: Buffer) => answer.push(chunk));
    await until(() => s.store.watcherCount === 1);
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS));
    expect(goaway).toBe(false);
    // Still alive: a change reaches it.
    const client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
    await client.createNote({ text: "still watched" }, { headers });
    await until(() => Buffer.concat(answer).includes("still watched"));

    const ended = Date.now();
    watch.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    expect(goaway).toBe(true);
    expect(Date.now() - ended).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });
});

describe("idle HTTP/2 connections over TLS", () => {
  let s: Awaited<ReturnType<typeof startTlsNotesServer>>;
  beforeAll(async () => {
    s = await startTlsNotesServer({ idleTimeoutMs: IDLE_MS });
  });
  afterAll(() => s.stop());

  it("closes an h2 session that made one call and then idled", async () => {
    const session = http2.connect(s.server.url!, { ca: readFileSync(s.caFile) });
    const closed = new Promise((resolve) => session.once("close", resolve));
    const goaway = new Promise((resolve) => session.once("goaway", resolve));
    const req = session.request({ ":path": "/healthz" });
    req.resume();
    await new Promise((resolve) => req.once("close", resolve));
    const started = Date.now();
    await goaway;
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });
});
