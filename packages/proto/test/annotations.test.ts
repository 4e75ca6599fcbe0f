import { create, createFileRegistry, type DescService, setExtension } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  type MethodDescriptorProto,
  MethodOptionsSchema,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { http } from "../src/gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../src/gen/google/api/http_pb.js";
import { generatedServiceFiles } from "./generated.js";
import { httpRuleProblems, pathVariables, routesOf } from "./http-rules.js";

// DESIGN.md section 3: the services and RPCs the platform's apps and CLI rely on, with their kinds.
const designed: Record<string, Record<string, string>> = {
  "mcp.agent.v1.AgentService": {
    Deploy: "server_streaming",
    Plan: "unary",
    StopService: "unary",
    StartService: "unary",
    RestartService: "unary",
    ListServices: "unary",
    GetServiceStatus: "unary",
    SyncServices: "unary",
    AdoptContainers: "unary",
    PushFile: "client_streaming",
    PullFile: "server_streaming",
    WatchEvents: "server_streaming",
    GetNodeInfo: "unary",
  },
  "mcns.v1.RecordService": {
    ListZones: "unary",
    ListRecords: "unary",
    GetRecord: "unary",
    CreateRecord: "unary",
    UpdateRecord: "unary",
    DeleteRecord: "unary",
  },
  "mcproxy.v1.RouteService": {
    AddRoute: "unary",
    RemoveRoute: "unary",
    ListRoutes: "unary",
    GetRoute: "unary",
    SetBackend: "unary",
  },
  "certbroker.v1.CertService": {
    IssueCertificate: "unary",
    RenewCertificate: "unary",
    RevokeCertificate: "unary",
    ListCertificates: "unary",
    GetCertificate: "unary",
    GetTrustBundle: "unary",
  },
};

const serviceFiles = await generatedServiceFiles();
const services = [...serviceFiles.values()].flat();

describe("the generated services", () => {
  it("include every service and RPC of the design, with its streaming kind", () => {
    const found = Object.fromEntries(
      services.map((s) => [s.typeName, Object.fromEntries(s.methods.map((m) => [m.name, m.methodKind]))]),
    );
    for (const [service, rpcs] of Object.entries(designed)) {
      expect(found[service], `service ${service}`).toMatchObject(rpcs);
    }
  });

  it.each([...serviceFiles.entries()])(
    "%s: every http rule is complete and consistent",
    (_file, fileServices) => {
      expect(fileServices.flatMap(httpRuleProblems)).toEqual([]);
    },
  );

  it("give a REST route to every unary RPC of the design", () => {
    const unary = services.flatMap((s) => s.methods.filter((m) => m.methodKind === "unary"));
    const designedUnary = Object.values(designed).flatMap((rpcs) =>
      Object.values(rpcs).filter((kind) => kind === "unary"),
    );
    expect(unary.length).toBeGreaterThanOrEqual(designedUnary.length);
    for (const method of unary) expect(routesOf(method), method.name).not.toEqual([]);
  });
});

// A hand-built service with one defect per method proves the checks above can fail.
function brokenService(): DescService {
  const rule = (init: Parameters<typeof create<typeof HttpRuleSchema>>[1]) => {
    const options = create(MethodOptionsSchema);
    setExtension(options, http, create(HttpRuleSchema, init));
    return options;
  };
  const method = (name: string, options?: MethodDescriptorProto["options"], serverStreaming = false) => ({
    name,
    inputType: ".broken.v1.Thing",
    outputType: ".broken.v1.Thing",
    options,
    serverStreaming,
  });
  const field = (name: string, number: number, type: Type, typeName = "", label = Label.OPTIONAL) => ({
    name,
    number,
    type,
    typeName,
    label,
    jsonName: name,
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "broken/v1/broken.proto",
    package: "broken.v1",
    syntax: "proto3",
    messageType: [
      {
        name: "Thing",
        field: [
          field("id", 1, Type.STRING),
          field("inner", 2, Type.MESSAGE, ".broken.v1.Inner"),
          field("tags", 3, Type.STRING, "", Label.REPEATED),
        ],
      },
      { name: "Inner", field: [field("key", 1, Type.STRING)] },
    ],
    service: [
      {
        name: "BrokenService",
        method: [
          method("NoRule"),
          method("Good", rule({ pattern: { case: "get", value: "/v1/things/{inner.key}/x" } })),
          method("UnknownVar", rule({ pattern: { case: "get", value: "/v1/things/{nope}" } })),
          method("UnknownNested", rule({ pattern: { case: "get", value: "/v1/things/{inner.nope}/y" } })),
          method("RepeatedVar", rule({ pattern: { case: "get", value: "/v1/tags/{tags}" } })),
          method("BadBody", rule({ pattern: { case: "post", value: "/v1/things" }, body: "nope" })),
          method("GetWithBody", rule({ pattern: { case: "get", value: "/v1/a" }, body: "*" })),
          method("Duplicate", rule({ pattern: { case: "get", value: "/v1/things/{id}/x" } })),
          method("StreamWithRule", rule({ pattern: { case: "get", value: "/v1/s" } }), true),
        ],
      },
    ],
  });
  const service = createFileRegistry(file, () => undefined).getService("broken.v1.BrokenService");
  if (!service) throw new Error("broken.v1.BrokenService did not build");
  return service;
}

describe("httpRuleProblems", () => {
  it("reports each kind of defect, once, and nothing for a correct rule", () => {
    const problems = httpRuleProblems(brokenService());
    const prefix = "broken.v1.BrokenService/";
    expect(problems).toEqual([
      `${prefix}NoRule: unary RPC without a google.api.http rule`,
      `${prefix}UnknownVar: path variable {nope}: broken.v1.Thing has no field "nope"`,
      `${prefix}UnknownNested: path variable {inner.nope}: broken.v1.Inner has no field "nope"`,
      `${prefix}RepeatedVar: path variable {tags}: broken.v1.Thing.tags is a list, not a single value`,
      `${prefix}BadBody: body "nope" is not a top-level field of broken.v1.Thing`,
      `${prefix}GetWithBody: GET must not have a body`,
      `${prefix}Duplicate: GET /v1/things/{}/x is also the route of Good`,
      `${prefix}StreamWithRule: a server_streaming RPC must not have an http rule`,
    ]);
  });

  it("reads variable names out of templates with patterns and custom verbs", () => {
    expect(pathVariables("/v1/services/{service.name}:plan")).toEqual(["service.name"]);
    expect(pathVariables("/v1/{parent=zones/*}/records/{id}")).toEqual(["parent", "id"]);
    expect(pathVariables("/v1/records")).toEqual([]);
  });
});
