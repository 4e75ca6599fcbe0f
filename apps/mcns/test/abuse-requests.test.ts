// A hostile or buggy client's requests: broken REST bodies, bad tokens, owners taking each other's
// records, many writers at once, and records left behind in a zone the configuration dropped. Every
// refusal changes nothing (ListRecords, dig) and the process keeps serving.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { curl } from "@mcp/mcdsl/testing";
import { RecordSchema } from "@mcp/proto/mcns/v1/record_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, refusal, startMcns, ZONE } from "./harness.js";

let mcns: Mcns;

beforeAll(async () => {
  mcns = await startMcns();
});

afterAll(async () => {
  await mcns?.stop();
});

const post = (body: string, token = mcns.tokens.admin, ...args: string[]) =>
  curl(
    "-H",
    `authorization: Bearer ${token}`,
    "-H",
    "content-type: application/json",
    ...args,
    "-d",
    body,
    `${mcns.url}/v1/records`,
  );

async function count(name?: string): Promise<number> {
  return (await mcns.client().listRecords({ name: name && `${name}.${ZONE}`, pageSize: 1000 })).records
    .length;
}

describe("REST bodies and tokens", () => {
  it("answers broken bodies with 400 and a message, storing nothing", async () => {
    const ok = '"name": "b.svc.mcp.test", "type": "RECORD_TYPE_A", "address": "192.0.2.1", "owner": "w"';
    const cases: [string, RegExp][] = [
      ["{", /^request body is not valid JSON: /],
      ["[]", /^record: expected an object \(mcns\.v1\.Record\), got \[\]$/],
      ["null", /^record is required$/],
      [`{${ok}, "name": 5}`, /^record\.name: expected a string, got 5$/],
      [
        `{${ok}, "type": "RECORD_TYPE_NOPE"}`,
        /^record\.type: "RECORD_TYPE_NOPE" is not one of: RECORD_TYPE_A, /,
      ],
      [`{${ok}, "evil": 1}`, /^record\.evil: no such field in mcns\.v1\.Record/],
      [`{${ok}, "target": "x.example"}`, /oneof set multiple times by address and target/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect((r.json as { message: string }).message, body).toMatch(message);
    }
    const file = join(mcns.dir, "huge.json");
    writeFileSync(file, JSON.stringify({ name: `b.${ZONE}`, owner: "x".repeat(9 << 20) }));
    const huge = await curl(
      "-H",
      `authorization: Bearer ${mcns.tokens.admin}`,
      "--data-binary",
      `@${file}`,
      `${mcns.url}/v1/records`,
    );
    expect(huge.status).toBe(413);
    expect(await count()).toBe(0);
    expect((await dig(mcns.dnsPort, ZONE, "SOA")).status).toBe("NOERROR");
  });

  it("needs a valid token with a writer role for every change", async () => {
    const body = JSON.stringify({
      name: `t.${ZONE}`,
      type: "RECORD_TYPE_A",
      address: "192.0.2.1",
      owner: "w",
    });
    for (const token of ["", "garbage", `${mcns.tokens.admin}x`, mcns.tokens.admin.slice(0, -1)]) {
      expect((await post(body, token)).status, token).toBe(401);
    }
    expect((await post(body, mcns.tokens.outsider)).status).toBe(403);
    expect(await count("t")).toBe(0);
  });
});

describe("owners", () => {
  it("refuses an update that would hand a record to another owner, move it, or retype it", async () => {
    const admin = mcns.client();
    const { record } = await admin.createRecord({ record: rec("own", "A", address("192.0.2.1"), "svc-a") });
    const change = (patch: Partial<typeof record>) =>
      refusal(admin.updateRecord({ record: create(RecordSchema, { ...record!, ...patch }) }));
    expect(await change({ owner: "svc-b" })).toEqual({
      code: Code.FailedPrecondition,
      message: `record ${record!.id} (own.${ZONE} A) belongs to "svc-a", not "svc-b"`,
    });
    expect(await change({ name: `stolen.${ZONE}` })).toMatchObject({ code: Code.InvalidArgument });
    expect(await change({ zone: "other.test" })).toMatchObject({ code: Code.InvalidArgument });
    expect(await change({ owner: "" })).toMatchObject({ code: Code.InvalidArgument });
    const del = await curl(
      "-H",
      `authorization: Bearer ${mcns.tokens.admin}`,
      "-X",
      "DELETE",
      `${mcns.url}/v1/records/${record!.id}?owner=svc-b`,
    );
    expect(del.status).not.toBe(200);
    expect((del.json as { message: string }).message).toContain('belongs to "svc-a", not "svc-b"');
    expect((await admin.getRecord({ id: record!.id })).record).toMatchObject({ owner: "svc-a", ttl: 300 });
    expect((await dig(mcns.dnsPort, `own.${ZONE}`, "A")).answer).toEqual([`own.${ZONE}. 300 IN A 192.0.2.1`]);
  });

  it("gives a name to exactly one of many owners racing for it", async () => {
    const admin = mcns.client();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        refusal(admin.createRecord({ record: rec("race", "A", address(`192.0.2.${i + 1}`), `owner-${i}`) })),
      ),
    );
    const won = results.filter((r) => r.code === "ok");
    expect(won).toHaveLength(1);
    const [holder] = (await admin.listRecords({ name: `race.${ZONE}` })).records.map((r) => r.owner);
    for (const r of results.filter((x) => x.code !== "ok")) {
      expect(r.code).toBe(Code.AlreadyExists);
      expect(r.message).toMatch(new RegExp(`belongs to owner "${holder}"`));
    }
    expect((await dig(mcns.dnsPort, `race.${ZONE}`, "A")).answer).toHaveLength(1);
  });

  it("takes many writes at once without an internal error, every one served", async () => {
    const agent = mcns.client(mcns.tokens.agent);
    const n = 100;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        refusal(agent.createRecord({ record: rec(`bulk-${i}`, "A", address("192.0.2.7"), "bulk") })),
      ),
    );
    expect(results.filter((r) => r.code !== "ok")).toEqual([]);
    expect((await mcns.client().listRecords({ owner: "bulk", pageSize: 1000 })).records).toHaveLength(n);
    expect((await dig(mcns.dnsPort, `bulk-${n - 1}.${ZONE}`, "A", "+tcp")).answer).toHaveLength(1);
  });
});

describe("the database held by another process", () => {
  // What an offline `mcns import` does beside a running server: one long write transaction (here
  // `ms` long, then rolled back). Resolves once the lock is held, with the holder's exit.
  const holdLock = async (ms: number) => {
    const zone = { name: ZONE, primary_ns: "ns1.mcp.test", admin_mailbox: "h.mcp.test", writers: [] };
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { RecordStore } from ${JSON.stringify(new URL("../dist/store/records.js", import.meta.url).href)};
         const store = new RecordStore(${JSON.stringify(join(mcns.dir, "mcns.db"))}, [${JSON.stringify(zone)}]);
         try {
           store.batch(() => {
             store.create({ zone: "${ZONE}", name: "held.${ZONE}", ttl: 1, data: { type: "A", address: "192.0.2.1" }, owner: "x" });
             process.stdout.write("locked\\n");
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});
             throw new Error("rolled back");
           });
         } catch {}`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(holder, "exit");
    await once(holder.stdout!, "data");
    return { exited };
  };
  const addRecord = (name: string, ip: string) =>
    refusal(mcns.client(mcns.tokens.agent).createRecord({ record: rec(name, "A", address(ip), "b") }));

  it("answers Unavailable within a second, changes nothing, and writes again once it is free", async () => {
    const { exited } = await holdLock(2000);
    const started = Date.now();
    expect(await addRecord("busy", "192.0.2.8")).toEqual({
      code: Code.Unavailable,
      message:
        "the record database is locked by a zone import (ImportZone, or an offline `mcns import`); nothing changed: retry",
    });
    expect(Date.now() - started).toBeLessThan(1800);
    expect((await dig(mcns.dnsPort, `busy.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    await exited;
    expect(await addRecord("busy", "192.0.2.8")).toEqual({ code: "ok", message: "" });
    expect((await dig(mcns.dnsPort, `busy.${ZONE}`, "A")).answer).toEqual([
      `busy.${ZONE}. 300 IN A 192.0.2.8`,
    ]);
  });

  it("keeps answering DNS while a change waits, and makes the change once the lock is let go", async () => {
    const { exited } = await holdLock(500);
    let settled = false;
    const waiting = addRecord("waited", "192.0.2.9").finally(() => {
      settled = true;
    });
    // SQLite's own wait would hold the event loop (and DNS) until the change is done.
    const answer = await dig(mcns.dnsPort, ZONE, "SOA");
    expect(answer.status).toBe("NOERROR");
    expect(answer.answer).toHaveLength(1);
    expect(settled).toBe(false);
    expect(await waiting).toEqual({ code: "ok", message: "" });
    await exited;
    expect((await dig(mcns.dnsPort, `waited.${ZONE}`, "A")).answer).toEqual([
      `waited.${ZONE}. 300 IN A 192.0.2.9`,
    ]);
  });
});

describe("a zone dropped from the configuration", () => {
  it("lets an admin delete the records left in it, and refuses to change them, without internal errors", async () => {
    const admin = mcns.client();
    const { record } = await admin.createRecord({
      record: rec("left.other.test", "A", address("192.0.2.9")),
    });
    const config = readFileSync(mcns.configFile, "utf8");
    writeFileSync(mcns.configFile, config.replace(/\[\[zones\]\]\nname = "other\.test"\n[^[]*/, ""));
    await mcns.restart();
    expect((await dig(mcns.dnsPort, "left.other.test", "A")).status).toBe("REFUSED");

    const id = record!.id;
    expect(
      await refusal(admin.updateRecord({ record: create(RecordSchema, { ...record!, ttl: 60 }) })),
    ).toEqual({
      code: Code.FailedPrecondition,
      message: `record ${id} is in zone "other.test", which is not served here any more: delete it`,
    });
    expect(await refusal(mcns.client(mcns.tokens.agent).deleteRecord({ id, owner: "web" }))).toEqual({
      code: Code.PermissionDenied,
      message:
        'identity "agent" may not change records in zone "other.test" (not served here any more: admins only)',
    });
    expect(await refusal(admin.deleteRecord({ id, owner: "web" }))).toEqual({ code: "ok", message: "" });
    expect(await refusal(admin.getRecord({ id }))).toMatchObject({ code: Code.NotFound });
    writeFileSync(mcns.configFile, config);
  });
});
