// The cert-broker image as an operator runs it: non-root, its local CA and database on the data
// volume, certificates published into the folder it shares with mc-proxy, the API on a published
// port. The trust bundle over REST is the root on the volume, and an issued chain verifies with openssl.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appImage,
  type Container,
  podmanStatus,
  runContainer,
  tempDir,
  waitReady,
} from "./helpers/podman.js";

const exec = promisify(execFile);
const HELLO = "hello.svc.mcp.metacircular.net";

let dir: string;
let container: Container;
let api: string;
let token: string;

beforeAll(async () => {
  dir = tempDir("cert-broker", "etc", "srv", "certs");
  const minted = mintToken("agent", ["agent"]);
  token = minted.token;
  appendTokenEntry(join(dir, "etc/tokens.toml"), minted.entry);
  // Only what a container needs: every path is the image's default (/srv/cert-broker, /srv/mc-proxy/certs).
  writeFileSync(
    join(dir, "etc/cert-broker.toml"),
    `[server]\nlisten = "0.0.0.0:9443"\n[events]\nservers = []\nnode = "image-test"\n`,
  );
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  container = await runContainer("cert-broker", appImage("cert-broker"), [
    ...["-v", `${dir}/etc:/etc/cert-broker:U`, "-v", `${dir}/srv:/srv/cert-broker:U`],
    ...["-v", `${dir}/certs:/srv/mc-proxy/certs:U`, "-p", `127.0.0.1:${port}:9443`],
  ]);
  await waitReady(api, container);
});

afterAll(async () => {
  await container?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe("cert-broker image", () => {
  it("hands out the local root CA it created on the data volume as the trust bundle", async () => {
    const bundle = await curl(`${api}/v1/trust-bundle`);
    expect(bundle.status).toBe(200);
    const body = bundle.json as { pem: string; anchors: { subject: string }[] };
    expect(body.anchors).toEqual([expect.objectContaining({ subject: "CN=Metacircular Local Root CA" })]);
    expect(body.pem).toBe(readFileSync(join(dir, "srv/ca/root.pem"), "utf8"));
    // The CA's keys belong to the container's unprivileged user and nobody else.
    const key = statSync(join(dir, "srv/ca/root.key"));
    expect([key.uid, key.mode & 0o777]).toEqual([10001, 0o600]);
  });

  it("issues a certificate into the folder it shares with mc-proxy, and its chain verifies", async () => {
    const issued = await curl(
      "-H",
      `authorization: Bearer ${token}`,
      "-d",
      JSON.stringify({ service: "hello", hostnames: [HELLO] }),
      `${api}/v1/certificates`,
    );
    expect(issued.status).toBe(200);
    const root = join(dir, "srv/ca/root.pem");
    const leaf = join(dir, `certs/${HELLO}.pem`);
    const chain = join(dir, `certs/${HELLO}.chain.pem`);
    const { stdout } = await exec("openssl", ["verify", "-CAfile", root, "-untrusted", chain, leaf]);
    expect(stdout.trim()).toBe(`${leaf}: OK`);
    expect(statSync(join(dir, `certs/${HELLO}.key`)).mode & 0o777).toBe(0o600);
  });

  it("passes its image HEALTHCHECK", async () => {
    expect(await podmanStatus("healthcheck", "run", container.name)).toBe(0);
  });
});
