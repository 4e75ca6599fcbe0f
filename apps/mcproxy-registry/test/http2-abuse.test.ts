// Hostile HTTP/2 clients against the real process: streams reset with every kind of error code at
// every point of an exchange, sessions dropped or GOAWAYed mid-stream, a client that stops reading,
// malformed frames, forbidden header fields and a rapid-reset flood. The rule under test: no client
// can end the process or leave it unable to serve others, and what a client leaves behind (its
// connection, the backend requests it started) is closed.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { constants as h2 } from "node:http2";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, type ProxyProcess, startProxy } from "./harness.js";
import {
  Clients,
  type CountingBackend,
  END_HEADERS,
  END_STREAM,
  frame,
  headers,
  hpack,
  midStream,
  open,
  PREFACE,
  priority,
  RESET_CODES,
  request,
  reset,
  rst,
  settings,
  startCountingBackend,
  T,
  windowUpdate,
} from "./http2-abuse-setup.js";
import { createPki } from "./pki.js";

const HOST = "abuse.test";
const { NGHTTP2_PROTOCOL_ERROR: PROTOCOL, NGHTTP2_FRAME_SIZE_ERROR: FRAME_SIZE, NGHTTP2_CANCEL: CANCEL } = h2;

let dir: string;
let ca: Buffer;
let proxy: ProxyProcess;
let port: number;
let backend: CountingBackend;
/** Every connection a case opens, destroyed after it so that a failed case leaves nothing behind. */
let clients: Clients;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-h2-abuse-"));
  const pki = createPki(join(dir, "pki"));
  pki.issue(HOST, pki.dir);
  ca = readFileSync(pki.rootFile);
  backend = await startCountingBackend();
  proxy = await startProxy(join(dir, "proxy"), { certDir: pki.dir });
  port = await freePort();
  clients = new Clients(port, HOST, ca);
  await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname: HOST,
      mode: RouteMode.L7,
      backends: [{ address: backend.address }],
      owner: "test",
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => clients?.destroyAll());

/** Waits for `check` (5 s), failing with `state()` and the proxy's stderr in the message. */
async function waitFor(check: () => boolean | Promise<boolean>, state: () => string): Promise<void> {
  await eventually(async () => (await check()) || undefined, 5000).catch((err: Error) => {
    throw new Error(`${err.message}: ${state()}\nproxy stderr:\n${proxy.app.stderr()}`);
  });
}

/**
 * The process is up, a new session's request gets 200, and everything the case opened is closed
 * again: no client connection open in the proxy, no request open on the backend.
 */
async function expectServing(): Promise<void> {
  const { exitCode, signalCode } = proxy.app.child;
  expect({ exitCode, signalCode }, `the proxy died:\n${proxy.app.stderr()}`).toEqual({
    exitCode: null,
    signalCode: null,
  });
  const s = await clients.session();
  const stream = open(s, "/");
  const [head] = await once(stream, "response");
  stream.resume();
  await once(stream, "end");
  s.close();
  expect(head[":status"]).toBe(200);
  let active = -1;
  await waitFor(
    async () => {
      active = await proxy.metric("mcproxy_active_connections");
      return backend.inflight === 0 && active === 0;
    },
    () => `${backend.inflight} backend requests and ${active} client connections still open`,
  );
}

/** Waits until the backend has closed the requests for `urls`, and expects each to have been cut. */
async function expectCut(urls: string[]): Promise<void> {
  await waitFor(
    () => urls.every((url) => backend.closed.has(url)),
    () => `backend requests still open: ${urls.filter((url) => !backend.closed.has(url))}`,
  );
  const outcomes = (to: (url: string) => unknown) => Object.fromEntries(urls.map((url) => [url, to(url)]));
  expect(outcomes((url) => backend.closed.get(url))).toEqual(outcomes(() => "cut"));
}

/** Starts `path(i)` once per reset code; once all are under way, resets each with its code. */
async function resetEach(
  path: (i: number) => string,
  start: (path: string, i: number) => Promise<(code: number) => unknown>,
): Promise<void> {
  const paths = RESET_CODES.map((_, i) => path(i));
  const resets = await Promise.all(paths.map(start));
  await Promise.all(resets.map((resetWith, i) => resetWith(RESET_CODES[i]!)));
  await expectCut(paths);
}

describe("HTTP/2 clients that reset or drop their streams", () => {
  it("survives every reset code before the response headers, cutting the backend request", async () => {
    const s = await clients.session();
    await resetEach(
      (i) => `/slow?reset${i}`,
      async (path) => {
        const arrived = once(backend.arrivals, path);
        const stream = open(s, path);
        await arrived;
        return (code) => reset(stream, code);
      },
    );
    s.close();
    await expectServing();
  });

  it("survives every reset code in the middle of a response body, cutting the backend request", async () => {
    const s = await clients.session();
    await resetEach(
      (i) => `/stream?reset${i}`,
      async (path) => {
        const stream = open(s, path);
        await once(stream, "data");
        return (code) => reset(stream, code);
      },
    );
    s.close();
    await expectServing();
  });

  it("cuts the backend request of an upload reset with any code (its part is not the whole body)", async () => {
    const raw = await clients.raw();
    await resetEach(
      (i) => `/upload?reset${i}`,
      async (path, i) => {
        const id = 2 * i + 1;
        const arrived = once(backend.arrivals, `data ${path}`);
        const post = headers(id, request(HOST, path, [], "POST"), false);
        raw.write(post, frame(T.DATA, 0, id, Buffer.from("part")));
        await arrived;
        // The backend must not take the part it got for the whole body.
        return (code) => raw.write(rst(id, code));
      },
    );
    await raw.close();
    await expectServing();
  });

  it("survives sessions whose socket goes away mid-stream (FIN, TCP RST), cutting their requests", async () => {
    for (const abrupt of [false, true]) {
      const tcp = netConnect(port, "127.0.0.1");
      const s = await clients.session({
        createConnection: () => tlsConnect({ socket: tcp, servername: HOST, ca, ALPNProtocols: ["h2"] }),
      });
      const urls = await midStream(s, backend, abrupt ? "gone-rst" : "gone-fin");
      if (abrupt) tcp.resetAndDestroy();
      else tcp.destroy();
      await expectCut(urls);
      await expectServing();
    }
  });

  it("survives a GOAWAY from the client mid-stream, serving others meanwhile, cutting its requests", async () => {
    for (const code of [h2.NGHTTP2_NO_ERROR, h2.NGHTTP2_PROTOCOL_ERROR, h2.NGHTTP2_ENHANCE_YOUR_CALM]) {
      const s = await clients.session();
      const urls = await midStream(s, backend, `goaway${code}`);
      s.goaway(code);
      const other = await clients.session();
      const answer = open(other, "/");
      expect((await once(answer, "response"))[0][":status"]).toBe(200);
      other.destroy();
      s.destroy();
      await expectCut(urls);
      await expectServing();
    }
  });

  it("closes a response the client never reads (window exhausted) once the client goes away", async () => {
    const raw = await clients.raw();
    raw.write(headers(1, request(HOST, "/big?1")), headers(3, request(HOST, "/big?3")));
    // The connection's window (65,535 bytes) is all the proxy may send until a WINDOW_UPDATE.
    let received = 0;
    await raw.until((f) => {
      if (f.type === T.DATA) received += f.payload.length;
      return received >= 65_535;
    });
    raw.write(rst(1, CANCEL));
    await expectCut(["/big?1"]);
    await raw.close();
    await expectCut(["/big?3"]);
    await expectServing();
  });
});

describe("malformed HTTP/2 frames", () => {
  const get = headers(1, request(HOST, "/"), false);
  const cases: [string, Buffer, number][] = [
    [
      "a HEADERS frame with a bad HPACK block",
      frame(T.HEADERS, END_HEADERS, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])),
      h2.NGHTTP2_COMPRESSION_ERROR,
    ],
    ["a DATA frame on stream 0", frame(T.DATA, 0, 0, Buffer.from("data")), PROTOCOL],
    [
      "a frame larger than SETTINGS_MAX_FRAME_SIZE",
      Buffer.concat([get, frame(T.DATA, 0, 1, Buffer.alloc(16_385))]),
      FRAME_SIZE,
    ],
    ["a WINDOW_UPDATE of 0 on the connection", windowUpdate(0, 0), PROTOCOL],
    ["a CONTINUATION without HEADERS", frame(T.CONTINUATION, END_HEADERS, 1, Buffer.from([0x82])), PROTOCOL],
    ["a PING of the wrong length", frame(T.PING, 0, 0, Buffer.alloc(7)), FRAME_SIZE],
    ["a SETTINGS frame on a stream", frame(T.SETTINGS, 0, 1), PROTOCOL],
    ["a HEADERS frame on stream 0", frame(T.HEADERS, END_HEADERS, 0, Buffer.from([0x82])), PROTOCOL],
    ["a client-initiated even stream", headers(2, request(HOST)), PROTOCOL],
    ["SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", settings([[4, 2 ** 31]]), h2.NGHTTP2_FLOW_CONTROL_ERROR],
    ["SETTINGS_MAX_FRAME_SIZE below 16,384", settings([[5, 100]]), PROTOCOL],
    ["SETTINGS_ENABLE_PUSH of 2", settings([[2, 2]]), PROTOCOL],
  ];
  for (const [name, bytes, code] of cases)
    it(`answers ${name} with GOAWAY ${code}`, async () => {
      const raw = await clients.raw();
      raw.write(bytes);
      expect(await raw.ending()).toBe(code);
      await raw.close();
      await expectServing();
    });

  it("survives a WINDOW_UPDATE of 0 on a stream, and a stream depending on itself", async () => {
    for (const abuse of [windowUpdate(1, 0), priority(1, 1)]) {
      const raw = await clients.raw();
      raw.write(headers(1, request(HOST, "/slow?refused"), false), abuse);
      // A stream error, or the connection's end (RFC 9113 5.4.1 allows either); nghttp2 ignores
      // PRIORITY (RFC 9113 deprecates the scheme), so then the request is just served.
      expect([{ rst: PROTOCOL }, { goaway: PROTOCOL }, { status: 200 }]).toContainEqual(await raw.outcome(1));
      await raw.close();
    }
    await expectServing();
  });

  it("closes connections with garbage after the preface, a truncated preface, or a wrong one", async () => {
    for (const [bytes, end] of [
      [Buffer.concat([PREFACE, Buffer.from("GET / HTTP/1.1\r\nhost: abuse.test\r\n\r\n")]), false],
      [Buffer.concat([PREFACE, settings(), Buffer.alloc(64, 0xff)]), false],
      [PREFACE.subarray(0, 10), true],
      [Buffer.from("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), false],
    ] as const) {
      const raw = await clients.raw(false);
      raw.write(bytes);
      if (end) raw.socket.end();
      // Closed by the proxy, with or without a GOAWAY first (until() throws if it stays open).
      expect(await raw.until(() => false)).toBeUndefined();
    }
    await expectServing();
  });
});

describe("requests HTTP/2 forbids", () => {
  const base = request(HOST);
  const without = (name: string) => base.filter(([n]) => n !== name);

  it("refuses each with a stream error or a 4xx before the backend, on a connection that goes on", async () => {
    const bad: [string, [string, string][]][] = [
      ["no :path", without(":path")],
      ["an empty :path", [...without(":path"), [":path", ""]]],
      [":path not starting with /", [...without(":path"), [":path", "abc"]]],
      ["a space in :path", [...without(":path"), [":path", "/a b HTTP/1.1"]]],
      ["no :method", without(":method")],
      ["a space in :method", [[":method", "GET /x"], ...without(":method")]],
      ["CONNECT without :authority", [[":method", "CONNECT"]]],
      ["CR LF in :authority", [...without(":authority"), [":authority", `${HOST}\r\nx-evil: 1`]]],
      ["an unknown pseudo-header", [...base, [":foo", "bar"]]],
      ["a pseudo-header after a field", [["x-first", "1"], ...base]],
      ["a duplicate :path", [...base, [":path", "/again"]]],
      ["an uppercase field name", [...base, ["X-Upper", "1"]]],
      ["connection: close", [...base, ["connection", "close"]]],
      ["transfer-encoding: chunked", [...base, ["transfer-encoding", "chunked"]]],
      ["keep-alive", [...base, ["keep-alive", "timeout=5"]]],
      ["upgrade", [...base, ["upgrade", "websocket"]]],
      ["te other than trailers", [...base, ["te", "gzip"]]],
    ];
    const raw = await clients.raw();
    const before = backend.requests;
    const outcomes: Record<string, unknown> = {};
    for (const [i, [name, fields]] of bad.entries()) {
      raw.write(headers(2 * i + 1, fields));
      const outcome = await raw.outcome(2 * i + 1);
      const refused =
        "rst" in outcome || ("status" in outcome && outcome.status >= 400 && outcome.status < 500);
      outcomes[name] = refused ? "refused" : outcome;
    }
    expect(outcomes).toEqual(Object.fromEntries(bad.map(([name]) => [name, "refused"])));
    expect(backend.requests).toBe(before);
    raw.write(headers(2 * bad.length + 1, base));
    expect(await raw.outcome(2 * bad.length + 1)).toEqual({ status: 200 });
    await raw.close();
    await expectServing();
  });

  it("cuts a request whose body is shorter or longer than its content-length", async () => {
    let raw = await clients.raw();
    for (const [id, body] of [
      [1, "short"],
      [3, "far too long for ten"],
    ] as const) {
      const path = `/upload?length${id}`;
      const arrived = once(backend.arrivals, path);
      raw.write(headers(id, request(HOST, path, [["content-length", "10"]], "POST"), false));
      await arrived;
      raw.write(frame(T.DATA, END_STREAM, id, Buffer.from(body)));
      // A stream error; Node's http2 ends the whole session (INTERNAL_ERROR) for a body too long.
      expect(await raw.outcome(id)).not.toHaveProperty("status");
      if (raw.closed) raw = await clients.raw();
    }
    await expectCut(["/upload?length1", "/upload?length3"]);
    await raw.close();
    await expectServing();
  });

  it("never passes a field with CR, LF, NUL or a space in it on to the backend", async () => {
    const raw = await clients.raw();
    const fields: [string, string][] = [
      ["x-inject", "a\r\nx-evil: 1"],
      ["x-lf", "a\nx-evil: 1"],
      ["x-nul", "a\0b"],
      ["x bad", "1"],
      ["x-evil:", "1"],
    ];
    for (const [i, field] of fields.entries()) {
      raw.write(headers(2 * i + 1, [...base, field]));
      // The request is refused, or served without the field (nghttp2 drops such fields).
      expect(await raw.outcome(2 * i + 1)).toSatisfy((o) => "rst" in o || ("status" in o && o.status < 500));
    }
    for (const name of ["x-inject", "x-lf", "x-nul", "x bad", "x-evil", "x-evil:"])
      expect(backend.fieldNames.has(name), name).toBe(false);
    await raw.close();
    await expectServing();
  });
});

describe("floods", () => {
  it("survives a header block of 1,000 CONTINUATION frames that never ends", async () => {
    const raw = await clients.raw();
    const filler = (i: number) => frame(T.CONTINUATION, 0, 1, hpack([[`x-filler-${i}`, "f".repeat(1000)]]));
    raw.write(
      frame(T.HEADERS, 0, 1, hpack(request(HOST))),
      ...Array.from({ length: 1000 }, (_, i) => filler(i)),
    );
    // Refused (the stream or the connection) or left to the idle timeout: never answered.
    expect(await raw.outcome(1)).not.toHaveProperty("status");
    await raw.close();
    await expectServing();
  });

  it("survives 1,000 streams opened and reset at once, and serves a normal request afterwards", async () => {
    const raw = await clients.raw();
    const ids = Array.from({ length: 1000 }, (_, i) => 2 * i + 1);
    raw.write(...ids.flatMap((id) => [headers(id, request(HOST, "/slow")), rst(id, CANCEL)]));
    // The proxy may keep the connection or end it (nghttp2 limits resets): either is fine here.
    raw.write(frame(T.PING, 0, 0, Buffer.alloc(8)));
    await raw.until((f) => f.type === T.PING || f.type === T.GOAWAY, 10_000);
    await raw.close();
    await expectServing();
  });
});
