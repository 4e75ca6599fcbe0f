// Hostile and unusual TLS clients against the real process, at the handshake level: old and
// odd protocol versions, suites and groups the proxy does not take, renegotiation, ALPN and SNI
// variants (some in hand-patched ClientHellos), an unasked client certificate, 0-RTT, broken
// records after the handshake, and L4 passthrough of what an L7 route would refuse. After every
// case the process is alive, an ordinary client gets 200, and no client connection is left open.

import { constants } from "node:crypto";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  alert,
  captureHello,
  IDLE_MS,
  patchName,
  rawExchange,
  sslv2Hello,
  startTlsClientsEnv,
  tappedClient,
} from "./tls-clients-setup.js";

let env: Awaited<ReturnType<typeof startTlsClientsEnv>>;
beforeAll(async () => {
  env = await startTlsClientsEnv();
});
afterAll(async () => env?.stop());
afterEach(async () => env.expectServing());

/** A request s_client sends on stdin; the proxy closes after answering it. */
const request = (path: string, close = true) =>
  `GET ${path} HTTP/1.1\r\nhost: web.test\r\n${close ? "connection: close\r\n" : ""}\r\n`;
const web = ["-servername", "web.test"];
const times = (path: string) => env.requests.filter((r) => r === `GET ${path}`).length;

/** Everything `socket` receives, as text, as it comes. */
function collect(socket: TLSSocket): { text: string } {
  const got = { text: "" };
  socket.on("data", (c: Buffer) => {
    got.text += c.toString("latin1");
  });
  return got;
}

/** Node's TLS client to web.test through the proxy, trusting the test root. */
const node = (options: ConnectionOptions = {}) => {
  const socket = tlsConnect({
    port: env.port,
    host: "127.0.0.1",
    servername: "web.test",
    ca: env.ca,
    ...options,
  });
  socket.on("error", () => {});
  return socket;
};

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("protocol versions, cipher suites and key agreement groups", () => {
  it("serves a TLS 1.2-only client with ECDHE-ECDSA-AES128-GCM-SHA256", async () => {
    const out = await env.sclient(
      [...web, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-ign_eof"],
      request("/v12"),
    );
    expect(out).toMatch(/^New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256$/m);
    expect(out).toContain("Verify return code: 0 (ok)");
    expect(out).toContain("hello /v12");
    expect(times("/v12")).toBe(1);
  });

  it("refuses TLS 1.0 and 1.1 with a protocol_version alert, counted as tls_error", async () => {
    const before = await env.failures("tls_error");
    for (const version of ["-tls1", "-tls1_1"]) {
      const out = await env.sclient([...web, version, "-cipher", "DEFAULT@SECLEVEL=0"]);
      expect(out, version).toMatch(/alert protocol version.*SSL alert number 70/);
      expect(out).toMatch(/Cipher is \(NONE\)/);
    }
    await env.expectCounted("tls_error", before, 2);
  });

  it("answers handshake_failure to a client offering only suites it does not have", async () => {
    const before = await env.failures("tls_error");
    const offers = [
      ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"], // CBC with SHA-1 MACs
      ["-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384"], // RSA key exchange
      ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"],
    ];
    for (const offer of offers) {
      const out = await env.sclient([...web, ...offer]);
      expect(out, offer.join(" ")).toMatch(/alert handshake failure.*SSL alert number 40/);
    }
    await env.expectCounted("tls_error", before, offers.length);
  });

  it("answers handshake_failure to a client offering only groups it does not take, counted", async () => {
    const before = await env.failures("tls_error");
    for (const groups of ["ffdhe2048", "X448", "P-384"]) {
      const out = await env.sclient([...web, "-tls1_3", "-groups", groups]);
      expect(out, groups).toMatch(/alert handshake failure.*SSL alert number 40/);
    }
    // Node 24's post-quantum hybrid alone is refused (the proxy takes X25519 and P-256 only).
    const [err] = (await once(node({ ecdhCurve: "X25519MLKEM768" }), "error")) as [Error];
    expect(err.message).toMatch(/handshake failure/);
    await env.expectCounted("tls_error", before, 4);
  });

  it("asks a client whose only key share it does not take for P-256 (HelloRetryRequest)", async () => {
    const out = await env.sclient([...web, "-tls1_3", "-groups", "X448:P-256", "-msg"]);
    expect(out.match(/^>>> .*ClientHello$/gm)).toHaveLength(2);
    expect(out).toContain("Server Temp Key: ECDH, prime256v1");
  });

  // A client whose one key share is for a group the proxy does not take, but which offers one it
  // does, gets a HelloRetryRequest. Its session ticket is then made through the SNI callback's
  // SecureContext: before session-tickets.ts hooked those too, the handshake ended in
  // internal_error ("construct_stateless_ticket: callback failed").
  it("serves a client after a HelloRetryRequest (X448 then P-256; X25519MLKEM768 then X25519)", async () => {
    const out = await env.sclient([...web, "-tls1_3", "-groups", "X448:P-256", "-ign_eof"], request("/hrr"));
    expect(out).toContain("hello /hrr");
    const hybrid = node({ ecdhCurve: "X25519MLKEM768:X25519", ALPNProtocols: ["http/1.1"] });
    const got = collect(hybrid);
    await once(hybrid, "secureConnect");
    expect(hybrid.getEphemeralKeyInfo()).toMatchObject({ name: "X25519" });
    hybrid.end(request("/hybrid"));
    await until(() => got.text.includes("hello /hybrid") || hybrid.destroyed, "the response to /hybrid");
    expect(got.text).toContain("hello /hybrid");
  });
});

describe("renegotiation (TLS 1.2, client-initiated)", () => {
  /** GET /before, then a renegotiation; its error (or null), and whether /after is then served. */
  async function renegotiate(secureOptions = 0) {
    const socket = node({ maxVersion: "TLSv1.2", secureOptions });
    await once(socket, "secureConnect");
    const got = collect(socket);
    socket.write(request("/before", false));
    await until(() => got.text.includes("hello /before"), "the response to /before");
    // The callback, or the connection's error or end: whichever comes first.
    const err = await new Promise<Error | null>((resolve) => {
      socket.once("error", resolve);
      socket.once("close", () => resolve(new Error("closed during renegotiation")));
      if (!socket.renegotiate({ rejectUnauthorized: true }, (e) => resolve(e ?? null)))
        resolve(new Error("renegotiation not started"));
    });
    let after = false;
    if (!err) {
      socket.write(request("/after"));
      await until(() => got.text.includes("hello /after") || socket.destroyed, "the response to /after");
      after = got.text.includes("hello /after");
    }
    socket.destroy();
    return { err, after };
  }

  it("is harmless: the connection ends or goes on, the proxy keeps serving", async () => {
    const { err, after } = await renegotiate();
    expect(err !== null || after).toBe(true);
  });

  it("without session tickets completes, and the connection keeps serving", async () => {
    // Node's server allows 3 renegotiations per connection in 10 minutes (tls.CLIENT_RENEG_LIMIT).
    const { err, after } = await renegotiate(constants.SSL_OP_NO_TICKET);
    expect(err?.message ?? "renegotiated").toMatch(/^renegotiated$|no renegotiation/);
    if (!err) expect(after).toBe(true);
  });

  // Renegotiation is refused up front (SSL_OP_NO_RENEGOTIATION); it used to run a whole
  // handshake and then end in internal_error (the ticket hook missing on the SNI context).
  it("refuses renegotiation with no_renegotiation, never internal_error", async () => {
    const { err } = await renegotiate();
    expect(err?.message ?? "renegotiated").toMatch(/no renegotiation/);
  });
});

describe("ALPN", () => {
  it("answers no_application_protocol when nothing overlaps (h3, spdy/3.1), counted", async () => {
    const before = await env.failures("tls_error");
    for (const alpn of ["h3", "spdy/3.1", "h3,spdy/3.1"]) {
      const out = await env.sclient([...web, "-alpn", alpn]);
      expect(out, alpn).toMatch(/alert no application protocol.*SSL alert number 120/);
    }
    await env.expectCounted("tls_error", before, 3);
  });

  it("speaks HTTP/1.1 without ALPN, and picks h2 when offered with http/1.1 in either order", async () => {
    const none = await env.sclient([...web, "-ign_eof"], request("/no-alpn"));
    expect(none).toContain("No ALPN negotiated");
    expect(none).toMatch(/^HTTP\/1\.1 200 OK/m);
    expect(none).toContain("hello /no-alpn");
    for (const alpn of ["http/1.1,h2", "h2,http/1.1"]) {
      expect(await env.sclient([...web, "-alpn", alpn])).toContain("ALPN protocol: h2");
    }
    const only11 = await env.sclient([...web, "-alpn", "http/1.1", "-ign_eof"], request("/h1"));
    expect(only11).toContain("ALPN protocol: http/1.1");
    expect(only11).toContain("hello /h1");
  });
});

describe("server names", () => {
  it("serves a route's name in any letter case", async () => {
    for (const name of ["WEB.TEST", "Web.Test"]) {
      const out = await env.sclient(["-servername", name, "-ign_eof"], request(`/${name}`));
      expect(out, name).toContain(`hello /${name}`);
    }
  });

  // A fully qualified name (trailing dot) is the route's name, in the sniffer and at L7 alike
  // (it used to be routed by the one and refused by the other, with a bare TCP close).
  it("serves the name with a trailing dot as the route (the sniffer already routes it)", async () => {
    const out = await env.sclient(["-servername", "web.test.", "-ign_eof"], request("/dot"));
    expect(out).toContain("hello /dot");
  });

  it("refuses an IP literal with unrecognized_name, counted as unknown_sni", async () => {
    const before = await env.failures("unknown_sni");
    const out = await env.sclient(["-servername", "127.0.0.1"]);
    expect(out).toMatch(/unrecognized name.*SSL alert number 112/);
    await env.expectCounted("unknown_sni", before);
  });

  it("refuses names over 253 bytes, NUL and non-ASCII bytes as malformed (decode_error)", async () => {
    const before = await env.failures("malformed");
    const label = "a".repeat(63);
    const long = (n: number) => `${[label, label, label, label].join(".").slice(0, n - 5)}.test`;
    // 253 bytes is a name that could exist: unknown here.
    expect(await rawExchange(env.port, await captureHello(long(253)))).toEqual(alert(112));
    for (const n of [254, 255]) {
      expect(await rawExchange(env.port, await captureHello(long(n))), `${n} bytes`).toEqual(alert(50));
    }
    const patched: [string, Buffer][] = [
      ["web.testX.evil", Buffer.from("web.test\0.evil", "latin1")],
      ["wXb.test", Buffer.from("w\xe9b.test", "latin1")],
      ["wXXb.test", Buffer.from("wéb.test", "utf8")],
      ["webXtest", Buffer.from("web\x7ftest", "latin1")],
    ];
    for (const [placeholder, name] of patched) {
      const hello = patchName(await captureHello(placeholder), placeholder, name);
      expect(await rawExchange(env.port, hello), JSON.stringify(name.toString("latin1"))).toEqual(alert(50));
    }
    await env.expectCounted("malformed", before, 2 + patched.length);
  });
});

it("serves a client that offers a certificate nobody asked for", async () => {
  const out = await env.sclient(
    [...web, "-cert", env.clientCert, "-key", env.clientKey, "-ign_eof"],
    request("/cert"),
  );
  expect(out).toContain("hello /cert");
  expect(out).toMatch(/No client certificate CA names sent/);
});

it("takes no 0-RTT data: a resumed client's request reaches the backend exactly once", async () => {
  const session = join(env.dir, "session.pem");
  const first = await env.sclient([...web, "-tls1_3", "-sess_out", session, "-ign_eof"], request("/first"));
  expect(first).toContain("hello /first");
  expect(first).toMatch(/Max Early Data: 0/);
  const early = join(env.dir, "early.txt");
  writeFileSync(early, request("/early"));
  // The request as early data, and again after the handshake (what a client does when its early
  // data is not taken).
  const out = await env.sclient(
    [...web, "-tls1_3", "-sess_in", session, "-early_data", early, "-ign_eof"],
    request("/early"),
  );
  expect(out).toMatch(/^Reused, TLSv1\.3/m);
  expect(out).toMatch(/Early data was (not sent|rejected)/);
  expect(out).toContain("hello /early");
  expect(times("/early")).toBe(1);
});

describe("after the handshake", () => {
  const client = () =>
    tappedClient(env.port, { servername: "web.test", ca: env.ca, ALPNProtocols: ["http/1.1"] });

  it("closes on bytes that are not a TLS record, with an alert, forwarding nothing", async () => {
    const { raw, tls, errors } = await client();
    raw.write("GET /garbage HTTP/1.1\r\nhost: web.test\r\n\r\n");
    await new Promise((r) => tls.once("close", r));
    expect(errors[0]?.message).toMatch(/alert unexpected message/);
    expect(times("/garbage")).toBe(0);
  });

  it("closes on a record whose authentication fails (bad_record_mac), forwarding nothing", async () => {
    const { tap, tls, errors } = await client();
    tap.corruptNext = true;
    tls.write(request("/bad-mac"));
    await new Promise((r) => tls.once("close", r));
    expect(errors[0]?.message).toMatch(/bad record mac/);
    expect(times("/bad-mac")).toBe(0);
  });

  it("closes at once on close_notify mid-request-head, even with the TCP connection left open", async () => {
    const { raw, tap, tls } = await client();
    tls.write("GET /half HTTP/1.1\r\nhost: web");
    tap.holdFin = true;
    const startedAt = Date.now();
    tls.end();
    await once(raw, "end");
    // At once, not by the idle sweep (which closes in [IDLE_MS, IDLE_MS + 250 ms]).
    expect(Date.now() - startedAt).toBeLessThan(IDLE_MS - 250);
    raw.destroy();
    expect(times("/half")).toBe(0);
  });

  it("closes a client that sends half a request head and goes silent, at idle_timeout_ms", async () => {
    const { raw, tls } = await client();
    const startedAt = Date.now();
    tls.write("GET /silent HTTP/1.1\r\nhost: we");
    await once(raw, "close");
    const waited = Date.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(waited).toBeLessThan(IDLE_MS + 1500);
    expect(times("/silent")).toBe(0);
  });
});

describe("L4 passthrough", () => {
  /** One TLS connection to pass.test through the proxy; what the backend saw, bytes compared. */
  async function through(options: { maxVersion?: "TLSv1.2"; ALPNProtocols?: string[] }) {
    env.relayed.up.length = 0;
    env.relayed.down.length = 0;
    const { tap, tls } = await tappedClient(env.port, { servername: "pass.test", ca: env.ca, ...options });
    const got = collect(tls);
    await once(tls, "end");
    tls.destroy();
    // The backend got the client's bytes, and the client the backend's, untouched.
    await until(
      () =>
        Buffer.concat(env.relayed.up).equals(Buffer.concat(tap.written)) &&
        Buffer.concat(env.relayed.down).equals(Buffer.concat(tap.received)),
      "the relayed bytes to equal the client's",
    );
    return JSON.parse(got.text) as unknown;
  }

  it("passes a TLS 1.2 client through untouched: the backend sees its name, version and ALPN", async () => {
    expect(await through({ maxVersion: "TLSv1.2", ALPNProtocols: ["http/1.1"] })).toEqual({
      servername: "pass.test",
      protocol: "TLSv1.2",
      alpn: "http/1.1",
    });
  });

  it("passes a client without ALPN through untouched", async () => {
    expect(await through({})).toEqual({ servername: "pass.test", protocol: "TLSv1.3", alpn: false });
  });

  it("refuses an SSLv2-format ClientHello as malformed with decode_error, reaching no backend", async () => {
    const before = await env.failures("malformed");
    const sessions = env.sessions.length;
    expect(await rawExchange(env.port, sslv2Hello())).toEqual(alert(50));
    await env.expectCounted("malformed", before);
    expect(env.sessions.length).toBe(sessions);
  });
});
