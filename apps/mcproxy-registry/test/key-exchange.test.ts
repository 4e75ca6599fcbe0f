// [proxy] tls_groups: the L7 key exchange groups. By default X25519 then P-256; an operator can add
// the post-quantum hybrid X25519MLKEM768 (Node 24's OpenSSL has it). A name OpenSSL does not know
// stops the start with the file, line and key. Real process; the client is Node's TLS.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { startApp } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, freePort, MAIN, type ProxyProcess, startHttpBackend, startProxy } from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let web: Backend;
const proxies: ProxyProcess[] = [];

/** A proxy with `groups` (or the default) serving pq.test on a fresh port; returns the port. */
async function proxyWith(name: string, groups?: string): Promise<number> {
  const certDir = join(dir, name, "certs");
  mkdirSync(certDir, { recursive: true });
  pki.issue("pq.test", certDir);
  const proxy = await startProxy(join(dir, name), {
    certDir,
    extraConfig: groups === undefined ? "" : `tls_groups = ${groups}`,
  });
  proxies.push(proxy);
  const port = await freePort();
  await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname: "pq.test",
      mode: RouteMode.L7,
      backends: [{ address: web.address }],
      owner: "t",
    },
  });
  return port;
}

/** A TLS 1.3 handshake offering only `group`: the group agreed on, or the handshake's error. */
function handshake(
  port: number,
  group: string,
): Promise<{ ok: true; name?: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: "pq.test",
      ca: readFileSync(pki.rootFile),
      ecdhCurve: group,
      minVersion: "TLSv1.3",
    });
    socket.once("secureConnect", () => {
      const info = socket.getEphemeralKeyInfo() as { name?: string } | null;
      resolve({ ok: true, name: info?.name });
      socket.destroy();
    });
    socket.once("error", (err) => resolve({ ok: false, error: err.message }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-kex-"));
  pki = createPki(join(dir, "pki"));
  web = await startHttpBackend("web");
});
afterAll(async () => {
  for (const proxy of proxies) await proxy.stop();
  await web?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("[proxy] tls_groups", () => {
  it("agrees X25519 or P-256 by default, and refuses a client that offers only the post-quantum hybrid", async () => {
    const port = await proxyWith("default");
    expect(await handshake(port, "X25519")).toEqual({ ok: true, name: "X25519" });
    expect(await handshake(port, "P-256")).toEqual({ ok: true, name: "prime256v1" });
    const pq = await handshake(port, "X25519MLKEM768");
    expect(pq.ok).toBe(false);
  });

  it("agrees X25519MLKEM768 when the operator lists it, and still X25519 with clients without it", async () => {
    const port = await proxyWith("hybrid", '["X25519MLKEM768", "X25519", "P-256"]');
    expect((await handshake(port, "X25519MLKEM768")).ok).toBe(true);
    expect(await handshake(port, "X25519")).toEqual({ ok: true, name: "X25519" });
    expect((await handshake(port, "P-384")).ok).toBe(false);
  });

  it("refuses to start with a group OpenSSL does not know, naming the file, the line and the key", async () => {
    const configFile = join(dir, "bad.toml");
    writeFileSync(configFile, `[proxy]\ncert_dir = "${dir}"\ntls_groups = ["X25519", "X9999"]\n`);
    const app = startApp(MAIN, ["--config", configFile]);
    expect(await app.exited()).not.toBe(0);
    expect(app.stderr() + app.stdout()).toMatch(
      new RegExp(`${configFile}:3: \\[proxy\\] tls_groups.*"X9999" is not a key exchange group`),
    );
  });
});
