// `mcp route` against the real mcproxy-registry and `mcp cert` against the real cert-broker.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startCertBroker, startMcproxy, ZONE } from "./platform.js";
import { runMcp, tempHome } from "./run-mcp.js";

const run = promisify(execFile);
let proxy: RunningApp;
let broker: RunningApp;

beforeAll(async () => {
  [proxy, broker] = await Promise.all([startMcproxy(), startCertBroker()]);
});

const columns = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/\s{2,}/));

describe("mcp route", () => {
  it("adds, lists and removes routes; another owner's route stays", async () => {
    const { home, env } = tempHome();
    cliConfig(home, { mcproxy: proxy });
    const added = await runMcp(
      [
        "route",
        "add",
        "Web.Example.org",
        "127.0.0.1:10001",
        "127.0.0.1:10002",
        "--port",
        "8443",
        "--mode",
        "l4",
        "--owner",
        "web",
      ],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    const id =
      /^added route (\w+): web\.example\.org:8443 \(l4\) -> 127\.0\.0\.1:10001, 127\.0\.0\.1:10002\n$/.exec(
        added.stdout,
      )?.[1];
    expect(id).toBeDefined();

    const list = await runMcp(["route", "list"], { env });
    expect(columns(list.stdout)).toEqual([
      ["ID", "PORT", "HOSTNAME", "MODE", "BACKENDS", "OWNER", "NOTES"],
      [id, "8443", "web.example.org", "l4", "127.0.0.1:10001, 127.0.0.1:10002", "web", "-"],
    ]);
    const json = JSON.parse((await runMcp(["--json", "route", "list", "--port", "8443"], { env })).stdout);
    expect(json.routes).toEqual([
      expect.objectContaining({ id, hostname: "web.example.org", mode: "ROUTE_MODE_L4" }),
    ]);

    const refused = await runMcp(["route", "rm", id!], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^mcp: failed precondition: .*web/);
    expect((await runMcp(["route", "rm", id!, "--owner", "web"], { env })).stdout).toBe(
      `removed route ${id}: web.example.org:8443\n`,
    );
    expect(columns((await runMcp(["route", "list"], { env })).stdout)).toHaveLength(1);

    const l7 = await runMcp(["route", "add", "x.example.org", "127.0.0.1:1", "--port", "8444"], { env });
    expect(l7.code).toBe(1);
    expect(l7.stderr).toMatch(/^mcp: failed precondition: .*x\.example\.org\.pem/);
    expect(
      (await runMcp(["route", "add", "x.example.org", "127.0.0.1:1", "--port", "0"], { env })).stderr,
    ).toBe('mcp: --port must be 1-65535, got "0"\n');
  });
});

describe("mcp route list, a route mc-proxy cannot serve", () => {
  it("shows it NOT SERVED, with the reason", async () => {
    // A bootstrap L7 route whose certificate files are not there: the start goes on without it.
    const broken = await startMcproxy(
      '[[listeners]]\naddr = ":8445"\n  [[listeners.routes]]\n  hostname = "nocert.example.org"\n' +
        '  backend = "127.0.0.1:1"\n  mode = "l7"\n',
    );
    const { home, env } = tempHome();
    cliConfig(home, { mcproxy: broken });
    const list = await runMcp(["route", "list"], { env });
    const [, row] = columns(list.stdout);
    expect(row?.slice(1, 6)).toEqual(["8445", "nocert.example.org", "l7", "127.0.0.1:1", "bootstrap"]);
    expect(row?.[6]).toBe(
      `NOT SERVED: certificate file ${broken.dir}/certs/nocert.example.org.pem cannot be read: no such file; bootstrap`,
    );
  });
});

describe("mcp cert", () => {
  it("issues, lists, renews and revokes; ca prints the root that verifies the chain", async () => {
    const { home, env } = tempHome();
    cliConfig(home, { certbroker: broker });
    const name = `hello.${ZONE}`;
    const issued = await runMcp(["--json", "cert", "issue", "hello", name], { env });
    expect(issued.code, issued.stderr).toBe(0);
    const { certificate, reused } = JSON.parse(issued.stdout);
    expect(reused).toBe(false);
    expect(certificate).toMatchObject({
      service: "hello",
      hostnames: [name],
      status: "CERTIFICATE_STATUS_VALID",
    });

    const again = await runMcp(["cert", "issue", "hello", name], { env });
    expect(again.stdout).toMatch(
      new RegExp(
        `^reused certificate ${certificate.serial} for ${name} \\(service hello, until .*Z, chain .*\\)\\n$`,
      ),
    );

    const ca = await runMcp(["cert", "ca"], { env });
    expect(ca.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
    const root = join(home, "root.pem");
    writeFileSync(root, ca.stdout);
    const chain = readFileSync(certificate.chainFile, "utf8");
    const { stdout } = await run("openssl", [
      "verify",
      "-CAfile",
      root,
      "-untrusted",
      certificate.chainFile,
      certificate.certFile,
    ]);
    expect(stdout).toContain(": OK");
    expect(chain).toContain("BEGIN CERTIFICATE");

    const renewed = await runMcp(["--json", "cert", "renew", certificate.serial], { env });
    const next = JSON.parse(renewed.stdout).certificate;
    expect(next.renews).toBe(certificate.serial);
    const list = columns((await runMcp(["cert", "list", "--service", "hello"], { env })).stdout);
    expect(list[0]).toEqual(["SERIAL", "SERVICE", "HOSTNAMES", "STATUS", "NOT AFTER", "KEY"]);
    expect(list.slice(1).map((row) => [row[0], row[3], row[5]])).toEqual([
      [next.serial, "valid", "ec-p256"],
      [certificate.serial, "superseded", "ec-p256"],
    ]);

    const revoked = await runMcp(["cert", "revoke", next.serial, "--reason", "key-compromise"], { env });
    expect(revoked.stdout).toMatch(new RegExp(`^revoked certificate ${next.serial}`));
    expect(columns((await runMcp(["cert", "list", "--status", "revoked"], { env })).stdout)[1]?.[0]).toBe(
      next.serial,
    );
  });

  it("shows policy refusals and bad options clearly", async () => {
    const { home, env } = tempHome();
    cliConfig(home, { certbroker: broker });
    const wildcard = await runMcp(["cert", "issue", "hello", `*.${ZONE}`], { env });
    expect(wildcard.code).toBe(1);
    expect(wildcard.stderr).toMatch(/^mcp: (permission denied|invalid argument): .*\*\.svc\.mcp\.test/);
    const foreign = await runMcp(["cert", "issue", "hello", "evil.example.com"], { env });
    expect(foreign.stderr).toMatch(/^mcp: permission denied: .*evil\.example\.com/);
    expect(
      (await runMcp(["cert", "issue", "hello", `hello.${ZONE}`, "--key-type", "dsa"], { env })).stderr,
    ).toBe('mcp: --key-type must be one of ec-p256, rsa-2048, rsa-3072, got "dsa"\n');
  });
});
