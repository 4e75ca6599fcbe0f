// What an operator sees of the certificates the L7 routes serve: their expiry on /metrics (for an
// alert before a failed renewal reaches clients), and a warning in the log when a route is given a
// certificate clients will refuse (expired, or not for its hostname). Real process, real openssl.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

const EXPIRY = "mcproxy_certificate_expiry_timestamp_seconds";
let dir: string;
let certDir: string;
let extraDir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;
let web: Backend;

const notAfterSeconds = (pemFile: string) =>
  Math.floor(Date.parse(new X509Certificate(readFileSync(pemFile)).validTo) / 1000);

const addL7 = (hostname: string, certificate?: { certFile: string; keyFile: string }) =>
  proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname,
      mode: RouteMode.L7,
      backends: [{ address: web.address }],
      owner: "test",
      certificate: certificate && { ...certificate, serial: "" },
    },
  });

/** The log lines (JSON) the process wrote about `hostname`'s certificate. */
const certificateWarnings = (hostname: string) =>
  proxy.app
    .stdout()
    .split("\n")
    .filter((line) => line.includes(`"certificate for ${hostname}:`))
    .map((line) => JSON.parse(line) as { level: string; msg: string; problems: string[] });

/**
 * A leaf for `hostname` that expired in 2020, signed by the test root with `openssl ca` (the only
 * openssl 3.0 command that takes explicit dates).
 */
function issueExpired(hostname: string): { certFile: string; keyFile: string } {
  const ca = join(dir, "expired-ca");
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, "index.txt"), "");
  writeFileSync(join(ca, "serial"), "1000\n");
  writeFileSync(
    join(ca, "ca.cnf"),
    `[ca]\ndefault_ca = test\n[test]\ndatabase = ${ca}/index.txt\nnew_certs_dir = ${ca}\nserial = ${ca}/serial\n` +
      "default_md = sha256\npolicy = any\ncopy_extensions = copy\n[any]\ncommonName = supplied\n",
  );
  const keyFile = join(certDir, `${hostname}.key`);
  const certFile = join(certDir, `${hostname}.pem`);
  const csr = join(ca, `${hostname}.csr`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  execFileSync(
    "openssl",
    [
      "req",
      ...ec,
      "-keyout",
      keyFile,
      "-out",
      csr,
      "-subj",
      `/CN=${hostname}`,
      "-addext",
      `subjectAltName=DNS:${hostname}`,
    ],
    { stdio: "ignore" },
  );
  execFileSync(
    "openssl",
    [
      "ca",
      "-batch",
      "-config",
      join(ca, "ca.cnf"),
      "-cert",
      join(pki.dir, "root.pem"),
      "-keyfile",
      join(pki.dir, "root.key"),
      "-in",
      csr,
      "-out",
      certFile,
      "-notext",
      "-startdate",
      "20200101000000Z",
      "-enddate",
      "20200102000000Z",
    ],
    { stdio: "ignore" },
  );
  return { certFile, keyFile };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-certs-"));
  certDir = join(dir, "certs");
  pki = createPki(join(dir, "pki"));
  mkdirSync(certDir, { recursive: true });
  for (const host of ["good.test", "other.test"]) pki.issue(host, certDir);
  web = await startHttpBackend("web");
  // A second directory API routes may name certificates in (an operator's own, outside cert_dir).
  extraDir = join(dir, "operator-certs");
  mkdirSync(extraDir);
  pki.issue("extra.test", extraDir);
  proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: `extra_cert_dirs = ["${extraDir}"]`,
  });
  port = await freePort();
});
afterAll(async () => {
  await proxy?.stop();
  await web?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("certificates served by L7 routes", () => {
  it("puts each hostname's certificate expiry on /metrics, follows a renewal and forgets a removed route", async () => {
    const { route } = await addL7("good.test");
    expect(await proxy.metric(EXPIRY, { hostname: "good.test" })).toBe(
      notAfterSeconds(join(certDir, "good.test.pem")),
    );
    // A good certificate draws no warning.
    expect(certificateWarnings("good.test")).toEqual([]);

    // Renewed with a later expiry (the leaf's validity is whole seconds: wait for the next one).
    const before = notAfterSeconds(join(certDir, "good.test.pem"));
    await new Promise((r) => setTimeout(r, 1100));
    pki.issue("good.test", certDir);
    const after = notAfterSeconds(join(certDir, "good.test.pem"));
    expect(after).toBeGreaterThan(before);
    await addL7("good.test");
    expect(await proxy.metric(EXPIRY, { hostname: "good.test" })).toBe(after);

    await proxy.client.removeRoute({ id: route?.id ?? "", owner: "test" });
    const text = await (await fetch(`${proxy.apiUrl}/metrics`)).text();
    expect(text).not.toContain('hostname="good.test"');
  });

  it("warns when a route is given an expired certificate, and still serves it (a renewal may follow)", async () => {
    const expired = issueExpired("old.test");
    await addL7("old.test", expired);
    await eventually(async () => expect(certificateWarnings("old.test")).toHaveLength(1));
    const [warning] = certificateWarnings("old.test");
    expect(warning?.level).toBe("warn");
    expect(warning?.problems).toEqual(["expired on 2020-01-02T00:00:00.000Z"]);
    expect(await proxy.metric(EXPIRY, { hostname: "old.test" })).toBe(Date.UTC(2020, 0, 2) / 1000);
  });

  it("warns when a certificate does not cover the route's hostname, naming the names it has", async () => {
    // other.test's certificate, given to a route for wrong.test (an operator's copy-paste slip).
    copyFileSync(join(certDir, "other.test.pem"), join(certDir, "wrong.test.pem"));
    copyFileSync(join(certDir, "other.test.key"), join(certDir, "wrong.test.key"));
    await addL7("wrong.test");
    await eventually(async () => expect(certificateWarnings("wrong.test")).toHaveLength(1));
    expect(certificateWarnings("wrong.test")[0]?.problems).toEqual([
      "does not cover wrong.test (its names: DNS:other.test)",
    ]);
  });

  it("serves a certificate from [proxy] extra_cert_dirs; files named outside the directories are refused", async () => {
    const extra = { certFile: join(extraDir, "extra.test.pem"), keyFile: join(extraDir, "extra.test.key") };
    await addL7("extra.test", extra);
    const served = await curlVia(port, "extra.test", pki.rootFile);
    expect(served.status).toBe(200);
    expect(served.json).toMatchObject({ backend: "web" });

    // The test CA's directory is neither cert_dir nor listed: its files are refused unread.
    const elsewhere = pki.rootFile;
    await expect(addL7("elsewhere.test", { certFile: elsewhere, keyFile: extra.keyFile })).rejects.toThrow(
      `certificate.cert_file: "${elsewhere}" is outside the certificate directories (${certDir}, ${extraDir})`,
    );
    // A way out of a listed directory by "..": the same.
    const climb = `${extraDir}/../pki/root.key`;
    await expect(addL7("elsewhere.test", { certFile: extra.certFile, keyFile: climb })).rejects.toThrow(
      `certificate.key_file: "${climb}" is outside the certificate directories`,
    );
    expect((await proxy.client.listRoutes({ hostname: "elsewhere.test" })).routes).toEqual([]);
  });
});
