// Shared test setup: real backends (Node https/http servers), the real mcproxy-registry process with
// a config file, the Connect client over its Unix socket, and real openssl s_client / curl runs.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { type Agent, createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, curl, freePort, startApp } from "@mcp/mcdsl/testing";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";

export const MAIN = new URL("../dist/main.js", import.meta.url).pathname;
const run = promisify(execFile);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const echo =
  (name: string): Handler =>
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          backend: name,
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodyBytes: body.length,
        }),
      );
    });
  };

export interface Backend {
  server: HttpServer;
  port: number;
  address: string;
  close(): Promise<void>;
}

async function listening(server: HttpServer): Promise<Backend> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An HTTPS backend for L4 routes, answering with its name. */
export function startTlsBackend(name: string, certFile: string, keyFile: string, handler?: Handler) {
  return listening(
    createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler ?? echo(name)),
  );
}

/** A plain HTTP/1.1 backend for L7 routes, answering with its name, the request and its headers. */
export function startHttpBackend(name: string, handler?: Handler) {
  return listening(createHttpServer({ keepAliveTimeout: 30_000 }, handler ?? echo(name)));
}

export interface ProxyProcess {
  app: AppProcess;
  dir: string;
  socket: string;
  apiUrl: string;
  token: string;
  configFile: string;
  client: ReturnType<typeof createClient<typeof RouteService>>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface ProxyOptions {
  extraConfig?: string;
  bootstrap?: string;
  natsUrl?: string;
  certDir?: string;
}

/** Starts the built binary with a fresh config, database and token file under `dir`. */
export async function startProxy(dir: string, options: ProxyOptions = {}): Promise<ProxyProcess> {
  mkdirSync(dir, { recursive: true });
  const minted = mintToken("deployer", ["agent"]);
  appendTokenEntry(join(dir, "tokens.toml"), minted.entry);
  const apiPort = await freePort();
  const socket = join(dir, "admin.sock");
  const bootstrapFile = join(dir, "bootstrap.toml");
  if (options.bootstrap) writeFileSync(bootstrapFile, options.bootstrap);
  const configFile = join(dir, "mcproxy.toml");
  writeFileSync(
    configFile,
    `[server]\nlisten = "127.0.0.1:${apiPort}"\nsocket = "${socket}"\n` +
      `[auth]\ntokens_file = "${dir}/tokens.toml"\n[database]\npath = "${dir}/routes.db"\n` +
      `[proxy]\nbind = "127.0.0.1"\ncert_dir = "${options.certDir ?? join(dir, "certs")}"\nbootstrap_file = "${bootstrapFile}"\n` +
      `${options.extraConfig ?? ""}\n` +
      (options.natsUrl ? `[events]\nservers = ["${options.natsUrl}"]\nnode = "test-node"\n` : "") +
      `[log]\nlevel = "warn"\n`,
  );
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const proxy: ProxyProcess = {
    app: startApp(MAIN, ["--config", configFile]),
    dir,
    socket,
    apiUrl,
    token: minted.token,
    configFile,
    client: createClient(
      RouteService,
      createConnectTransport({
        baseUrl: "http://localhost",
        httpVersion: "1.1",
        nodeOptions: { socketPath: socket },
      }),
    ),
    async restart() {
      await proxy.app.stop();
      proxy.app = startApp(MAIN, ["--config", configFile]);
      await proxy.app.waitReady(`${apiUrl}/readyz`);
    },
    async stop() {
      await proxy.app.stop();
    },
    async metric(name, labels = {}) {
      const text = (await curl(`${apiUrl}/metrics`)).body;
      let sum = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          sum += Number(line.split(" ").at(-1));
      }
      return sum;
    },
  };
  await proxy.app.waitReady(`${apiUrl}/readyz`);
  return proxy;
}

export interface HttpsOptions {
  /** The root to trust (or the agent's). */
  ca?: Buffer;
  /** Keeps connections between requests; by default each request has a TLS connection of its own. */
  agent?: Agent;
  method?: string;
  path?: string;
  body?: string;
  timeoutMs?: number;
  /** The Host field, when it is not the SNI name. */
  host?: string;
}

/**
 * One request from inside the test process to 127.0.0.1:`port` with SNI and Host `hostname`: its
 * status and body, or rejected on an error or after `timeoutMs` (default 5 s).
 */
export function httpsGet(
  port: number,
  hostname: string,
  { ca, agent, method = "GET", path = "/", body, timeoutMs = 5_000, host = hostname }: HttpsOptions = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        servername: hostname,
        path,
        method,
        headers: { host },
        ca,
        agent: agent ?? false,
      },
      (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** `curl --resolve host:port:127.0.0.1 https://host:port/path`, trusting only `caFile`. */
export function curlVia(port: number, hostname: string, caFile: string, path = "/", ...args: string[]) {
  return curl(
    "--cacert",
    caFile,
    "--resolve",
    `${hostname}:${port}:127.0.0.1`,
    ...args,
    `https://${hostname}:${port}${path}`,
  );
}

export interface SClientResult {
  code: number | null;
  out: string;
}

/** Runs `openssl s_client` with `input` on stdin and returns everything it printed. */
export async function sClient(
  port: number,
  args: string[],
  input = "",
  timeoutMs = 10_000,
): Promise<SClientResult> {
  const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
  });
  child.stderr.on("data", (c) => {
    out += c;
  });
  // s_client may exit before it reads its input (a refused handshake): the write then fails with
  // EPIPE, which is the case under test, not an error of the test.
  child.stdin.on("error", () => {});
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, out };
}

/** Waits until `check` resolves truthy (polling, no fixed sleeps in the assertions). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { freePort, run };
