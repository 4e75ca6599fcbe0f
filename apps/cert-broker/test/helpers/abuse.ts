// Shared by the abuse-*.test.ts suites: one broker per file, what a hostile client gets back, and
// whether the files a hostname publishes belong together.
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { type AppProcess, type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll } from "vitest";
import { type BrokerSetup, type SetupOptions, setupBroker } from "./broker-process.js";

/** The ConnectError a call failed with; fails the test when the call succeeds. */
export async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

/**
 * The serial of the certificate published for `hostname` in `certDir`, after checking that the
 * leaf, the chain's first certificate and the key are one certificate and its key.
 */
export function publishedSerial(certDir: string, hostname: string): string {
  const leafPem = readFileSync(join(certDir, `${hostname}.pem`), "utf8");
  const chainPem = readFileSync(join(certDir, `${hostname}.chain.pem`), "utf8");
  const keyPem = readFileSync(join(certDir, `${hostname}.key`), "utf8");
  const leaf = new X509Certificate(leafPem);
  if (!chainPem.startsWith(leafPem.trimEnd())) {
    throw new Error(`${hostname}.chain.pem does not start with ${hostname}.pem`);
  }
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  if (!fromKey.equals(leaf.publicKey.export({ type: "spki", format: "der" }))) {
    throw new Error(`${hostname}.key is not the key of ${hostname}.pem`);
  }
  return leaf.serialNumber.toLowerCase();
}

/** The broker a suite runs against; `app` changes when a test restarts it. */
export interface RunningBroker {
  broker: BrokerSetup;
  app: AppProcess;
  /** Only with `{ nats: true }`. */
  nats?: NatsServer;
}

/**
 * Sets up and starts one broker for the whole file (beforeAll), with a nats-server of its own when
 * asked, and stops and removes them after.
 */
export function brokerForSuite(
  options: Omit<SetupOptions, "natsUrl"> & { nats?: boolean } = {},
): RunningBroker {
  const running = {} as RunningBroker;
  beforeAll(async () => {
    if (options.nats) running.nats = await startNatsServer();
    running.broker = await setupBroker({ ...options, natsUrl: running.nats?.url });
    running.app = await running.broker.start();
  });
  afterAll(async () => {
    await running.app?.stop();
    await running.nats?.stop();
    running.broker?.cleanup();
  });
  return running;
}
