// Certificate events through a NATS outage, with the built process and a real nats-server that the
// test stops and starts: issuing and renewing do not fail or wait on NATS, and each event reaches the
// stream once NATS is back (mc-proxy swaps a renewed certificate only on mcp.cert.renewed), also when
// the process died before it could publish them.
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BrokerSetup, setupBroker } from "./helpers/broker-process.js";
import { certEvents, waitFor } from "./helpers/events.js";

const HOST = "outage.svc.mcp.metacircular.net";
// Each call waits at most 2 s on the publish (the outbox's waitMs), then answers.
const PROMPT_MS = 4_000;

let nats: NatsServer;
let broker: BrokerSetup;

beforeEach(async () => {
  nats = await startNatsServer();
  broker = await setupBroker({ natsUrl: nats.url });
});

afterEach(async () => {
  await nats?.stop();
  broker?.cleanup();
});

/** The stream's certificate events once it holds `count` of them (the test's own, one host). */
async function eventsOnceThere(count: number) {
  return waitFor(`${count} certificate events in the stream`, async () => {
    const events = await certEvents(nats.url);
    return events.length >= count ? events : undefined;
  });
}

describe("certificate events through a NATS outage", () => {
  it("issues and renews promptly while NATS is down; issued and renewed are in the stream once each after", async () => {
    const app = await broker.start();
    try {
      const client = broker.client(broker.tokens.agent);
      await nats.down();

      let started = Date.now();
      const issued = await client.issueCertificate({ service: "outage", hostnames: [HOST] });
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);
      const serial = issued.certificate!.serial;
      started = Date.now();
      const renewed = await client.renewCertificate({ serial });
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);
      const next = renewed.certificate!;

      await nats.up();
      const events = await eventsOnceThere(2);
      expect(events.map((e) => [e.type, e.subject, e.data])).toEqual([
        [
          "mcp.cert.issued",
          HOST,
          { hostname: HOST, serial, notAfter: expect.any(String), service: "outage" },
        ],
        [
          "mcp.cert.renewed",
          HOST,
          { hostname: HOST, serial: next.serial, previousSerial: serial, notAfter: expect.any(String) },
        ],
      ]);
      expect(new Date(String(events[1]!.data.notAfter)).getTime()).toBe(
        Number(next.notAfter!.seconds) * 1000,
      );
      // The process is still up and NATS reachable: nothing is published a second time.
      await client.revokeCertificate({ serial: next.serial });
      const after = await eventsOnceThere(3);
      expect(after.map((e) => e.type)).toEqual(["mcp.cert.issued", "mcp.cert.renewed", "mcp.cert.revoked"]);
    } finally {
      await app.stop();
    }
  });

  it("publishes at the next start the event of an issuance whose process died during the outage", async () => {
    let app = await broker.start();
    await nats.down();
    const issued = await broker
      .client(broker.tokens.agent)
      .issueCertificate({ service: "outage", hostnames: [HOST] });
    await app.kill();

    await nats.up();
    app = await broker.start();
    try {
      const events = await eventsOnceThere(1);
      expect(events.map((e) => [e.type, e.subject, e.data.serial])).toEqual([
        ["mcp.cert.issued", HOST, issued.certificate!.serial],
      ]);
    } finally {
      await app.stop();
    }
  });
});
