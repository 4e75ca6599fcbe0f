// The sample service as a user runs it: the built binary with a config file, called with curl over
// REST and with the Connect client, its events read back from a real nats-server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { connectEvents } from "@mcp/mcdsl/events";
import { curl, freePort, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = new URL("../dist/main.js", import.meta.url).pathname;

let dir: string;
let nats: NatsServer;
let token: string;
let configFile: string;
let url: string;

const startService = (config = configFile) => startApp(MAIN, ["--config", config]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "note-service-"));
  nats = await startNatsServer();
  const minted = mintToken("alice", ["admin"]);
  token = minted.token;
  appendTokenEntry(join(dir, "tokens.toml"), minted.entry);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  configFile = join(dir, "note-service.toml");
  writeFileSync(
    configFile,
    `[server]\nlisten = "127.0.0.1:${port}"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
      `[database]\npath = "${dir}/notes.db"\n[events]\nservers = ["${nats.url}"]\nnode = "test-node"\n`,
  );
});

afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("note-service", () => {
  it("serves REST and gRPC, publishes events, keeps notes across a restart, stops on SIGTERM", async () => {
    let service = startService();
    await service.waitReady(`${url}/readyz`);

    const created = await curl(
      "-H",
      `authorization: Bearer ${token}`,
      "-d",
      '{"text":"hello","tags":["demo"]}',
      `${url}/v1/notes`,
    );
    expect(created.status).toBe(200);
    const note = JSON.parse(created.body).note;
    expect(note).toMatchObject({ author: "alice", text: "hello", tags: ["demo"] });

    const listed = await curl("-H", `authorization: Bearer ${token}`, `${url}/v1/notes?tag=demo`);
    expect(JSON.parse(listed.body).notes.map((n: { id: string }) => n.id)).toEqual([note.id]);
    expect((await curl(`${url}/v1/notes`)).status).toBe(401);

    const client = createClient(
      NoteService,
      createGrpcTransport({
        baseUrl: url,
        interceptors: [bearerTokenInterceptor(token)],
      }),
    );
    expect((await client.getNote({ id: note.id })).note?.text).toBe("hello");

    const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test-node" });
    const seen = [];
    for await (const event of bus.replay({ fromSequence: 1, filter: "mcp.note.>" })) seen.push(event);
    await bus.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      type: "mcp.note.created",
      source: { app: "note-service", node: "test-node" },
      data: { id: note.id, author: "alice" },
    });

    expect(await service.stop()).toBe(0);

    service = startService();
    await service.waitReady(`${url}/readyz`);
    expect((await client.getNote({ id: note.id })).note?.tags).toEqual(["demo"]);
    await service.stop();
  });

  it("refuses a bad config file, naming the file, line and key", async () => {
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `[server]\nlisten = "127.0.0.1:8080"\n\n[database]\npaht = "/tmp/x.db"\n`);
    const service = startService(bad);
    expect(await service.exited()).toBe(1);
    expect(service.stderr()).toContain(`${bad}:5: [database] paht: unknown key (did you mean "path"?)`);
  });
});
