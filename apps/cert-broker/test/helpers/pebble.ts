// A real Pebble (the ACME test server, Debian package `pebble`) on 127.0.0.1, with a TLS pair made
// here (the package ships none), validating dns-01 against the DNS server the test names.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl, freePort } from "@mcp/mcdsl/testing";

export interface Pebble {
  directoryUrl: string;
  /** The CA of Pebble's own HTTPS certificate (what the ACME client must trust). */
  tlsCaFile: string;
  /** Pebble's issuing root for this run (from its management API). */
  rootPem: string;
  stop(): Promise<void>;
}

export async function startPebble(dnsServer: string): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "pebble-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
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
      "-days",
      "2",
      "-subj",
      "/CN=pebble test",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  const [port, mgmt, http, tls] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(dir, "pebble.json");
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: cert,
        privateKey: key,
        httpPort: http,
        tlsPort: tls,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child: ChildProcess = spawn("pebble", ["-config", config, "-dnsserver", dnsServer], {
    // No random validation sleeps, no deliberately rejected nonces: fast and deterministic.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (c) => (log += c));
  child.stderr?.on("data", (c) => (log += c));
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pebble exited (${child.exitCode}):\n${log}`);
    const res = await curl("--cacert", cert, directoryUrl).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`pebble did not serve ${directoryUrl}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const root = await curl("--cacert", cert, `https://127.0.0.1:${mgmt}/roots/0`);
  return {
    directoryUrl,
    tlsCaFile: cert,
    rootPem: root.body,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
