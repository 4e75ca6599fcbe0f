// Renewal on its own: the scheduler with a clock the test moves (30-day certificates, no waiting),
// against a real SQLite store, the local CA and a real nats-server; then the real process renewing a
// short-lived certificate by itself.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectEvents, type EventBus } from "@mcp/mcdsl/events";
import { createLogger } from "@mcp/mcdsl/log";
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../src/broker/broker.js";
import type { Clock } from "../src/broker/clock.js";
import { CertEvents } from "../src/events/cert-events.js";
import { LocalIssuer } from "../src/issuer/local.js";
import { loadOrCreateCa } from "../src/issuer/local-ca.js";
import { Policy } from "../src/policy/policy.js";
import { RenewalScheduler } from "../src/renewal/scheduler.js";
import { CertFiles } from "../src/store/cert-files.js";
import { CertificateStore } from "../src/store/certificates.js";
import { setupBroker } from "./helpers/broker-process.js";
import { certEvents, waitFor } from "./helpers/events.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;

class TestClock implements Clock {
  constructor(public time: number) {}
  now(): Date {
    return new Date(this.time);
  }
}

let dir: string;
let nats: NatsServer;
let bus: EventBus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cert-broker-renewal-"));
  nats = await startNatsServer();
  bus = await connectEvents({
    servers: [nats.url],
    name: "renewal-test",
    app: "cert-broker",
    node: "test-node",
  });
  await bus.ensureStream();
});

afterAll(async () => {
  await bus?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function parts(name: string, clock: TestClock, publicHostnames: string[]) {
  const logger = createLogger({ app: "cert-broker", level: "fatal" });
  const ca = await loadOrCreateCa(join(dir, "ca"), {
    rootName: "Renewal Root",
    intermediateName: "Renewal Issuing",
    rootLifetimeMs: 3650 * DAY,
    intermediateLifetimeMs: 1825 * DAY,
  });
  const store = new CertificateStore(join(dir, `${name}.db`));
  const files = new CertFiles(join(dir, name, "keys"), join(dir, name, "certs"));
  const events = new CertEvents(store.outbox({ bus, logger }));
  const options = {
    store,
    files,
    issuer: new LocalIssuer(ca),
    events,
    clock,
    logger,
    lifetimeMs: 30 * DAY,
    renewJitter: 0.05,
  };
  const broker = new Broker({
    ...options,
    policy: new Policy({ serviceDomain: "svc.mcp.metacircular.net", publicHostnames }),
  });
  const scheduler = new RenewalScheduler({
    broker,
    store,
    events,
    clock,
    logger,
    intervalMs: 60_000,
    retryBaseMs: HOUR,
    retryMaxMs: 8 * HOUR,
    expiringFraction: 1 / 6,
  });
  return { store, files, broker, scheduler, options };
}

describe("renewal scheduler (test clock)", () => {
  it("renews at two thirds of the lifetime minus jitter, once, and publishes mcp.cert.renewed", async () => {
    const t0 = Date.now();
    const clock = new TestClock(t0);
    const { store, files, broker, scheduler } = await parts("due", clock, []);
    const issued = await broker.issue({
      service: "hello",
      hostnames: ["hello.svc.mcp.metacircular.net"],
      routeHostnames: [],
      keyType: "ec-p256",
      clientAuth: false,
    });
    const renewAt = issued.certificate.renewAt.getTime();
    expect(renewAt).toBeGreaterThanOrEqual(t0 + 20 * DAY - 1.5 * DAY - 1000);
    expect(renewAt).toBeLessThanOrEqual(t0 + 20 * DAY);

    clock.time = t0 + 18 * DAY;
    expect(await scheduler.tick()).toEqual({ renewed: [], failed: [], expiring: [] });

    clock.time = t0 + 20 * DAY;
    const pass = await scheduler.tick();
    expect(pass.renewed).toEqual([{ from: issued.certificate.serial, to: expect.any(String) }]);
    const next = store.get(pass.renewed[0]!.to)!;
    expect(next).toMatchObject({ status: "valid", renews: issued.certificate.serial });
    expect(next.notAfter.getTime()).toBe(t0 + 50 * DAY - (t0 % 1000)); // 30 days from the new "now"
    expect(store.get(issued.certificate.serial)).toMatchObject({
      status: "superseded",
      replacedBy: next.serial,
    });
    expect(readFileSync(files.paths("hello.svc.mcp.metacircular.net").certFile, "utf8")).toBe(next.certPem);
    expect((await scheduler.tick()).renewed).toEqual([]);

    const renewed = await certEvents(nats.url, "mcp.cert.renewed");
    expect(renewed.at(-1)).toMatchObject({
      subject: "hello.svc.mcp.metacircular.net",
      data: { serial: next.serial, previousSerial: issued.certificate.serial },
    });
    store.close();
  });

  it("retries a failing renewal with backoff and raises mcp.cert.expiring once, near expiry", async () => {
    const t0 = Date.now();
    const clock = new TestClock(t0);
    const { store, broker, options } = await parts("failing", clock, ["www.example.org"]);
    const issued = await broker.issue({
      service: "shop",
      hostnames: ["www.example.org"],
      routeHostnames: ["www.example.org"],
      keyType: "ec-p256",
      clientAuth: false,
    });
    const serial = issued.certificate.serial;
    // The operator took the name off the public list: renewals are refused from now on.
    const narrowed = new Broker({
      ...options,
      policy: new Policy({ serviceDomain: "svc.mcp.metacircular.net", publicHostnames: [] }),
    });
    const scheduler = new RenewalScheduler({
      broker: narrowed,
      store,
      events: options.events,
      clock,
      logger: options.logger,
      intervalMs: 60_000,
      retryBaseMs: HOUR,
      retryMaxMs: 8 * HOUR,
      expiringFraction: 1 / 6,
    });

    clock.time = t0 + 20 * DAY;
    const first = await scheduler.tick();
    expect(first.failed).toEqual([
      { serial, error: expect.stringContaining('"www.example.org"'), retryAt: expect.any(Date) },
    ]);
    const firstDelay = first.failed[0]!.retryAt.getTime() - clock.time;
    expect(firstDelay).toBeGreaterThan(0.74 * HOUR);
    expect(firstDelay).toBeLessThanOrEqual(HOUR);
    expect((await scheduler.tick()).failed).toEqual([]); // not due again yet

    clock.time += HOUR;
    const second = await scheduler.tick();
    const secondDelay = second.failed[0]!.retryAt.getTime() - clock.time;
    expect(secondDelay).toBeGreaterThan(1.49 * HOUR); // doubled
    expect(store.get(serial)).toMatchObject({ renewalFailures: 2, status: "valid" });

    for (let i = 0; i < 6; i++) {
      clock.time += 8 * HOUR;
      await scheduler.tick();
    }
    expect(store.get(serial)!.retryAt!.getTime() - clock.time).toBeLessThanOrEqual(8 * HOUR); // capped

    clock.time = t0 + 25 * DAY + HOUR; // less than a sixth of the lifetime left
    const warned = await scheduler.tick();
    expect(warned.expiring).toEqual([serial]);
    clock.time += HOUR;
    expect((await scheduler.tick()).expiring).toEqual([]);
    const expiring = await certEvents(nats.url, "mcp.cert.expiring");
    expect(expiring.filter((e) => e.data.serial === serial)).toEqual([
      expect.objectContaining({
        subject: "www.example.org",
        data: expect.objectContaining({ hostname: "www.example.org" }),
      }),
    ]);
    expect(expiring.at(-1)!.data.daysLeft).toBeLessThan(5);
    store.close();
  });
});

describe("renewal in the running process", () => {
  it("renews a 6-second certificate by itself and replaces its files", async () => {
    const broker = await setupBroker({
      natsUrl: nats.url,
      config: { certificates: 'lifetime = "6s"\nrenew_jitter = 0', renewal: 'interval = "200ms"' },
    });
    const app = await broker.start();
    try {
      const first = await broker.client(broker.tokens.agent).issueCertificate({
        service: "short",
        hostnames: ["short.svc.mcp.metacircular.net"],
      });
      const serial = first.certificate!.serial;
      const issuedAt = Date.now();
      const event = await waitFor("mcp.cert.renewed", async () =>
        (await certEvents(nats.url, "mcp.cert.renewed")).find((e) => e.data.previousSerial === serial),
      );
      // Not before two thirds of the 6 s lifetime (the check runs every 200 ms).
      expect(Date.now() - issuedAt).toBeGreaterThan(3000);
      const file = readFileSync(`${broker.certDir}/short.svc.mcp.metacircular.net.pem`, "utf8");
      const current = await broker
        .client(broker.tokens.admin)
        .getCertificate({ serial: String(event.data.serial) });
      expect(file).toBe(current.certPem);
    } finally {
      await app.stop();
      broker.cleanup();
    }
  });
});
