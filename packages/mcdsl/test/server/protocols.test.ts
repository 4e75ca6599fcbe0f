import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { NoteService, WatchNotesResponse_Change } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotesServer, startNotesServer, startTlsNotesServer } from "./fixtures/harness.js";
import {
  bufCurl,
  buildSchemaImage,
  curl,
  makeTestCertificates,
  type TestCertificates,
  until,
} from "./fixtures/tools.js";

const createNote = "mcp.sample.v1.NoteService/CreateNote";
const getNote = "mcp.sample.v1.NoteService/GetNote";

let schema: string;
beforeAll(async () => {
  schema = await buildSchemaImage(mkdtempSync(join(tmpdir(), "mcdsl-schema-")));
});

describe("cleartext TCP: HTTP/1.1 and h2c on one port", () => {
  let s: NotesServer;
  beforeAll(async () => {
    s = await startNotesServer();
  });
  afterAll(() => s.stop());

  const cases = [
    { protocol: "grpc", http2: true },
    { protocol: "grpcweb", http2: true },
    { protocol: "connect", http2: true },
    { protocol: "grpcweb", http2: false },
    { protocol: "connect", http2: false },
  ];
  for (const { protocol, http2 } of cases) {
    it(`buf curl --protocol ${protocol} over ${http2 ? "h2c" : "HTTP/1.1"} creates and reads a note`, async () => {
      const auth = ["-H", `Authorization: Bearer ${s.tokens.writer}`];
      const common = ["--protocol", protocol, ...(http2 ? ["--http2-prior-knowledge"] : []), ...auth];
      const created = await bufCurl(schema, [
        ...common,
        "-d",
        JSON.stringify({ text: `via ${protocol}`, tags: ["t"] }),
        `${s.server.url}/${createNote}`,
      ]);
      expect(created.stderr).toBe("");
      expect(created.exitCode).toBe(0);
      const note = JSON.parse(created.stdout).note;
      expect(note).toMatchObject({ text: `via ${protocol}`, tags: ["t"], author: "writer" });

      const got = await bufCurl(schema, [
        ...common,
        "-d",
        JSON.stringify({ id: note.id }),
        `${s.server.url}/${getNote}`,
      ]);
      expect(got.exitCode).toBe(0);
      expect(JSON.parse(got.stdout).note.id).toBe(note.id);
      // The server's own log line says which protocol and HTTP version it actually served.
      const line = s.logs.filter((l) => l.msg === "request").at(-1);
      expect(line).toMatchObject({
        procedure: getNote,
        code: "ok",
        identity: "writer",
        protocol: protocol === "grpcweb" ? "grpc-web" : protocol,
        httpVersion: http2 ? "2.0" : "1.1",
      });
    });
  }

  it("buf curl reports the handler's error code", async () => {
    const out = await bufCurl(schema, [
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-H",
      `Authorization: Bearer ${s.tokens.reader}`,
      "-d",
      '{"id":"missing"}',
      `${s.server.url}/${getNote}`,
    ]);
    expect(out.exitCode).not.toBe(0);
    expect(JSON.parse(out.stderr)).toEqual({ code: "not_found", message: 'note "missing" not found' });
  });

  it("the Connect node client works with the gRPC, gRPC-Web and Connect transports", async () => {
    const headers = { authorization: `Bearer ${s.tokens.writer}` };
    const transports = [
      createGrpcTransport({ baseUrl: s.server.url! }),
      createGrpcWebTransport({ baseUrl: s.server.url!, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: s.server.url!, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: s.server.url!, httpVersion: "2" }),
    ];
    for (const transport of transports) {
      const client = createClient(NoteService, transport);
      const { note } = await client.createNote({ text: "node client" }, { headers });
      expect(note?.author).toBe("writer");
      const { notes } = await client.listNotes({ author: "writer" });
      expect(notes.map((n) => n.id)).toContain(note?.id);
    }
  });

  it("streams WatchNotes to a client as notes change", async () => {
    const headers = { authorization: `Bearer ${s.tokens.admin}` };
    const client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
    const abort = new AbortController();
    const stream = client.watchNotes({}, { headers, signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = iterator.next(); // the request goes out on the first next()
    await until(() => s.store.watcherCount === 1);
    const { note } = await client.createNote({ text: "watched" }, { headers });
    const { value } = await first;
    expect(value).toMatchObject({
      change: WatchNotesResponse_Change.CREATED,
      note: { id: note?.id, text: "watched" },
    });
    abort.abort();
  });
});

describe("TLS: ALPN h2 and http/1.1", () => {
  let s: NotesServer;
  let ca: string;
  beforeAll(async () => {
    const started = await startTlsNotesServer();
    s = started;
    ca = started.caFile;
  });
  afterAll(() => s.stop());

  for (const protocol of ["grpc", "grpcweb", "connect"]) {
    it(`buf curl --protocol ${protocol} over TLS verifies the chain and calls`, async () => {
      expect(s.server.url).toMatch(/^https:\/\//);
      const out = await bufCurl(schema, [
        "--protocol",
        protocol,
        "--cacert",
        ca,
        "-H",
        `Authorization: Bearer ${s.tokens.writer}`,
        "-d",
        '{"text":"over tls"}',
        `${s.server.url}/${createNote}`,
      ]);
      expect(out.stderr).toBe("");
      expect(JSON.parse(out.stdout).note.text).toBe("over tls");
    });
  }

  it("buf curl over HTTP/1.1 with TLS (connect protocol)", async () => {
    const out = await bufCurl(schema, [
      "--protocol",
      "connect",
      "--cacert",
      ca,
      "--http2-prior-knowledge=false",
      "-d",
      "{}",
      `${s.server.url}/mcp.sample.v1.NoteService/ListNotes`,
    ]);
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
  });

  it("refuses a client that does not trust the CA", async () => {
    const out = await bufCurl(schema, [
      "--protocol",
      "grpc",
      "-d",
      "{}",
      `${s.server.url}/mcp.sample.v1.NoteService/ListNotes`,
    ]);
    expect(out.exitCode).not.toBe(0);
    expect(out.stderr).toMatch(/certificate/i);
  });
});

describe("mutual TLS (caFile + requireClientCert)", () => {
  let s: NotesServer;
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await makeTestCertificates(mkdtempSync(join(tmpdir(), "mcdsl-mtls-")));
    s = await startNotesServer({
      tls: {
        certFile: certs.certFile,
        keyFile: certs.keyFile,
        caFile: certs.caFile,
        requireClientCert: true,
      },
    });
  });
  afterAll(() => s.stop());

  it("serves a client with a certificate from the CA and refuses one without", async () => {
    const url = `${s.server.url}/v1/notes`;
    const withCert = await curl([
      "--cacert",
      certs.caFile,
      "--cert",
      certs.clientCertFile,
      "--key",
      certs.clientKeyFile,
      url,
    ]);
    expect(withCert.status).toBe(200);
    await expect(curl(["--cacert", certs.caFile, url])).rejects.toThrow(/curl failed/);
  });
});

describe("Unix socket", () => {
  let s: NotesServer;
  let path: string;
  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), "mcdsl-sock-")), "notes.sock");
    await leaveStaleSocket(path);
    s = await startNotesServer({ listen: undefined, socket: { path, mode: 0o660 } });
  });
  afterAll(() => s.stop());

  it("replaces a stale socket file and sets the configured mode", () => {
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(s.server.addresses).toEqual({ socket: path });
  });

  it("refuses a socket another server answers on, and a path that is not a socket", async () => {
    await expect(startNotesServer({ listen: undefined, socket: { path } })).rejects.toThrow(
      /another process is serving on it/,
    );
    const file = join(s.dir, "plain-file");
    writeFileSync(file, "");
    await expect(startNotesServer({ listen: undefined, socket: { path: file } })).rejects.toThrow(
      /is not a socket/,
    );
  });

  it("serves the Connect node client over HTTP/2 and HTTP/1.1", async () => {
    const headers = { authorization: `Bearer ${s.tokens.writer}` };
    const h2 = createClient(
      NoteService,
      createGrpcTransport({
        baseUrl: "http://localhost",
        nodeOptions: { createConnection: () => net.connect(path) },
      }),
    );
    const { note } = await h2.createNote({ text: "over unix" }, { headers });
    expect(note?.text).toBe("over unix");
    const h1 = createClient(
      NoteService,
      createConnectTransport({
        baseUrl: "http://localhost",
        httpVersion: "1.1",
        nodeOptions: { socketPath: path },
      }),
    );
    const { notes } = await h1.listNotes({});
    expect(notes.map((n) => n.id)).toEqual([note?.id]);
  });

  it("removes the socket file on close", async () => {
    const other = join(s.dir, "closing.sock");
    const t = await startNotesServer({ listen: undefined, socket: { path: other } });
    expect(existsSync(other)).toBe(true);
    await t.stop();
    expect(existsSync(other)).toBe(false);
  });
});

/** A process that listens on `path` and is killed with SIGKILL leaves its socket file behind. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    "-e",
    `require("node:net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`,
  ]);
  await new Promise((resolve) => child.stdout.once("data", resolve));
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  expect(statSync(path).isSocket()).toBe(true);
}
