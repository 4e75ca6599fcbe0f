// Hostile definitions sent to a real agent (the whole platform runs: test/helpers/platform.ts):
// each one that would have reached podman as something else than the operator meant (a host
// path, an env-file line, a transport, a probe's request line) is refused as InvalidArgument
// naming the field, over gRPC, the Connect protocol's JSON and REST alike, and changes nothing
// on the node: no container, lease, route, record, deploy, event or registry entry.
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { type ComponentSpec, type ServiceSpec, ServiceSpecSchema } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import { describe, expect, it } from "vitest";
import { expectUntouched, goodService, usePlatform } from "./helpers/deploy-abuse.js";

let adminToken: string;
// A second admin token, for the JSON and REST clients made here (the agent reads tokens at start).
const fx = usePlatform(async (platform) => {
  const admin = mintToken("abuser", ["admin"]);
  appendTokenEntry(join(platform.dir, "agent-tokens.toml"), admin.entry);
  adminToken = admin.token;
  await platform.restartAgent();
});

/** The good definition of a new service, as the request's message, with its component spoilt. */
function spoilt(suffix: string, spoil: (component: ComponentSpec) => void) {
  const name = fx.named(suffix);
  const spec = toServiceSpec(goodService(name, fx.proxyPort));
  spoil(spec.components[0]!);
  return { name, spec };
}

/** A Deploy's streamed steps and the error it ended with. */
async function deployRaw(client: Client<typeof AgentService>, spec: ServiceSpec) {
  const steps: string[] = [];
  try {
    for await (const r of client.deploy({ service: spec })) steps.push(String(r.step));
  } catch (err) {
    return { steps, error: ConnectError.from(err) };
  }
  return { steps, error: undefined };
}

/** A HealthSpec message as the CLI sends `[components.health]` with these lines. */
const healthOf = (lines: string) =>
  toServiceSpec(goodService("x", 1, `[components.health]\n${lines}`)).components[0]!.health;

const registryDir = () => dirname(join(fx.platform.dir, "agent", "registry.db"));

describe("Deploy refuses a definition podman would misread, before any step", () => {
  const cases: [string, (c: ComponentSpec) => void, string][] = [
    ["root", (c) => c.volumes.push("/:/host"), "volumes[0]: the host's root directory cannot be mounted"],
    [
      "dotdot",
      (c) => c.volumes.push("/srv/x/../../etc:/e"),
      'volumes[0]: the host path must be written plainly (no ".", ".." or "//"): "/etc"',
    ],
    [
      "socket",
      (c) => c.volumes.push("/run/podman/podman.sock:/run/podman.sock"),
      "volumes[0]: /run/podman (podman's API socket) cannot be mounted",
    ],
    ["envlf", (c) => (c.env.GREETING = "hi\nEVIL=1"), "env] GREETING: the value contains a line feed"],
    ["envnul", (c) => (c.env.GREETING = "hi\u0000"), "env] GREETING: the value contains a NUL"],
    [
      "envbig",
      (c) => (c.env.BLOB = "x".repeat(70_000)),
      "env] BLOB: BLOB=… is 70005 bytes; podman reads at most 65535 per variable",
    ],
    ["cmdnul", (c) => c.cmd.splice(1, 0, "-v\u0000"), "cmd[1]: a command argument cannot contain a NUL"],
    ["transport", (c) => (c.image = "docker-archive:x"), 'image: "docker-archive:" is a podman transport'],
    [
      "probe",
      (c) => {
        c.health = healthOf('http = "/"');
        if (c.health?.probe.case === "http") c.health.probe.value.path = "/a b";
      },
      'health] http: expected an HTTP path starting with "/", got "/a b"',
    ],
    [
      "deadline",
      (c) => {
        c.health = healthOf('deadline = "10m"'); // the most a file may say; the request says 24h
        c.health!.deadline!.seconds = 86_400n;
      },
      "health] deadline: at most 10m: a deploy holds the service until its health gate ends",
    ],
  ];

  it.each(cases)("%s", async (suffix, spoil, reason) => {
    const { name, spec } = spoilt(suffix, spoil);
    await expectRefused(name, spec, [`service ${name}: [components[0]`, reason]);
  });

  it("a volume reaching the agent's own registry: its directory, a file in it, a directory holding it", async () => {
    for (const [suffix, source] of [
      ["state", registryDir()],
      ["db", join(registryDir(), "registry.db")],
      ["parent", fx.platform.dir],
    ] as const) {
      const { name, spec } = spoilt(suffix, (c) => c.volumes.push(`${source}:/x:ro`));
      const reason = `service ${name}: [components[0]] volumes[0]: ${source}: the agent's own state (${registryDir()}: its registry) cannot be mounted`;
      await expectRefused(name, spec, [reason]);
      // Plan (read-only) says the same.
      await expect(fx.platform.client.plan({ service: spec })).rejects.toThrow(reason);
    }
  });

  it("a volume whose source is a symlink (planted by a service in its own directory) to /etc or the registry", async () => {
    const app = join(fx.platform.dir, "srv", "app");
    mkdirSync(app, { recursive: true });
    symlinkSync("/etc", join(app, "cfg"));
    symlinkSync(registryDir(), join(app, "state"));
    const etc = spoilt("link-etc", (c) => c.volumes.push(`${app}/cfg:/cfg:U`));
    await expectRefused(etc.name, etc.spec, [
      `volumes[0]: ${app}/cfg leads to /etc on this node: /etc cannot be mounted as a whole`,
    ]);
    const state = spoilt("link-state", (c) => c.volumes.push(`${app}/state/registry.db:/db`));
    await expectRefused(state.name, state.spec, [
      `volumes[0]: ${app}/state/registry.db leads to ${registryDir()}/registry.db on this node: the agent's own state`,
    ]);
  });
});

/** A Deploy refused as InvalidArgument saying each of `reasons`, before any step, leaving nothing. */
async function expectRefused(
  name: string,
  spec: ServiceSpec,
  reasons: string[],
  client = fx.platform.client,
): Promise<void> {
  const { steps, error } = await deployRaw(client, spec);
  expect(steps).toEqual([]);
  expect(error?.code).toBe(Code.InvalidArgument);
  for (const reason of reasons) expect(error?.message).toContain(reason);
  await expectUntouched(fx.platform, name);
}

describe("sizes a deploy would run all at once", () => {
  it("65 components (65 podman runs at once) are refused before any step, quickly", async () => {
    const { name, spec } = spoilt("many", () => {});
    const [web] = spec.components;
    spec.components = Array.from({ length: 65 }, (_, i) => ({ ...web!, name: `c${i}`, routes: [] }));
    const started = Date.now();
    await expectRefused(name, spec, [
      `service ${name}: components: a service has at most 64 components (a deploy starts them together), got 65`,
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("the same over the Connect protocol's JSON and over REST", () => {
  it("Deploy in JSON over HTTP/1.1: InvalidArgument naming the field", async () => {
    const json = createClient(
      AgentService,
      createConnectTransport({
        baseUrl: fx.platform.agentUrl,
        httpVersion: "1.1",
        useBinaryFormat: false,
        interceptors: [bearerTokenInterceptor(adminToken)],
      }),
    );
    const { name, spec } = spoilt("json", (c) => c.volumes.push("/etc:/host-etc:U"));
    const reason =
      "[components[0]] volumes[0]: /etc cannot be mounted as a whole: mount the service's own directory under it";
    await expectRefused(name, spec, [reason], json);
  });

  it("POST /v1/services/{name}:plan: HTTP 400, invalid_argument naming the field", async () => {
    const { name, spec } = spoilt("rest", (c) => (c.env.PEM = "-----BEGIN\r\nabc"));
    const res = await fetch(`${fx.platform.agentUrl}/v1/services/${name}:plan`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ service: toJson(ServiceSpecSchema, spec) }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toContain("[components[0].env] PEM: the value contains a carriage return");
    await expectUntouched(fx.platform, name);
  });
});
