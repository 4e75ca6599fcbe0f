// A hostile or buggy client's record data: addresses that are not, TXT strings past their limits,
// TTLs out of range, one address spelled two ways, and so many records at one name that no DNS
// message could hold them. Refusals name the field and change nothing (ListRecords, dig); what is
// accepted is served whole over TCP when UDP truncates.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { curl } from "@mcp/mcdsl/testing";
import { RecordSchema, TxtDataSchema } from "@mcp/proto/mcns/v1/record_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, refusal, startMcns, ZONE } from "./harness.js";

let mcns: Mcns;

beforeAll(async () => {
  mcns = await startMcns();
});

afterAll(async () => {
  await mcns?.stop();
});

const txt = (strings: string[]) => ({ case: "txt" as const, value: create(TxtDataSchema, { strings }) });

async function names(name: string): Promise<number> {
  return (await mcns.client().listRecords({ name: `${name}.${ZONE}` })).records.length;
}

describe("record data", () => {
  it("refuses addresses that are not of the record's family, naming them", async () => {
    const admin = mcns.client();
    for (const [type, value] of [
      ["A", "01.2.3.4"],
      ["A", "1.2.3"],
      ["A", "0x7f.0.0.1"],
      ["A", "192.0.2.1/24"],
      ["A", "2001:db8::1"],
      ["AAAA", "192.0.2.1"],
      ["AAAA", "fe80::1%eth0"],
      ["AAAA", "2001:db8::1::2"],
      ["AAAA", "::ffff:01.2.3.4"],
    ] as const) {
      const r = await refusal(admin.createRecord({ record: rec("addr", type, address(value)) }));
      expect(r).toEqual({
        code: Code.InvalidArgument,
        message: `address "${value}" is not an ${type === "A" ? "IPv4" : "IPv6"} address`,
      });
    }
    expect(await names("addr")).toBe(0);
  });

  it("keeps one address spelled two ways once in its RRset", async () => {
    const admin = mcns.client();
    const first = await admin.createRecord({ record: rec("v6", "AAAA", address("::ffff:192.0.2.1")) });
    const again = await admin.createRecord({ record: rec("v6", "AAAA", address("::FFFF:C000:0201")) });
    expect(again.record?.id).toBe(first.record?.id);
    const other = await admin.createRecord({ record: rec("v6", "AAAA", address("2001:db8::1")) });
    const update = await refusal(
      admin.updateRecord({
        record: create(RecordSchema, { ...other.record!, data: address("0:0:0:0:0:ffff:192.0.2.1") }),
      }),
    );
    expect(update).toEqual({
      code: Code.AlreadyExists,
      message: `v6.${ZONE} AAAA already has this data (record ${first.record?.id})`,
    });
    expect((await dig(mcns.dnsPort, `v6.${ZONE}`, "AAAA")).answer.sort()).toEqual([
      `v6.${ZONE}. 300 IN AAAA 2001:db8::1`,
      `v6.${ZONE}. 300 IN AAAA ::ffff:192.0.2.1`,
    ]);
  });

  it("refuses TXT strings past 255 bytes and TXT data past 4000, counting bytes, not characters", async () => {
    const admin = mcns.client();
    const cases: [string[], string][] = [
      [["a".repeat(256)], "txt.strings[0] is 256 bytes; the limit is 255"],
      [["ok", "é".repeat(128)], "txt.strings[1] is 256 bytes; the limit is 255"],
      [Array(16).fill("x".repeat(255)), "txt data is 4096 bytes; the limit is 4000"],
      [[], "txt needs at least one string"],
    ];
    for (const [strings, message] of cases) {
      expect(await refusal(admin.createRecord({ record: rec("t", "TXT", txt(strings)) }))).toEqual({
        code: Code.InvalidArgument,
        message,
      });
    }
    await admin.createRecord({ record: rec("t", "TXT", txt(["é".repeat(127)])) });
    expect((await dig(mcns.dnsPort, `t.${ZONE}`, "TXT", "+tcp")).answer).toHaveLength(1);
  });

  it('takes a null MX (".", RFC 7505) over the API and from a zone file, and serves it', async () => {
    const admin = mcns.client();
    const mx = (exchange: string) => ({ case: "mx" as const, value: { preference: 0, exchange } });
    await admin.createRecord({ record: rec("nomail", "MX", mx(".") as never) });
    expect((await dig(mcns.dnsPort, `nomail.${ZONE}`, "MX")).answer).toEqual([
      `nomail.${ZONE}. 300 IN MX 0 .`,
    ]);
    const imported = await admin.importZone({ zone: ZONE, text: "nomail2 IN MX 0 .\n", owner: "web" });
    expect(imported.created).toBe(1);
    expect((await dig(mcns.dnsPort, `nomail2.${ZONE}`, "MX")).answer).toEqual([
      `nomail2.${ZONE}. 300 IN MX 0 .`,
    ]);
    expect(await refusal(admin.createRecord({ record: rec("nomail3", "MX", mx("") as never) }))).toEqual({
      code: Code.InvalidArgument,
      message: "exchange must not be empty",
    });
  });

  it("refuses TTLs and numbers out of range, over Connect and REST", async () => {
    const admin = mcns.client();
    for (const ttl of [604_801, 2 ** 31, 2 ** 32 - 1]) {
      expect(
        await refusal(admin.createRecord({ record: rec("ttl", "A", address("192.0.2.1"), "web", ttl) })),
      ).toEqual({
        code: Code.InvalidArgument,
        message: `ttl ${ttl} must be from 1 to 604800 seconds (0: the zone's default)`,
      });
    }
    const srv = {
      case: "srv" as const,
      value: { priority: 1, weight: 1, port: 70_000, target: "x.example" },
    };
    expect(await refusal(admin.createRecord({ record: rec("_s._tcp", "SRV", srv as never) }))).toEqual({
      code: Code.InvalidArgument,
      message: "port 70000 must be from 0 to 65535",
    });
    const auth = ["-H", `authorization: Bearer ${mcns.tokens.admin}`];
    for (const ttl of [-1, 2 ** 32, 1.5, "300s"]) {
      const body = { name: `ttl.${ZONE}`, type: "RECORD_TYPE_A", address: "192.0.2.1", owner: "web", ttl };
      const r = await curl(...auth, "-d", JSON.stringify(body), `${mcns.url}/v1/records`);
      expect(r.status, String(ttl)).toBe(400);
      expect((r.json as { message: string }).message, String(ttl)).toMatch(/ttl/);
    }
    expect(await names("ttl")).toBe(0);
  });
});

describe("many records at one name", () => {
  it("refuses records once one name's answer would not fit a DNS message, and serves the rest over TCP", async () => {
    const admin = mcns.client();
    // 15 strings of 255 bytes: 3,840 bytes of rdata, 3,852 in an answer; 15 fit in 60,000, 16 do not.
    const big = (i: number) => txt(Array.from({ length: 15 }, (_, j) => `${i}-${j}-`.padEnd(255, "x")));
    for (let i = 0; i < 15; i++) await admin.createRecord({ record: rec("huge", "TXT", big(i)) });
    expect(await refusal(admin.createRecord({ record: rec("huge", "TXT", big(15)) }))).toEqual({
      code: Code.InvalidArgument,
      message: `the 16 records at huge.${ZONE} would take 61632 bytes in a DNS answer; the limit is 60000 (an answer must fit one DNS message)`,
    });
    // Nor may an update grow the set past it.
    const small = await admin.createRecord({ record: rec("huge", "TXT", txt(["small"])) });
    const grow = await refusal(
      admin.updateRecord({ record: create(RecordSchema, { ...small.record!, data: big(15) }) }),
    );
    expect(grow).toEqual({
      code: Code.InvalidArgument,
      message: `the 16 records at huge.${ZONE} would take 61632 bytes in a DNS answer; the limit is 60000 (an answer must fit one DNS message)`,
    });
    expect(await names("huge")).toBe(16);

    const udp = await dig(mcns.dnsPort, `huge.${ZONE}`, "TXT", "+ignore");
    expect(udp.flags).toContain("tc");
    expect(udp.answer).toEqual([]);
    // dig retries over TCP on TC, as resolvers do.
    expect((await dig(mcns.dnsPort, `huge.${ZONE}`, "TXT")).answer).toHaveLength(16);
  });

  it("imports thousands of records at one name in seconds, not minutes", async () => {
    // Every line used to read and compare all the records already at its name: 4,000 lines held
    // the event loop (DNS included) for about a minute.
    const line = (i: number) => `many IN A 10.0.${i >> 8}.${i & 255}`;
    const file = (n: number) =>
      `$ORIGIN ${ZONE}.\n${Array.from({ length: n }, (_, i) => line(i)).join("\n")}\n`;
    const started = Date.now();
    const tooMany = await refusal(mcns.client().importZone({ zone: ZONE, text: file(4000), owner: "bulk" }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.message).toContain(
      `line 3752: the 3751 records at many.${ZONE} would take 60016 bytes in a DNS answer; the limit is 60000`,
    );
    expect(await names("many")).toBe(0);
    const fits = await mcns.client().importZone({ zone: ZONE, text: file(3700), owner: "bulk" });
    expect(fits.created).toBe(3700);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await dig(mcns.dnsPort, `many.${ZONE}`, "A")).answer).toHaveLength(3700);
  });
});
