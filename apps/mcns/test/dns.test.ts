// DNS behaviour of the real process, checked with dig (UDP and TCP) and Node's own resolver.

import { Resolver } from "node:dns/promises";
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { create } from "@bufbuild/protobuf";
import { CaaDataSchema, MxDataSchema, SrvDataSchema, TxtDataSchema } from "@mcp/proto/mcns/v1/record_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, query, rec, startMcns, target, ZONE } from "./harness.js";

let mcns: Mcns;
let resolver: Resolver;

beforeAll(async () => {
  mcns = await startMcns();
  const client = mcns.client();
  const records = [
    rec("hello", "A", address("192.0.2.10")),
    rec("hello", "A", address("192.0.2.11")),
    rec("hello", "AAAA", address("2001:db8::10")),
    rec("www", "CNAME", target(`hello.${ZONE}`)),
    rec("dangling", "CNAME", target(`missing.${ZONE}`)),
    rec("outside", "CNAME", target("example.org")),
    rec("a.deep", "A", address("192.0.2.20")), // deep.svc.mcp.test is an empty non-terminal
    rec("txt", "TXT", { case: "txt", value: create(TxtDataSchema, { strings: ["v=spf1 -all", "second"] }) }),
    rec("_sip._tcp", "SRV", {
      case: "srv",
      value: create(SrvDataSchema, { priority: 10, weight: 5, port: 5060, target: `hello.${ZONE}` }),
    }),
    rec("@", "MX", { case: "mx", value: create(MxDataSchema, { preference: 10, exchange: `mail.${ZONE}` }) }),
    rec("@", "CAA", {
      case: "caa",
      value: create(CaaDataSchema, { flags: 0, tag: "issue", value: "letsencrypt.org" }),
    }),
    rec("child", "NS", target(`ns.child.${ZONE}`)),
    rec("ns.child", "A", address("192.0.2.53")),
  ];
  // 30 TXT strings of 100 bytes: about 3 KB, more than any UDP answer we send.
  const big = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(3, "0")}${"x".repeat(97)}`);
  records.push(rec("big", "TXT", { case: "txt", value: create(TxtDataSchema, { strings: big }) }));
  for (const record of records) await client.createRecord({ record });
  resolver = new Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([`127.0.0.1:${mcns.dnsPort}`]);
});

afterAll(async () => {
  await mcns?.stop();
});

describe("answers over UDP and TCP", () => {
  it("answers A records authoritatively, over UDP and TCP alike", async () => {
    for (const transport of ["+notcp", "+tcp"]) {
      const r = await dig(mcns.dnsPort, `hello.${ZONE}`, "A", transport);
      expect(r.status).toBe("NOERROR");
      expect(r.flags).toContain("aa");
      expect(r.answer.sort()).toEqual([
        `hello.${ZONE}. 300 IN A 192.0.2.10`,
        `hello.${ZONE}. 300 IN A 192.0.2.11`,
      ]);
    }
  });

  it("matches names case-insensitively and echoes the query's case", async () => {
    const r = await dig(mcns.dnsPort, "HeLLo.Svc.MCP.test", "AAAA");
    expect(r.question).toEqual([";HeLLo.Svc.MCP.test. IN AAAA"]);
    expect(r.answer).toEqual(["HeLLo.Svc.MCP.test. 300 IN AAAA 2001:db8::10"]);
  });

  it("says NXDOMAIN for a missing name and NODATA for a missing type, with the SOA and its negative TTL", async () => {
    const missing = await dig(mcns.dnsPort, `nope.${ZONE}`, "A");
    expect(missing.status).toBe("NXDOMAIN");
    expect(missing.flags).toContain("aa");
    expect(missing.answer).toEqual([]);
    expect(missing.authority).toHaveLength(1);
    expect(missing.authority[0]).toMatch(
      new RegExp(
        `^${ZONE}\\. 60 IN SOA ns1\\.mcp\\.test\\. hostmaster\\.mcp\\.test\\. \\d+ 3600 600 1209600 60$`,
      ),
    );

    const nodata = await dig(mcns.dnsPort, `hello.${ZONE}`, "MX");
    expect(nodata.status).toBe("NOERROR");
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0]).toContain("IN SOA");

    const emptyNonTerminal = await dig(mcns.dnsPort, `deep.${ZONE}`, "A");
    expect(emptyNonTerminal.status).toBe("NOERROR");
    expect(emptyNonTerminal.authority[0]).toContain("IN SOA");
  });

  it("serves the apex SOA and NS from the configuration, and MX and CAA records", async () => {
    expect((await dig(mcns.dnsPort, ZONE, "NS")).answer.sort()).toEqual([
      `${ZONE}. 300 IN NS ns1.mcp.test.`,
      `${ZONE}. 300 IN NS ns2.mcp.test.`,
    ]);
    expect((await dig(mcns.dnsPort, ZONE, "MX")).answer).toEqual([`${ZONE}. 300 IN MX 10 mail.${ZONE}.`]);
    expect((await dig(mcns.dnsPort, ZONE, "CAA")).answer).toEqual([
      `${ZONE}. 300 IN CAA 0 issue "letsencrypt.org"`,
    ]);
  });

  it("chases CNAMEs inside the zone", async () => {
    const r = await dig(mcns.dnsPort, `www.${ZONE}`, "A");
    expect(r.status).toBe("NOERROR");
    expect(r.answer[0]).toBe(`www.${ZONE}. 300 IN CNAME hello.${ZONE}.`);
    expect(r.answer.slice(1).sort()).toEqual([
      `hello.${ZONE}. 300 IN A 192.0.2.10`,
      `hello.${ZONE}. 300 IN A 192.0.2.11`,
    ]);

    const dangling = await dig(mcns.dnsPort, `dangling.${ZONE}`, "A");
    expect(dangling.status).toBe("NXDOMAIN"); // RFC 6604: the rcode of the last name in the chain
    expect(dangling.answer).toEqual([`dangling.${ZONE}. 300 IN CNAME missing.${ZONE}.`]);

    const outside = await dig(mcns.dnsPort, `outside.${ZONE}`, "A");
    expect(outside.status).toBe("NOERROR");
    expect(outside.answer).toEqual([`outside.${ZONE}. 300 IN CNAME example.org.`]);

    expect((await dig(mcns.dnsPort, `www.${ZONE}`, "CNAME")).answer).toEqual([
      `www.${ZONE}. 300 IN CNAME hello.${ZONE}.`,
    ]);
  });

  it("refers queries below a delegation to the child's name servers, with glue", async () => {
    const r = await dig(mcns.dnsPort, `host.child.${ZONE}`, "A");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).not.toContain("aa");
    expect(r.authority).toEqual([`child.${ZONE}. 300 IN NS ns.child.${ZONE}.`]);
    expect(r.additional).toEqual([`ns.child.${ZONE}. 300 IN A 192.0.2.53`]);
  });

  it("refuses names outside its zones, and zone transfers", async () => {
    const r = await dig(mcns.dnsPort, "example.com", "A");
    expect(r.status).toBe("REFUSED");
    expect(r.flags).not.toContain("aa");
    expect((await dig(mcns.dnsPort, ZONE, "AXFR")).raw).toMatch(/Transfer failed|REFUSED/);
  });
});

describe("EDNS0 and truncation", () => {
  it("echoes an OPT record with our UDP size, and none when the query had none", async () => {
    expect((await dig(mcns.dnsPort, `hello.${ZONE}`, "A")).opt).toBe("version: 0, flags:; udp: 1232");
    const plain = await dig(mcns.dnsPort, `hello.${ZONE}`, "A", "+noedns");
    expect(plain.opt).toBeUndefined();
    expect(plain.answer).toHaveLength(2);
  });

  it("answers BADVERS to EDNS versions above 0", async () => {
    const r = await dig(mcns.dnsPort, `hello.${ZONE}`, "A", "+edns=1", "+noednsnegotiation");
    expect(r.status).toBe("BADVERS");
    expect(r.opt).toContain("version: 0");
    expect(r.answer).toEqual([]);
  });

  it("truncates what does not fit over UDP (TC) and gives the whole answer over TCP", async () => {
    const udp = await dig(mcns.dnsPort, `big.${ZONE}`, "TXT", "+ignore", "+bufsize=4096");
    expect(udp.flags).toContain("tc");
    expect(udp.answer).toEqual([]);
    const small = await dig(mcns.dnsPort, `txt.${ZONE}`, "TXT", "+ignore", "+noedns");
    expect(small.flags).not.toContain("tc");
    const tcp = await dig(mcns.dnsPort, `big.${ZONE}`, "TXT", "+tcp");
    expect(tcp.flags).not.toContain("tc");
    expect(tcp.answer).toHaveLength(1);
    expect(tcp.answer[0]).toContain(`"029${"x".repeat(97)}"`);
    const retried = await dig(mcns.dnsPort, `big.${ZONE}`, "TXT"); // dig retries over TCP by itself
    expect(retried.answer).toHaveLength(1);
  });
});

describe("TCP", () => {
  it("answers pipelined queries on one connection, then closes it when idle", async () => {
    const socket = createConnection(mcns.dnsPort, "127.0.0.1");
    await once(socket, "connect");
    const names = ["hello", "www", "nope"].map((n) => `${n}.${ZONE}`);
    socket.write(Buffer.concat(names.map((name, i) => frame(query(100 + i, name, 1)))));
    const replies = await readFrames(socket, names.length);
    expect(replies.map((r) => r.readUInt16BE(0))).toEqual([100, 101, 102]);
    expect(replies.map((r) => r.readUInt16BE(2) & 0xf)).toEqual([0, 0, 3]);
    const started = Date.now();
    await once(socket, "close"); // tcp_idle_timeout_ms = 1000 in the test config
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("closes a connection whose length prefix cannot be a query", async () => {
    const socket = createConnection(mcns.dnsPort, "127.0.0.1");
    await once(socket, "connect");
    socket.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    await once(socket, "close");
    expect((await dig(mcns.dnsPort, `hello.${ZONE}`, "A", "+tcp")).status).toBe("NOERROR");
  });
});

describe("Node's resolver", () => {
  it("resolves every record type and reports missing names and types", async () => {
    expect((await resolver.resolve4(`hello.${ZONE}`)).sort()).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(await resolver.resolve6(`hello.${ZONE}`)).toEqual(["2001:db8::10"]);
    expect(await resolver.resolveCname(`www.${ZONE}`)).toEqual([`hello.${ZONE}`]);
    expect(await resolver.resolveTxt(`txt.${ZONE}`)).toEqual([["v=spf1 -all", "second"]]);
    expect(await resolver.resolveSrv(`_sip._tcp.${ZONE}`)).toEqual([
      expect.objectContaining({ name: `hello.${ZONE}`, port: 5060, priority: 10, weight: 5 }),
    ]);
    expect(await resolver.resolveMx(ZONE)).toEqual([
      expect.objectContaining({ exchange: `mail.${ZONE}`, priority: 10 }),
    ]);
    expect(await resolver.resolveCaa(ZONE)).toEqual([
      expect.objectContaining({ critical: 0, issue: "letsencrypt.org" }),
    ]);
    expect((await resolver.resolveNs(ZONE)).sort()).toEqual(["ns1.mcp.test", "ns2.mcp.test"]);
    expect(await resolver.resolveSoa(ZONE)).toMatchObject({
      nsname: "ns1.mcp.test",
      hostmaster: "hostmaster.mcp.test",
      minttl: 60,
    });
    await expect(resolver.resolve4(`nope.${ZONE}`)).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(resolver.resolveMx(`hello.${ZONE}`)).rejects.toMatchObject({ code: "ENODATA" });
    await expect(resolver.resolve4("example.com")).rejects.toMatchObject({ code: "EREFUSED" });
  });
});

function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(msg.length + 2);
  out.writeUInt16BE(msg.length);
  msg.copy(out, 2);
  return out;
}

function readFrames(socket: Socket, count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const frames: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        frames.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (frames.length >= count) {
        socket.off("data", onData);
        resolve(frames);
      }
    };
    socket.on("data", onData);
    socket.once("close", () =>
      reject(new Error(`connection closed after ${frames.length} of ${count} answers`)),
    );
  });
}
