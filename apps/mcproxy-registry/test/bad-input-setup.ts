// Helpers for bad-input.test.ts: config files built key by key (so a test can break one key and
// find its line), short-lived starts that must fail, a port probe, and calls over REST and over
// Connect on the Unix socket (raw JSON for values the typed client cannot encode). The case
// tables are in bad-input-cases.ts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, type CurlResult, curl, freePort, startApp } from "@mcp/mcdsl/testing";
import { type Route, RouteSchema } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { expect } from "vitest";
import { MAIN, type ProxyProcess } from "./harness.js";

/** Keys to set in a config case: `"table.key"` → raw TOML value; `{dir}` is the case's folder. */
export type ConfigSet = Record<string, string>;

/**
 * Files in cert_dir that are no certificate: a FIFO (a read would wait for a writer), a directory
 * and a file too large for one (fifo.pem, dir.key, huge.pem).
 */
export function plantNonCertificates(certDir: string): void {
  execFileSync("mkfifo", [join(certDir, "fifo.pem")]);
  mkdirSync(join(certDir, "dir.key"));
  writeFileSync(join(certDir, "huge.pem"), Buffer.alloc(2 * 1024 * 1024, "A"));
}

export interface ConfigCase {
  dir: string;
  file: string;
  socket: string;
  apiUrl: string;
  /** The port of the one bootstrap route: opened as soon as the routes are served. */
  routePort: number;
  /** `file:line` of the first key set (of its table's header when the table is new). */
  at: string;
}

/** A token file shared by the config cases (mode 0600, as mcdsl requires). */
export function tokenFile(root: string): string {
  const file = join(root, "tokens.toml");
  if (!existsSync(file)) appendTokenEntry(file, mintToken("deployer", ["agent"]).entry);
  return file;
}

/**
 * Writes a valid config (API on a free port, one L4 bootstrap route on another, log level info so
 * "listener opened" shows) into `root/name/`, with `set` applied.
 */
export async function configCase(root: string, name: string, set: ConfigSet = {}): Promise<ConfigCase> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const [apiPort, routePort] = [await freePort(), await freePort()];
  const bootstrap = join(dir, "routes.toml");
  const route = `hostname = "boot.test"\nbackend = "127.0.0.1:9"`;
  writeFileSync(bootstrap, `[[listeners]]\naddr = ":${routePort}"\n[[listeners.routes]]\n${route}\n`);
  const q = (s: string) => JSON.stringify(s);
  const tables: Record<string, Record<string, string>> = {
    server: { listen: q(`127.0.0.1:${apiPort}`), socket: q(join(dir, "admin.sock")) },
    auth: { tokens_file: q(tokenFile(root)) },
    database: { path: q(join(dir, "routes.db")) },
    proxy: { bind: q("127.0.0.1"), cert_dir: q(join(dir, "certs")), bootstrap_file: q(bootstrap) },
    log: { level: q("info") },
  };
  const first = Object.keys(set)[0]?.split(".") ?? [];
  const isNewTable = first[0] !== undefined && !tables[first[0]];
  for (const [path, value] of Object.entries(set)) {
    const [table = "", key = ""] = path.split(".");
    tables[table] = { ...tables[table], [key]: value.replaceAll("{dir}", dir) };
  }
  const lines = Object.entries(tables).flatMap(([table, keys]) => [
    `[${table}]`,
    ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`),
  ]);
  const file = join(dir, "mcproxy.toml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const line = isNewTable
    ? lines.indexOf(`[${first[0]}]`) + 1
    : lines.findIndex((l, i) => l.startsWith(`${first[1]} =`) && lines.lastIndexOf(`[${first[0]}]`, i) >= 0) +
      1;
  return {
    dir,
    file,
    socket: join(dir, "admin.sock"),
    apiUrl: `http://127.0.0.1:${apiPort}`,
    routePort,
    at: `${file}:${line}`,
  };
}

export interface StartOutcome {
  /** The exit code, or "running" when the API answered /readyz (the start went through). */
  code: number | null | "running";
  ms: number;
  stdout: string;
  stderr: string;
}

/** Starts the app and waits until it exits or its API is ready (then stops it); at most 10 s. */
export async function tryStart(
  configFile: string,
  apiUrl: string,
  env: NodeJS.ProcessEnv = {},
): Promise<StartOutcome> {
  const started = Date.now();
  const app: AppProcess = startApp(MAIN, ["--config", configFile], { env: { ...process.env, ...env } });
  let code: number | null | "running" | undefined;
  void app.exited().then((c) => {
    code ??= c;
  });
  while (code === undefined && Date.now() - started < 10_000) {
    const ready = await fetch(`${apiUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready && code === undefined) code = "running";
    else await new Promise((r) => setTimeout(r, 50));
  }
  const ms = Date.now() - started;
  await app.kill();
  return { code: code ?? "running", ms, stdout: app.stdout(), stderr: app.stderr() };
}

/** True when a TCP connect to 127.0.0.1:`port` is refused (nothing listens there). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/** A REST call on the TCP API: `method path` with an optional JSON body and bearer token. */
export function rest(
  apiUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  ...args: string[]
): Promise<CurlResult> {
  return curl(
    "-X",
    method,
    ...(token === undefined ? [] : ["-H", `authorization: Bearer ${token}`]),
    ...(body === undefined ? [] : ["-d", typeof body === "string" ? body : JSON.stringify(body)]),
    ...args,
    `${apiUrl}${path}`,
  );
}

/** A Connect-protocol unary call with a raw JSON request over the Unix socket (curl as the client). */
export function connectJson(socket: string, method: string, request: unknown): Promise<CurlResult> {
  return curl(
    "--unix-socket",
    socket,
    "-H",
    "content-type: application/json",
    "-d",
    JSON.stringify(request),
    `http://localhost/mcproxy.v1.RouteService/${method}`,
  );
}

/**
 * A start that must fail: exit 1 within 5 s, nothing opened, and stderr contains `expected`
 * (`{at}`: the set key's `file:line`, `{key}`: it as `[table] key`, `{dir}`: the case's folder).
 */
export async function refusesToStart(
  root: string,
  name: string,
  set: ConfigSet,
  expected: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const c = await configCase(root, name, set);
  const [table, key] = Object.keys(set)[0]?.split(".") ?? [];
  const want = expected
    .replaceAll("{at}", c.at)
    .replaceAll("{key}", `[${table}] ${key}`)
    .replaceAll("{dir}", c.dir);
  const out = await tryStart(c.file, c.apiUrl, env);
  // Every departure is listed, so one run shows them all.
  const problems: string[] = [];
  if (out.code !== 1) problems.push(`exit code ${out.code}`);
  if (out.ms > 5_000) problems.push(`took ${out.ms} ms`);
  if (!out.stderr.includes(want)) problems.push(`stderr lacks ${want}: ${out.stderr}`);
  if (/\n\s+at /.test(out.stderr)) problems.push("a stack trace");
  // Not half-way: no route listener was opened, the socket file was not created.
  if (out.stdout.includes("listener opened")) problems.push("a route listener was opened");
  if (existsSync(c.socket)) problems.push("the socket file was created");
  if (!(await refused(c.routePort))) problems.push("the route port answers");
  if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
}

/** Connect's JSON name of a code: Code.InvalidArgument → "invalid_argument". */
export const codeName = (code: Code) =>
  Code[code].replace(/[A-Z]/g, (m, i) => (i ? "_" : "") + m.toLowerCase());

/** The Connect code of mcdsl's REST refusals by HTTP status. */
export const restCodes: Record<number, string> = {
  400: "invalid_argument",
  401: "unauthenticated",
  403: "permission_denied",
  413: "resource_exhausted",
  415: "invalid_argument",
};

/** The HTTP status mcdsl's REST transcoding gives a code (google.rpc.Code's mapping). */
const httpStatus: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
};

const text = (m: string | RegExp) =>
  typeof m === "string" ? expect.stringContaining(m) : expect.stringMatching(m);

/** The error a call was refused with (and a test failure when it succeeded). */
export async function errorOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to be refused");
}

/** Every route as listed over the socket, with what a change would touch. */
export async function snapshot(proxy: ProxyProcess): Promise<string[]> {
  const { routes } = await proxy.client.listRoutes({});
  return routes.map((r) => JSON.stringify(toJson(RouteSchema, r)));
}

/** A valid L4 route on a free port, with `more` over it (`{certs}` in strings: `certDir`). */
export async function badRoute(more: JsonObject, certDir: string): Promise<JsonObject> {
  const route = { listenerPort: await freePort(), hostname: "bad.test", mode: "ROUTE_MODE_L4", ...more };
  return JSON.parse(
    JSON.stringify({ backends: [{ address: "127.0.0.1:9" }], ...route }).replaceAll("{certs}", certDir),
  );
}

/**
 * AddRoute of `route` (proto JSON) over the socket (the typed Connect client, or raw Connect JSON
 * when the value cannot be encoded, e.g. -1 for a uint32) and over REST with the agent token: both
 * refused with `code` and a message containing `message` (`restMessage` over REST, when it differs);
 * the routes, and a listener port that was closed, are unchanged.
 */
export async function refusedAdd(
  proxy: ProxyProcess,
  route: JsonObject,
  code: Code,
  message: string | RegExp,
  restMessage: string | RegExp = message,
): Promise<void> {
  const before = await snapshot(proxy);
  const port = typeof route.listenerPort === "number" ? route.listenerPort : 0;
  const closed = port > 0 && port < 65536 && (await refused(port));
  let typed: Route | undefined;
  try {
    typed = fromJson(RouteSchema, route);
  } catch {
    // sent as JSON below
  }
  if (typed) {
    const err = await errorOf(proxy.client.addRoute({ route: typed }));
    expect([Code[err.code], err.rawMessage]).toEqual([Code[code], text(message)]);
  } else {
    const res = await connectJson(proxy.socket, "AddRoute", { route });
    expect(res.json).toEqual({ code: codeName(code), message: text(message) });
  }
  const res = await rest(proxy.apiUrl, proxy.token, "POST", "/v1/routes", route);
  expect([res.status, res.json]).toEqual([
    httpStatus[code],
    { code: codeName(code), message: text(restMessage) },
  ]);
  expect(await snapshot(proxy)).toEqual(before);
  if (closed) expect(await refused(port)).toBe(true);
}
