// ImportZone on the real running process, over Connect and REST: records answered by dig when the
// call returns (no restart), a second import changing nothing, a bad line changing nothing and
// named in the error, dry runs, auth, the size limit, and mcp.dns.created events from a real NATS.
import { Code, ConnectError } from "@connectrpc/connect";
import { connectEvents } from "@mcp/mcdsl/events";
import { curl, type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { ImportZoneResponseSchema } from "@mcp/proto/mcns/v1/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, startMcns, ZONE } from "./harness.js";

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

const zoneFile = `; an old zone file, relative to the zone the request names
$TTL 1h
@       IN SOA ns1.mcp.test. hostmaster.mcp.test. ( 2024010101 3600 600 1209600 300 )
        IN NS  ns1.mcp.test.
@       IN MX  10 mail
mail    600 IN A 192.0.2.25
        IN AAAA 2001:DB8::25
web     IN CNAME mail
txt     IN TXT "v=spf1 -all" "two"
_xmpp._tcp IN SRV 5 0 5269 mail
@       CAA 0 issue "letsencrypt.org"
sub     IN NS ns.elsewhere.example.
`;

async function serial(zone = ZONE): Promise<number> {
  const soa = await dig(mcns.dnsPort, zone, "SOA");
  return Number(soa.answer[0]!.split(" ")[6]);
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

describe("ImportZone", () => {
  it("imports over Connect: dig answers at once, a second import changes nothing, events are published", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    const before = await serial();
    const first = await agent.importZone({ zone: ZONE, text: zoneFile, owner: "old-mcns" });
    expect(first).toMatchObject({ created: 8, unchanged: 0, skipped: 2, problems: [] });

    // No restart: the running server answers the imported records now.
    expect((await dig(mcns.dnsPort, `web.${ZONE}`, "AAAA")).answer).toEqual([
      `web.${ZONE}. 3600 IN CNAME mail.${ZONE}.`,
      `mail.${ZONE}. 3600 IN AAAA 2001:db8::25`,
    ]);
    expect((await dig(mcns.dnsPort, `mail.${ZONE}`, "A", "+tcp")).answer).toEqual([
      `mail.${ZONE}. 600 IN A 192.0.2.25`,
    ]);
    expect((await dig(mcns.dnsPort, ZONE, "MX")).answer).toEqual([`${ZONE}. 3600 IN MX 10 mail.${ZONE}.`]);
    expect((await dig(mcns.dnsPort, `txt.${ZONE}`, "TXT")).answer).toEqual([
      `txt.${ZONE}. 3600 IN TXT "v=spf1 -all" "two"`,
    ]);
    expect((await dig(mcns.dnsPort, `_xmpp._tcp.${ZONE}`, "SRV")).answer).toEqual([
      `_xmpp._tcp.${ZONE}. 3600 IN SRV 5 0 5269 mail.${ZONE}.`,
    ]);
    expect((await dig(mcns.dnsPort, ZONE, "CAA")).answer).toEqual([
      `${ZONE}. 3600 IN CAA 0 issue "letsencrypt.org"`,
    ]);
    expect((await dig(mcns.dnsPort, `x.sub.${ZONE}`, "A")).authority).toEqual([
      `sub.${ZONE}. 3600 IN NS ns.elsewhere.example.`,
    ]);
    expect((await dig(mcns.dnsPort, ZONE, "NS")).answer).toHaveLength(2); // the configuration's, not the file's
    const afterFirst = await serial();
    expect(afterFirst).toBeGreaterThan(before);

    const second = await agent.importZone({ zone: ZONE, text: zoneFile, owner: "old-mcns" });
    expect(second).toMatchObject({ created: 0, unchanged: 8, skipped: 2, problems: [] });
    expect(await serial()).toBe(afterFirst);
    const listed = await agent.listRecords({ zone: ZONE, owner: "old-mcns" });
    expect(listed.records).toHaveLength(8);

    const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test-node" });
    const seen = [];
    for await (const event of bus.replay({ fromSequence: 1, filter: "mcp.dns.>" })) seen.push(event);
    await bus.close();
    expect(seen.map((e) => e.type)).toEqual(Array(8).fill("mcp.dns.created"));
    expect(new Set(seen.map((e) => (e.data as { recordId: string }).recordId))).toEqual(
      new Set(listed.records.map((r) => r.id)),
    );
    expect(
      seen.find((e) => e.subject === `mail.${ZONE}` && (e.data as { type: string }).type === "A"),
    ).toMatchObject({
      data: { zone: ZONE, value: "192.0.2.25", owner: "old-mcns" },
    });
  });

  it("imports over REST with curl (POST /v1/zones/{zone}:import)", async () => {
    const url = `${mcns.url}/v1/zones/other.test:import`;
    const auth = ["-H", `authorization: Bearer ${mcns.tokens.admin}`, "-H", "content-type: application/json"];
    const text = "www 120 IN A 192.0.2.80\nalias IN CNAME www\n";
    const body = JSON.stringify({ text, owner: "rest" });
    const result = await curl(...auth, "-X", "POST", "-d", body, url);
    expect(result).toMatchObject({ status: 200, json: { created: 2 } });
    expect((await dig(mcns.dnsPort, "alias.other.test", "A")).answer).toEqual([
      "alias.other.test. 120 IN CNAME www.other.test.",
      "www.other.test. 120 IN A 192.0.2.80",
    ]);
    expect((await curl(...auth, "-X", "POST", "-d", body, url)).json).toEqual({
      created: 0,
      unchanged: 2,
      skipped: 0,
      problems: [],
    });

    const bad = await curl(...auth, "-X", "POST", "-d", JSON.stringify({ text: "x IN A 1.2.3\n" }), url);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: "invalid_argument",
      message:
        'the zone file has a problem, nothing was imported: line 1: address "1.2.3" is not an IPv4 address',
    });
    const anonymous = await curl("-X", "POST", "-H", "content-type: application/json", "-d", body, url);
    expect(anonymous.status).toBe(401);
  });

  it("changes nothing when any line is bad, and names every bad line", async () => {
    const admin = mcns.client();
    // Another owner's RRset: importing over it is a conflict on that line.
    await admin.createRecord({ record: rec("taken", "A", address("192.0.2.90"), "someone-else") });
    const before = await serial();
    const text = [
      `$ORIGIN ${ZONE}.`, // 1
      "good1 IN A 192.0.2.91", // 2
      "good2 IN AAAA 2001:db8::91", // 3
      "bad IN A 192.0.2.999", // 4
      "taken IN A 192.0.2.92", // 5
      "hinfo IN HINFO a b", // 6
      "good3 IN TXT ok", // 7
      "outside.example.org. IN A 192.0.2.93", // 8
    ].join("\n");
    const err = await failure(admin.importZone({ zone: ZONE, text, owner: "bulk" }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(
      "the zone file has 4 problems, nothing was imported: " +
        'line 4: address "192.0.2.999" is not an IPv4 address; ' +
        `line 5: taken.${ZONE} A belongs to owner "someone-else", not "bulk"; ` +
        "line 6: record type HINFO is not supported (A, AAAA, CNAME, TXT, SRV, MX, NS, CAA); " +
        `line 8: name "outside.example.org" is not inside zone "${ZONE}"`,
    );
    const [details] = err.findDetails(ImportZoneResponseSchema);
    expect(details?.problems.map((p) => p.line)).toEqual([4, 5, 6, 8]);

    // Nothing changed: not in DNS (the index was rolled back with the database), not in the store.
    for (const name of ["good1", "good2", "good3"]) {
      expect((await dig(mcns.dnsPort, `${name}.${ZONE}`, "ANY")).status).toBe("NXDOMAIN");
    }
    expect((await admin.listRecords({ owner: "bulk" })).records).toEqual([]);
    expect(await serial()).toBe(before);
    // Still nothing after a restart (the database rolled back too).
    await mcns.restart();
    expect((await dig(mcns.dnsPort, `good1.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect((await dig(mcns.dnsPort, `taken.${ZONE}`, "A")).answer).toEqual([
      `taken.${ZONE}. 300 IN A 192.0.2.90`,
    ]);

    // A broken structure is one problem at its line.
    const unclosed = await failure(
      admin.importZone({ zone: ZONE, text: 'a IN A 192.0.2.1\nb IN TXT ( "x"\n' }),
    );
    expect(unclosed.rawMessage).toMatch(/line 2: '\(' is never closed$/);
  });

  it("checks without changing anything on a dry run, problems in the response", async () => {
    const admin = mcns.client();
    const before = await serial();
    const dry = await admin.importZone({
      zone: ZONE,
      text: "dry1 IN A 192.0.2.101\ndry2 IN A 192.0.2.102\n",
      owner: "dry",
      dryRun: true,
    });
    expect(dry).toMatchObject({ created: 2, unchanged: 0, problems: [] });
    expect((await dig(mcns.dnsPort, `dry1.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect(await serial()).toBe(before);

    const withProblems = await admin.importZone({
      zone: ZONE,
      text: "dry1 IN A 192.0.2.101\ndry2 IN MX mail\n",
      owner: "dry",
      dryRun: true,
    });
    expect(withProblems.created).toBe(1);
    expect(withProblems.problems).toEqual([
      expect.objectContaining({ line: 2, message: "MX needs 2 values, got 1" }),
    ]);
    expect((await admin.listRecords({ owner: "dry" })).records).toEqual([]);
  });

  it("allows only writers of the zone, and refuses files over 4 MiB", async () => {
    const text = "w IN A 192.0.2.110\n";
    // The agent writes in svc.mcp.test only; "outsider" has the role but is no writer of any zone.
    const agentElsewhere = await failure(
      mcns.client(mcns.tokens.agent).importZone({ zone: "other.test", text }),
    );
    expect(agentElsewhere.code).toBe(Code.PermissionDenied);
    expect(agentElsewhere.rawMessage).toBe(
      'identity "agent" may not change records in zone "other.test" (not in its writers)',
    );
    // Without a zone each record goes to its own zone, and each zone is checked.
    const mixed = `w.${ZONE}. IN A 192.0.2.111\nw.other.test. IN A 192.0.2.112\n`;
    expect((await failure(mcns.client(mcns.tokens.agent).importZone({ text: mixed }))).code).toBe(
      Code.PermissionDenied,
    );
    expect((await dig(mcns.dnsPort, `w.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect((await failure(mcns.client(mcns.tokens.outsider).importZone({ zone: ZONE, text }))).code).toBe(
      Code.PermissionDenied,
    );
    expect((await failure(mcns.client("not-a-token").importZone({ zone: ZONE, text }))).code).toBe(
      Code.Unauthenticated,
    );
    const both = await mcns.client().importZone({ text: mixed });
    expect(both).toMatchObject({ created: 2 });
    expect((await dig(mcns.dnsPort, "w.other.test", "A")).answer).toEqual([
      "w.other.test. 300 IN A 192.0.2.112",
    ]);

    const unknown = await failure(mcns.client().importZone({ zone: "nowhere.test", text }));
    expect(unknown.code).toBe(Code.NotFound);
    expect(unknown.rawMessage).toBe('zone "nowhere.test" is not served here');

    const huge = `; ${"x".repeat(4 * 1024 * 1024)}\n`;
    const tooBig = await failure(mcns.client().importZone({ zone: ZONE, text: huge }));
    expect(tooBig.code).toBe(Code.InvalidArgument);
    expect(tooBig.rawMessage).toMatch(/^the zone file is 4194307 bytes; the limit is 4194304 \(4 MiB\)/);
  });

  it("imports a large zone in one call", async () => {
    const lines = [`$ORIGIN big.${ZONE}.`];
    for (let i = 0; i < 5000; i++) lines.push(`host${i} IN A 10.${(i >> 8) & 255}.${i & 255}.1`);
    const result = await mcns.client().importZone({ zone: ZONE, text: lines.join("\n"), owner: "big" });
    expect(result.created).toBe(5000);
    expect((await dig(mcns.dnsPort, `host4999.big.${ZONE}`, "A")).answer).toEqual([
      `host4999.big.${ZONE}. 300 IN A 10.19.135.1`,
    ]);
  });

  it("keeps answering DNS while a large import runs, then answers all of it at once", async () => {
    // 20,000 records: seconds of parsing, checking and writing, on the import's worker thread.
    const count = async () =>
      (await mcns.client().listZones({})).zones.find((z) => z.name === ZONE)?.recordCount ?? 0;
    const before = await count();
    const lines = [`$ORIGIN bulk.${ZONE}.`];
    for (let i = 0; i < 20_000; i++) lines.push(`h${i} IN A 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    let settled = false;
    const importing = mcns
      .client()
      .importZone({ zone: ZONE, text: lines.join("\n"), owner: "bulk" })
      .finally(() => {
        settled = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the worker is under way
    // Answered during the import, which is not answered before it commits (answered only after the
    // import, as when it ran on the event loop, the query would find the name).
    expect((await dig(mcns.dnsPort, `h0.bulk.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    const other = await dig(mcns.dnsPort, `host4999.big.${ZONE}`, "A");
    expect(other.answer).toEqual([`host4999.big.${ZONE}. 300 IN A 10.19.135.1`]);
    expect(settled).toBe(false);
    expect((await importing).created).toBe(20_000);
    expect((await dig(mcns.dnsPort, `h19999.bulk.${ZONE}`, "A")).answer).toEqual([
      `h19999.bulk.${ZONE}. 300 IN A 10.0.78.31`,
    ]);
    expect(await count()).toBe(before + 20_000);
  }, 60_000);
});
