import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotesServer, startNotesServer } from "./fixtures/harness.js";
import { curl } from "./fixtures/tools.js";

let s: NotesServer;
let ready: boolean | Error = true;

beforeAll(async () => {
  s = await startNotesServer({
    readiness: async () => {
      if (ready instanceof Error) throw ready;
      return ready;
    },
  });
});
afterAll(() => s.stop());

describe("probes and metrics", () => {
  it("binds port 0 to a real port and reports it", () => {
    const port = s.server.addresses.tcp?.port ?? 0;
    expect(port).toBeGreaterThan(0);
    expect(s.server.url).toBe(`http://127.0.0.1:${port}`);
    expect(s.logs).toContainEqual(
      expect.objectContaining({ msg: "serving", tcp: { host: "127.0.0.1", port }, app: "notes" }),
    );
  });

  it("/healthz answers 200 without a token", async () => {
    const res = await curl([`${s.server.url}/healthz`]);
    expect(res.status).toBe(200);
    expect(res.body).toBe("ok\n");
  });

  it("/readyz follows readiness()", async () => {
    ready = true;
    expect((await curl([`${s.server.url}/readyz`])).status).toBe(200);
    ready = false;
    const notReady = await curl([`${s.server.url}/readyz`]);
    expect(notReady.status).toBe(503);
    ready = new Error("database locked");
    const failing = await curl([`${s.server.url}/readyz`]);
    expect(failing.status).toBe(503);
    expect(failing.body).toContain("database locked");
    ready = true;
    expect((await curl([`${s.server.url}/readyz`])).status).toBe(200);
  });

  it("/metrics counts the RPCs just made by procedure and code, REST included", async () => {
    const client = createClient(
      NoteService,
      createConnectTransport({ baseUrl: s.server.url!, httpVersion: "1.1" }),
    );
    await client.createNote({ text: "counted" }, { headers: { authorization: `Bearer ${s.tokens.writer}` } });
    await curl(["-H", `Authorization: Bearer ${s.tokens.reader}`, `${s.server.url}/v1/notes/nope`]);
    await curl(["-d", '{"text":"x"}', `${s.server.url}/v1/notes`]); // no token

    const metrics = await curl([`${s.server.url}/metrics`]);
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain/);
    const p = (m: string) => `procedure="mcp.sample.v1.NoteService/${m}"`;
    expect(metrics.body).toContain(`rpc_requests_total{${p("CreateNote")},code="ok"} 1`);
    expect(metrics.body).toContain(`rpc_requests_total{${p("GetNote")},code="not_found"} 1`);
    expect(metrics.body).toContain(`rpc_requests_total{${p("CreateNote")},code="unauthenticated"} 1`);
    expect(metrics.body).toMatch(new RegExp(`rpc_request_duration_seconds_count\\{${p("CreateNote")}\\} 2`));
    expect(metrics.body).toContain("process_cpu_user_seconds_total");
    expect(s.server.registry.contentType).toMatch(/^text\/plain/);
  });
});
