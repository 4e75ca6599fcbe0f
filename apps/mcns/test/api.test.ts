// The record API of the real process: Connect client and curl on the REST routes, with events read
// back from a real nats-server and every change checked with dig.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectEvents } from "@mcp/mcdsl/events";
import { curl, type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { RecordSchema, RecordType } from "@mcp/proto/mcns/v1/record_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, startMcns, target, ZONE } from "./harness.js";

let mcns: Mcns;
let nats: NatsServer;

beforeAll(async () => {
  nats = await startNatsServer();
  mcns = await startMcns({ extra: `[events]\nservers = ["${nats.url}"]\nnode = "test-node"\n` });
});

afterAll(async () => {
  await mcns?.stop();
  await nats?.stop();
});

async function serial(): Promise<number> {
  const soa = await dig(mcns.dnsPort, ZONE, "SOA");
  return Number(soa.answer[0]!.split(" ")[6]);
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("RecordService", () => {
  it("creates, updates and deletes records that DNS serves at once, raising the serial and publishing events", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    const before = await serial();
    const { record } = await agent.createRecord({ record: rec("api", "A", address("192.0.2.30"), "hello") });
    expect(record).toMatchObject({ zone: ZONE, name: `api.${ZONE}`, ttl: 300, owner: "hello" });
    expect((await dig(mcns.dnsPort, `api.${ZONE}`, "A")).answer).toEqual([
      `api.${ZONE}. 300 IN A 192.0.2.30`,
    ]);
    const afterCreate = await serial();
    expect(afterCreate).toBeGreaterThan(before);

    // Retrying the same create is safe: same record, nothing new.
    const again = await agent.createRecord({ record: rec("api", "A", address("192.0.2.30"), "hello") });
    expect(again.record?.id).toBe(record!.id);
    expect(await serial()).toBe(afterCreate);

    const updated = await agent.updateRecord({
      record: create(RecordSchema, { ...record!, ttl: 120, data: address("192.0.2.31") }),
    });
    expect(updated.record).toMatchObject({ id: record!.id, ttl: 120 });
    expect((await dig(mcns.dnsPort, `api.${ZONE}`, "A", "+tcp")).answer).toEqual([
      `api.${ZONE}. 120 IN A 192.0.2.31`,
    ]);
    expect(await serial()).toBeGreaterThan(afterCreate);

    await agent.deleteRecord({ id: record!.id, owner: "hello" });
    expect((await dig(mcns.dnsPort, `api.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect(await codeOf(agent.getRecord({ id: record!.id }))).toBe(Code.NotFound);
    expect(await codeOf(agent.deleteRecord({ id: record!.id, owner: "hello" }))).toBe(Code.NotFound);
    expect(await codeOf(agent.deleteRecord({ id: record!.id, owner: "hello", allowMissing: true }))).toBe(
      "ok",
    );

    const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test-node" });
    const seen = [];
    for await (const event of bus.replay({ fromSequence: 1, filter: "mcp.dns.>" })) seen.push(event);
    await bus.close();
    expect(seen.map((e) => [e.type, e.subject])).toEqual([
      ["mcp.dns.created", `api.${ZONE}`],
      ["mcp.dns.updated", `api.${ZONE}`],
      ["mcp.dns.deleted", `api.${ZONE}`],
    ]);
    expect(seen[0]).toMatchObject({
      source: { app: "mcns", node: "test-node" },
      data: {
        recordId: record!.id,
        zone: ZONE,
        name: `api.${ZONE}`,
        type: "A",
        value: "192.0.2.30",
        owner: "hello",
      },
    });
  });

  it("keeps owners apart and a CNAME alone at its name", async () => {
    const admin = mcns.client();
    const { record } = await admin.createRecord({
      record: rec("owned", "A", address("192.0.2.40"), "svc-a"),
    });
    const steal = admin.createRecord({ record: rec("owned", "A", address("192.0.2.41"), "svc-b") });
    await expect(steal).rejects.toThrow(/belongs to owner "svc-a", not "svc-b"/);
    expect(await codeOf(steal)).toBe(Code.AlreadyExists);
    expect(
      await codeOf(
        admin.updateRecord({
          record: create(RecordSchema, { ...record!, owner: "svc-b", data: address("192.0.2.9") }),
        }),
      ),
    ).toBe(Code.FailedPrecondition);
    expect(await codeOf(admin.deleteRecord({ id: record!.id, owner: "svc-b" }))).toBe(
      Code.FailedPrecondition,
    );
    // The same owner may add to its RRset.
    await admin.createRecord({ record: rec("owned", "A", address("192.0.2.41"), "svc-a") });
    expect((await dig(mcns.dnsPort, `owned.${ZONE}`, "A")).answer).toHaveLength(2);

    const cname = admin.createRecord({ record: rec("owned", "CNAME", target(`x.${ZONE}`), "svc-a") });
    await expect(cname).rejects.toThrow(/a CNAME cannot be beside other data/);
    await admin.createRecord({ record: rec("alias", "CNAME", target(`owned.${ZONE}`), "svc-a") });
    expect(
      await codeOf(
        admin.createRecord({
          record: rec("alias", "TXT", { case: "txt", value: { strings: ["x"] } as never }, "svc-a"),
        }),
      ),
    ).toBe(Code.AlreadyExists);
  });

  it("refuses bad input with InvalidArgument naming the problem", async () => {
    const admin = mcns.client();
    const bad = async (record: ReturnType<typeof rec>, message: RegExp) => {
      const call = admin.createRecord({ record });
      await expect(call).rejects.toThrow(message);
      expect([Code.InvalidArgument, Code.NotFound]).toContain(await codeOf(call));
    };
    await bad(rec("x", "A", address("300.1.2.3")), /"300.1.2.3" is not an IPv4 address/);
    await bad(rec("x", "AAAA", address("192.0.2.1")), /not an IPv6 address/);
    await bad(rec("x", "A", target("a.example")), /needs `address` data/);
    await bad(rec(`${"a".repeat(64)}`, "A", address("192.0.2.1")), /longer than 63 characters/);
    await bad(rec("bad_-", "A", address("192.0.2.1")), /may hold only/);
    await bad(
      rec("x", "A", address("192.0.2.1"), "web", 10_000_000),
      /ttl 10000000 must be from 1 to 604800/,
    );
    await bad(rec("x", "A", address("192.0.2.1"), ""), /owner is required/);
    await bad(
      rec("www.example.test", "A", address("192.0.2.1")),
      /no zone served here contains "www.example.test"/,
    );
    await bad(rec("@", "CNAME", target("a.example")), /cannot be at the zone apex/);
    expect((await admin.listRecords({ name: `x.${ZONE}` })).records).toEqual([]);
  });

  it("lets the agent write only in the zones that list it, and needs a token for every call", async () => {
    const other = rec("host.other.test", "A", address("192.0.2.50"), "web");
    const denied = mcns.client(mcns.tokens.agent).createRecord({ record: other });
    await expect(denied).rejects.toThrow(/identity "agent" may not change records in zone "other.test"/);
    expect(await codeOf(denied)).toBe(Code.PermissionDenied);
    expect(
      await codeOf(
        mcns.client(mcns.tokens.outsider).createRecord({ record: rec("o", "A", address("192.0.2.1")) }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(await codeOf(mcns.client().createRecord({ record: other }))).toBe("ok");
    expect((await dig(mcns.dnsPort, "HOST.other.test", "A")).answer).toEqual([
      "HOST.other.test. 300 IN A 192.0.2.50",
    ]);
    expect((await curl(`${mcns.url}/v1/zones`)).status).toBe(401);
    expect((await curl("-d", "{}", `${mcns.url}/v1/records`)).status).toBe(401);
  });

  it("serves the REST routes to curl, pages through lists, and keeps everything across a restart", async () => {
    const auth = ["-H", `authorization: Bearer ${mcns.tokens.agent}`];
    const created = await curl(
      ...auth,
      "-d",
      JSON.stringify({
        name: `rest.${ZONE}`,
        type: "RECORD_TYPE_A",
        address: "192.0.2.60",
        owner: "rest",
        ttl: 60,
      }),
      `${mcns.url}/v1/records`,
    );
    expect(created.status).toBe(200);
    const id = (created.json as { record: { id: string } }).record.id;
    for (const n of [61, 62]) {
      await curl(
        ...auth,
        "-d",
        JSON.stringify({
          name: `rest.${ZONE}`,
          type: "RECORD_TYPE_A",
          address: `192.0.2.${n}`,
          owner: "rest",
        }),
        `${mcns.url}/v1/records`,
      );
    }
    const first = await curl(...auth, `${mcns.url}/v1/records?owner=rest&page_size=2`);
    const page = first.json as { records: { address: string }[]; nextPageToken: string };
    expect(page.records.map((r) => r.address)).toHaveLength(2);
    const second = await curl(
      ...auth,
      `${mcns.url}/v1/records?owner=rest&page_size=2&page_token=${page.nextPageToken}`,
    );
    expect((second.json as { records: unknown[]; nextPageToken: string }).records).toHaveLength(1);
    expect((second.json as { nextPageToken: string }).nextPageToken).toBe("");

    const zones = (await curl(...auth, `${mcns.url}/v1/zones`)).json as {
      zones: { name: string; serial: number; ns: string[] }[];
    };
    expect(zones.zones.map((z) => z.name)).toEqual(["other.test", ZONE]);
    const zoneSerial = zones.zones[1]!.serial;

    const bad = await curl(
      ...auth,
      "-d",
      JSON.stringify({ name: `rest.${ZONE}`, type: "RECORD_TYPE_A", address: "nope", owner: "rest" }),
      `${mcns.url}/v1/records`,
    );
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toContain('"nope" is not an IPv4 address');

    expect((await curl(...auth, "-X", "DELETE", `${mcns.url}/v1/records/${id}?owner=rest`)).status).toBe(200);
    await mcns.restart();
    const after = await dig(mcns.dnsPort, `rest.${ZONE}`, "A");
    expect(after.answer.sort()).toEqual([
      `rest.${ZONE}. 300 IN A 192.0.2.61`,
      `rest.${ZONE}. 300 IN A 192.0.2.62`,
    ]);
    expect(await serial()).toBe(zoneSerial + 1);
    expect((await mcns.client().listRecords({ zone: "other.test" })).records).toHaveLength(1);
    expect((await mcns.client().listRecords({ type: RecordType.CNAME })).records.map((r) => r.name)).toEqual([
      `alias.${ZONE}`,
    ]);
  });
});
