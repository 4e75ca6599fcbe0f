// HTTP/1.1 requests the proxy refuses and backends that misbehave, through the real process with
// hand-made bytes over TLS: refused smuggling attempts, 431/400/505/421, nothing read after a
// refusal or an early answer, stale keep-alive connections, early 413, bad status lines, declined
// upgrades, slow readers, and random garbage; then the process must still serve. The raw clients,
// backends and the setup are in http1-raw.ts.

import { random } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./harness.js";
import { get, parseResponses } from "./http1-client.js";
import { BIG, type Echoed, echoed, type H1Proxy, startH1Proxy } from "./http1-raw.js";

let h1: H1Proxy;

beforeAll(async () => {
  h1 = await startH1Proxy();
});

afterAll(async () => {
  await h1?.stop();
});

describe("requests the proxy refuses", () => {
  const attempts: [string, number, string][] = [
    ["Content-Length with Transfer-Encoding", 400, "Content-Length: 6\r\nTransfer-Encoding: chunked"],
    ["two different Content-Lengths", 400, "Content-Length: 0\r\nContent-Length: 37"],
    ["Transfer-Encoding: xchunked", 501, "Transfer-Encoding: xchunked"],
    ["Transfer-Encoding: chunked, identity", 501, "Transfer-Encoding: chunked, identity"],
    ["two Transfer-Encoding fields", 400, "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"],
    ["an obs-fold line", 400, "Transfer-Encoding: chunked\r\n identity"],
    ["a bare LF line ending", 400, "X-A: b\nTransfer-Encoding: chunked"],
    ["a NUL in a field", 400, "X-A: a\0b\r\nContent-Length: 0"],
    ["a space before the colon", 400, "Transfer-Encoding : chunked"],
  ];
  it.each(attempts.map(([what, status, fields], i) => ({ what, status, fields, i })))(
    "refuses $what with $status, closes, and forwards nothing",
    async ({ status, fields, i }) => {
      // What a backend reading the other framing would take for a second request follows.
      const { response, client } = await h1.roundTrip(
        `POST /attempt-${i} HTTP/1.1\r\nHost: h1.test\r\n${fields}\r\n\r\n0\r\n\r\n${get(`/smuggled-${i}`)}`,
      );
      expect(response.status).toBe(status);
      expect(response.headers.connection).toBe("close");
      expect(response.body.length).toBeGreaterThan(5); // says what was wrong
      await client.closed();
      await h1.settled();
      expect(h1.echoSeen.join("\n")).not.toMatch(new RegExp(`/attempt-${i}$|/smuggled-${i}$`, "m"));
    },
  );

  it("refuses a 20 KiB head with 431 (a 15 KiB one passes)", async () => {
    const ok = await h1.roundTrip(get("/15k", `X-Big: ${"a".repeat(15 << 10)}\r\n`));
    expect(ok.response.status).toBe(200);
    ok.client.close();
    const { response, client } = await h1.roundTrip(get("/20k", `X-Big: ${"a".repeat(20 << 10)}\r\n`));
    expect(response.status).toBe(431);
    await client.closed();
    expect(h1.echoSeen).not.toContain("GET /20k");
  });

  it("refuses an HTTP/1.1 request without Host with 400", async () => {
    const { response, client } = await h1.roundTrip("GET /no-host HTTP/1.1\r\nX-A: b\r\n\r\n");
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/Host/);
    await client.closed();
  });

  it.each(["HTTP/2.0", "HTTP/1.2"])("refuses a %s request line with 505", async (version) => {
    const { response, client } = await h1.roundTrip(`GET /v ${version}\r\nHost: h1.test\r\n\r\n`);
    expect(response.status).toBe(505);
    await client.closed();
  });

  it("answers 421 on a kept-alive connection whose route was removed", async () => {
    const client = await h1.open("gone.test");
    client.send(get("/before", "", "gone.test"));
    expect((await client.response()).status).toBe(200);
    const { routes } = await h1.proxy.client.listRoutes({ hostname: "gone.test" });
    await h1.proxy.client.removeRoute({ id: routes[0]!.id, owner: "test" });
    client.send(get("/after-removal", "", "gone.test"));
    expect((await client.responses(2))[1]!.status).toBe(421);
    await client.closed();
    expect(h1.echoSeen).not.toContain("GET /after-removal");
  });

  // Once the proxy ends its side of the connection, what the client sends next must not be parsed
  // as a new request and forwarded (its answer would be lost anyway).
  it("after a refusal, nothing more is read from the connection", async () => {
    const client = await h1.open("refusal.test", true);
    client.send("GET /refused HTTP/1.1\r\nX-A: b\r\n\r\n");
    expect((await client.response()).status).toBe(400);
    await client.until("the proxy's end", () => client.readEnded || undefined);
    client.send(get("/after-refusal", "", "refusal.test"));
    await h1.settled();
    client.close();
    expect(h1.echoSeen).not.toContain("GET /after-refusal");
  });
});

describe("backends that misbehave", () => {
  it("retries a GET once when the backend closes the kept-alive connection as it arrives", async () => {
    const first = await h1.roundTrip(get("/stale-1", "", "stale.test"), "stale.test");
    expect(first.response.body).toBe("connection 1");
    first.client.close();
    const second = await h1.roundTrip(get("/stale-2", "", "stale.test"), "stale.test");
    expect(second.response.status).toBe(200);
    expect(second.response.body).toBe("connection 2");
    // Sent on the kept connection (which closed), then once more on a new one.
    expect(h1.stale.seen.filter((s) => s === "GET /stale-2")).toHaveLength(2);
    second.client.close();
  });

  it("does not send a POST with a body twice when the kept-alive connection closed: 502", async () => {
    const { response, client } = await h1.roundTrip(
      "POST /stale-post HTTP/1.1\r\nHost: stale.test\r\nContent-Length: 4\r\n\r\nbody",
      "stale.test",
    );
    expect(response.status).toBe(502);
    expect(response.body).toMatch(/^bad gateway/);
    expect(h1.stale.seen.filter((s) => s === "POST /stale-post")).toHaveLength(1);
    await client.closed();
  });

  it("relays a 413 the backend sends while a large POST is still coming, then closes", async () => {
    const client = await h1.open("raw.test");
    client.send(`POST /early HTTP/1.1\r\nHost: raw.test\r\nContent-Length: ${64 << 20}\r\n\r\n`);
    // Body until the proxy closes: it stops taking it once the answer is out.
    const piece = Buffer.alloc(64 << 10, 0x61);
    let sent = 0;
    const pump = () => {
      while (!client.ended && sent < 64 << 20 && client.socket.write(piece)) sent += piece.length;
    };
    client.socket.on("drain", pump);
    pump();
    const r = await client.response("POST");
    expect(r.status).toBe(413);
    expect(r.body).toBe("too large");
    await client.closed();
    expect(sent).toBeLessThan(64 << 20);
    expect(h1.raw.seen.filter((s) => s.includes("/early"))).toEqual(["POST /early"]);
  });

  // The exchange closes both connections because the body's rest cannot be told from a next
  // request; that rest must not be read as requests meanwhile.
  it("after an early answer, the rest of the request body is never forwarded as a request", async () => {
    const client = await h1.open("early.test", true);
    client.send("POST /early-2 HTTP/1.1\r\nHost: early.test\r\nContent-Length: 100000\r\n\r\nabc");
    expect((await client.response("POST")).status).toBe(413);
    await client.until("the proxy's end", () => client.readEnded || undefined);
    client.send(get("/early-smuggled", "", "early.test")); // body bytes of POST /early-2 still
    await h1.settled();
    client.close();
    expect(h1.early.seen).not.toContain("GET /early-smuggled");
  });

  it("answers 502 to a malformed status line, a status past 599 and a 101 nobody asked for", async () => {
    for (const path of ["/bad-status", "/status-600", "/unasked-101"]) {
      const { response, client } = await h1.roundTrip(get(path, "", "raw.test"), "raw.test");
      expect(response.status, path).toBe(502);
      expect(response.body).toMatch(/^bad gateway/);
      await client.closed();
    }
  });

  it("relays an Upgrade the backend declines (200, not 101) as a normal response", async () => {
    const client = await h1.open();
    client.send(get("/ws-declined", "Upgrade: websocket\r\nConnection: Upgrade\r\n"));
    const r = await client.response();
    expect(r.status).toBe(200);
    expect(echoed(r)).toMatchObject({
      url: "/ws-declined",
      headers: { upgrade: "websocket", connection: "upgrade" },
    });
    client.send(get("/after-declined"));
    expect(echoed((await client.responses(2))[1]!).url).toBe("/after-declined");
    client.close();
  });

  it("streams 1 MiB to a client that reads slowly (backpressure), complete", async () => {
    const client = await h1.open("download.test");
    client.send(get("/big", "", "download.test"));
    // One TLS record every 2 ms: the proxy's writes back up and it has to pause the backend.
    client.socket.pause();
    const timer = setInterval(() => {
      client.socket.once("data", () => client.socket.pause());
      client.socket.resume();
    }, 2);
    const big = await client.response().finally(() => clearInterval(timer));
    expect(big.body).toBe("b".repeat(BIG));
    client.close();
  });

  // When the proxy's last write of a response returns false (the client is slow, or the write went
  // out corked), the exchange pauses the backend connection; given back to the pool still paused,
  // the next request on it would never read its answer (504). A response whose head and body reach
  // the proxy as one piece over 64 KiB (written corked) makes the pause happen every time.
  it("a backend connection paused by backpressure is resumed when it goes back to the pool", async () => {
    const first = await h1.roundTrip(get("/in-two-pieces", "", "pieces.test"), "pieces.test");
    expect(first.response.body).toBe("b".repeat(65000));
    first.client.close();
    const next = await h1.roundTrip(get("/next", "", "pieces.test"), "pieces.test");
    next.client.close();
    expect(next.response.status).toBe(200);
  });
});

/** 300 inputs: random bytes, and random bytes and field-like lines after a valid request line. */
function garbage(): { input: Buffer; halfClose: boolean }[] {
  const rnd = random(20261122);
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const printable = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join("");
  return Array.from({ length: 300 }, (_, i) => {
    const line = `${["GET", "POST", "HEAD", "PUT"][i % 4]} /garbage-${i} HTTP/1.1\r\n`;
    const parts: (string | Buffer)[] = [];
    switch (i % 5) {
      case 0:
        parts.push(bytes(1 + int(3000)));
        break;
      case 1:
        parts.push(line, bytes(int(2000)));
        break;
      case 2: // field-like lines (no Host), sometimes a stray byte after them
        parts.push(line);
        for (let n = int(8); n > 0; n--) parts.push(`${printable(1 + int(12))}: ${printable(int(40))}\r\n`);
        if (rnd() < 0.5) parts.push(bytes(1 + int(4)));
        break;
      case 3:
        parts.push(bytes(int(1000)), "\r\n\r\n");
        break;
      default: // past the head limit
        parts.push(line, printable((16 << 10) + int(4 << 10)));
    }
    if (i % 5 !== 4 && rnd() < 0.5) parts.push("\r\n\r\n");
    const input = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)));
    return { input, halfClose: rnd() < 0.3 };
  });
}

describe("garbage", () => {
  it("answers random bytes over TLS with a refusal or a close, never a hang, and forwards none", async () => {
    const cases = garbage();
    const problems: string[] = [];
    const refusals = new Set([400, 431, 501, 505]);
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const { input, halfClose } = cases[next++]!;
        const client = await h1.open();
        client.send(input);
        if (halfClose) client.socket.end();
        try {
          // A refusal closes at once; a head never finished, at the idle timeout (1.5 s).
          await client.closed(4_000);
          const statuses = parseResponses(client.data, [], true).map((r) => r.status);
          if (statuses.some((s) => !refusals.has(s))) problems.push(`statuses ${statuses}`);
        } catch (err) {
          problems.push(`${(err as Error).message.slice(0, 200)} for ${input.toString("hex").slice(0, 120)}`);
          client.close();
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(problems).toEqual([]);
    expect(h1.echoSeen.filter((s) => s.includes("/garbage-"))).toEqual([]);
  });
});

describe("afterwards", () => {
  it("still serves a plain request on a new connection (the process survived all of the above)", async () => {
    // The process from the start: it never exited, so nothing restarted it either.
    expect(h1.proxy.app.child.exitCode).toBeNull();
    const { response, client } = await h1.roundTrip(get("/survived"));
    expect(echoed(response).url).toBe("/survived");
    client.close();
    const { stdout } = await run("curl", [
      ...["-sS", "--http1.1", "--cacert", h1.pki.rootFile, "--resolve", `h1.test:${h1.port}:127.0.0.1`],
      `https://h1.test:${h1.port}/curl-survived`,
    ]);
    expect((JSON.parse(stdout) as Echoed).url).toBe("/curl-survived");
  });
});
