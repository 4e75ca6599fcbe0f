import { Writable } from "node:stream";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { UpdateNoteRequestSchema } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/index.js";
import { type Server, serve } from "../../src/server/index.js";
import { BadRequestError, buildRequest } from "../../src/server/rest/request.js";
import { compileTemplate, matchTemplate } from "../../src/server/rest/template.js";
import { curl } from "./fixtures/tools.js";

describe("path templates", () => {
  it("captures nested field paths and decodes percent-encoding", () => {
    const t = compileTemplate("/v1/notes/{note.id}");
    expect(t.variables).toEqual(["note.id"]);
    expect(matchTemplate(t, "/v1/notes/a%20b")).toEqual(new Map([["note.id", "a b"]]));
    expect(matchTemplate(t, "/v1/notes/a/b")).toBeUndefined();
    expect(matchTemplate(t, "/v1/notes/")).toBeUndefined();
  });

  it("matches custom verbs only with the verb", () => {
    const stop = compileTemplate("/v1/services/{name}:stop");
    expect(stop.verb).toBe("stop");
    expect(matchTemplate(stop, "/v1/services/web:stop")?.get("name")).toBe("web");
    expect(matchTemplate(stop, "/v1/services/web")).toBeUndefined();
    expect(matchTemplate(stop, "/v1/services/web:start")).toBeUndefined();
    const sync = compileTemplate("/v1/services:sync");
    expect(matchTemplate(sync, "/v1/services:sync")).toEqual(new Map());
  });

  it("supports {name=segments/**} and * segments", () => {
    const t = compileTemplate("/v1/{name=shelves/*/books/**}");
    expect(matchTemplate(t, "/v1/shelves/1/books/a/b")?.get("name")).toBe("shelves/1/books/a/b");
    expect(matchTemplate(t, "/v1/shelves/1/magazines/a")).toBeUndefined();
    const star = compileTemplate("/v1/*/items/{id}");
    expect(matchTemplate(star, "/v1/anything/items/7")?.get("id")).toBe("7");
  });

  it("refuses malformed templates, naming them", () => {
    expect(() => compileTemplate("v1/notes")).toThrow(/"v1\/notes": it must start with "\/"/);
    expect(() => compileTemplate("/v1/{note-id}")).toThrow(/bad field path "note-id"/);
    expect(() => compileTemplate("/v1/{a={b}}")).toThrow(/nested variable/);
    expect(() => compileTemplate("/v1//x")).toThrow(/empty segment/);
  });
});

describe("buildRequest", () => {
  const parts = (query: string, pathVariables: [string, string][] = []) => ({
    pathVariables: new Map(pathVariables),
    query: new URLSearchParams(query),
    body: undefined,
    bodyField: "",
  });

  it("sets nested and repeated fields from query parameters, path variables winning", () => {
    const req = buildRequest(
      UpdateNoteRequestSchema,
      parts("note.text=hi&note.tags=a&note.tags=b&note.id=ignored&note.createTime=2026-01-02T03:04:05Z", [
        ["note.id", "n7"],
      ]),
    );
    expect(req.note).toMatchObject({ id: "n7", text: "hi", tags: ["a", "b"] });
    expect(req.note?.createTime?.seconds).toBe(BigInt(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000));
  });

  it("names the parameter that is wrong", () => {
    const bad = (query: string) => () => buildRequest(UpdateNoteRequestSchema, parts(query));
    expect(bad("note.colour=x")).toThrow(BadRequestError);
    expect(bad("note.colour=x")).toThrow(/query parameter "note.colour": .* has no field "note.colour"/);
    expect(bad("note.text=a&note.text=b")).toThrow(/given 2 times, but "text" is not repeated/);
    expect(bad("note=x")).toThrow(/field "note" is a message/);
    expect(bad("note.createTime=yesterday")).toThrow(/Timestamp/);
  });

  it("puts the body in its field and refuses query parameters for fields the body carries", () => {
    const req = buildRequest(UpdateNoteRequestSchema, {
      pathVariables: new Map([["note.id", "n1"]]),
      query: new URLSearchParams(),
      body: { text: "from body" },
      bodyField: "note",
    });
    expect(req.note).toMatchObject({ id: "n1", text: "from body" });
    expect(() =>
      buildRequest(UpdateNoteRequestSchema, {
        pathVariables: new Map(),
        query: new URLSearchParams("note.text=x"),
        body: {},
        bodyField: "note",
      }),
    ).toThrow(/comes from the request body/);
  });
});

describe("REST routes of a service with custom verbs (mcp.agent.v1.AgentService)", () => {
  let server: Server;
  const calls: { method: string; request: unknown }[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (_c, _e, done) => done() });
    server = await serve({
      listen: "127.0.0.1:0",
      logger: createLogger({ app: "agent-stub", destination: sink }),
      routes: (router) =>
        router.service(AgentService, {
          stopService: (req) => {
            calls.push({ method: "StopService", request: { name: req.name, components: req.components } });
            return {};
          },
          getServiceStatus: (req) => {
            calls.push({ method: "GetServiceStatus", request: { name: req.name } });
            return {};
          },
          syncServices: (req) => {
            calls.push({ method: "SyncServices", request: { prune: req.prune, count: req.services.length } });
            return {};
          },
          plan: (req) => {
            calls.push({ method: "Plan", request: { name: req.service?.name } });
            return { hasChanges: true };
          },
        }),
    });
  });
  afterAll(() => server.close());

  it("routes each verb to its RPC with the path variables filled in", async () => {
    const post = (path: string, body: string) =>
      curl(["-H", "Content-Type: application/json", "-d", body, `${server.url}${path}`]);
    expect((await post("/v1/services/web:stop", '{"components":["api"]}')).status).toBe(200);
    expect((await curl([`${server.url}/v1/services/web/status`])).status).toBe(200);
    expect((await post("/v1/services:sync", '{"prune":true,"services":[{"name":"a"}]}')).status).toBe(200);
    const plan = await post("/v1/services/web:plan", '{"service":{"name":"ignored"}}');
    expect(plan.json()).toMatchObject({ hasChanges: true });
    expect(calls).toEqual([
      { method: "StopService", request: { name: "web", components: ["api"] } },
      { method: "GetServiceStatus", request: { name: "web" } },
      { method: "SyncServices", request: { prune: true, count: 1 } },
      { method: "Plan", request: { name: "web" } },
    ]);
  });

  it("answers 501 for an annotated RPC the server does not implement, 404 for an unknown verb", async () => {
    const restart = await curl(["-d", "{}", `${server.url}/v1/services/web:restart`]);
    expect(restart.status).toBe(501);
    expect(restart.json()).toMatchObject({ code: "unimplemented" });
    const unknown = await curl(["-d", "{}", `${server.url}/v1/services/web:explode`]);
    expect(unknown.status).toBe(404);
  });

  it("gives streaming RPCs no REST route", async () => {
    const events = await curl([`${server.url}/v1/events`]);
    expect(events.status).toBe(404);
  });
});
