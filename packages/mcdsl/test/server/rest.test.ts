import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotesServer, startNotesServer } from "./fixtures/harness.js";
import { curl } from "./fixtures/tools.js";

let s: NotesServer;
const bearer = (token: string) => ["-H", `Authorization: Bearer ${token}`];
const json = ["-H", "Content-Type: application/json"];

beforeAll(async () => {
  s = await startNotesServer({ limits: { maxRequestBytes: 64 * 1024 } });
});
afterAll(() => s.stop());

describe("REST transcoding with curl", () => {
  it('POST /v1/notes (body "*"), GET by id, PATCH {note.id} (body "note"), DELETE', async () => {
    const created = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "-d",
      '{"text":"hello","tags":["a","b"]}',
      `${s.server.url}/v1/notes`,
    ]);
    expect(created.status).toBe(200);
    expect(created.headers["content-type"]).toBe("application/json");
    const note = (created.json() as { note: { id: string } }).note;
    expect(note).toMatchObject({ text: "hello", tags: ["a", "b"], author: "writer" });

    const got = await curl([...bearer(s.tokens.reader), `${s.server.url}/v1/notes/${note.id}`]);
    expect(got.status).toBe(200);
    expect(got.json()).toEqual(created.json());

    // The path's {note.id} wins over an id in the body.
    const patched = await curl([
      "-X",
      "PATCH",
      ...bearer(s.tokens.admin),
      ...json,
      "-d",
      '{"id":"ignored","text":"changed","tags":["c"]}',
      `${s.server.url}/v1/notes/${note.id}`,
    ]);
    expect(patched.status).toBe(200);
    expect(patched.json()).toMatchObject({ note: { id: note.id, text: "changed", tags: ["c"] } });

    const deleted = await curl([
      "-X",
      "DELETE",
      ...bearer(s.tokens.admin),
      `${s.server.url}/v1/notes/${note.id}`,
    ]);
    expect(deleted.status).toBe(200);
    expect(deleted.json()).toEqual({});

    const gone = await curl([...bearer(s.tokens.reader), `${s.server.url}/v1/notes/${note.id}`]);
    expect(gone.status).toBe(404);
    expect(gone.json()).toEqual({ code: "not_found", message: `note "${note.id}" not found` });
  });

  it("GET with query parameters: proto and JSON names, numbers", async () => {
    for (const [text, tags] of [
      ["one", ["x"]],
      ["two", ["x", "y"]],
      ["three", ["y"]],
    ] as const) {
      await curl([
        ...bearer(s.tokens.writer),
        ...json,
        "-d",
        JSON.stringify({ text, tags }),
        `${s.server.url}/v1/notes`,
      ]);
    }
    const byTag = await curl([`${s.server.url}/v1/notes?tag=y&author=writer`]);
    expect(byTag.status).toBe(200);
    const texts = (byTag.json() as { notes: { text: string }[] }).notes.map((n) => n.text);
    expect(texts).toEqual(expect.arrayContaining(["two", "three"]));
    expect(texts).not.toContain("one");
    for (const param of ["page_size=1", "pageSize=1"]) {
      const paged = await curl([`${s.server.url}/v1/notes?tag=x&${param}`]);
      expect((paged.json() as { notes: unknown[] }).notes).toHaveLength(1);
    }
  });

  it("answers 400 naming the bad parameter or body field", async () => {
    const badNumber = await curl([`${s.server.url}/v1/notes?page_size=many`]);
    expect(badNumber.status).toBe(400);
    expect(badNumber.json()).toMatchObject({ code: "invalid_argument" });
    expect((badNumber.json() as { message: string }).message).toContain("page_size");

    const unknown = await curl([`${s.server.url}/v1/notes?colour=red`]);
    expect(unknown.status).toBe(400);
    expect((unknown.json() as { message: string }).message).toContain('"colour"');

    const twice = await curl([`${s.server.url}/v1/notes?tag=a&tag=b`]);
    expect(twice.status).toBe(400);
    expect((twice.json() as { message: string }).message).toMatch(/given 2 times.*"tag" is not repeated/);

    const malformed = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "-d",
      '{"text": ',
      `${s.server.url}/v1/notes`,
    ]);
    expect(malformed.status).toBe(400);
    expect((malformed.json() as { message: string }).message).toMatch(/request body is not valid JSON/);

    const badField = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "-d",
      '{"txt":"x"}',
      `${s.server.url}/v1/notes`,
    ]);
    expect(badField.status).toBe(400);
    expect((badField.json() as { message: string }).message).toBe(
      "txt: no such field in mcp.sample.v1.CreateNoteRequest (its fields: text, tags)",
    );

    // A value protobuf refuses deep in the body: the message gives its path and what it takes,
    // and nothing is created.
    const before = s.store.notes.size;
    const post = (body: string, path = "/v1/notes", method = "POST") =>
      curl([...bearer(s.tokens.writer), ...json, "-X", method, "-d", body, `${s.server.url}${path}`]);
    const badTag = await post('{"text":"x","tags":["a",{"b":1}]}');
    expect(badTag.status).toBe(400);
    expect(badTag.json()).toEqual({
      code: "invalid_argument",
      message: 'tags[1]: expected a string, got {"b":1}',
    });
    const nested = await post('{"createTime":"yesterday"}', "/v1/notes/n1", "PATCH");
    expect(nested.status).toBe(400);
    expect((nested.json() as { message: string }).message).toMatch(/^note\.createTime \(create_time\): /);
    const notObject = await post('"text"', "/v1/notes/n1", "PATCH");
    expect((notObject.json() as { message: string }).message).toBe(
      'note: expected an object (mcp.sample.v1.Note), got "text"',
    );
    expect(s.store.notes.size).toBe(before);

    // The handler's own InvalidArgument maps to 400 too.
    const negative = await curl([`${s.server.url}/v1/notes?page_size=-1`]);
    expect(negative.status).toBe(400);
    expect(negative.json()).toEqual({ code: "invalid_argument", message: "page_size must not be negative" });
  });

  it("the Connect JSON protocol names the refused field as REST does (curl -d to a procedure)", async () => {
    const call = (body: string) =>
      curl([
        ...bearer(s.tokens.writer),
        ...json,
        "-d",
        body,
        `${s.server.url}/mcp.sample.v1.NoteService/CreateNote`,
      ]);
    const before = s.store.notes.size;
    // Before: protobuf's words, a type and no place ("cannot decode field mcp.sample.v1...").
    const badTag = await call('{"text":"x","tags":["a",{"b":1}]}');
    expect([badTag.status, badTag.json()]).toEqual([
      400,
      { code: "invalid_argument", message: 'tags[1]: expected a string, got {"b":1}' },
    ]);
    const unknown = await call('{"txt":"x"}');
    expect(unknown.json()).toEqual({
      code: "invalid_argument",
      message: "txt: no such field in mcp.sample.v1.CreateNoteRequest (its fields: text, tags)",
    });
    // Not JSON at all: Connect's own answer, unchanged.
    const malformed = await call('{"text": ');
    expect(malformed.status).toBe(400);
    expect((malformed.json() as { code: string }).code).toBe("invalid_argument");
    expect(s.store.notes.size).toBe(before);
    const good = await call('{"text":"via connect json"}');
    expect([good.status, (good.json() as { note: { text: string } }).note.text]).toEqual([
      200,
      "via connect json",
    ]);
  });

  it("answers 405 with Allow for a known path and a wrong method, 404 for an unknown path", async () => {
    const wrong = await curl(["-X", "PUT", `${s.server.url}/v1/notes`]);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("POST, GET");
    const missing = await curl([`${s.server.url}/v2/nothing`]);
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ code: "not_found" });
  });

  it("refuses a body over the limit with 413 (REST) and resource_exhausted (Connect)", async () => {
    const big = JSON.stringify({ text: "x".repeat(100 * 1024) });
    const rest = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "--data-binary",
      big,
      `${s.server.url}/v1/notes`,
    ]);
    expect(rest.status).toBe(413);
    expect(rest.json()).toMatchObject({ code: "resource_exhausted" });
    const rpc = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "--data-binary",
      big,
      `${s.server.url}/mcp.sample.v1.NoteService/CreateNote`,
    ]);
    expect(rpc.json()).toMatchObject({ code: "resource_exhausted" });
    expect(s.store.notes.size).toBeGreaterThanOrEqual(0);
    expect([...s.store.notes.values()].some((n) => n.text.length > 1000)).toBe(false);
  });

  it("refuses a body nested 10,000 levels deep with 400, over REST and Connect JSON", async () => {
    // It overflowed the stack: REST answered 500, a Connect JSON call not at all.
    const deep = `{"text":"x","tags":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const message = "request body nests objects or arrays deeper than 100 levels";
    for (const path of ["/v1/notes", "/mcp.sample.v1.NoteService/CreateNote"]) {
      const r = await curl([
        ...bearer(s.tokens.writer),
        ...json,
        "--max-time",
        "10",
        "-d",
        deep,
        `${s.server.url}${path}`,
      ]);
      expect([r.status, r.json()]).toEqual([400, { code: "invalid_argument", message }]);
    }
    // Brackets inside a string are text, not nesting.
    const text = `${"[".repeat(500)}{`;
    const ok = await curl([
      ...bearer(s.tokens.writer),
      ...json,
      "-d",
      JSON.stringify({ text }),
      `${s.server.url}/v1/notes`,
    ]);
    expect([ok.status, (ok.json() as { note: { text: string } }).note.text]).toEqual([200, text]);
  });

  it("answers 413 to every oversized body, whether the client asks to confirm first or not", async () => {
    // Answered before the body was read, the connection used to close on it: now and then the
    // client, still sending, got a reset (curl: "Send failure: Broken pipe") instead of the 413.
    const file = join(s.dir, "big.json");
    writeFileSync(file, `{"text":"${"a".repeat(5 << 20)}"}`);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const confirm = i % 2 === 0 ? [] : ["-H", "Expect:"]; // curl asks (100-continue) over 1 MiB
      const path = i % 4 < 2 ? "/v1/notes" : "/mcp.sample.v1.NoteService/CreateNote";
      const r = await curl([
        ...bearer(s.tokens.writer),
        ...json,
        ...confirm,
        "--data-binary",
        `@${file}`,
        `${s.server.url}${path}`,
      ]);
      statuses.push(r.status);
    }
    expect(statuses).toEqual(statuses.map(() => 413));
  });

  it("maps auth failures to 401 and 403 through the same interceptor", async () => {
    const anonymous = await curl([...json, "-d", '{"text":"x"}', `${s.server.url}/v1/notes`]);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json()).toEqual({ code: "unauthenticated", message: "missing bearer token" });
    expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer/);

    const forged = await curl([
      ...bearer("mcp_not-a-real-token"),
      ...json,
      "-d",
      '{"text":"x"}',
      `${s.server.url}/v1/notes`,
    ]);
    expect(forged.status).toBe(401);
    expect(forged.json()).toMatchObject({ message: "unknown or expired token" });

    const reader = await curl([
      ...bearer(s.tokens.reader),
      ...json,
      "-d",
      '{"text":"x"}',
      `${s.server.url}/v1/notes`,
    ]);
    expect(reader.status).toBe(403);
    expect(reader.json()).toEqual({
      code: "permission_denied",
      message:
        "identity 'reader' lacks any of roles 'writer', 'admin' required by mcp.sample.v1.NoteService/CreateNote",
    });

    const writerDeletes = await curl([
      "-X",
      "DELETE",
      ...bearer(s.tokens.writer),
      `${s.server.url}/v1/notes/n1`,
    ]);
    expect(writerDeletes.status).toBe(403);
    expect((writerDeletes.json() as { message: string }).message).toBe(
      "identity 'writer' lacks role 'admin' required by mcp.sample.v1.NoteService/DeleteNote",
    );
  });

  it("echoes x-request-id (given or generated) and logs it", async () => {
    const given = await curl(["-H", "X-Request-Id: trace-42", `${s.server.url}/v1/notes`]);
    expect(given.headers["x-request-id"]).toBe("trace-42");
    expect(s.logs).toContainEqual(
      expect.objectContaining({ msg: "request", requestId: "trace-42", path: "/v1/notes", status: 200 }),
    );
    const generated = await curl([`${s.server.url}/v1/notes`]);
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9A-Z]{26}$/);
    // A bearer token never reaches the log.
    expect(JSON.stringify(s.logs)).not.toContain(s.tokens.writer);
  });

  it("serves REST over h2c too", async () => {
    const res = await curl(["--http2-prior-knowledge", `${s.server.url}/v1/notes?page_size=1`]);
    expect(res.status).toBe(200);
    expect(s.logs.filter((l) => l.msg === "request").at(-1)).toMatchObject({
      httpVersion: "2.0",
      protocol: "rest",
    });
  });
});
