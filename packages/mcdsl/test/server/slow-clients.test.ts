// Slow and silent HTTP/2 clients: anyone who can connect could otherwise hold a connection (a
// file descriptor) or a stream forever, as HTTP/1.1 keep-alive cannot. A session with no call open
// for idleTimeoutMs gets a GOAWAY and is closed, one with a quiet stream open (a watch) is not; a
// request body that stops arriving, or a reader that stops reading (HTTP/2 or HTTP/1.1), for
// stallTimeoutMs is cut, a slow body that keeps coming is not.
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

describe("stalled calls", () => {
  let s: NotesServer;
  beforeAll(async () => {
    s = await startNotesServer({ stallTimeoutMs: IDLE_MS });
  });
  afterAll(() => s.stop());

  /** A CreateNote call whose body (a gRPC frame of `message`) is sent in `parts`, `gapMs` apart. */
  async function createNoteSlowly(parts: number, gapMs: number, token?: string) {
    const session = http2.connect(s.server.url!);
    const message = Buffer.from([0x0a, 4, ...Buffer.from("slow")]); // CreateNoteRequest{text: "slow"}
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const stream = session.request({
      ":method": "POST",
      ":path": "/mcp.sample.v1.NoteService/CreateNote",
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    const started = Date.now();
    let rstCode: number | undefined;
    const trailers = new Promise<http2.IncomingHttpHeaders | undefined>((resolve) => {
      stream.on("trailers", (t) => resolve(t));
      stream.on("close", () => {
        rstCode = stream.rstCode;
        resolve(undefined);
      });
    });
    stream.resume();
    const closed = new Promise((resolve) => stream.once("close", resolve));
    const size = Math.ceil(frame.length / parts);
    for (let i = 0; i < parts && !stream.closed; i++) {
      if (i > 0) await Promise.race([new Promise((r) => setTimeout(r, gapMs)), closed]);
      if (stream.closed) break;
      const last = i === parts - 1;
      if (last) stream.end(frame.subarray(i * size));
      else stream.write(frame.subarray(i * size, (i + 1) * size));
    }
    const got = await trailers;
    session.destroy();
    return { got, rstCode, ms: Date.now() - started };
  }

  it("resets a request whose body stops arriving after stallTimeoutMs, token or not", async () => {
    // Two of three parts sent, then nothing: the third never comes.
    const stalled = await createNoteSlowly(3, 60_000);
    expect(stalled.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(stalled.ms).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(stalled.ms).toBeLessThan(IDLE_MS + 5_000);
    expect(s.store.notes.size).toBe(0);
  });

  it("leaves a quiet watch alone, and resets it once its reader stops taking what it is sent", async () => {
    const session = http2.connect(s.server.url!);
    const watch = session.request({
      ":method": "POST",
      ":path": "/mcp.sample.v1.NoteService/WatchNotes",
      "content-type": "application/grpc+proto",
      te: "trailers",
      authorization: `Bearer ${s.tokens.admin}`,
    });
    watch.end(Buffer.from([0, 0, 0, 0, 0]));
    watch.pause(); // this client reads nothing
    const closed = new Promise((resolve) => watch.once("close", resolve));
    await until(() => s.store.watcherCount === 1);
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS));
    expect(watch.closed).toBe(false);
    // Far more than the stream's 64 KiB window: the server's sends block.
    const client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
    const headers = { authorization: `Bearer ${s.tokens.writer}` };
    for (let i = 0; i < 200; i++) await client.createNote({ text: `${i} ${"x".repeat(1000)}` }, { headers });
    const blocked = Date.now();
    await closed;
    expect(watch.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(Date.now() - blocked).toBeLessThan(IDLE_MS + 5_000);
    await until(() => s.store.watcherCount === 0);
    session.destroy();
  });

  it("closes an HTTP/1.1 connection whose reader stops taking a streamed response", async () => {
    // A Connect server stream over HTTP/1.1 (WatchNotes), read by nobody.
    const socket = net.connect(s.server.addresses.tcp!.port, "127.0.0.1");
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from("{}")]);
    socket.write(
      "POST /mcp.sample.v1.NoteService/WatchNotes HTTP/1.1\r\nHost: x\r\n" +
        `Content-Type: application/connect+json\r\nAuthorization: Bearer ${s.tokens.admin}\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body);
    socket.pause();
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("error", () => {});
    await until(() => s.store.watcherCount === 1);
    // More than the kernel's buffers on both ends of the loopback hold: 20 MB.
    const client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
    const headers = { authorization: `Bearer ${s.tokens.writer}` };
    const text = "y".repeat(64 * 1024);
    for (let i = 0; i < 320; i++) await client.createNote({ text }, { headers });
    // The server ended the watch and closed the connection (the paused client sees it on reading).
    await until(() => s.store.watcherCount === 0);
    socket.resume();
    await closed;
  });

  it("lets a body that keeps coming take longer than stallTimeoutMs in all", async () => {
    const slow = await createNoteSlowly(4, IDLE_MS / 2, s.tokens.writer);
    expect(slow.ms).toBeGreaterThan(IDLE_MS);
    expect(slow.got?.["grpc-status"]).toBe("0");
    expect([...s.store.notes.values()].map((n) => n.text)).toContain("slow");
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
