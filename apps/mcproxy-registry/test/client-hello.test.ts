// The ClientHello parser on real hellos (captured from Node's TLS client, with and without SNI),
// cut at every byte, re-framed into many records, and mutated at random: it must say "incomplete",
// "ok" or "malformed", and never throw.
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { connect } from "node:tls";
import { describe, expect, it } from "vitest";
import { parseClientHello } from "../src/dataplane/client-hello.js";

/** The first flight a real TLS client sends, as the proxy would read it. */
async function captureHello(servername?: string): Promise<Buffer> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once("connection", (socket) => {
      socket.once("data", (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
      });
    });
  });
  const client = connect({ port, host: "127.0.0.1", servername, rejectUnauthorized: false });
  client.on("error", () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

function reframe(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) {
    const part = payload.subarray(i, i + size);
    records.push(Buffer.from([22, 3, 1, part.length >> 8, part.length & 255]), part);
  }
  return Buffer.concat(records);
}

describe("parseClientHello", () => {
  it("finds the server name, lower-cased, and reports none when the client sends none", async () => {
    expect(parseClientHello(await captureHello("Web.Example.ORG"))).toEqual({
      status: "ok",
      serverName: "web.example.org",
    });
    expect(parseClientHello(await captureHello())).toEqual({ status: "ok", serverName: undefined });
  });

  it("is incomplete at every cut before the end, across records of any size", async () => {
    const hello = await captureHello("split.example");
    for (const data of [hello, reframe(hello, 64), reframe(hello, 100), reframe(hello, 700)]) {
      for (let cut = 0; cut < data.length; cut++) {
        expect(parseClientHello(data.subarray(0, cut)).status).toBe("incomplete");
      }
      expect(parseClientHello(data)).toEqual({ status: "ok", serverName: "split.example" });
    }
  });

  it("calls non-TLS bytes and broken hellos malformed, and never throws on random damage", async () => {
    const hello0 = await captureHello("records.example");
    expect(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toMatchObject({ status: "malformed" });
    expect(parseClientHello(Buffer.from([22, 3, 1, 0, 0]))).toMatchObject({ status: "malformed" });
    expect(parseClientHello(reframe(hello0, 1))).toEqual({
      status: "malformed",
      reason: "hello split into too many records",
    });
    // A hello that says it is longer than 16 KiB is refused at once, before we hold it.
    const big = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0x40, 0x01]);
    expect(parseClientHello(big)).toEqual({ status: "malformed", reason: "ClientHello too large" });
    const justUnder = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0x40, 0x00]);
    expect(parseClientHello(justUnder)).toEqual({ status: "incomplete" });
    const hello = await captureHello("fuzz.example");
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const damaged = Buffer.from(hello);
      for (let n = 0; n < 1 + (i % 4); n++) damaged[5 + (random() % (damaged.length - 5))] = random() % 256;
      expect(["ok", "malformed", "incomplete"]).toContain(parseClientHello(damaged).status);
    }
  });
});
