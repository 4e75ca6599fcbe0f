// HTTP/2 clients through the real process, with Node's own http2 client: what the translation to
// HTTP/1.1 must keep. A body of unknown length goes to the backend chunked, a HEAD answer keeps
// its length and has no body, repeated Set-Cookie fields stay separate, a chunked response's
// trailer fields become the stream's trailers (`te: trailers` reaches the backend, as gRPC needs),
// malformed trailers reset the stream, and concurrent streams on one session each get their own
// answer.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect, constants, type IncomingHttpHeaders } from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, freePort, type ProxyProcess, startHttpBackend, startProxy } from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;
let backend: Backend;
let session: ClientHttp2Session;
/** Answers every request with a chunked body whose trailer line is not a field. */
let badTrailers: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-h2-"));
  pki = createPki(join(dir, "pki"));
  pki.issue("h2.test", pki.dir);
  pki.issue("bad-trailers.test", pki.dir);
  badTrailers = createNetServer((socket) => {
    socket.on("data", () =>
      socket.write(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nnot a field\r\n\r\n",
      ),
    );
    socket.on("error", () => {});
  }).listen(0, "127.0.0.1");
  await once(badTrailers, "listening");
  backend = await startHttpBackend("h2", (req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    req.on("end", () => {
      if (req.url === "/cookies") {
        res.setHeader("set-cookie", ["a=1; Path=/", "b=2; Path=/"]);
        return void res.end("cookies");
      }
      if (req.url === "/trailers") {
        // As a gRPC server does: trailers only for a client that says it takes them.
        res.setHeader("trailer", "x-checksum");
        res.write("part one, ");
        res.write("part two");
        if (req.headers.te === "trailers")
          res.addTrailers({ "x-checksum": "abc", "grpc-status": "0", "content-length": "99" });
        return void res.end();
      }
      const body = JSON.stringify({
        method: req.method,
        bytes,
        transferEncoding: req.headers["transfer-encoding"] ?? null,
        contentLength: req.headers["content-length"] ?? null,
        forwardedFor: req.headers["x-forwarded-for"],
        host: req.headers.host,
        trailers: req.trailers,
      });
      res.setHeader("content-type", "application/json");
      res.setHeader("content-length", Buffer.byteLength(body));
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  proxy = await startProxy(join(dir, "proxy"), { certDir: pki.dir });
  port = await freePort();
  await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname: "h2.test",
      mode: RouteMode.L7,
      backends: [{ address: backend.address }],
      owner: "test",
    },
  });
  await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname: "bad-trailers.test",
      mode: RouteMode.L7,
      backends: [{ address: `127.0.0.1:${(badTrailers.address() as AddressInfo).port}` }],
      owner: "test",
    },
  });
  session = connect(`https://127.0.0.1:${port}`, { ca: readFileSync(pki.rootFile), servername: "h2.test" });
  await once(session, "connect");
});

afterAll(async () => {
  session?.close();
  await proxy?.stop();
  await backend?.close();
  badTrailers?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
}

/** One request on the shared session; `body` chunks are written as they are, then the end. */
async function request(headers: Record<string, string>, body: string[] = []): Promise<Answer> {
  const stream = session.request(headers, { endStream: body.length === 0 });
  for (const chunk of body) stream.write(chunk);
  if (body.length > 0) stream.end();
  let trailers: IncomingHttpHeaders | undefined;
  stream.on("trailers", (t) => {
    trailers = t;
  });
  const [responseHeaders] = (await once(stream, "response")) as [IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { headers: responseHeaders, body: Buffer.concat(chunks).toString(), trailers };
}

describe("HTTP/2 to an HTTP/1.1 backend", () => {
  it("sends a body of unknown length chunked, and one with a length as it is", async () => {
    const unknown = await request({ ":method": "POST", ":path": "/echo" }, ["abc", "defgh", "ij"]);
    expect(unknown.headers[":status"]).toBe(200);
    expect(JSON.parse(unknown.body)).toMatchObject({
      method: "POST",
      bytes: 10,
      transferEncoding: "chunked",
      forwardedFor: "127.0.0.1",
      host: `h2.test:${port}`,
    });
    const known = await request({ ":method": "PUT", ":path": "/echo", "content-length": "4" }, ["wxyz"]);
    expect(JSON.parse(known.body)).toMatchObject({
      method: "PUT",
      bytes: 4,
      transferEncoding: null,
      contentLength: "4",
    });
  });

  it("answers HEAD with the length and no body", async () => {
    const head = await request({ ":method": "HEAD", ":path": "/echo" });
    expect(head.headers[":status"]).toBe(200);
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
    expect(head.body).toBe("");
  });

  it("passes a client's request trailers on in the last chunk of a body of unknown length", async () => {
    const stream = session.request({ ":method": "POST", ":path": "/echo" }, { waitForTrailers: true });
    stream.on("wantTrailers", () =>
      stream.sendTrailers({ "x-digest": "sha-256=abc", "content-type": "no/no" }),
    );
    stream.write("part one, ");
    stream.end("part two");
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const echoed = JSON.parse(Buffer.concat(chunks).toString());
    expect(echoed).toMatchObject({ bytes: 18, transferEncoding: "chunked" });
    // A field no trailer may carry is left out.
    expect(echoed.trailers).toEqual({ "x-digest": "sha-256=abc" });
  });

  it("keeps repeated Set-Cookie fields apart", async () => {
    const cookies = await request({ ":path": "/cookies" });
    expect(cookies.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(cookies.headers.connection).toBeUndefined();
  });

  it("relays a chunked response's trailer fields as the stream's trailers when the client takes them", async () => {
    const withTrailers = await request({ ":path": "/trailers", te: "trailers" });
    expect(withTrailers.body).toBe("part one, part two");
    expect(withTrailers.headers["transfer-encoding"]).toBeUndefined();
    expect(withTrailers.trailers).toMatchObject({ "x-checksum": "abc", "grpc-status": "0" });
    // The Trailer field that announces them is end-to-end, and kept.
    expect(withTrailers.headers.trailer).toBe("x-checksum");
    // A field no trailer may carry is left out.
    expect(withTrailers.trailers?.["content-length"]).toBeUndefined();
    const without = await request({ ":path": "/trailers" });
    expect(without.body).toBe("part one, part two");
    expect(without.trailers?.["x-checksum"]).toBeUndefined();
  });

  it("resets the stream when the backend's trailer section is malformed, and goes on serving", async () => {
    const other = connect(`https://127.0.0.1:${port}`, {
      ca: readFileSync(pki.rootFile),
      servername: "bad-trailers.test",
    });
    const stream = other.request({ ":path": "/", te: "trailers" });
    stream.resume();
    const [err] = (await once(stream, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toBe("ERR_HTTP2_STREAM_ERROR");
    other.close();
    const after = await request({ ":path": "/trailers", te: "trailers" });
    expect(after.trailers).toMatchObject({ "x-checksum": "abc" });
  });

  it("survives clients that reset their streams with error codes mid-request", async () => {
    for (const code of [
      constants.NGHTTP2_INTERNAL_ERROR,
      constants.NGHTTP2_PROTOCOL_ERROR,
      constants.NGHTTP2_CANCEL,
    ]) {
      const stream = session.request({ ":method": "POST", ":path": "/echo" }, { endStream: false });
      stream.on("error", () => {});
      stream.write("part of a body");
      // Long enough for the proxy to have the stream and its backend request under way.
      await new Promise((r) => setTimeout(r, 50));
      const closed = new Promise((r) => stream.once("close", r));
      stream.close(code);
      await closed;
    }
    const after = await request({ ":path": "/echo" });
    expect(after.headers[":status"]).toBe(200);
  });

  it("answers concurrent streams of one session each with its own response", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(
          { ":method": "POST", ":path": `/echo`, "content-length": String(i) },
          i > 0 ? ["x".repeat(i)] : [],
        ),
      ),
    );
    for (const [i, a] of answers.entries()) expect(JSON.parse(a.body)).toMatchObject({ bytes: i });
  });
});
