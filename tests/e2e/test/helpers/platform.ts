// The real platform for one test file: scripts/dev/up.sh run from a private view of the repository
// (helpers/view.ts) with MCP_DEV_STATE in a temporary folder and its own ports, so it never touches
// a developer's `.mcp-dev/`; scripts/dev/down.sh with the same state at the end, whatever happened.

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { freePort } from "@mcp/mcdsl/testing";
import { type RunResult, run, runOk, waitFor } from "./run.js";
import { makeRepoView, type RepoView } from "./view.js";

export const HELLO_HOST = "hello.svc.mcp.metacircular.net";
/** hello's route port (examples/services/hello.toml), mc-proxy's listener: fixed, see checkProxyPort. */
export const PROXY_PORT = 8443;

/** The platform's own ports (scripts/dev/lib.sh's MCP_DEV_*_PORT variables). */
export interface Ports {
  nats: number;
  mcns: number;
  dns: number;
  certbroker: number;
  mcproxy: number;
  agent: number;
  /** mc-proxy's plain-HTTP port (http_redirect_port). */
  http: number;
}

/** lib.sh's defaults: what README.md and docs/ name, so the docs test runs on them. */
export const DEFAULT_PORTS: Ports = {
  nats: 14222,
  mcns: 18053,
  dns: 15353,
  certbroker: 19443,
  mcproxy: 19093,
  agent: 19444,
  http: 18080,
};

/** The apps as up.sh starts them: pid file name, readiness URL, command line (relative to the view). */
type AppName = "nats" | "mcns" | "cert-broker" | "mcproxy-registry" | "mcp-agent";

/** The SQLite database of each app, under the state folder (scripts/dev/configs.sh). */
export const DATABASES = {
  mcns: "mcns/mcns.db",
  "cert-broker": "cert-broker/cert-broker.db",
  "mcproxy-registry": "mcproxy/routes.db",
  "mcp-agent": "agent/registry.db",
} as const;

/** Services the suite deploys: their containers are removed at the end if anything is left. */
const OUR_SERVICES = new Set(["hello", "mcns", "cert-broker", "mcproxy-registry"]);

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * up.sh deploys examples/services/hello.toml, whose route listens on mc-proxy port 8443 (fixed in
 * the definition, not a lib.sh variable): a platform already up on this machine (`make up`) holds
 * it. Say so plainly instead of failing halfway through a deploy.
 */
async function checkPortsFree(ports: number[]): Promise<void> {
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  if (busy.length > 0) {
    throw new Error(
      `127.0.0.1 port(s) ${busy.join(", ")} are in use. The end-to-end suite deploys ` +
        `examples/services/hello.toml (mc-proxy port ${PROXY_PORT}) and the docs test uses the local ` +
        "platform's default ports: stop a running `make up` first (`make down`).",
    );
  }
}

export class Platform {
  /** What the first up.sh printed (its deploy progress and checks) and its exit code. */
  upResult!: RunResult;
  private containersBefore = new Set<string>();

  private constructor(
    readonly view: RepoView,
    readonly ports: Ports,
  ) {}

  /** A view and state folder for a platform that is not started yet (the docs test's `make up` starts it). */
  static async prepare(name: string, options: { defaultPorts?: boolean } = {}): Promise<Platform> {
    const ports = options.defaultPorts ? DEFAULT_PORTS : await freePorts();
    await checkPortsFree(options.defaultPorts ? [PROXY_PORT, ...Object.values(ports)] : [PROXY_PORT]);
    const platform = new Platform(makeRepoView(name), ports);
    platform.containersBefore = new Set((await platform.ourContainers()).map((c) => c.id));
    return platform;
  }

  /** Brings the platform up with up.sh; on failure tears down what started and throws up.sh's output. */
  static async start(name: string, options: { defaultPorts?: boolean } = {}): Promise<Platform> {
    const platform = await Platform.prepare(name, options);
    platform.upResult = await platform.up();
    if (platform.upResult.code !== 0) {
      const { stdout, stderr } = platform.upResult;
      const logs = await platform.logTails();
      await platform.stop();
      throw new Error(`scripts/dev/up.sh failed:\n${stdout}\n${stderr}\n${logs}`);
    }
    return platform;
  }

  get dir(): string {
    return this.view.dir;
  }

  get state(): string {
    return this.view.state;
  }

  /** The local root CA the platform's certificates chain to. */
  get rootCa(): string {
    return join(this.state, "cert-broker/ca/root.pem");
  }

  /** The environment of every command: the state folder, the ports, a home of its own. */
  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // A developer's MCP_AGENT_ADDRESS and the like would point the CLI elsewhere.
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("MCP_")) env[key] = value;
    return {
      ...env,
      // The node running the suite (Node 24) first, as the Makefile puts .tools/node/bin first.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      HOME: this.view.home,
      XDG_CONFIG_HOME: join(this.view.home, ".config"),
      MCP_DEV_STATE: this.state,
      MCP_DEV_NATS_PORT: String(this.ports.nats),
      MCP_DEV_MCNS_PORT: String(this.ports.mcns),
      MCP_DEV_DNS_PORT: String(this.ports.dns),
      MCP_DEV_CERTBROKER_PORT: String(this.ports.certbroker),
      MCP_DEV_MCPROXY_PORT: String(this.ports.mcproxy),
      MCP_DEV_AGENT_PORT: String(this.ports.agent),
      MCP_DEV_HTTP_PORT: String(this.ports.http),
    };
  }

  /** scripts/dev/up.sh (again: it leaves what runs alone and redeploys hello, which changes nothing). */
  up(): Promise<RunResult> {
    return run(join(this.dir, "scripts/dev/up.sh"), [], { cwd: this.dir, env: this.env });
  }

  /** The real `mcp` command, run from the view (it finds `.mcp-dev/endpoints.json` there). */
  mcp(...args: string[]): Promise<RunResult> {
    return this.mcpEnv({}, ...args);
  }

  /** `mcp` with extra environment, e.g. MCP_MCPROXY_ADDRESS for another mc-proxy. */
  mcpEnv(extra: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
    return run(process.execPath, [join(this.dir, "apps/cli/dist/main.js"), ...args], {
      cwd: this.dir,
      env: { ...this.env, ...extra },
    });
  }

  async mcpOk(...args: string[]): Promise<string> {
    const result = await this.mcp(...args);
    if (result.code !== 0) {
      throw new Error(`mcp ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return result.stdout;
  }

  /** `mcp --json …` parsed. */
  async mcpJson<T>(...args: string[]): Promise<T> {
    return JSON.parse(await this.mcpOk("--json", ...args)) as T;
  }

  /** A bash script run in the view with the platform's environment. */
  sh(script: string): Promise<RunResult> {
    return run("bash", ["-c", script], { cwd: this.dir, env: this.env });
  }

  /** `dig` against MCNS: the status (NOERROR, NXDOMAIN) and the answers' values. */
  async dig(name: string, type = "A"): Promise<{ status: string; answers: string[] }> {
    const out = await runOk("dig", [`@127.0.0.1`, "-p", String(this.ports.dns), "+time=3", name, type]);
    const status = /status: (\w+)/.exec(out)?.[1] ?? "?";
    const short = await runOk("dig", [`@127.0.0.1`, "-p", String(this.ports.dns), "+short", name, type]);
    return { status, answers: short.split("\n").filter(Boolean) };
  }

  /** `curl` through mc-proxy (SNI `host`, connected to 127.0.0.1:port), verified against the root CA. */
  https(host: string, port: number, path = "/"): Promise<RunResult> {
    return run("curl", [
      "-sS",
      "-m",
      "10",
      "--fail-with-body",
      "--cacert",
      this.rootCa,
      "--resolve",
      `${host}:${port}:127.0.0.1`,
      `https://${host}:${port}${path}`,
    ]);
  }

  /** Stops one app as an operator stops a unit (SIGTERM, wait), leaving the others up. */
  async stopApp(name: AppName): Promise<void> {
    const pid = Number(readFileSync(join(this.state, "run", `${name}.pid`), "utf8"));
    process.kill(pid, "SIGTERM");
    await waitFor(
      async () => (alive(pid) ? undefined : true),
      () => `${name} (pid ${pid}) did not stop`,
    );
  }

  /** Starts one app again with the command line and files up.sh uses, and waits until it is ready. */
  async startApp(name: AppName): Promise<void> {
    const { command, args, ready } = this.appCommand(name);
    const log = openSync(join(this.state, "logs", `${name}.log`), "a");
    const child = spawn(command, args, {
      cwd: this.dir,
      env: this.env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    child.unref();
    writeFileSync(join(this.state, "run", `${name}.pid`), `${child.pid}\n`);
    await waitFor(
      async () => ((await run("curl", ["-sf", "-m", "2", ready])).code === 0 ? true : undefined),
      async () => `${name} did not become ready:\n${await this.logTails([name])}`,
    );
  }

  private appCommand(name: AppName): { command: string; args: string[]; ready: string } {
    const node = process.execPath;
    const config = (file: string) => ["--config", join(this.state, file)];
    switch (name) {
      case "nats":
        throw new Error("the suite never restarts nats-server on its own");
      case "mcns":
        return {
          command: node,
          args: ["--max-semi-space-size=8", "apps/mcns/dist/main.js", ...config("mcns/mcns.toml")],
          ready: `http://127.0.0.1:${this.ports.mcns}/readyz`,
        };
      case "cert-broker":
        return {
          command: node,
          args: ["apps/cert-broker/dist/main.js", ...config("cert-broker/cert-broker.toml")],
          ready: `http://127.0.0.1:${this.ports.certbroker}/readyz`,
        };
      case "mcproxy-registry":
        return {
          command: node,
          args: [
            "--max-semi-space-size=8",
            "--single-threaded-gc",
            "apps/mcproxy-registry/dist/main.js",
            ...config("mcproxy/mcproxy-registry.toml"),
          ],
          ready: `http://127.0.0.1:${this.ports.mcproxy}/readyz`,
        };
      case "mcp-agent":
        return {
          command: node,
          args: ["apps/mcp-agent/dist/main.js", ...config("agent/mcp-agent.toml")],
          ready: `http://127.0.0.1:${this.ports.agent}/readyz`,
        };
    }
  }

  /** The last lines of each app's log, for failure messages. */
  async logTails(names: string[] = ["nats", "mcns", "cert-broker", "mcproxy-registry", "mcp-agent"]) {
    const parts: string[] = [];
    for (const name of names) {
      const file = join(this.state, "logs", `${name}.log`);
      const tail = await run("tail", ["-n", "15", file]);
      parts.push(`--- ${file}\n${tail.stdout}`);
    }
    return parts.join("\n");
  }

  /** Containers of the services this suite deploys (podman labels set by the agent). */
  async ourContainers(): Promise<{ id: string; name: string; service: string }[]> {
    const out = await runOk("podman", ["ps", "-a", "--filter", "label=mcp.managed=true", "--format", "json"]);
    const list = JSON.parse(out || "[]") as { Id: string; Names: string[]; Labels: Record<string, string> }[];
    return list
      .filter((c) => OUR_SERVICES.has(c.Labels["mcp.service"] ?? ""))
      .map((c) => ({ id: c.Id, name: c.Names[0] ?? "", service: c.Labels["mcp.service"] ?? "" }));
  }

  /**
   * down.sh with the same state (it stops hello through the agent, then every process), then any
   * container of ours the agent left (a test that failed halfway), then the view.
   */
  async stop(): Promise<void> {
    const down = await run(join(this.dir, "scripts/dev/down.sh"), [], { cwd: this.dir, env: this.env });
    const left = (await this.ourContainers()).filter((c) => !this.containersBefore.has(c.id));
    if (left.length > 0) await run("podman", ["rm", "-f", "-t", "0", ...left.map((c) => c.id)]);
    this.view.remove();
    if (down.code !== 0)
      throw new Error(`scripts/dev/down.sh exited ${down.code}:\n${down.stdout}\n${down.stderr}`);
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie (parent gone, not yet reaped) counts as stopped, as in scripts/dev/lib.sh.
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function freePorts(): Promise<Ports> {
  const ports = new Set<number>();
  while (ports.size < 7) ports.add(await freePort());
  const [nats, mcns, dns, certbroker, mcproxy, agent, http] = [...ports] as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { nats, mcns, dns, certbroker, mcproxy, agent, http };
}
