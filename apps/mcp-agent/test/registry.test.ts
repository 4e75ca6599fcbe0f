// The registry on a real SQLite file: definitions with their components and routes, leases,
// bindings, deploy history and the saga journal, surviving a reopen.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "../src/store/registry.js";
import { metacrypt } from "./helpers/definitions.js";

let dir: string;
let path: string;
let registry: Registry;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-registry-"));
  path = join(dir, "registry.db");
  registry = new Registry(path);
});

afterEach(() => {
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("registry", () => {
  it("stores a definition with its components and routes and gives it back equal after a reopen", () => {
    const definition = metacrypt();
    registry.services.put(definition);
    registry.close();
    registry = new Registry(path);

    const stored = registry.services.get("metacrypt");
    expect(stored?.definition).toEqual(definition);
    expect(stored).toMatchObject({ active: true, desiredState: "running", adopted: false });
    expect(
      registry.components.list("metacrypt").map((c) => [c.name, c.desiredState, c.observedState]),
    ).toEqual([
      ["api", "running", "unknown"],
      ["web", "running", "unknown"],
    ]);
    expect(
      registry.components.routes("metacrypt").map((r) => [r.component, r.name, r.portVariable, r.hostPort]),
    ).toEqual([
      ["api", "grpc", "PORT_GRPC", undefined],
      ["api", "https", "PORT_HTTPS", undefined],
      ["web", "web", "PORT", undefined],
    ]);
    expect(registry.components.routes("metacrypt", "web")[0]?.hostnames).toEqual([
      "metacrypt.svc.mcp.metacircular.net",
      "metacrypt.example.org",
    ]);
  });

  it("keeps a surviving component's container and route port when the definition changes, drops removed ones", () => {
    registry.services.put(metacrypt());
    registry.components.bindContainer("metacrypt", "api", {
      containerName: "metacrypt-api",
      containerId: "abc",
      deployId: "D1",
    });
    registry.components.setRouteHostPort("metacrypt", "api", "https", 10001, "D1");

    const changed = metacrypt("localhost/metacrypt:2");
    changed.components = changed.components.filter((c) => c.name === "api");
    registry.services.put(changed);

    const [api, ...rest] = registry.components.list("metacrypt");
    expect(rest).toEqual([]);
    expect(api).toMatchObject({
      image: "localhost/metacrypt:2",
      containerName: "metacrypt-api",
      containerId: "abc",
    });
    expect(registry.components.routes("metacrypt").find((r) => r.name === "https")?.hostPort).toBe(10001);
    expect(registry.components.byContainer("metacrypt-api")?.name).toBe("api");
  });

  it("records desired vs observed state, restarts and health", () => {
    registry.services.put(metacrypt());
    registry.components.observe("metacrypt", "web", { state: "stopped", exitCode: 137 });
    expect(registry.components.countRestart("metacrypt", "web")).toBe(1);
    registry.components.setHealth("metacrypt", "web", "unhealthy");
    registry.services.setDesiredState("metacrypt", "stopped");

    expect(registry.services.get("metacrypt")).toMatchObject({ active: false, desiredState: "stopped" });
    expect(registry.components.get("metacrypt", "web")).toMatchObject({
      desiredState: "stopped",
      observedState: "stopped",
      exitCode: 137,
      restartCount: 1,
      health: "unhealthy",
    });
  });

  it("holds the certificates, records and proxy routes a deploy made, by id", () => {
    const b = registry.bindings;
    b.putCertificate({
      service: "metacrypt",
      hostname: "metacrypt.svc.mcp.metacircular.net",
      serial: "3f9a",
      notAfter: new Date("2027-01-01T00:00:00Z"),
      certFile: "/srv/mcp-agent/certs/a.pem",
      keyFile: "/srv/mcp-agent/certs/a.key",
      caFile: "/srv/mcp-agent/certs/ca.pem",
      deployId: "D1",
    });
    b.putRecord({
      recordId: "R1",
      service: "metacrypt",
      name: "metacrypt.svc.mcp.metacircular.net",
      type: "A",
      value: "10.0.0.1",
      deployId: "D1",
    });
    b.putProxyRoute({
      routeId: "P1",
      service: "metacrypt",
      component: "web",
      route: "web",
      hostname: "metacrypt.example.org",
      listenerPort: 8443,
      mode: "l7",
      backend: "127.0.0.1:10002",
      deployId: "D1",
    });
    expect(b.certificates("metacrypt")[0]).toMatchObject({
      serial: "3f9a",
      notAfter: new Date("2027-01-01T00:00:00Z"),
    });
    expect(b.records("metacrypt").map((r) => r.recordId)).toEqual(["R1"]);
    expect(b.proxyRoutes("metacrypt")[0]).toMatchObject({
      routeId: "P1",
      backend: "127.0.0.1:10002",
      mode: "l7",
    });
    expect(b.removeRecord("R1")).toBe(true);
    expect(b.removeProxyRoute("P1")).toBe(true);
    expect(b.removeRecord("R1")).toBe(false);
    expect(b.records("metacrypt")).toEqual([]);
  });

  it("journals a saga's steps so a reopened registry sees the interrupted deploy and what it made", () => {
    const deploy = registry.journal.begin({ service: "metacrypt", definition: metacrypt() });
    const leased = registry.journal.stepStarted(deploy.id, "port.leased", { component: "api" });
    registry.journal.stepUpdated(leased, "done", { payload: { hostPort: 10001 } });
    const cert = registry.journal.stepStarted(deploy.id, "cert.ready", { payload: { hostname: "h" } });
    registry.close();
    registry = new Registry(path);

    const [interrupted, ...others] = registry.journal.inProgress();
    expect(others).toEqual([]);
    expect(interrupted).toMatchObject({
      id: deploy.id,
      service: "metacrypt",
      kind: "deploy",
      outcome: "in_progress",
    });
    expect(registry.journal.entries(deploy.id).map((e) => [e.step, e.component, e.state, e.payload])).toEqual(
      [
        ["port.leased", "api", "done", { hostPort: 10001 }],
        ["cert.ready", "", "started", { hostname: "h" }],
      ],
    );

    registry.journal.stepUpdated(cert, "failed", { error: "cert-broker refused the name" });
    registry.journal.finish(deploy.id, "rolled_back", "cert-broker refused the name");
    expect(registry.journal.inProgress()).toEqual([]);
    expect(registry.journal.history("metacrypt")[0]).toMatchObject({
      outcome: "rolled_back",
      error: "cert-broker refused the name",
    });
    expect(registry.journal.entry(cert)).toMatchObject({
      state: "failed",
      error: "cert-broker refused the name",
    });
  });

  it("refuses a second lease of one port and releases by deploy or service", () => {
    const owner = { service: "metacrypt", component: "api", route: "https", deployId: "D1" };
    expect(registry.leases.tryInsert(10001, owner)).toBe(true);
    expect(registry.leases.tryInsert(10001, { ...owner, service: "other" })).toBe(false);
    expect(registry.leases.tryInsert(10002, { ...owner, deployId: "D2" })).toBe(true);
    expect(registry.leases.get(10001)?.service).toBe("metacrypt");
    expect(registry.leases.releaseDeploy("D1")).toBe(1);
    expect(registry.leases.list().map((l) => l.hostPort)).toEqual([10002]);
    expect(registry.leases.releaseService("metacrypt")).toBe(1);
    expect(registry.leases.count()).toBe(0);
  });
});
