// Robustness: random and mutated packets (truncated headers, compression loops, bad counts, random
// bytes, oversized TCP lengths) must get FORMERR or silence, never a crash, and normal queries must
// still be answered afterwards. First in process (fast, checks every reply), then at the real server.
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { createConnection } from "node:net";
import { random } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnswerCache } from "../src/dns/answers.js";
import { Responder } from "../src/dns/responder.js";
import { QueryStats } from "../src/dns/stats.js";
import { ZoneIndex } from "../src/dns/zone-index.js";
import type { DnsRecord, Zone } from "../src/store/record.js";
import { address, dig, type Mcns, query, rec, startMcns, ZONE } from "./harness.js";

const PACKETS = 100_000;

function withOpt(q: Buffer, version = 0): Buffer {
  const opt = Buffer.from([0, 0, 41, 0x10, 0, 0, version, 0x80, 0, 0, 0]);
  const out = Buffer.concat([q, opt]);
  out.writeUInt16BE(1, 10);
  return out;
}

/** Valid queries to start from, then one of several mutations. */
function packets(seed: number, count: number): Buffer[] {
  const rnd = random(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const seeds = [
    query(1, `hello.${ZONE}`, 1),
    query(2, `www.${ZONE}`, 28),
    withOpt(query(3, `big.${ZONE}`, 16)),
    withOpt(query(4, `nope.${ZONE}`, 255), 1),
    query(5, "example.com", 1),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const base = Buffer.from(seeds[int(seeds.length)]!);
    switch (int(6)) {
      case 0: // random bytes
        out.push(Buffer.from(Array.from({ length: int(600) }, () => int(256))));
        break;
      case 1: // truncated anywhere, header included
        out.push(base.subarray(0, int(base.length)));
        break;
      case 2: // a few bytes flipped
        for (let n = 1 + int(4); n > 0; n--) base[int(base.length)] = int(256);
        out.push(base);
        break;
      case 3: // wild section counts
        for (const at of [4, 6, 8, 10]) if (rnd() < 0.5) base.writeUInt16BE(int(65536), at);
        out.push(base);
        break;
      case 4: {
        // compression pointers in the question, looping onto themselves or each other
        base[12] = 0xc0;
        base[13] = rnd() < 0.5 ? 12 : int(256);
        out.push(base);
        break;
      }
      default: // garbage appended, or a response (QR set) that must not be answered
        if (rnd() < 0.5) base[2]! |= 0x80;
        out.push(Buffer.concat([base, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]));
    }
  }
  return out;
}

describe("fuzzing the responder in process", () => {
  it(`answers ${PACKETS.toLocaleString("en")} malformed packets with FORMERR, a valid reply or silence`, () => {
    const zone: Zone = {
      name: ZONE,
      primaryNs: "ns1.mcp.test",
      adminMailbox: "hostmaster.mcp.test",
      ns: ["ns1.mcp.test"],
      serial: 1,
      refresh: 1,
      retry: 1,
      expire: 1,
      negativeTtl: 60,
      defaultTtl: 300,
      writers: [],
    };
    const now = new Date();
    const records: DnsRecord[] = [
      {
        id: "1",
        zone: ZONE,
        name: `hello.${ZONE}`,
        ttl: 300,
        data: { type: "A", address: "192.0.2.1" },
        owner: "t",
        createdAt: now,
        updatedAt: now,
      },
      {
        id: "2",
        zone: ZONE,
        name: `www.${ZONE}`,
        ttl: 300,
        data: { type: "CNAME", target: `hello.${ZONE}` },
        owner: "t",
        createdAt: now,
        updatedAt: now,
      },
    ];
    const stats = new QueryStats();
    const responder = new Responder(new AnswerCache(new ZoneIndex([zone], records)), stats, 1232);
    let answered = 0;
    for (const packet of packets(42, PACKETS)) {
      for (const udp of [true, false]) {
        const reply = responder.respond(packet, udp);
        if (!reply) continue;
        // Without forwarders nothing is ever handed upstream.
        if (!Buffer.isBuffer(reply)) throw new Error("a query was forwarded with forwarding off");
        answered++;
        expect(reply.length).toBeGreaterThanOrEqual(12);
        expect(reply.readUInt16BE(0)).toBe(packet.readUInt16BE(0)); // the query's id
        expect(reply[2]! & 0x80).toBe(0x80); // QR: a response
        if (udp) expect(reply.length).toBeLessThanOrEqual(1232);
      }
    }
    expect(answered).toBeGreaterThan(PACKETS / 4);
    expect(stats.dropped).toBeGreaterThan(0);
    const ok = responder.respond(query(7, `HELLO.${ZONE}`, 1), true) as Buffer;
    expect(ok.readUInt16BE(2) & 0xf).toBe(0);
    expect(ok.readUInt16BE(6)).toBe(1);
  });
});

describe("fuzzing the real server", () => {
  let mcns: Mcns;
  beforeAll(async () => {
    mcns = await startMcns({ dns: "max_tcp_connections = 2" });
    await mcns.client().createRecord({ record: rec("hello", "A", address("192.0.2.1")) });
  });
  afterAll(async () => {
    await mcns?.stop();
  });

  it(`keeps answering after ${PACKETS.toLocaleString("en")} malformed UDP packets and bad TCP streams`, async () => {
    const socket = createSocket("udp4");
    socket.on("message", () => {}); // replies are read and ignored
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const all = packets(7, PACKETS);
    for (let i = 0; i < all.length; i += 500) {
      // In batches, so the sender's own buffers stay small; the server may drop what it cannot keep up with.
      await Promise.all(
        all
          .slice(i, i + 500)
          .map((p) => new Promise((resolve) => socket.send(p, mcns.dnsPort, "127.0.0.1", resolve))),
      );
    }
    socket.close();

    for (const stream of [
      Buffer.from([0xff, 0xff]),
      Buffer.concat(all.slice(0, 50)),
      Buffer.from([0, 5, 1, 2]),
    ]) {
      const tcp = createConnection(mcns.dnsPort, "127.0.0.1");
      await once(tcp, "connect");
      tcp.on("error", () => {});
      tcp.on("data", () => {});
      tcp.end(stream);
      await once(tcp, "close");
    }

    for (const transport of ["+notcp", "+tcp"]) {
      const r = await dig(mcns.dnsPort, `hello.${ZONE}`, "A", transport);
      expect(r.answer).toEqual([`hello.${ZONE}. 300 IN A 192.0.2.1`]);
    }
    expect(mcns.process.child.exitCode).toBeNull();
    const metrics = await fetch(`${mcns.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/dns_queries_total\{type="\w+",rcode="FORMERR"\} [1-9]/);
    expect(metrics).toMatch(/dns_queries_total\{type="A",rcode="NOERROR"\} [1-9]/);
    expect(metrics).toMatch(/dns_query_duration_seconds_count [1-9]/);
    expect(metrics).toContain(`dns_zone_records{zone="${ZONE}"} 1`);
  });

  it("sheds TCP connections above max_tcp_connections instead of queueing them", async () => {
    const open = async () => {
      const socket = createConnection(mcns.dnsPort, "127.0.0.1");
      socket.on("error", () => {});
      await once(socket, "connect");
      return socket;
    };
    const held = [await open(), await open()];
    const extra = await open();
    await once(extra, "close"); // closed by the server at once
    for (const s of held) s.destroy();
    const metrics = await fetch(`${mcns.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/dns_shed_total [1-9]/);
  });
});
