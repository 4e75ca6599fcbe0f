// kill -9 where the existing crash tests do not reach (a revocation), and start-up with what an
// operator or a crash may leave in keys_dir: the broker starts, serves, and nothing revoked is served.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateStatus } from "@mcp/proto/certbroker/v1/certificate_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { publishedSerial } from "./helpers/abuse.js";
import { type BrokerSetup, setupBroker } from "./helpers/broker-process.js";
import { openssl, pemFiles } from "./helpers/pki.js";

let broker: BrokerSetup | undefined;
afterEach(() => broker?.cleanup());

const HOST = "gone.svc.mcp.metacircular.net";
const published = (b: BrokerSetup) => (existsSync(b.certDir) ? readdirSync(b.certDir) : []);

describe("crash during revocation", () => {
  it("after-revoke-row: the revoked certificate's files and key are removed at start, and the CRL lists it", async () => {
    broker = await setupBroker();
    let app = await broker.start({ CERT_BROKER_FAILPOINT: "after-revoke-row" });
    const issued = await broker
      .client(broker.tokens.agent)
      .issueCertificate({ service: "gone", hostnames: [HOST] });
    const serial = issued.certificate!.serial;
    await expect(broker.client(broker.tokens.agent).revokeCertificate({ serial })).rejects.toThrow();
    await app.exited();
    expect(app.child.signalCode).toBe("SIGKILL");
    // The torn state: the row says revoked, the files still serve it.
    expect(published(broker).sort()).toEqual([`${HOST}.chain.pem`, `${HOST}.key`, `${HOST}.pem`]);

    app = await broker.start();
    try {
      const got = await broker.client(broker.tokens.reader).getCertificate({ serial });
      expect(got.certificate?.status).toBe(CertificateStatus.REVOKED);
      expect(published(broker)).toEqual([]);
      expect(readdirSync(broker.keysDir)).toEqual([]);
      const crl = await fetch(`${broker.crlUrl}/crl.pem`);
      const f = pemFiles({ crl: await crl.text() });
      try {
        const text = (await openssl("crl", "-in", f.paths.crl!, "-noout", "-text")).output;
        expect(text.toLowerCase().replace(/:/g, "")).toContain(serial);
      } finally {
        f.cleanup();
      }
    } finally {
      await app.stop();
    }
  });
});

describe("start-up with strays in keys_dir", () => {
  it("starts past a non-hex *.key file and a directory named like a key, and leaves both", async () => {
    broker = await setupBroker();
    mkdirSync(join(broker.keysDir, "0123abcd.key"), { recursive: true });
    writeFileSync(join(broker.keysDir, "backup.key"), "an operator's file\n");
    const app = await broker.start();
    try {
      const res = await broker
        .client(broker.tokens.agent)
        .issueCertificate({ service: "gone", hostnames: [HOST] });
      expect(readdirSync(broker.keysDir).sort()).toEqual(
        ["0123abcd.key", "backup.key", `${res.certificate!.serial}.key`].sort(),
      );
    } finally {
      await app.stop();
    }
  });
});

describe("start-up with a database from before the holder check", () => {
  it("two services current for one name: the newest keeps its files, and they are not rewritten on every pass", async () => {
    broker = await setupBroker({ config: { renewal: 'interval = "200ms"' } });
    let app = await broker.start();
    const agent = broker.client(broker.tokens.agent);
    await agent.issueCertificate({ service: "gone", hostnames: [HOST] });
    const newer = await agent.issueCertificate({
      service: "other",
      hostnames: ["other.svc.mcp.metacircular.net"],
    });
    await app.stop();
    // What the race fixed in dc39251 could leave: "other" holding gone's name too.
    execFileSync("sqlite3", [
      join(broker.dir, "cert-broker.db"),
      `UPDATE certificate_hostnames SET hostname = '${HOST}' WHERE serial = '${newer.certificate!.serial}'`,
    ]);
    app = await broker.start();
    try {
      const leaf = join(broker.certDir, `${HOST}.pem`);
      expect(publishedSerial(broker.certDir, HOST)).toBe(newer.certificate!.serial);
      const before = statSync(leaf).mtimeMs;
      await new Promise((r) => setTimeout(r, 1000)); // five renewal passes
      expect(statSync(leaf).mtimeMs).toBe(before);
    } finally {
      await app.stop();
    }
  });
});
