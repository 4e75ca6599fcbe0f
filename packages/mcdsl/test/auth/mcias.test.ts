import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NoteService } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMciasAuthenticator } from "../../src/auth/index.js";
import { notesPolicy, startNotesServer } from "../server/fixtures/harness.js";
import { curl } from "../server/fixtures/tools.js";
import { type MciasStandIn, startMciasStandIn } from "./fixtures/mcias-standin.js";

let mcias: MciasStandIn;
beforeAll(async () => {
  mcias = await startMciasStandIn();
});
afterAll(() => mcias.close());
beforeEach(() => {
  mcias.mode = "normal";
  mcias.users.clear();
  mcias.users.set("tok-kyle", { username: "kyle", roles: ["admin"] });
});

async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("mcias authenticator against the stand-in", () => {
  it("resolves a valid token and caches the answer for the TTL", async () => {
    const auth = createMciasAuthenticator({ url: mcias.url, cacheTtlMs: 60_000 });
    const before = mcias.requests;
    expect(await auth.authenticate("tok-kyle")).toEqual({ name: "kyle", roles: ["admin"] });
    expect(await auth.authenticate("tok-kyle")).toEqual({ name: "kyle", roles: ["admin"] });
    expect(mcias.requests - before).toBe(1);
  });

  it("asks again once the cached answer expired", async () => {
    const auth = createMciasAuthenticator({ url: mcias.url, cacheTtlMs: 30 });
    const before = mcias.requests;
    await auth.authenticate("tok-kyle");
    await new Promise((r) => setTimeout(r, 40)); // let the 30 ms TTL pass
    mcias.users.set("tok-kyle", { username: "kyle", roles: [] }); // roles revoked meanwhile
    expect(await auth.authenticate("tok-kyle")).toEqual({ name: "kyle", roles: [] });
    expect(mcias.requests - before).toBe(2);
  });

  it("treats valid:false and 401 as unauthenticated, without caching them", async () => {
    const auth = createMciasAuthenticator({ url: mcias.url });
    const before = mcias.requests;
    expect(await auth.authenticate("tok-unknown")).toBeUndefined();
    expect(await auth.authenticate("tok-unknown")).toBeUndefined();
    expect(mcias.requests - before).toBe(2);
    mcias.mode = "status401";
    expect(await auth.authenticate("tok-kyle")).toBeUndefined();
  });

  it("reports an outage as Unavailable, never as a wrong token", async () => {
    const auth = createMciasAuthenticator({ url: mcias.url, timeoutMs: 200 });
    for (const mode of ["error500", "garbage", "hang"] as const) {
      mcias.mode = mode;
      const err = await auth.authenticate("tok-kyle").catch((e: unknown) => e);
      expect(err, mode).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, mode).toBe(Code.Unavailable);
      expect((err as ConnectError).message).toContain(`MCIAS at ${mcias.url}/v1/token/validate unavailable`);
    }
    // A stand-in that has stopped: nothing listens on its port any more.
    const gone = await startMciasStandIn();
    await gone.close();
    const down = createMciasAuthenticator({ url: gone.url });
    await expect(down.authenticate("tok-kyle")).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("guards a served API: identity from MCIAS, outage → Unavailable / 503", async () => {
    const s = await startNotesServer({
      auth: {
        authenticator: createMciasAuthenticator({ url: mcias.url, cacheTtlMs: 0 }),
        policy: notesPolicy,
      },
    });
    try {
      const client = createClient(
        NoteService,
        createConnectTransport({ baseUrl: s.server.url!, httpVersion: "1.1" }),
      );
      const { note } = await client.createNote(
        { text: "via mcias" },
        { headers: { authorization: "Bearer tok-kyle" } },
      );
      expect(note?.author).toBe("kyle");
      expect(
        await codeOf(client.createNote({ text: "x" }, { headers: { authorization: "Bearer tok-nobody" } })),
      ).toBe(Code.Unauthenticated);
      mcias.mode = "error500";
      expect(
        await codeOf(client.createNote({ text: "x" }, { headers: { authorization: "Bearer tok-kyle" } })),
      ).toBe(Code.Unavailable);
      const rest = await curl([
        "-H",
        "Authorization: Bearer tok-kyle",
        "-d",
        '{"text":"x"}',
        `${s.server.url}/v1/notes`,
      ]);
      expect(rest.status).toBe(503);
      expect(rest.json()).toMatchObject({ code: "unavailable" });
    } finally {
      await s.stop();
    }
  });
});
