// The broker as the agent and an operator use it: the built process, called over Connect and with
// curl over REST, its certificates checked with openssl and a TLS handshake against the trust bundle,
// its files on disk, and its events on a real nats-server.
import { existsSync, readFileSync, statSync } from "node:fs";
import { Code } from "@connectrpc/connect";
import { type AppProcess, curl, type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { CertificateStatus, KeyType, RevocationReason } from "@mcp/proto/certbroker/v1/certificate_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusal } from "./helpers/abuse.js";
import { type BrokerSetup, setupBroker } from "./helpers/broker-process.js";
import { certEvents } from "./helpers/events.js";
import { openssl, opensslVerify, pemFiles, tlsHandshake } from "./helpers/pki.js";

let nats: NatsServer;
let broker: BrokerSetup;
let app: AppProcess;
let rootPem: string;

const HELLO = "hello.svc.mcp.metacircular.net";

beforeAll(async () => {
  nats = await startNatsServer();
  broker = await setupBroker({
    natsUrl: nats.url,
    config: { policy: 'public_hostnames = ["www.example.org", ".apps.example.net"]' },
  });
  app = await broker.start();
  const bundle = await curl(`${broker.url}/v1/trust-bundle`);
  expect(bundle.status).toBe(200);
  rootPem = (bundle.json as { pem: string }).pem;
});

afterAll(async () => {
  await app?.stop();
  await nats?.stop();
  broker?.cleanup();
});

describe("cert-broker API", () => {
  it("serves a trust bundle without a token: the local root, created 0600 on first start", async () => {
    const bundle = await curl(`${broker.url}/v1/trust-bundle`);
    const body = bundle.json as { pem: string; anchors: { subject: string; fingerprintSha256: string }[] };
    expect(body.anchors).toEqual([expect.objectContaining({ subject: "CN=Metacircular Local Root CA" })]);
    expect(body.pem).toBe(readFileSync(`${broker.caDir}/root.pem`, "utf8"));
    expect(statSync(`${broker.caDir}/root.key`).mode & 0o777).toBe(0o600);
    expect(statSync(`${broker.caDir}/intermediate.key`).mode & 0o777).toBe(0o600);
  });

  it("issues over Connect to the agent, writes the files, and the files serve TLS verified by the bundle", async () => {
    const client = broker.client(broker.tokens.agent);
    const res = await client.issueCertificate({
      service: "hello",
      hostnames: [HELLO, "WWW.example.org."],
      routeHostnames: ["www.example.org"],
    });
    expect(res.reused).toBe(false);
    expect(res.keyPem).toBe("");
    const cert = res.certificate!;
    expect(cert).toMatchObject({
      service: "hello",
      hostnames: [HELLO, "www.example.org"],
      status: CertificateStatus.VALID,
      keyType: KeyType.EC_P256,
      issuer: "CN=Metacircular Local Issuing CA",
      certFile: `${broker.certDir}/${HELLO}.pem`,
      keyFile: `${broker.certDir}/${HELLO}.key`,
      chainFile: `${broker.certDir}/${HELLO}.chain.pem`,
    });
    expect((await opensslVerify(rootPem, res.chainPem, res.certPem)).output).toContain(": OK");

    for (const hostname of [HELLO, "www.example.org"]) {
      const key = `${broker.certDir}/${hostname}.key`;
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(`${broker.certDir}/${hostname}.pem`, "utf8")).toBe(res.certPem);
      const chainPem = readFileSync(`${broker.certDir}/${hostname}.chain.pem`, "utf8");
      expect(chainPem).toBe(res.chainPem);
      expect(
        await tlsHandshake({
          chainPem,
          keyPem: readFileSync(key, "utf8"),
          caPem: rootPem,
          servername: hostname,
        }),
      ).toMatch(/^TLSv1\.[23]$/);
    }

    const again = await client.issueCertificate({
      service: "hello",
      hostnames: [HELLO, "www.example.org"],
      routeHostnames: ["www.example.org"],
    });
    expect(again.reused).toBe(true);
    expect(again.certificate?.serial).toBe(cert.serial);

    const events = await certEvents(nats.url, "mcp.cert.issued");
    expect(events.map((e) => e.subject)).toEqual([HELLO, "www.example.org"]);
    expect(events[0]).toMatchObject({
      source: { app: "cert-broker", node: "test-node" },
      data: { hostname: HELLO, serial: cert.serial, service: "hello" },
    });
  });

  it("issues RSA with clientAuth over REST with curl, returning the key only when asked", async () => {
    const res = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.agent}`,
      "-d",
      JSON.stringify({
        service: "api",
        hostnames: ["api.svc.mcp.metacircular.net"],
        keyType: "KEY_TYPE_RSA_2048",
        clientAuth: true,
        includePrivateKey: true,
      }),
      `${broker.url}/v1/certificates`,
    );
    expect(res.status).toBe(200);
    const body = res.json as {
      certificate: { keyType: string; clientAuth: boolean };
      certPem: string;
      chainPem: string;
      keyPem: string;
    };
    expect(body.certificate).toMatchObject({ keyType: "KEY_TYPE_RSA_2048", clientAuth: true });
    expect(body.keyPem).toContain("BEGIN PRIVATE KEY");
    const f = pemFiles({ leaf: body.certPem });
    try {
      const text = (await openssl("x509", "-in", f.paths.leaf!, "-noout", "-text")).output;
      expect(text).toContain("Public-Key: (2048 bit)");
      expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    } finally {
      f.cleanup();
    }
    expect(
      await tlsHandshake({
        chainPem: body.chainPem,
        keyPem: body.keyPem,
        caPem: rootPem,
        servername: "api.svc.mcp.metacircular.net",
      }),
    ).toMatch(/^TLSv1\.[23]$/);
  });

  it.each([
    [
      "a wildcard",
      { service: "hello", hostnames: ["*.svc.mcp.metacircular.net"] },
      '"*.svc.mcp.metacircular.net"',
    ],
    [
      "a foreign zone",
      { service: "hello", hostnames: ["evil.example.com"], routeHostnames: ["evil.example.com"] },
      '"evil.example.com"',
    ],
    [
      "another service's name",
      { service: "hello", hostnames: ["other.svc.mcp.metacircular.net"] },
      'belongs to service "other"',
    ],
    [
      "another service's name in capitals with a dot",
      { service: "hello", hostnames: ["OTHER.svc.mcp.metacircular.net."] },
      '"other.svc.mcp.metacircular.net"',
    ],
    [
      "a full-width smuggle",
      { service: "hello", hostnames: ["ｏｔｈｅｒ.svc.mcp.metacircular.net"] },
      '"other.svc.mcp.metacircular.net"',
    ],
    [
      "a Cyrillic look-alike",
      { service: "hello", hostnames: ["hеllo.svc.mcp.metacircular.net"] },
      '"xn--hllo-v4d.svc.mcp.metacircular.net" (given as "hеllo.svc.mcp.metacircular.net")',
    ],
    [
      "an undeclared public name",
      { service: "hello", hostnames: ["shop.apps.example.net"] },
      "none of the service's routes declares it",
    ],
  ])("refuses %s with PermissionDenied naming it", async (_what, request, named) => {
    const err = await refusal(broker.client(broker.tokens.agent).issueCertificate(request));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain(named);
  });

  it("refuses over REST with 403 and the reason, 401 without a token, 403 for a reader", async () => {
    const body = JSON.stringify({ service: "hello", hostnames: ["*.example.org"] });
    const denied = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.agent}`,
      "-d",
      body,
      `${broker.url}/v1/certificates`,
    );
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({
      code: "permission_denied",
      message: expect.stringContaining("wildcard"),
    });
    expect((await curl("-d", body, `${broker.url}/v1/certificates`)).status).toBe(401);
    const reader = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.reader}`,
      "-d",
      body,
      `${broker.url}/v1/certificates`,
    );
    expect(reader.status).toBe(403);
    expect(reader.json).toMatchObject({
      message: expect.stringContaining("lacks any of roles 'agent', 'admin'"),
    });
    const malformed = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.agent}`,
      "-d",
      JSON.stringify({ service: "hello", hostnames: ["a..b"] }),
      `${broker.url}/v1/certificates`,
    );
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ message: expect.stringContaining('"a..b"') });
  });

  it("gives a hostname to one service at a time", async () => {
    const agent = broker.client(broker.tokens.agent);
    await agent.issueCertificate({
      service: "shop",
      hostnames: ["shop.apps.example.net"],
      routeHostnames: ["shop.apps.example.net"],
    });
    const err = await refusal(
      agent.issueCertificate({
        service: "shop2",
        hostnames: ["shop.apps.example.net"],
        routeHostnames: ["shop.apps.example.net"],
      }),
    );
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain('service "shop" holds its current certificate');
  });

  it("renews over REST: a new serial and key, the old one superseded, the files replaced, mcp.cert.renewed", async () => {
    const agent = broker.client(broker.tokens.agent);
    const first = await agent.issueCertificate({
      service: "web",
      hostnames: ["web.svc.mcp.metacircular.net"],
    });
    const file = `${broker.certDir}/web.svc.mcp.metacircular.net.pem`;
    const keyBefore = readFileSync(`${broker.certDir}/web.svc.mcp.metacircular.net.key`, "utf8");
    const serial = first.certificate!.serial;
    const res = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.agent}`,
      "-d",
      "{}",
      `${broker.url}/v1/certificates/${serial}:renew`,
    );
    expect(res.status).toBe(200);
    const renewed = res.json as { certificate: { serial: string; renews: string }; certPem: string };
    expect(renewed.certificate.renews).toBe(serial);
    expect(readFileSync(file, "utf8")).toBe(renewed.certPem);
    expect(readFileSync(`${broker.certDir}/web.svc.mcp.metacircular.net.key`, "utf8")).not.toBe(keyBefore);
    const old = await agent.getCertificate({ serial });
    expect(old.certificate).toMatchObject({
      status: CertificateStatus.SUPERSEDED,
      replacedBy: renewed.certificate.serial,
      keyFile: "",
    });
    const again = await refusal(agent.renewCertificate({ serial }));
    expect(again.code).toBe(Code.FailedPrecondition);
    const events = await certEvents(nats.url, "mcp.cert.renewed");
    expect(events.at(-1)).toMatchObject({
      subject: "web.svc.mcp.metacircular.net",
      data: { serial: renewed.certificate.serial, previousSerial: serial },
    });
  });

  it("revokes: files and key gone, the CRL over HTTP lists it, openssl -crl_check rejects it", async () => {
    const agent = broker.client(broker.tokens.agent);
    const issued = await agent.issueCertificate({
      service: "gone",
      hostnames: ["gone.svc.mcp.metacircular.net"],
    });
    const serial = issued.certificate!.serial;
    const res = await agent.revokeCertificate({
      serial,
      reason: RevocationReason.KEY_COMPROMISE,
      comment: "test",
    });
    expect(res.certificate).toMatchObject({
      status: CertificateStatus.REVOKED,
      revocationReason: RevocationReason.KEY_COMPROMISE,
    });
    expect(existsSync(`${broker.certDir}/gone.svc.mcp.metacircular.net.pem`)).toBe(false);
    expect(existsSync(`${broker.certDir}/gone.svc.mcp.metacircular.net.key`)).toBe(false);
    expect(existsSync(`${broker.keysDir}/${serial}.key`)).toBe(false);
    expect((await agent.revokeCertificate({ serial })).certificate?.status).toBe(CertificateStatus.REVOKED);

    const crlPem = await curl(`${broker.crlUrl}/crl.pem`);
    expect(crlPem.status).toBe(200);
    const intermediate = readFileSync(`${broker.caDir}/intermediate.pem`, "utf8");
    const f = pemFiles({ crl: crlPem.body, intermediate });
    try {
      const text = (
        await openssl("crl", "-in", f.paths.crl!, "-noout", "-text", "-CAfile", f.paths.intermediate!)
      ).output;
      expect(text).toContain("verify OK");
      expect(text.toLowerCase()).toContain(`serial number: ${serial}`);
      await curl("-o", `${f.paths.crl}.der`, `${broker.crlUrl}/crl`);
      const der = await openssl("crl", "-inform", "DER", "-in", `${f.paths.crl}.der`, "-noout", "-text");
      expect(der.output.toLowerCase()).toContain(`serial number: ${serial}`);
    } finally {
      f.cleanup();
    }
    const crlArgs = ["-crl_check", "-CRLfile", "@crl"];
    const rejected = await opensslVerify(rootPem, issued.chainPem, issued.certPem, crlArgs, {
      crl: crlPem.body,
    });
    expect(rejected.ok).toBe(false);
    expect(rejected.output).toContain("certificate revoked");
    const hello = await agent.listCertificates({ service: "hello" });
    const live = hello.certificates[0]!;
    const fine = await opensslVerify(
      rootPem,
      readFileSync(live.chainFile, "utf8"),
      readFileSync(live.certFile, "utf8"),
      crlArgs,
      { crl: crlPem.body },
    );
    expect(fine.output).toContain(": OK");

    const events = await certEvents(nats.url, "mcp.cert.revoked");
    expect(events.at(-1)).toMatchObject({
      subject: "gone.svc.mcp.metacircular.net",
      data: { serial, reason: "keyCompromise" },
    });
  });

  it("lists with filters, newest first, a page at a time; NotFound for an unknown serial", async () => {
    const reader = broker.client(broker.tokens.reader);
    const all = await reader.listCertificates({});
    expect(all.certificates.length).toBeGreaterThanOrEqual(6);
    const times = all.certificates.map((c) => Number(c.issueTime!.seconds) * 1e3 + c.issueTime!.nanos / 1e6);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const pages: string[] = [];
    let token = "";
    do {
      const page = await reader.listCertificates({ pageSize: 2, pageToken: token });
      pages.push(...page.certificates.map((c) => c.serial));
      token = page.nextPageToken;
    } while (token);
    expect(pages).toEqual(all.certificates.map((c) => c.serial));
    const revoked = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.reader}`,
      `${broker.url}/v1/certificates?status=CERTIFICATE_STATUS_REVOKED`,
    );
    expect(
      (revoked.json as { certificates: { service: string }[] }).certificates.map((c) => c.service),
    ).toEqual(["gone"]);
    const byName = await reader.listCertificates({ hostname: "WWW.example.org" });
    expect(byName.certificates.map((c) => c.service)).toEqual(["hello"]);
    const missing = await curl(
      "-H",
      `authorization: Bearer ${broker.tokens.reader}`,
      `${broker.url}/v1/certificates/abcdef`,
    );
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ message: "certificate abcdef not found" });
  });

  it("refuses a bad config file, naming the file, line and key", async () => {
    const { writeFileSync } = await import("node:fs");
    const bad = `${broker.dir}/bad.toml`;
    writeFileSync(bad, `[certificates]\nlifetime = "30 days"\n`);
    const { startApp } = await import("@mcp/mcdsl/testing");
    const { MAIN } = await import("./helpers/broker-process.js");
    const proc = startApp(MAIN, ["--config", bad]);
    expect(await proc.exited()).toBe(1);
    expect(proc.stderr()).toContain(`${bad}:2: [certificates] lifetime: expected a duration`);
  });
});
