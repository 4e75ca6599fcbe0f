// Issuance throughput and latency (p50/p99) of the local CA, for EC P-256 and RSA-2048 leaves, beside
// the `openssl` command doing the same job (new key + a CA-signed leaf with SAN, EKU, AKI/SKI) in the
// same run, and through the real process (Connect call, SQLite row, fsynced key and files).
// Run after `pnpm --filter @mcp/cert-broker build`:  node bench/issuance.mjs [ecCount] [rsaCount]
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { freePort, startApp } from "@mcp/mcdsl/testing";
import { CertService } from "@mcp/proto/certbroker/v1/service_pb.js";
import { LocalIssuer } from "../dist/issuer/local.js";
import { loadOrCreateCa } from "../dist/issuer/local-ca.js";

const run = promisify(execFile);
const ecCount = Number(process.argv[2] ?? 200);
const rsaCount = Number(process.argv[3] ?? 20);
const dir = mkdtempSync(join(tmpdir(), "cert-broker-bench-"));
const DAY = 86_400_000;

async function measure(count, once) {
  const times = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await once(i);
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
  return { perSecond: (count / total) * 1000, p50: pct(50), p99: pct(99) };
}

function row(name, r) {
  const f = (n, w, d = 1) => n.toFixed(d).padStart(w);
  console.log(`${name.padEnd(56)}${f(r.perSecond, 10)}${f(r.p50, 10, 2)}${f(r.p99, 10, 2)}`);
}

const ca = await loadOrCreateCa(join(dir, "ca"), {
  rootName: "Bench Root",
  intermediateName: "Bench Issuing",
  rootLifetimeMs: 3650 * DAY,
  intermediateLifetimeMs: 1825 * DAY,
});
const issuer = new LocalIssuer(ca);
const ours = (keyType) => (i) =>
  issuer.issue({
    hostnames: [`s${i}.svc.mcp.metacircular.net`],
    keyType,
    clientAuth: false,
    lifetimeMs: 30 * DAY,
    now: new Date(),
  });

// openssl 3's `req -x509 -CA` makes the key and signs the leaf in one process, as our issue() does.
const opensslArgs = (i, keyArgs) => [
  "req",
  "-x509",
  "-new",
  ...keyArgs,
  "-nodes",
  "-keyout",
  join(dir, "leaf.key"),
  "-out",
  join(dir, "leaf.pem"),
  "-subj",
  `/CN=s${i}.svc.mcp.metacircular.net`,
  "-days",
  "30",
  "-CA",
  join(dir, "ca", "intermediate.pem"),
  "-CAkey",
  join(dir, "ca", "intermediate.key"),
  "-addext",
  `subjectAltName=DNS:s${i}.svc.mcp.metacircular.net`,
  "-addext",
  "basicConstraints=critical,CA:FALSE",
  "-addext",
  "extendedKeyUsage=serverAuth",
  "-addext",
  "keyUsage=critical,digitalSignature",
];
const openssl = (keyArgs) => (i) => run("openssl", opensslArgs(i, keyArgs));
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const RSA = ["-newkey", "rsa:2048"];

console.log(`${"".padEnd(56)}${"certs/s".padStart(10)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}`);
const ecOurs = await measure(ecCount, ours("ec-p256"));
const ecRef = await measure(ecCount, openssl(EC));
row(`EC P-256, local issuer (n=${ecCount})`, ecOurs);
row("EC P-256, openssl req -x509 -CA (a process each)", ecRef);
console.log(`  ratio ours/openssl: ${(ecOurs.perSecond / ecRef.perSecond).toFixed(2)}x`);
const rsaOurs = await measure(rsaCount, ours("rsa-2048"));
const rsaRef = await measure(rsaCount, openssl(RSA));
row(`RSA-2048, local issuer (n=${rsaCount})`, rsaOurs);
row("RSA-2048, openssl req -x509 -CA (a process each)", rsaRef);
console.log(`  ratio ours/openssl: ${(rsaOurs.perSecond / rsaRef.perSecond).toFixed(2)}x`);

// The whole product path: the built binary, a Connect call, the SQLite row, fsynced files.
const tokens = join(dir, "tokens.toml");
const minted = mintToken("agent", ["agent"]);
appendTokenEntry(tokens, minted.entry);
const port = await freePort();
writeFileSync(
  join(dir, "cert-broker.toml"),
  `[server]\nlisten = "127.0.0.1:${port}"\n[auth]\ntokens_file = "${tokens}"\n[database]\npath = "${dir}/db.sqlite"\n` +
    `[certificates]\ncert_dir = "${dir}/certs"\nkeys_dir = "${dir}/keys"\n[local]\nca_dir = "${dir}/ca"\n[log]\nlevel = "warn"\n`,
);
const app = startApp(new URL("../dist/main.js", import.meta.url).pathname, [
  "--config",
  join(dir, "cert-broker.toml"),
]);
try {
  await app.waitReady(`http://127.0.0.1:${port}/readyz`);
  const client = createClient(
    CertService,
    createConnectTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      httpVersion: "1.1",
      interceptors: [bearerTokenInterceptor(minted.token)],
    }),
  );
  const api = await measure(ecCount, (i) =>
    client.issueCertificate({ service: `s${i}`, hostnames: [`s${i}.svc.mcp.metacircular.net`] }),
  );
  row(`EC P-256, IssueCertificate over Connect (n=${ecCount})`, api);
  console.log(
    `  ratio API/openssl: ${(api.perSecond / ecRef.perSecond).toFixed(2)}x (the API also stores and fsyncs)`,
  );
} finally {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
