// `mcp deploy` and the lifecycle commands against the real agent running real podman containers,
// with the real mcns publishing the service's name and a real nats-server holding the events.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseServiceDefinition } from "@mcp/mcdsl/servicedef";
import { curl, ensureBusyboxImage, type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startAgent, startMcns } from "./platform.js";
import { runMcp } from "./run-mcp.js";

const run = promisify(execFile);
const IMAGE = ensureBusyboxImage("localhost/mcp-cli-test-busybox:1", "hello from the cli test\n");
const PREFIX = `clit-${Math.random().toString(36).slice(2, 7)}`;
const SERVICE = `${PREFIX}-hello`;
const DOMAIN = "svc.mcp.metacircular.net";
const NAME = `${SERVICE}.${DOMAIN}`;

const definition = (image = IMAGE) => `name = "${SERVICE}"
[[components]]
name = "web"
image = "${image}"
cmd = ["httpd", "-f", "-p", "$PORT", "-h", "/www"]
[components.health]
http = "/"
[[components.routes]]
name = "http"
port = 8443
`;

let nats: NatsServer;
let mcns: RunningApp;
let agent: RunningApp;
let home: string;
let env: NodeJS.ProcessEnv;
let file: string;

beforeAll(async () => {
  nats = await startNatsServer();
  mcns = await startMcns(nats.url, DOMAIN);
  agent = await startAgent({ natsUrl: nats.url, mcns, network: `${PREFIX}-net` });
  // One operator home for the whole file (tempHome's are removed after each test).
  home = mkdtempSync(join(tmpdir(), "mcp-cli-deploy-"));
  env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
  cliConfig(home, { agent, mcns }, `[nats]\naddress = "${nats.url}"\n`);
  const services = join(home, ".config", "mcp", "services");
  mkdirSync(services, { recursive: true });
  file = join(services, `${SERVICE}.toml`);
  writeFileSync(file, definition());
});

afterAll(async () => {
  const names = execFileSync("podman", ["ps", "-a", "--format", "{{.Names}}"], { encoding: "utf8" })
    .split("\n")
    .filter((n) => n.startsWith(PREFIX));
  if (names.length > 0) execFileSync("podman", ["rm", "-f", "-t", "0", ...names]);
  try {
    execFileSync("podman", ["network", "rm", "-f", `${PREFIX}-net`], { stdio: "ignore" });
  } catch {}
  await nats?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function dig(): Promise<string> {
  const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(mcns.ports.dns), "+short", NAME, "A"]);
  return stdout.trim();
}

describe("mcp deploy and the lifecycle", () => {
  it("plans, deploys with a line per step, and the service answers; status, ps, list and export show it", async () => {
    const plan = await runMcp(["deploy", "--plan", SERVICE], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^containers:\nACTION\s+COMPONENT/);
    expect(plan.stdout).toMatch(/\ncreate\s+web\s+http\s+new\s/);
    expect(plan.stdout).toContain(
      `plan for ${SERVICE}: a deploy would make the changes above (nothing was changed)`,
    );

    const deploy = await runMcp(["deploy", SERVICE], { env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const lines = deploy.stdout.trimEnd().split("\n");
    // Not a terminal: plain lines, each with the time since the start and the step's own time.
    const steps = lines
      .slice(0, -1)
      .map((l) => /^\s*\d+\.\d\ds\s+\+\d+\.\d\ds\s+(\S+)\s+(\S+)\s/.exec(l)?.slice(1, 3));
    expect(steps).toEqual([
      ["started", "done"],
      ["port.leased", "done"],
      ["cert.ready", "skipped"],
      ["container.started", "done"],
      ["health.passed", "done"],
      ["dns.published", "done"],
      ["route.added", "skipped"],
      ["completed", "done"],
    ]);
    const deployId = /^deployed \S+ \(deploy (\w+)\)$/.exec(lines.at(-1)!)?.[1];
    expect(deployId).toBeDefined();
    expect(await dig()).toBe("127.0.0.1");

    const status = await runMcp(["status", SERVICE], { env });
    expect(status.stdout).toMatch(new RegExp(`^${SERVICE}: active; last deploy completed `));
    expect(status.stdout).toMatch(/\nweb\s+running\s+running\s+healthy\s+1\s+0\s+\S+-web\n/);
    expect(status.stdout).toContain("drift: none");
    const port = Number(/\nHOST PORT\s+COMPONENT\s+ROUTE\n(\d+)\s+web\s+http/.exec(status.stdout)?.[1]);
    expect((await curl(`http://127.0.0.1:${port}/`)).body).toBe("hello from the cli test\n");

    expect((await runMcp(["ps"], { env })).stdout).toMatch(
      new RegExp(`\\n${SERVICE}\\s+web\\s+${SERVICE}-web\\s+[0-9a-f]{12}\\s+${IMAGE}\\s+running`),
    );
    expect((await runMcp(["list"], { env })).stdout).toMatch(
      new RegExp(`\\n${SERVICE}\\s+-\\s+yes\\s+1\\s+1\\s+completed`),
    );
    const exported = await runMcp(["service", "export", SERVICE], { env });
    expect(parseServiceDefinition(exported.stdout, "exported.toml")).toEqual(
      parseServiceDefinition(definition(), "x.toml"),
    );

    const events = await runMcp(["events", "--deploy", deployId!], { env });
    expect(
      events.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split("  ")[2]),
    ).toEqual(expect.arrayContaining([`mcp.deploy.${SERVICE}.started`, `mcp.deploy.${SERVICE}.completed`]));

    expect((await runMcp(["restart", SERVICE], { env })).stdout).toBe(`restarted ${SERVICE}: web running\n`);
  });

  it("a failing deploy exits 1 naming the step, rolls back, and the running version keeps serving", async () => {
    writeFileSync(file, definition("localhost/mcp-cli-test-busybox:missing"));
    const failed = await runMcp(["deploy", SERVICE], { env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/\s+failed\s+failed\s+/);
    expect(failed.stdout).toMatch(/\s+rolled_back\s+done\s+/);
    expect(failed.stderr).toMatch(
      new RegExp(`^mcp: deploy of ${SERVICE} failed: .*container\\.started.*missing`),
    );
    expect(failed.stderr.split("\n")).toHaveLength(2);
    expect((await runMcp(["status", SERVICE], { env })).stdout).toMatch(
      /\nweb\s+running\s+running\s+healthy\s+1\s/,
    );
    expect(await dig()).toBe("127.0.0.1");
  });

  it("stop removes the container and the record; start brings it back", async () => {
    writeFileSync(file, definition());
    expect((await runMcp(["stop", SERVICE], { env })).stdout).toBe(`stopped ${SERVICE}: web missing\n`);
    expect(await dig()).toBe("");
    expect((await runMcp(["ps"], { env })).stdout).toMatch(
      new RegExp(`\\n${SERVICE}\\s+web\\s+-\\s+-\\s+${IMAGE}\\s+missing`),
    );
    const started = await runMcp(["start", SERVICE], { env });
    expect(started.stdout).toMatch(new RegExp(`^started ${SERVICE} \\(deploy \\w+\\): web running\\n$`));
    expect(await dig()).toBe("127.0.0.1");
    expect((await runMcp(["stop", SERVICE], { env })).code).toBe(0);
  });
});
