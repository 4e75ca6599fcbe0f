// Backends that misbehave behind HTTP/2 clients, and WebSocket tunnels behind HTTP/1.1 clients,
// through the real process. An HTTP/2 client must get a 502/504 with a body when nothing of the
// response went out yet, or RST_STREAM INTERNAL_ERROR once it had started: never a response that
// looks complete but is not, never a wait past the deadlines; and the proxy serves on. A tunnel
// relays both ways with backpressure and half-close, ends with either side, and is cut by a route
// removal at once and by a drain at its deadline. The backends and clients are in
// backend-abuse-setup.ts.
import { constants as h2 } from "node:http2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { answer } from "./backend-abuse-answers.js";
import {
  type AbuseProxy,
  h2request,
  type Outcome,
  openRaw,
  startAbuseProxy,
  upgrade,
} from "./backend-abuse-setup.js";
import { eventually } from "./harness.js";
import { get } from "./http1-client.js";

let abuse: AbuseProxy;
/** Client connections of the test running, closed after it whatever its outcome. */
const opened: { close(): void }[] = [];

beforeAll(async () => {
  abuse = await startAbuseProxy(answer);
});

async function h2session(hostname: string) {
  const session = await abuse.session(hostname);
  opened.push(session);
  return session;
}

afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

afterAll(async () => {
  await abuse?.stop();
});

type Expected =
  | { answer: 502 | 504 }
  | { cut: true }
  | { status: number; body: string; check?: (o: Outcome) => void };

const slowUpload = async (stream: { write(b: Buffer): boolean; closed: boolean }) => {
  for (let i = 0; i < 16 && !stream.closed; i++) {
    stream.write(Buffer.alloc(64 << 10, 0x75));
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cases: { what: string; path: string; method?: string; expected: Expected }[] = [
  { what: "garbage instead of a status line", path: "/garbage", expected: { answer: 502 } },
  { what: "a status line, then the close", path: "/status-then-close", expected: { answer: 502 } },
  { what: "a head over 64 KiB", path: "/huge-head", expected: { answer: 502 } },
  { what: "a bare LF in the head", path: "/bare-lf", expected: { answer: 502 } },
  { what: "an obs-fold line", path: "/obs-fold", expected: { answer: 502 } },
  { what: "a NUL in a field", path: "/nul", expected: { answer: 502 } },
  { what: "two different Content-Lengths", path: "/two-lengths", expected: { answer: 502 } },
  // RFC 9110 15: outside 100..599 is invalid and "SHOULD be processed as a 5xx"; HTTP/2 cannot carry it.
  { what: "a status of 600", path: "/status-600", expected: { answer: 502 } },
  // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and an intermediary MUST remove the
  // Content-Length before forwarding.
  {
    what: "Content-Length with Transfer-Encoding",
    path: "/cl-te",
    expected: {
      status: 200,
      body: "hello",
      check: (o) => expect(o.headers?.["content-length"]).toBeUndefined(),
    },
  },
  // The body runs to the close (RFC 9112 6.3), but an HTTP/2 stream has no transfer codings (RFC
  // 9113 8.2.2): passing the gzip-coded bytes on as the content would corrupt it unseen. nginx
  // answers 502 (unknown Transfer-Encoding from upstream), as the proxy must here.
  { what: "Transfer-Encoding: gzip", path: "/te-gzip", expected: { answer: 502 } },
  { what: "a malformed chunk size mid-body", path: "/bad-chunk", expected: { cut: true } },
  {
    what: "a body shorter than its Content-Length, then the close",
    path: "/short-body",
    expected: { cut: true },
  },
  { what: "a TCP RST mid-body", path: "/rst-mid-body", expected: { cut: true } },
  {
    what: "a close-delimited body",
    path: "/close-delimited",
    expected: { status: 200, body: "first\nsecond\n" },
  },
  { what: "100 interim heads before the final one", path: "/interim", expected: { status: 200, body: "ok" } },
  // RFC 9110 7.8 and 15.2.2: a server MUST NOT switch to a protocol the client did not ask for;
  // what follows the 101 is not HTTP/1.1, and HTTP/2 has no 101 (RFC 9113 8.6): a bad gateway.
  { what: "a 101 to a request without Upgrade", path: "/unasked-101", expected: { answer: 502 } },
  { what: "a 204 with a body", path: "/204-body", expected: { status: 204, body: "" } },
  // RFC 9110 8.6: a server MUST NOT send Content-Length in a 204, and HTTP/2 clients (nghttp2)
  // reject one that is not 0 as a malformed response: the proxy must leave it out.
  { what: "a 204 with a Content-Length", path: "/204-length", expected: { status: 204, body: "" } },
  { what: "a 304 with a body", path: "/304-body", expected: { status: 304, body: "" } },
  {
    what: "a body in the answer to HEAD",
    path: "/head-body",
    method: "HEAD",
    expected: { status: 200, body: "", check: (o) => expect(o.headers?.["content-length"]).toBe("5") },
  },
  { what: "an answer that never comes", path: "/silent", expected: { answer: 504 } },
  {
    what: "a response trickled a byte every 10 ms",
    path: "/trickle",
    expected: { status: 200, body: "trickle" },
  },
  { what: "a head trickled past response_timeout_ms", path: "/trickle-long-head", expected: { answer: 504 } },
];

describe("backends that misbehave behind HTTP/2 clients", () => {
  it.each(cases)("$what", async ({ path, method = "GET", expected }) => {
    const session = await h2session("raw.test");
    const o = await h2request(session, { ":method": method, ":path": path });
    if ("answer" in expected) {
      expect(o.status, abuse.proxy.app.stderr().slice(-1500)).toBe(expected.answer);
      expect(o.body.toString()).toMatch(expected.answer === 502 ? /^bad gateway/ : /^gateway timeout/);
      expect(o.ended).toBe(true);
      // 504 at response_timeout_ms (800), not later.
      if (expected.answer === 504) expect(o.ms).toBeLessThan(2_000);
    } else if ("cut" in expected) {
      expect(o.rstCode).toBe(h2.NGHTTP2_INTERNAL_ERROR);
      expect(o.ended).toBe(false);
    } else {
      expect({ status: o.status, body: o.body.toString(), ended: o.ended }).toEqual({
        status: expected.status,
        body: expected.body,
        ended: true,
      });
      expect(o.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
      expected.check?.(o);
    }
    expect(abuse.proxy.app.child.exitCode, abuse.proxy.app.stderr()).toBeNull();
    // The same session, and a new one, are served (the backend's next connection is not spoiled).
    const again = await h2request(session, { ":path": "/ok" });
    expect({ status: again.status, body: again.body.toString() }).toEqual({ status: 200, body: "ok" });
    const fresh = await h2session("good.test");
    expect((await h2request(fresh, { ":path": "/" })).status).toBe(200);
    session.close();
    fresh.close();
    await eventually(async () => (await abuse.activeL7()) === 0, 5_000);
  });

  // RFC 9113 8.1: a server may answer before the request is complete, and may then reset the stream
  // with NO_ERROR; the client must get the whole answer and no error.
  it("passes an early 413 on while the client still uploads, and the session serves on", async () => {
    const session = await h2session("raw.test");
    const o = await h2request(
      session,
      { ":method": "POST", ":path": "/early-413", "content-length": String(1 << 20) },
      slowUpload,
    );
    expect({ status: o.status, body: o.body.toString(), ended: o.ended }).toEqual({
      status: 413,
      body: "too large\n",
      ended: true,
    });
    expect(o.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
    expect((await h2request(session, { ":path": "/ok" })).status).toBe(200);
    session.close();
    await eventually(async () => (await abuse.activeL7()) === 0, 5_000);
  });
});

/** Opens a tunnel on route `host` (`early` sent with the request); the client and its TCP socket. */
async function tunnel(host: string, path: string, early = "", halfOpen = false) {
  const raw = await openRaw(abuse.port, abuse.ca, host, halfOpen);
  opened.push(raw.client);
  raw.client.send(upgrade(path, host) + early);
  const at = await raw.client.until("the 101", () => {
    const end = raw.client.data.indexOf("\r\n\r\n");
    return end < 0 ? undefined : end + 4;
  });
  expect(raw.client.data.toString("latin1", 0, 12)).toBe("HTTP/1.1 101");
  /** What came through the tunnel so far. */
  const relayed = () => raw.client.data.subarray(at).toString("latin1");
  const relays = (text: string) => raw.client.until(`"${text}"`, () => relayed().endsWith(text) || undefined);
  return { ...raw, relayed, relays };
}

/** Nothing is left open: the client connections and the tunnels' backend sides are gone. */
async function allClosed(): Promise<void> {
  await eventually(async () => (await abuse.activeL7()) === 0, 5_000);
  for (const t of Object.values(abuse.tunnels)) await eventually(async () => t.open === 0, 5_000);
}

describe("WebSocket tunnels (HTTP/1.1 over TLS)", () => {
  it("relays both ways, the bytes sent before the 101 first", async () => {
    const t = await tunnel("ws.test", "/early", "sent with the request;");
    t.client.send("then ping");
    await t.relays("sent with the request;then ping");
    expect(abuse.tunnels.ws.received.get("/early")?.toString()).toBe("sent with the request;then ping");
    t.client.close();
    await allClosed();
  });

  it("relays 1 MiB each way with slow readers on both ends", async () => {
    const t = await tunnel("ws.test", "/big");
    const sent = Buffer.alloc(1 << 20);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 10)) & 0xff;
    // The client reads in short bursts; the echo backend pauses whenever its writes back up.
    const reader = setInterval(() => {
      t.client.socket.resume();
      setTimeout(() => t.client.socket.pause(), 1);
    }, 5);
    t.client.socket.pause();
    t.client.send(sent);
    try {
      await t.client.until(
        "1 MiB back",
        () => (t.relayed().length >= sent.length ? true : undefined),
        10_000,
      );
    } finally {
      clearInterval(reader);
    }
    expect(Buffer.from(t.relayed(), "latin1").equals(sent)).toBe(true);
    expect(abuse.tunnels.ws.received.get("/big")?.equals(sent)).toBe(true);
    t.client.close();
    await allClosed();
  });

  it("passes a client's FIN on as a half-close: the backend still answers, then ends", async () => {
    const t = await tunnel("ws.test", "/half-client", "", true);
    t.client.send("ping");
    await t.relays("ping");
    t.client.socket.end();
    await t.relays("pingafter your end\n");
    await t.client.closed();
    await allClosed();
  });

  it("passes a backend's FIN on as a half-close: the client still sends, then ends", async () => {
    const t = await tunnel("ws.test", "/half-backend", "", true);
    t.client.send("ping");
    await t.relays("ping");
    abuse.tunnels.ws.sockets.get("/half-backend")!.end("bye\n");
    await t.client.until("the end", () => t.client.readEnded || undefined);
    t.client.send("still here");
    await eventually(
      async () => abuse.tunnels.ws.received.get("/half-backend")?.toString() === "pingstill here",
      3_000,
    );
    t.client.socket.end();
    await t.client.closed();
    await allClosed();
  });

  it.each([
    ["the client", "FIN"],
    ["the client", "RST"],
    ["the backend", "FIN"],
    ["the backend", "RST"],
  ])("closes the other side when %s goes (%s)", async (who, how) => {
    const path = `/gone-${who.slice(4)}-${how}`;
    const t = await tunnel("ws.test", path);
    t.client.send("ping");
    await t.relays("ping");
    const backend = abuse.tunnels.ws.sockets.get(path)!;
    if (who === "the client") {
      if (how === "RST") t.tcp.resetAndDestroy();
      else t.tcp.end();
      await eventually(async () => backend.destroyed, 3_000);
    } else {
      if (how === "RST") backend.resetAndDestroy();
      else backend.end();
      await t.client.closed();
    }
    await allClosed();
  });

  it("relays a refusal with a length and keeps the connection; one that reads to the close, closes", async () => {
    const raw = await openRaw(abuse.port, abuse.ca, "ws.test");
    opened.push(raw.client);
    raw.client.send(upgrade("/refuse-426", "ws.test"));
    const refused = await raw.client.response();
    expect({ status: refused.status, body: refused.body, close: refused.headers.connection }).toEqual({
      status: 426,
      body: "upgrade refused\n",
      close: undefined,
    });
    raw.client.send(get("/after", "", "ws.test"));
    const [, after] = await raw.client.responses(2);
    expect({ status: after!.status, body: after!.body }).toEqual({ status: 200, body: "plain" });
    const other = await openRaw(abuse.port, abuse.ca, "ws.test");
    opened.push(other.client);
    other.client.send(upgrade("/refuse-400", "ws.test"));
    const closing = await other.client.response();
    expect({ status: closing.status, body: closing.body, close: closing.headers.connection }).toEqual({
      status: 400,
      body: "not a websocket\n",
      close: "close",
    });
    await other.client.closed();
    raw.client.close();
    await allClosed();
  });

  it("is cut at once by RemoveRoute", async () => {
    const t = await tunnel("cut.test", "/removed");
    t.client.send("ping");
    await t.relays("ping");
    await abuse.proxy.client.removeRoute({ id: abuse.ids["cut.test"]!, owner: "test" });
    await t.client.closed(2_000);
    await allClosed();
  });

  it("is cut by SetBackend at the drain deadline, not before", async () => {
    const t = await tunnel("drain.test", "/drained");
    const switchedAt = performance.now();
    await abuse.proxy.client.setBackend({
      id: abuse.ids["drain.test"]!,
      owner: "test",
      backends: [{ address: abuse.good.address }],
      drainTimeout: { seconds: 1n },
    });
    await new Promise((r) => setTimeout(r, 600));
    t.client.send("still relayed while draining");
    await t.relays("still relayed while draining");
    await t.client.closed(3_000);
    expect(performance.now() - switchedAt).toBeGreaterThan(900);
    await allClosed();
  });
});
