// HTTP/1.1 on the proxy's own framing, through the real process: hand-made bytes over TLS (the
// chain verified against the test root, SNI = the route's name) for pipelining, chunked bodies and
// trailers, HTTP/1.0, HEAD/204/304, close-delimited responses, hop-by-hop and X-Forwarded-* fields;
// curl for a 5 MiB upload with Expect: 100-continue. Refusals, broken backends and garbage are in
// http1-refusals.test.ts; the raw clients, backends and the setup in http1-raw.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./harness.js";
import { get, parseResponses } from "./http1-client.js";
import { type Echoed, echoed, type H1Proxy, startH1Proxy } from "./http1-raw.js";

let h1: H1Proxy;

beforeAll(async () => {
  h1 = await startH1Proxy();
});

afterAll(async () => {
  await h1?.stop();
});

describe("HTTP/1.1 framing through the proxy", () => {
  it("answers pipelined requests sent in one write, in order, and keeps the connection", async () => {
    const client = await h1.open();
    client.send(
      get("/p1") +
        "POST /p2 HTTP/1.1\r\nHost: h1.test\r\nContent-Length: 5\r\n\r\nhello" +
        get("/p3", "X-Third: yes\r\n"),
    );
    const [a, b, c] = await client.responses(3);
    expect([a, b, c].map((r) => echoed(r!).url)).toEqual(["/p1", "/p2", "/p3"]);
    expect(echoed(b!)).toMatchObject({ method: "POST", body: "hello" });
    expect(echoed(c!).headers["x-third"]).toBe("yes");
    expect(client.ended).toBe(false);
    client.close();
  });

  it("passes a chunked request body with a chunk extension and a trailer to the backend intact", async () => {
    const client = await h1.open();
    client.send(
      "POST /chunked-up HTTP/1.1\r\nHost: h1.test\r\nTransfer-Encoding: chunked\r\nTrailer: x-digest\r\n\r\n" +
        "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Digest: abc123\r\n\r\n",
    );
    const seen = echoed(await client.response());
    expect(seen).toMatchObject({ body: "hello world", trailers: { "x-digest": "abc123" } });
    expect(seen.headers["transfer-encoding"]).toBe("chunked");
    // The body's end was found: what follows on the connection is read as the next request.
    client.send(get("/after-chunked"));
    expect(echoed((await client.responses(2))[1]!).url).toBe("/after-chunked");
    client.close();
  });

  it("relays a chunked response with its trailer complete, then the next request on the connection", async () => {
    const client = await h1.open();
    client.send(get("/chunked"));
    const r = await client.response();
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.body).toBe("part one\npart two\n");
    expect(r.trailers.toLowerCase()).toBe("x-sum: 2 parts");
    client.send(get("/next"));
    expect(echoed((await client.responses(2))[1]!).url).toBe("/next");
    client.close();
  });

  it("uploads 5 MiB from curl with Expect: 100-continue, the 100 coming from the backend", async () => {
    const big = join(h1.dir, "upload.bin");
    writeFileSync(big, Buffer.alloc(5 << 20, 7));
    const started = Date.now();
    // curl waits up to --expect100-timeout for the 100 before it sends the body anyway.
    const { stdout } = await run(
      "curl",
      [
        ...["-sS", "--http1.1", "--cacert", h1.pki.rootFile, "--resolve", `h1.test:${h1.port}:127.0.0.1`],
        ...["-H", "Expect: 100-continue", "--expect100-timeout", "20", "--data-binary", `@${big}`, "-D", "-"],
        `https://h1.test:${h1.port}/upload`,
      ],
      { maxBuffer: 1 << 20 },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stdout).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    const seen = JSON.parse(stdout.slice(stdout.indexOf("{"))) as Echoed;
    expect(seen).toMatchObject({ method: "POST", bodyBytes: 5 << 20 });
    expect(seen.headers.expect).toBe("100-continue");
  });

  it("answers an HTTP/1.0 request without chunked encoding and closes the connection", async () => {
    const { response, client } = await h1.roundTrip("GET /stream HTTP/1.0\r\nHost: h1.test\r\n\r\n");
    await client.closed();
    expect(response.status).toBe(200);
    expect(response.headers["transfer-encoding"]).toBeUndefined();
    expect(parseResponses(client.data, ["GET"], true)[0]!.body).toBe("one\ntwo\n");
    const noHost = await h1.roundTrip("GET /version HTTP/1.0\r\n\r\n"); // Host is optional in 1.0
    expect(echoed(noHost.response).version).toBe("1.0");
    await noHost.client.closed();
  });

  it("answers HEAD with the Content-Length and no body; the connection stays usable", async () => {
    const client = await h1.open();
    client.send(`HEAD /head HTTP/1.1\r\nHost: h1.test\r\n\r\n${get("/after-head")}`);
    const [head, next] = await client.responses(2, ["HEAD", "GET"]);
    expect(head!.status).toBe(200);
    expect(head!.headers["content-length"]).toBe("11");
    // Had a body followed the HEAD response, it would stand where the next status line is.
    expect(echoed(next!).url).toBe("/after-head");
    expect(client.ended).toBe(false);
    client.close();
  });

  it("relays 204 and 304 without a body and keeps the connection alive after them", async () => {
    const client = await h1.open();
    client.send(get("/204") + get("/304", 'If-None-Match: "v1"\r\n') + get("/after-304"));
    const [a, b, c] = await client.responses(3);
    expect([a!.status, b!.status]).toEqual([204, 304]);
    expect(a!.body + b!.body).toBe("");
    expect(echoed(c!).url).toBe("/after-304");
    client.send(get("/still-alive"));
    expect(echoed((await client.responses(4))[3]!).url).toBe("/still-alive");
    client.close();
  });

  it("relays a close-delimited response fully and closes the client connection after it", async () => {
    const client = await h1.open("raw.test");
    client.send(get("/close-delimited", "", "raw.test"));
    await client.closed();
    const [r] = parseResponses(client.data, ["GET"], true);
    expect(r!.status).toBe(200);
    expect(r!.headers.connection).toBe("close");
    expect(r!.body).toBe("first line\nsecond line\nlast line\n");
  });
});

describe("fields the proxy rewrites", () => {
  it("appends to a client's X-Forwarded-For and replaces its X-Forwarded-Proto and -Host", async () => {
    const fields =
      "X-Forwarded-For: 10.1.1.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: evil.example\r\n";
    const { response, client } = await h1.roundTrip(get("/xff", fields));
    expect(echoed(response).headers).toMatchObject({
      "x-forwarded-for": "10.1.1.1, 127.0.0.1",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "h1.test",
    });
    client.close();
  });

  it("drops hop-by-hop fields: those named in Connection, Keep-Alive, TE, Proxy-Connection", async () => {
    const fields =
      "Connection: keep-alive, x-foo\r\nX-Foo: secret\r\nKeep-Alive: timeout=5\r\nTE: gzip\r\n" +
      "Proxy-Connection: keep-alive\r\nX-Kept: yes\r\n";
    const { response, client } = await h1.roundTrip(get("/hop", fields));
    const { headers } = echoed(response);
    expect(headers["x-kept"]).toBe("yes");
    for (const name of ["x-foo", "keep-alive", "te", "proxy-connection", "connection"])
      expect(headers[name], name).toBeUndefined();
    client.close();
  });

  it("passes TE: trailers on (as a hop-by-hop field of its own), the client taking trailers through us", async () => {
    const { response, client } = await h1.roundTrip(get("/hop", "TE: deflate, trailers\r\n"));
    const { headers } = echoed(response);
    expect(headers.te).toBe("trailers");
    expect(headers.connection).toBe("te");
    client.close();
  });

  // `Connection: content-length` must not make the proxy drop the Content-Length line (a field
  // Connection names is hop-by-hop) while it still frames the body by that length: the backend
  // would get a POST without a body and read the body as its next request.
  it("a Connection header naming Content-Length cannot strip the framing the body relies on", async () => {
    const inner = get("/smuggled-by-connection", "", "connection.test");
    const { response, client } = await h1.roundTrip(
      "POST /conn-cl HTTP/1.1\r\nHost: connection.test\r\nConnection: content-length\r\n" +
        `Content-Length: ${inner.length}\r\n\r\n${inner}`,
      "connection.test",
      "POST",
    );
    client.close();
    await h1.settled();
    expect(h1.echoSeen).not.toContain("GET /smuggled-by-connection");
    // Refused, or forwarded with its body.
    if (response.status !== 400) expect(echoed(response).bodyBytes).toBe(inner.length);
  });
});
