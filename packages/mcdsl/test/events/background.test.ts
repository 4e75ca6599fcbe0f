// The bus every app uses connects in the background. Setting up JetStream right after the
// connection can fail for a moment (NATS going down again, or too slow under load: a timeout);
// the bus tried once and then ran without events until the process restarted, its outbox growing.
// Now it tries again until JetStream answers, saying why each time.
import { describe, expect, it } from "vitest";
import { connectEventsInBackground } from "../../src/events/index.js";
import { freePort, startNatsServer } from "../../src/testing/index.js";

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${condition}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("connectEventsInBackground", () => {
  it("keeps setting up JetStream until it answers, then publishes", async () => {
    const port = await freePort();
    // A NATS without JetStream first: connected, but no JetStream to set up.
    const plain = await startNatsServer({ port, jetstream: false });
    const setbacks: string[] = [];
    let linked = false;
    const bus = connectEventsInBackground(
      { servers: `nats://127.0.0.1:${port}`, name: "t", app: "a", node: "n" },
      (err, retrying) => {
        if (err && retrying) setbacks.push(`${err.code}: ${err.message}`);
        else if (!err) linked = true;
      },
    );
    let js: Awaited<ReturnType<typeof startNatsServer>> | undefined;
    try {
      await until(() => setbacks.length > 0);
      expect(setbacks[0]).toMatch(
        /^NO_JETSTREAM: NATS at nats:\/\/127\.0\.0\.1:\d+ does not offer JetStream/,
      );
      expect(bus.connected).toBe(false);
      // The operator restarts it with JetStream on the same port.
      await plain.stop();
      js = await startNatsServer({ port });
      await until(() => linked, 20_000);
      expect(bus.connected).toBe(true);
      const published = await bus.publish("mcp.test.ping", { ok: true });
      expect(published.sequence).toBeGreaterThan(0);
    } finally {
      await bus.close();
      await js?.stop();
      await plain.stop();
    }
  });

  it("stops trying when closed before JetStream answered", async () => {
    const plain = await startNatsServer({ jetstream: false });
    const setbacks: string[] = [];
    const bus = connectEventsInBackground(
      { servers: plain.url, name: "t", app: "a", node: "n" },
      (err, retrying) => {
        if (err && retrying) setbacks.push(err.code);
      },
    );
    try {
      await until(() => setbacks.length > 0);
      await bus.close();
      const after = setbacks.length;
      await new Promise((r) => setTimeout(r, 2_000)); // past the next retry
      expect(setbacks.length).toBe(after);
    } finally {
      await plain.stop();
    }
  });
});
