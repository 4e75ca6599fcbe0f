// kill -9 at each step of an issuance (failpoints), then a normal start: no half-written file, no
// certificate row without its key, no key without a row, and the published files hold the current
// certificate and its key again.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type BrokerSetup, setupBroker } from "./helpers/broker-process.js";
import { opensslVerify, tlsHandshake } from "./helpers/pki.js";

let broker: BrokerSetup | undefined;
afterEach(() => broker?.cleanup());

const HOSTS = ["hello.svc.mcp.metacircular.net", "www.example.org"];
const REQUEST = { service: "hello", hostnames: HOSTS, routeHostnames: ["www.example.org"] };
const CONFIG = { policy: 'public_hostnames = ["www.example.org"]' };

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/** Issues (or renews) with the failpoint set; the process must die by SIGKILL mid-call. */
async function crashDuring(
  b: BrokerSetup,
  point: string,
  call: (b: BrokerSetup) => Promise<unknown>,
): Promise<void> {
  const app = await b.start({ CERT_BROKER_FAILPOINT: point });
  await expect(call(b)).rejects.toThrow();
  await app.exited();
  expect(app.child.signalCode).toBe("SIGKILL");
}

/** The invariants a user relies on after any crash, checked against the restarted broker. */
async function checkConsistent(b: BrokerSetup): Promise<void> {
  expect(list(b.certDir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  expect(list(b.keysDir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  const certs = (await b.client(b.tokens.admin).listCertificates({})).certificates;
  const keys = list(b.keysDir).map((n) => n.replace(/\.key$/, ""));
  const current = certs.filter((c) => c.keyFile !== "");
  expect(keys.sort()).toEqual(current.map((c) => c.serial).sort());
  const root = readFileSync(`${b.caDir}/root.pem`, "utf8");
  for (const cert of current) {
    const got = await b.client(b.tokens.admin).getCertificate({ serial: cert.serial });
    for (const hostname of cert.hostnames) {
      const pem = readFileSync(`${b.certDir}/${hostname}.pem`, "utf8");
      const chainPem = readFileSync(`${b.certDir}/${hostname}.chain.pem`, "utf8");
      const keyPem = readFileSync(`${b.certDir}/${hostname}.key`, "utf8");
      expect(pem).toBe(got.certPem);
      expect(keyPem).toBe(readFileSync(`${b.keysDir}/${cert.serial}.key`, "utf8"));
      expect((await opensslVerify(root, chainPem, pem)).output).toContain(": OK");
      expect(await tlsHandshake({ chainPem, keyPem, caPem: root, servername: hostname })).toMatch(/^TLSv1/);
    }
  }
}

describe("crash during issuance", () => {
  it.each(["mid-write", "after-key"])(
    "%s: the key is removed at start, nothing was published",
    async (point) => {
      broker = await setupBroker({ config: CONFIG });
      await (await broker.start()).stop(); // the CA is created on the first start, before any crash
      await crashDuring(broker, point, (b) => b.client(b.tokens.agent).issueCertificate(REQUEST));
      const leftover = list(broker.keysDir);
      expect(leftover).toHaveLength(1);
      expect(leftover[0]).toMatch(point === "mid-write" ? /^\.[0-9a-f]+\.key\.tmp-/ : /^[0-9a-f]+\.key$/);
      const app = await broker.start();
      try {
        expect((await broker.client(broker.tokens.admin).listCertificates({})).certificates).toEqual([]);
        expect(list(broker.certDir)).toEqual([]);
        await checkConsistent(broker);
        const issued = await broker.client(broker.tokens.agent).issueCertificate(REQUEST);
        expect(issued.reused).toBe(false);
        await checkConsistent(broker);
      } finally {
        await app.stop();
      }
    },
  );

  it("after-row: the certificate and its key were stored, its files are published at start", async () => {
    broker = await setupBroker({ config: CONFIG });
    await crashDuring(broker, "after-row", (b) => b.client(b.tokens.agent).issueCertificate(REQUEST));
    expect(list(broker.certDir)).toEqual([]);
    const app = await broker.start();
    try {
      const certs = (await broker.client(broker.tokens.admin).listCertificates({})).certificates;
      expect(certs.map((c) => c.hostnames)).toEqual([HOSTS]);
      await checkConsistent(broker);
      // The agent's retry gets the stored certificate rather than a second one.
      const retry = await broker.client(broker.tokens.agent).issueCertificate(REQUEST);
      expect(retry).toMatchObject({ reused: true, certificate: { serial: certs[0]!.serial } });
    } finally {
      await app.stop();
    }
  });

  it("mid-publish during a renewal: the second hostname's files catch up at start", async () => {
    broker = await setupBroker({ config: CONFIG });
    let app = await broker.start();
    const first = await broker.client(broker.tokens.agent).issueCertificate(REQUEST);
    await app.stop();
    const serial = first.certificate!.serial;
    await crashDuring(broker, "mid-publish", (b) => b.client(b.tokens.agent).renewCertificate({ serial }));
    // The torn state the crash left: the first name has the new certificate, the second the old one.
    expect(readFileSync(`${broker.certDir}/${HOSTS[0]}.pem`, "utf8")).not.toBe(first.certPem);
    expect(readFileSync(`${broker.certDir}/${HOSTS[1]}.pem`, "utf8")).toBe(first.certPem);
    app = await broker.start();
    try {
      const old = await broker.client(broker.tokens.admin).getCertificate({ serial });
      expect(old.certificate?.replacedBy).not.toBe("");
      await checkConsistent(broker);
    } finally {
      await app.stop();
    }
  });
});
