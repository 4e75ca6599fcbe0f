// Reads back what the broker published, from the real nats-server.
import { connectEvents, type McpEvent } from "@mcp/mcdsl/events";

export async function certEvents(
  natsUrl: string,
  filter = "mcp.cert.>",
): Promise<McpEvent<Record<string, unknown>>[]> {
  const bus = await connectEvents({
    servers: [natsUrl],
    name: "test-reader",
    app: "test",
    node: "test-node",
  });
  try {
    const seen: McpEvent<Record<string, unknown>>[] = [];
    for await (const event of bus.replay({ fromSequence: 1, filter })) {
      seen.push(event as McpEvent<Record<string, unknown>>);
    }
    return seen;
  } finally {
    await bus.close();
  }
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
