import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessFor, createStaticAuthenticator, isReadOnly } from "../../src/auth/index.js";
import { type NotesServer, notesPolicy, procedure, startNotesServer } from "../server/fixtures/harness.js";

let s: NotesServer;
let client: ReturnType<typeof createClient<typeof NoteService>>;
beforeAll(async () => {
  s = await startNotesServer();
  client = createClient(NoteService, createGrpcTransport({ baseUrl: s.server.url! }));
});
afterAll(() => s.stop());

const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function failure(promise: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

describe("auth interceptor (gRPC client)", () => {
  it("refuses a mutating call without a usable token", async () => {
    expect(await failure(client.createNote({ text: "x" }))).toEqual({
      code: Code.Unauthenticated,
      message: "missing bearer token",
    });
    expect(
      await failure(client.createNote({ text: "x" }, { headers: { authorization: "Basic a2c6cHc=" } })),
    ).toEqual({
      code: Code.Unauthenticated,
      message: "authorization header must be 'Bearer <token>'",
    });
    expect(await failure(client.createNote({ text: "x" }, as("mcp_forged")))).toEqual({
      code: Code.Unauthenticated,
      message: "unknown or expired token",
    });
  });

  it("checks the procedure's roles and names who lacks what", async () => {
    expect(await failure(client.createNote({ text: "x" }, as(s.tokens.reader)))).toEqual({
      code: Code.PermissionDenied,
      message: `identity 'reader' lacks any of roles 'writer', 'admin' required by ${procedure("CreateNote")}`,
    });
    // UpdateNote is unlisted and mutating: the default role "admin" applies.
    expect(await failure(client.updateNote({ note: { id: "n1" } }, as(s.tokens.writer)))).toEqual({
      code: Code.PermissionDenied,
      message: `identity 'writer' lacks role 'admin' required by ${procedure("UpdateNote")}`,
    });
    const { note } = await client.createNote({ text: "mine" }, as(s.tokens.writer));
    expect(note?.author).toBe("writer"); // the handler read getIdentity(ctx)
    const updated = await client.updateNote({ note: { id: note?.id, text: "edited" } }, as(s.tokens.admin));
    expect(updated.note?.text).toBe("edited");
  });

  it("lets any identity read, and anyone call a public read", async () => {
    // GetNote is read-only (GET): any identity, no particular role.
    expect((await failure(client.getNote({ id: "none" }, as(s.tokens.reader)))).code).toBe(Code.NotFound);
    expect((await failure(client.getNote({ id: "none" }))).code).toBe(Code.Unauthenticated);
    // ListNotes is public: no token, or a bad one, still works (anonymously).
    await expect(client.listNotes({})).resolves.toBeDefined();
    await expect(client.listNotes({}, as("mcp_forged"))).resolves.toBeDefined();
  });
});

describe("auth policy", () => {
  const method = (name: string) => NoteService.methods.find((m) => m.name === name)!;

  it("classifies GET-mapped and NO_SIDE_EFFECTS procedures as reads", () => {
    expect(isReadOnly(method("GetNote"))).toBe(true);
    expect(isReadOnly(method("ListNotes"))).toBe(true);
    expect(isReadOnly(method("CreateNote"))).toBe(false);
    expect(isReadOnly(method("WatchNotes"))).toBe(false); // no annotation: counts as mutating
    expect(accessFor(method("DeleteNote"), {})).toEqual({ public: false, roles: ["admin"] });
    expect(accessFor(method("DeleteNote"), { mutatingDefault: ["ops"] })).toEqual({
      public: false,
      roles: ["ops"],
    });
    expect(accessFor(method("GetNote"), {})).toEqual({ public: false, roles: [] });
    expect(accessFor(method("ListNotes"), notesPolicy)).toEqual({ public: true });
  });

  it("refuses at start-up a policy that names an unknown procedure or makes a mutation public", async () => {
    const authenticator = createStaticAuthenticator([]);
    await expect(
      startNotesServer({ auth: { authenticator, policy: { roles: { [procedure("CreateNotes")]: ["x"] } } } }),
    ).rejects.toThrow(`auth policy names unknown procedure "${procedure("CreateNotes")}"`);
    await expect(
      startNotesServer({ auth: { authenticator, policy: { public: [procedure("DeleteNote")] } } }),
    ).rejects.toThrow(/makes "mcp.sample.v1.NoteService\/DeleteNote" public, but it is mutating/);
  });
});
