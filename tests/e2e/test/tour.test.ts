// The README's tour on the real platform: `make up`'s flow (scripts/dev/up.sh: every process, the
// hello deploy, the checks), what `mcp status` and `mcp events` show, running it a second time, the
// stop flow, deploying again, and a redeploy to a new image under a steady HTTPS load through
// mc-proxy with zero failed requests.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad } from "./helpers/load.js";
import { HELLO_HOST, Platform, PROXY_PORT } from "./helpers/platform.js";
import { run, runOk } from "./helpers/run.js";

const V2_IMAGE = "localhost/mcp/hello:e2e-2";
let platform: Platform;
let scratch: string;

interface Status {
  service: {
    spec: { components: { image: string }[] };
    components: { containerName: string; containerId: string; observedState: string; health: string }[];
  };
  ports: { hostPort: number }[];
  certificates: { serial: string; certFile: string }[];
  routes?: unknown[];
  records?: unknown[];
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "mcp-e2e-tour-"));
  platform = await Platform.start("tour");
});

afterAll(async () => {
  await platform?.stop();
  await run("podman", ["rmi", "-f", V2_IMAGE]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Events of one subject filter as parsed envelopes, oldest first. */
async function events(filter: string) {
  const out = await platform.mcpOk("events", "--json", "--filter", filter);
  return out
    .split("\n")
    .filter(Boolean)
    .map(
      (line) => JSON.parse(line) as { type: string; subject: string; deployId?: string; source?: unknown },
    );
}

const status = () => platform.mcpJson<Status>("status", "hello");

describe("make up's flow (scripts/dev/up.sh)", () => {
  it("starts every process, deploys hello step by step and passes every check", () => {
    const out = platform.upResult.stdout;
    for (const name of ["nats", "mcns", "cert-broker", "mcproxy-registry", "mcp-agent"]) {
      expect(out).toContain(`up: started ${name}`);
    }
    for (const step of ["port.leased", "cert.ready", "container.started", "health.passed", "dns.published"]) {
      expect(out).toMatch(new RegExp(`${step.replace(".", "\\.")}\\s+done`));
    }
    expect(out).toMatch(/route\.added\s+done\s+hello\.svc\.mcp\.metacircular\.net:8443 \(l7\)/);
    expect(out).toMatch(/completed\s+done\s+hello deployed/);
    const checks = out.split("\n").filter((line) => /^ {2}(ok|FAIL) /.test(line));
    expect(checks).toHaveLength(5);
    expect(checks.every((line) => line.startsWith("  ok "))).toBe(true);
    expect(out).toContain("Stop it with: make down");
  });

  it("dig answers the name and curl gets the page through mc-proxy, verified against the root CA", async () => {
    expect(await platform.dig(HELLO_HOST)).toEqual({ status: "NOERROR", answers: ["127.0.0.1"] });
    const page = await platform.https(HELLO_HOST, PROXY_PORT);
    expect(page.stderr).toBe("");
    expect(page.stdout).toContain("hello from MCP");
    // The same through a client that does not know the root: refused.
    const untrusted = await run("curl", [
      "-sS",
      "--resolve",
      `${HELLO_HOST}:8443:127.0.0.1`,
      `https://${HELLO_HOST}:8443/`,
    ]);
    expect(untrusted.code).toBe(60);
  });

  it("mcp status shows hello running and healthy, with its port, route, record and certificate", async () => {
    const table = await platform.mcpOk("status");
    expect(table).toMatch(/^hello\s+web\s+running\s+running\s+healthy\s+1\s+-$/m);
    const detail = await platform.mcpOk("status", "hello");
    expect(detail).toContain("hello: active; last deploy completed");
    expect(detail).toMatch(/hello\.svc\.mcp\.metacircular\.net\s+8443\s+l7\s+127\.0\.0\.1:\d+/);
    expect(detail).toMatch(/hello\.svc\.mcp\.metacircular\.net\s+A\s+127\.0\.0\.1/);
    expect(detail).toContain("drift: none");
    const ps = await platform.mcpOk("ps");
    expect(ps).toMatch(/^hello\s+web\s+hello-web\s+\w{12}\s+localhost\/mcp\/hello:1\s+running/m);
  });

  it("mcp events shows the deploy's timeline, and each app's own events", async () => {
    const deploy = await events("mcp.deploy.hello.>");
    expect(deploy.map((e) => e.type.replace("mcp.deploy.hello.", ""))).toEqual([
      "started",
      "port.leased",
      "cert.ready",
      "container.started",
      "health.passed",
      "dns.published",
      "route.added",
      "completed",
    ]);
    expect(new Set(deploy.map((e) => e.deployId)).size).toBe(1);
    // The apps publish their own facts: the certificate, the record, the route.
    expect((await events("mcp.cert.>")).map((e) => [e.type, e.subject])).toContainEqual([
      "mcp.cert.issued",
      HELLO_HOST,
    ]);
    expect((await events("mcp.dns.>")).map((e) => [e.type, e.subject])).toContainEqual([
      "mcp.dns.created",
      HELLO_HOST,
    ]);
    expect((await events("mcp.route.>")).map((e) => [e.type, e.subject])).toContainEqual([
      "mcp.route.added",
      HELLO_HOST,
    ]);
    // The table form README.md shows.
    const lines = await platform.mcpOk("events", "--filter", "mcp.deploy.hello.>");
    expect(lines).toMatch(
      /^#\d+ {2}\S+Z {2}mcp\.deploy\.hello\.completed {2}- {2}mcp-agent@local {2}deploy=\w+/m,
    );
  });

  it("up.sh a second time leaves everything as it was", async () => {
    const before = await status();
    const again = await platform.up();
    expect(again.stdout).toContain("up: mcp-agent already running");
    expect(again.stdout).toContain("deploying hello: no container changes");
    // All five again. The last one pipes `mcp events` into `grep -q` under pipefail: grep exits at
    // the first match and mcp's next write gets EPIPE, which mcp treats as the end of its output.
    const checks = again.stdout.split("\n").filter((line) => /^ {2}(ok|FAIL) /.test(line));
    expect(checks).toHaveLength(5);
    expect(
      checks.every((line) => line.startsWith("  ok ")),
      again.stdout,
    ).toBe(true);
    expect(await platform.mcpOk("events", "--filter", "mcp.deploy.hello.>")).toMatch(
      /mcp\.deploy\.hello\.completed/,
    );
    const after = await status();
    expect(after.service.components[0]?.containerId).toBe(before.service.components[0]?.containerId);
    expect(after.ports.map((p) => p.hostPort)).toEqual(before.ports.map((p) => p.hostPort));
  });
});

describe("the stop flow: mcp stop hello", () => {
  let before: Status;

  beforeAll(async () => {
    before = await status();
    const out = await platform.mcpOk("stop", "hello");
    expect(out).toContain("stopped hello");
  });

  it("removes the container", async () => {
    expect(await platform.ourContainers()).toEqual([]);
    const gone = await run("podman", [
      "container",
      "exists",
      before.service.components[0]?.containerId ?? "?",
    ]);
    expect(gone.code).toBe(1);
  });

  it("removes the record: dig says NXDOMAIN", async () => {
    expect(await platform.dig(HELLO_HOST)).toEqual({ status: "NXDOMAIN", answers: [] });
    expect(await platform.mcpOk("dns", "list", "svc.mcp.metacircular.net")).not.toContain(HELLO_HOST);
  });

  it("removes the route: mc-proxy no longer answers for hello", async () => {
    const routes = await platform.mcpJson<{ routes?: { hostname: string }[] }>("route", "list");
    expect((routes.routes ?? []).map((r) => r.hostname)).not.toContain(HELLO_HOST);
    expect((await platform.https(HELLO_HOST, PROXY_PORT)).code).not.toBe(0);
  });

  it("releases the leased ports", async () => {
    const after = await status();
    expect(after.ports ?? []).toEqual([]);
    for (const { hostPort } of before.ports) {
      // Nothing listens there any more: a bind succeeds.
      const bind = await run(process.execPath, [
        "-e",
        `require("net").createServer().listen(${hostPort}, "127.0.0.1", function () { this.close(); })`,
      ]);
      expect(bind.code).toBe(0);
    }
    expect(await platform.mcpOk("status")).toMatch(/^hello\s+web\s+stopped\s+missing/m);
  });

  it("keeps the certificate (files and the broker's record)", async () => {
    const serial = before.certificates[0]?.serial ?? "?";
    const certs = await platform.mcpOk("cert", "list", "--service", "hello");
    expect(certs).toMatch(
      new RegExp(`^${serial}\\s+hello\\s+${HELLO_HOST.replaceAll(".", "\\.")}\\s+valid`, "m"),
    );
    expect(readdirSync(join(platform.state, "certs"))).toEqual(
      expect.arrayContaining([`${HELLO_HOST}.pem`, `${HELLO_HOST}.key`, `${HELLO_HOST}.chain.pem`]),
    );
  });

  it("deploying again serves the page, with the same certificate", async () => {
    const out = await platform.mcpOk("deploy", "examples/services/hello.toml");
    expect(out).toMatch(/cert\.ready\s+skipped\s+valid certificate/);
    expect((await platform.https(HELLO_HOST, PROXY_PORT)).stdout).toContain("hello from MCP");
    expect(await platform.dig(HELLO_HOST)).toEqual({ status: "NOERROR", answers: ["127.0.0.1"] });
    expect((await status()).certificates[0]?.serial).toBe(before.certificates[0]?.serial);
  });
});

describe("a redeploy under load", () => {
  it("switches to a new image with zero failed requests, and serves the new version after", async () => {
    // hello:e2e-2: the same image with a page that says which version it is.
    const context = join(scratch, "hello-v2");
    await runOk("mkdir", ["-p", context]);
    writeFileSync(join(context, "index.html"), "<!doctype html><h1>hello from MCP, version 2</h1>\n");
    writeFileSync(
      join(context, "Containerfile"),
      "FROM localhost/mcp/hello:1\nCOPY index.html /www/index.html\n",
    );
    await runOk("podman", ["build", "-q", "--format", "docker", "-t", V2_IMAGE, context]);
    const definition = join(scratch, "hello.toml");
    const original = await runOk("cat", [join(platform.dir, "examples/services/hello.toml")]);
    writeFileSync(definition, original.replace('image = "localhost/mcp/hello:1"', `image = "${V2_IMAGE}"`));
    const old = (await status()).service.components[0];

    const load = startLoad({
      host: HELLO_HOST,
      port: PROXY_PORT,
      caFile: platform.rootCa,
      marker: (body) =>
        body.includes("version 2") ? "v2" : body.includes("hello from MCP") ? "v1" : "other",
    });
    await load.started;
    const deploy = await platform.mcp("deploy", definition);
    const deployed = Date.now();
    // Keep going a moment after the switch: the old backend drains, then the old container stops.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const result = await load.stop();

    expect(deploy.stderr).toBe("");
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toMatch(/route\.added\s+done\s+.*127\.0\.0\.1:\d+/);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    expect(result.seen[0]?.marker).toBe("v1");
    expect(result.seen.at(-1)?.marker).toBe("v2");
    expect(result.seen.filter((s) => s.at > deployed).map((s) => s.marker)).not.toContain("v1");

    const now = await status();
    expect(now.service.spec.components[0]?.image).toBe(V2_IMAGE);
    expect(now.service.components[0]?.containerName).toBe("hello-web");
    expect(now.service.components[0]?.containerId).not.toBe(old?.containerId);
    expect(await platform.ourContainers()).toHaveLength(1);
    expect((await platform.https(HELLO_HOST, PROXY_PORT)).stdout).toContain("version 2");
  });
});
