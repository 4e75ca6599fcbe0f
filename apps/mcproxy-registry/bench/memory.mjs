#!/usr/bin/env node
// Memory: mc-proxy with many routes and many idle client connections, measured as the proxy
// process's resident set (VmRSS). The target: 1,000 routes and 10,000 idle connections
// under 300 MB.
//   node apps/mcproxy-registry/bench/memory.mjs [routes=1000] [connections=10000]
// Half the routes are L4 and half L7, each L7 route with a certificate of its own (EC P-256,
// made by openssl). The connections: 30% L4 (TLS through to the backend, so each holds a backend
// connection too) and 70% L7 (TLS terminated by the proxy, one request answered, then idle
// keep-alive). Backends run in this process, so only the proxy's own memory is measured.
// Needs: openssl, ulimit -n of 20000 or more, the app built (pnpm build).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";

const ROUTES = Number(process.argv[2] ?? 1000);
const CONNECTIONS = Number(process.argv[3] ?? 10000);
const L4_SHARE = Number(process.env.L4_SHARE ?? 0.3);
const L4_PORT = 19461;
const L7_PORT = 19462;
const MAIN = new URL("../dist/main.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "mcproxy-memory-"));
const children = [];
const cleanup = () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);

// Resident memory split into anonymous (heap, buffers, OpenSSL) and file-backed (the node binary
// and its libraries, shared with every other node process) pages.
const split = (pid) => {
  const kb = (field) =>
    Number(
      readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0,
    );
  return `anonymous ${(kb("Anonymous") / 1024).toFixed(0)} MB, file-backed ${((kb("Rss") - kb("Anonymous")) / 1024).toFixed(0)} MB`;
};
const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/);
  return line ? Number(line[1]) / 1024 : Number.NaN;
};
const waitFor = async (check, what, ms = 60_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

// Certificates: one per L7 hostname (and one for the L4 backend, valid for every L4 name).
const l4Count = Math.floor(ROUTES / 2);
const l7Count = ROUTES - l4Count;
const l4Name = (i) => `l4-${i}.bench.test`;
const l7Name = (i) => `l7-${i}.bench.test`;
const makeCert = (name, sans) =>
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      join(dir, `${name}.pem`),
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=${sans}`,
    ],
    { stdio: "ignore" },
  );
const started = Date.now();
makeCert("backend", "DNS:*.bench.test");
for (let i = 0; i < l7Count; i++) makeCert(l7Name(i), `DNS:${l7Name(i)}`);
console.log(`${l7Count + 1} certificates in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// Backends: HTTPS for L4 routes, HTTP for L7 routes.
const tlsBackend = createHttpsServer(
  { cert: readFileSync(join(dir, "backend.pem")), key: readFileSync(join(dir, "backend.key")) },
  (_req, res) => res.end("l4 backend\n"),
);
tlsBackend.keepAliveTimeout = 600_000;
const httpBackend = createHttpServer((_req, res) => res.end("l7 backend\n"));
httpBackend.keepAliveTimeout = 600_000;
await Promise.all([
  new Promise((r) => tlsBackend.listen(0, "127.0.0.1", r)),
  new Promise((r) => httpBackend.listen(0, "127.0.0.1", r)),
]);

let routes = "";
routes += `[[listeners]]\naddr = ":${L4_PORT}"\n`;
for (let i = 0; i < l4Count; i++) {
  routes += `  [[listeners.routes]]\n  hostname = "${l4Name(i)}"\n  backend = "127.0.0.1:${tlsBackend.address().port}"\n`;
}
routes += `[[listeners]]\naddr = ":${L7_PORT}"\n`;
for (let i = 0; i < l7Count; i++) {
  routes += `  [[listeners.routes]]\n  hostname = "${l7Name(i)}"\n  backend = "127.0.0.1:${httpBackend.address().port}"\n  mode = "l7"\n`;
}
writeFileSync(join(dir, "routes.toml"), routes);
writeFileSync(join(dir, "tokens.toml"), "", { mode: 0o600 });
writeFileSync(
  join(dir, "mcproxy.toml"),
  `[server]\nlisten = "127.0.0.1:19460"\nsocket = "${dir}/admin.sock"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
    `[database]\npath = "${dir}/routes.db"\n[proxy]\nbind = "127.0.0.1"\ncert_dir = "${dir}"\n` +
    `bootstrap_file = "${dir}/routes.toml"\nidle_timeout_ms = 600000\n` +
    // The default cap (from the open-file limit) could be just under the connections asked for.
    `max_connections = ${CONNECTIONS + 100}\nmax_connections_per_client = ${CONNECTIONS + 100}\n[log]\nlevel = "warn"\n`,
);
const proxy = spawn(
  process.execPath,
  [
    // The flags mc-proxy ships with (its shebang, unit and image), unless PROXY_NODE_FLAGS says.
    ...(process.env.PROXY_NODE_FLAGS ?? "--max-semi-space-size=8 --single-threaded-gc")
      .split(" ")
      .filter(Boolean),
    MAIN,
    "--config",
    join(dir, "mcproxy.toml"),
  ],
  {
    stdio: "inherit",
  },
);
children.push(proxy);
// Ready: its stored routes are served (their listeners open), not only its API up.
await waitFor(
  () =>
    fetch("http://127.0.0.1:19460/readyz").then(
      (r) => r.ok,
      () => false,
    ),
  "mc-proxy to be ready",
);
const atStart = rssMb(proxy.pid);
const atStartSplit = split(proxy.pid);

// One idle connection: TLS handshake (through to the backend on L4), one request, then nothing.
const sockets = [];
const open = (port, servername) =>
  new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      servername,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    s.once("error", reject);
    s.once("secureConnect", () => s.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\n\r\n`));
    s.once("data", () => {
      sockets.push(s);
      resolve();
    });
  });
const t0 = Date.now();
const l4Conns = Math.round(CONNECTIONS * L4_SHARE);
let next = 0;
const worker = async () => {
  for (;;) {
    const i = next++;
    if (i >= CONNECTIONS) return;
    if (i < l4Conns) await open(L4_PORT, l4Name(i % l4Count));
    else await open(L7_PORT, l7Name(i % l7Count));
  }
};
await Promise.all(Array.from({ length: 32 }, worker));
console.log(`${sockets.length} connections open in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
// Let the proxy settle (GC, freed handshake buffers) before reading its memory.
await new Promise((r) => setTimeout(r, 3000));
const loaded = rssMb(proxy.pid);
const loadedSplit = split(proxy.pid);
const active = await fetch("http://127.0.0.1:19460/metrics").then((r) => r.text());
const gauge = (mode) =>
  active.match(new RegExp(`mcproxy_active_connections\\{mode="${mode}"\\} (\\d+)`))?.[1] ?? "0";
console.log(`proxy holds ${gauge("l4")} L4 and ${gauge("l7")} L7 connections (its /metrics)`);
const mb = (name) =>
  (Number(active.match(new RegExp(`^${name} (\\S+)`, "m"))?.[1] ?? Number.NaN) / 2 ** 20).toFixed(0);
console.log(
  `its JavaScript heap: ${mb("nodejs_heap_size_used_bytes")} MB used of ${mb("nodejs_heap_size_total_bytes")} MB; ` +
    `external (buffers, native objects V8 knows of): ${mb("nodejs_external_memory_bytes")} MB`,
);
console.log(`mc-proxy RSS with ${ROUTES} routes: ${atStart.toFixed(0)} MB at start (${atStartSplit})`);
console.log(
  `mc-proxy RSS with ${ROUTES} routes and ${sockets.length} idle connections: ${loaded.toFixed(0)} MB ` +
    `(${loadedSplit}; target < 300 MB: ${loaded < 300 ? "met" : "NOT met"})`,
);
for (const s of sockets) s.destroy();
process.exit(0);
