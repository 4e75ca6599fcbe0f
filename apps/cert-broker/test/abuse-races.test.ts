// Concurrent callers against the real process: one current certificate per hostname, held by one
// service; files that always belong together; a renewal racing a revocation.
import { readdirSync } from "node:fs";
import { Code } from "@connectrpc/connect";
import { CertificateStatus } from "@mcp/proto/certbroker/v1/certificate_pb.js";
import { describe, expect, it } from "vitest";
import { brokerForSuite, publishedSerial, refusal } from "./helpers/abuse.js";

const t = brokerForSuite({ config: { policy: 'public_hostnames = [".race.example.org"]' } });

const request = (service: string, hostname: string) => ({
  service,
  hostnames: [hostname],
  routeHostnames: [hostname],
});

describe("concurrent callers", () => {
  it("gives a public hostname requested by several services at once to exactly one of them", async () => {
    const agent = t.broker.client(t.broker.tokens.agent);
    const hostname = "shared.race.example.org";
    const services = ["a", "b", "c", "d", "e", "f"];
    const results = await Promise.allSettled(
      services.map((s) => agent.issueCertificate(request(s, hostname))),
    );
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(won).toHaveLength(1);
    const winner = won[0]!.certificate!;
    for (const r of results) {
      if (r.status === "fulfilled") continue;
      const err = await refusal(Promise.reject(r.reason));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain(`service "${winner.service}" holds its current certificate`);
    }
    const current = await agent.listCertificates({ hostname, status: CertificateStatus.VALID });
    expect(current.certificates.map((c) => c.serial)).toEqual([winner.serial]);
    expect(publishedSerial(t.broker.certDir, hostname)).toBe(winner.serial);
    // The losers left no key behind.
    expect(readdirSync(t.broker.keysDir)).toEqual([`${winner.serial}.key`]);
  });

  it("answers the same request sent several times at once with one certificate", async () => {
    const agent = t.broker.client(t.broker.tokens.agent);
    const hostname = "twice.race.example.org";
    const results = await Promise.all(
      Array.from({ length: 5 }, () => agent.issueCertificate(request("twice", hostname))),
    );
    const serials = new Set(results.map((r) => r.certificate!.serial));
    expect(serials.size).toBe(1);
    expect(results.filter((r) => !r.reused)).toHaveLength(1);
    expect(publishedSerial(t.broker.certDir, hostname)).toBe([...serials][0]);
  });

  it("orders a renewal and a revocation of one certificate: the files hold a current certificate or none", async () => {
    const agent = t.broker.client(t.broker.tokens.agent);
    const hostname = "renew.race.example.org";
    const first = await agent.issueCertificate(request("renew", hostname));
    const serial = first.certificate!.serial;
    const [renewed, revoked] = await Promise.allSettled([
      agent.renewCertificate({ serial }),
      agent.revokeCertificate({ serial }),
    ]);
    expect(revoked.status).toBe("fulfilled");
    const current = await agent.listCertificates({ hostname, status: CertificateStatus.VALID });
    if (renewed.status === "fulfilled") {
      expect(current.certificates.map((c) => c.serial)).toEqual([renewed.value.certificate!.serial]);
      expect(publishedSerial(t.broker.certDir, hostname)).toBe(renewed.value.certificate!.serial);
    } else {
      expect((await refusal(Promise.reject(renewed.reason))).code).toBe(Code.FailedPrecondition);
      expect(current.certificates).toEqual([]);
    }
  });
});
