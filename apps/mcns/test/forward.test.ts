// Split horizon: an MCNS with `[dns] forwarders` answers its own zones itself and relays every other
// name to its upstream (here a second, real MCNS), over UDP and TCP; with the upstream gone, SERVFAIL.
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { address, dig, type Mcns, rec, startMcns, ZONE } from "./harness.js";

let upstream: Mcns;
let edge: Mcns;
let silentPort: number;
const silent = createSocket("udp4"); // an upstream that never answers

beforeAll(async () => {
  upstream = await startMcns();
  await upstream.client().createRecord({ record: rec("www", "A", address("192.0.2.80")) });
  silent.bind(0, "127.0.0.1");
  await once(silent, "listening");
  silentPort = silent.address().port;
  edge = await startMcns({
    zones: `[[zones]]\nname = "edge.test"\nprimary_ns = "ns1.edge.test"\nadmin_mailbox = "hostmaster.edge.test"\n`,
    dns: `forwarders = ["127.0.0.1:${silentPort}", "127.0.0.1:${upstream.dnsPort}"]\nforward_timeout_ms = 300`,
  });
  await edge.client().createRecord({ record: rec("gw.edge.test", "A", address("192.0.2.1")) });
});

afterAll(async () => {
  await edge?.stop();
  await upstream?.stop();
  silent.close();
});

describe("forwarding names outside our zones", () => {
  it("answers its own zone itself, authoritatively", async () => {
    const r = await dig(edge.dnsPort, "gw.edge.test", "A");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toContain("aa");
    expect(r.answer).toEqual(["gw.edge.test. 300 IN A 192.0.2.1"]);
  });

  it("relays other names from the upstream over UDP and TCP, past an upstream that does not answer", async () => {
    for (const transport of ["+notcp", "+tcp"]) {
      const r = await dig(edge.dnsPort, transport, `WWW.${ZONE}`, "A");
      expect(r.status).toBe("NOERROR");
      expect(r.answer).toEqual([`WWW.${ZONE}. 300 IN A 192.0.2.80`]);
    }
  });

  it("relays the upstream's own negative answers", async () => {
    expect((await dig(edge.dnsPort, `missing.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect((await dig(edge.dnsPort, "example.org", "A")).status).toBe("REFUSED"); // the upstream's answer
  });

  it("answers SERVFAIL when no upstream answers, and keeps serving", async () => {
    await upstream.process.stop();
    try {
      const r = await dig(edge.dnsPort, `www.${ZONE}`, "A");
      expect(r.status).toBe("SERVFAIL");
      expect((await dig(edge.dnsPort, "gw.edge.test", "A")).status).toBe("NOERROR");
    } finally {
      await upstream.restart().catch(() => {});
    }
  });
});
