// A hostile or buggy client's record names: spellings that must be refused with the field named and
// nothing stored, names that only look like they are in a zone, a parent zone's writer reaching into
// a child zone, and delegations that would take other owners' names away. Each refusal is checked
// with ListRecords and dig.
import { readFileSync, writeFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { RecordSchema } from "@mcp/proto/mcns/v1/record_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, refusal, startMcns, target, ZONE } from "./harness.js";

// svc.mcp.test (the agent's) sits inside mcp.test (the outsider's): two zones, two writers.
const zone = (name: string, writer: string) =>
  `[[zones]]\nname = "${name}"\nprimary_ns = "ns1.mcp.test"\nadmin_mailbox = "hostmaster.mcp.test"\n` +
  `writers = ["${writer}"]\n`;

let mcns: Mcns;

beforeAll(async () => {
  mcns = await startMcns({ zones: zone(ZONE, "agent") + zone("mcp.test", "outsider") });
});

afterAll(async () => {
  await mcns?.stop();
});

async function stored(): Promise<string[]> {
  const { records } = await mcns.client().listRecords({ pageSize: 1000 });
  return records.map((r) => `${r.name} ${r.owner}`);
}

describe("record names", () => {
  it("stores any spelling of a name in the zone in one form, and DNS answers it", async () => {
    const spelled = rec("x", "A", address("192.0.2.1"));
    spelled.name = ` MiXeD.${ZONE.toUpperCase()}. `;
    const { record } = await mcns.client(mcns.tokens.agent).createRecord({ record: spelled });
    expect(record?.name).toBe(`mixed.${ZONE}`);
    expect((await dig(mcns.dnsPort, `mixed.${ZONE}`, "A")).answer).toEqual([
      `mixed.${ZONE}. 300 IN A 192.0.2.1`,
    ]);
  });

  it("refuses malformed names with InvalidArgument naming the field and the label, storing nothing", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    const before = await stored();
    const cases: [string, RegExp | string][] = [
      [`a..${ZONE}`, /^name "a\.\.svc\.mcp\.test" has an empty label$/],
      [`.${ZONE}`, /^name "\.svc\.mcp\.test" has an empty label$/],
      [`a.${ZONE}..`, /^name ".*" has an empty label$/],
      [`a\\.b.${ZONE}`, /^name "a\\\.b\.svc\.mcp\.test": label "a\\" may hold only/],
      [`*.${ZONE}`, /^name "\*\.svc\.mcp\.test": label "\*" may hold only/],
      [`${"a".repeat(64)}.${ZONE}`, /^name ".*": label "a{64}" is longer than 63 characters$/],
      [`${"abcdefghi.".repeat(25)}${ZONE}`, /^name ".*" is longer than 253 characters$/],
      [`-lead.${ZONE}`, /label "-lead" may hold only/],
      [`a b.${ZONE}`, /label "a b" may hold only/],
      [`a\u0000b.${ZONE}`, 'label "a\u0000b" may hold only'],
      // Not ASCII: refused as typed, never folded into another name (the Kelvin sign lower-cases to k).
      [
        `\u212Aelvin.${ZONE}`,
        /^name ".*" is not ASCII: write an internationalized name in punycode \(xn--\)$/,
      ],
      [`café.${ZONE}`, /is not ASCII/],
      [`www.${ZONE}\u3002`, /is not ASCII/],
    ];
    for (const [name, message] of cases) {
      const r = await refusal(agent.createRecord({ record: rec(name, "A", address("192.0.2.2")) }));
      expect({ name, code: r.code }).toEqual({ name, code: Code.InvalidArgument });
      expect(r.message, name).toMatch(message);
    }
    expect(await stored()).toEqual(before);
    expect((await dig(mcns.dnsPort, `kelvin.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    // Punycode is a name like any other.
    await agent.createRecord({ record: rec(`xn--caf-dma.${ZONE}`, "A", address("192.0.2.3")) });
  });

  it("refuses targets that are not names, naming the field", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    for (const [value, message] of [
      ["", /^target must not be empty$/],
      ["a..example", /^target "a\.\.example" has an empty label$/],
      ["\u212Aelvin.example", /^target ".*" is not ASCII/],
    ] as const) {
      const r = await refusal(agent.createRecord({ record: rec("t", "CNAME", target(value)) }));
      expect(r).toMatchObject({ code: Code.InvalidArgument });
      expect(r.message).toMatch(message);
    }
    expect((await dig(mcns.dnsPort, `t.${ZONE}`, "CNAME")).status).toBe("NXDOMAIN");
  });
});

describe("zones", () => {
  it("keeps a name that only ends like the zone out of it", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    // evilsvc.mcp.test is in mcp.test, which the agent may not write.
    const evil = await refusal(
      agent.createRecord({ record: rec("evilsvc.mcp.test", "A", address("192.0.2.4")) }),
    );
    expect(evil).toEqual({
      code: Code.PermissionDenied,
      message: 'identity "agent" may not change records in zone "mcp.test" (not in its writers)',
    });
    const named = rec("evilsvc.mcp.test", "A", address("192.0.2.4"));
    named.zone = ZONE;
    expect(await refusal(agent.createRecord({ record: named }))).toEqual({
      code: Code.InvalidArgument,
      message: `name "evilsvc.mcp.test" is not inside zone "${ZONE}"`,
    });
    expect((await dig(mcns.dnsPort, "evilsvc.mcp.test", "A")).status).toBe("NXDOMAIN");
  });

  it("does not let a parent zone's writer put records in a child zone by naming the parent", async () => {
    const outsider = mcns.client(mcns.tokens.outsider);
    const sneaky = rec(`hijack.${ZONE}`, "A", address("203.0.113.66"), "outsider");
    sneaky.zone = "mcp.test";
    expect(await refusal(outsider.createRecord({ record: sneaky }))).toEqual({
      code: Code.InvalidArgument,
      message: `name "hijack.${ZONE}" is in zone "${ZONE}", not "mcp.test" (the longest zone served that contains it)`,
    });
    expect((await dig(mcns.dnsPort, `hijack.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect(await stored()).not.toContain(`hijack.${ZONE} outsider`);
    // Its own zone it may write.
    await outsider.createRecord({ record: rec("mine.mcp.test", "A", address("192.0.2.5"), "outsider") });
  });
});

describe("delegations", () => {
  it("refuses an NS delegation over names other owners hold, and records of others below one", async () => {
    const admin = mcns.client();
    await admin.createRecord({ record: rec("www.team", "A", address("192.0.2.10"), "web") });
    const takeover = await refusal(
      admin.createRecord({ record: rec("team", "NS", target("ns.evil.example"), "intruder") }),
    );
    expect(takeover).toEqual({
      code: Code.AlreadyExists,
      message: `team.${ZONE} NS would delegate away www.team.${ZONE} A of owner "web"; only that owner may delegate there`,
    });
    expect((await dig(mcns.dnsPort, `www.team.${ZONE}`, "A")).answer).toEqual([
      `www.team.${ZONE}. 300 IN A 192.0.2.10`,
    ]);

    // A delegation with its own glue is fine; another owner's record below it would never be served.
    await admin.createRecord({ record: rec("kids", "NS", target(`ns.kids.${ZONE}`), "kids") });
    await admin.createRecord({ record: rec("ns.kids", "A", address("192.0.2.11"), "kids") });
    const below = await refusal(
      admin.createRecord({ record: rec("app.kids", "A", address("192.0.2.12"), "web") }),
    );
    expect(below).toEqual({
      code: Code.AlreadyExists,
      message: `app.kids.${ZONE} is below the delegation kids.${ZONE} of owner "kids", where it would not be served`,
    });
    const referral = await dig(mcns.dnsPort, `app.kids.${ZONE}`, "A");
    expect(referral.authority).toEqual([`kids.${ZONE}. 300 IN NS ns.kids.${ZONE}.`]);
    expect(referral.additional).toEqual([`ns.kids.${ZONE}. 300 IN A 192.0.2.11`]);
    expect(await stored()).not.toContain(`app.kids.${ZONE} web`);
  });

  it("checks thousands of delegations in a large zone in seconds", async () => {
    // Each NS record's check searched the whole zone for names below it: 2,000 delegations into a
    // 20,000-record zone held the event loop, DNS included, for about 12 s.
    const file = (lines: string[]) => `$ORIGIN ${ZONE}.\n${lines.join("\n")}\n`;
    const hosts = Array.from({ length: 20_000 }, (_, i) => `h${i} IN A 10.1.${i >> 8}.${i & 255}`);
    await mcns.client().importZone({ zone: ZONE, text: file(hosts), owner: "hosts" });
    const started = Date.now();
    const cuts = Array.from({ length: 2000 }, (_, i) => `d${i} IN NS ns${i}.example.net.`);
    expect((await mcns.client().importZone({ zone: ZONE, text: file(cuts), owner: "cuts" })).created).toBe(
      2000,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await dig(mcns.dnsPort, `www.d1999.${ZONE}`, "A")).authority).toEqual([
      `d1999.${ZONE}. 300 IN NS ns1999.example.net.`,
    ]);
  });
});

describe("a zone added inside another", () => {
  it("takes the parent's records at its names, so its writers own what it serves", async () => {
    const { record } = await mcns.client(mcns.tokens.agent).createRecord({
      record: rec(`www.team2.${ZONE}`, "A", address("192.0.2.20"), "web"),
    });
    const config = readFileSync(mcns.configFile, "utf8");
    writeFileSync(mcns.configFile, `${config}\n${zone(`team2.${ZONE}`, "outsider")}`);
    await mcns.restart();
    expect((await mcns.client().getRecord({ id: record!.id })).record?.zone).toBe(`team2.${ZONE}`);
    const change = create(RecordSchema, { ...record!, zone: "", ttl: 60 });
    expect(await refusal(mcns.client(mcns.tokens.agent).updateRecord({ record: change }))).toEqual({
      code: Code.PermissionDenied,
      message: `identity "agent" may not change records in zone "team2.${ZONE}" (not in its writers)`,
    });
    expect(await refusal(mcns.client(mcns.tokens.outsider).updateRecord({ record: change }))).toMatchObject({
      code: "ok",
    });
    expect((await dig(mcns.dnsPort, `www.team2.${ZONE}`, "A")).answer).toEqual([
      `www.team2.${ZONE}. 60 IN A 192.0.2.20`,
    ]);
    writeFileSync(mcns.configFile, config);
  });
});
