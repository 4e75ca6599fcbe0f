import type { JsonObject } from "@bufbuild/protobuf";
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { decodeEvent, type McpEvent } from "./envelope.js";
import { EventsError, reasonOf } from "./errors.js";
import { isNotFound } from "./nats-errors.js";
import { STREAM_NAME } from "./stream.js";
import { validateFilter } from "./subjects.js";

/** Where a new durable consumer starts; ignored once it exists (it resumes where it left off). */
export type DeliverFrom = "all" | "new" | { fromSequence: number } | { fromTime: Date };

export interface SubscribeOptions<T = JsonObject> {
  /** The consumer's name, [A-Za-z0-9_-]+, stable across restarts, e.g. "mcproxy-cert-renewals". */
  durable: string;
  /** Which events, e.g. "mcp.cert.renewed" or "mcp.deploy.*.failed" (default "mcp.>"). */
  filter?: string;
  /** Resolving acknowledges the event; throwing has it delivered again after a delay. */
  handler: (event: McpEvent<T>) => Promise<void> | void;
  deliver?: DeliverFrom;
  /** How long an unacknowledged event waits before redelivery (default 30 s): longer than any handler. */
  ackWaitMs?: number;
  /** Give up on an event after this many deliveries (default: never). */
  maxDeliver?: number;
  /** Delay before redelivering an event whose handler threw, by attempt (default 1 s, doubling to 60 s). */
  retryDelayMs?: (attempt: number) => number;
  /** Told about handler failures and unreadable messages (default: a line on stderr). */
  onError?: (error: EventsError) => void;
}

export interface Subscription {
  readonly durable: string;
  /** Stops taking events and waits for the handler in progress (its event is acked or naked as usual). */
  stop(): Promise<void>;
}

const DURABLE = /^[A-Za-z0-9_-]+$/;
// One event per pull. The client issues the next pull only once the handler is done, so stop() never
// leaves fetched-but-unhandled events behind (they would wait out the ack wait). Naking them at stop
// instead is unsafe: nats-server 2.9 then loses or duplicates them once the pull's inbox is gone.
const BATCH = 1;

export const defaultRetryDelay = (attempt: number) => Math.min(1_000 * 2 ** (attempt - 1), 60_000);
export const reportToStderr = (error: EventsError) => {
  process.stderr.write(`mcdsl/events: ${error.message}\n`);
};

export async function subscribeEvents<T = JsonObject>(
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: SubscribeOptions<T>,
): Promise<Subscription> {
  const { durable, handler } = options;
  const filter = options.filter ?? "mcp.>";
  const retryDelay = options.retryDelayMs ?? defaultRetryDelay;
  const report = options.onError ?? reportToStderr;
  if (typeof durable !== "string" || !DURABLE.test(durable)) {
    throw new EventsError("INVALID_OPTIONS", `durable consumer name "${durable}" is not [A-Za-z0-9_-]+`);
  }
  validateFilter(filter);

  await ensureConsumer(jsm, durable, filter, options);
  const consumer = await js.consumers.get(STREAM_NAME, durable);
  const messages = await consumer.consume({ max_messages: BATCH });
  let stopping = false;

  const handle = async (m: JsMsg) => {
    let event: McpEvent<JsonObject>;
    try {
      event = decodeEvent(m.data, m.seq);
    } catch (err) {
      report(err as EventsError);
      m.term(); // redelivering a message that cannot be read would not help
      return;
    }
    try {
      await handler(event as McpEvent<T>);
    } catch (err) {
      const attempt = m.info.deliveryCount;
      const last =
        options.maxDeliver !== undefined && options.maxDeliver > 0 && attempt >= options.maxDeliver;
      const delay = retryDelay(attempt);
      report(
        new EventsError(
          "HANDLER_FAILED",
          `consumer ${durable}: handling ${event.type} #${m.seq} (attempt ${attempt}) failed: ${reasonOf(err)}; ` +
            (last ? `giving up after ${attempt} attempts (maxDeliver)` : `retrying in ${delay} ms`),
          { cause: err },
        ),
      );
      if (last) m.term();
      else m.nak(delay);
      return;
    }
    // Wait for the server to confirm the ack: once the handler succeeded, the event must not come back.
    await m.ackAck().catch((err) => {
      report(
        new EventsError("HANDLER_FAILED", `consumer ${durable}: ack of #${m.seq} failed: ${reasonOf(err)}`),
      );
    });
  };

  const loop = (async () => {
    try {
      for await (const m of messages) {
        if (stopping) break; // not handled, not acked: redelivered after the ack wait
        await handle(m);
      }
    } catch (err) {
      report(new EventsError("CLOSED", `consumer ${durable} stopped: ${reasonOf(err)}`, { cause: err }));
    }
  })();

  return {
    durable,
    async stop() {
      stopping = true;
      messages.stop();
      await loop;
    },
  };
}

/** Creates the durable consumer, or checks that the existing one reads the same events. */
async function ensureConsumer<T>(
  jsm: JetStreamManager,
  durable: string,
  filter: string,
  options: SubscribeOptions<T>,
): Promise<void> {
  const tunable = {
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? -1,
  };
  let existing: ConsumerConfig;
  try {
    existing = (await jsm.consumers.info(STREAM_NAME, durable)).config;
  } catch (err) {
    if (!isNotFound(err)) {
      throw new EventsError(
        "NO_JETSTREAM",
        `consumer ${durable}: ${reasonOf(err)} (was ensureStream() called?)`,
        {
          cause: err,
        },
      );
    }
    await jsm.consumers.add(STREAM_NAME, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: filter,
      ...startAt(options.deliver ?? "all"),
      ...tunable,
    });
    return;
  }
  if ((existing.filter_subject ?? "") !== filter) {
    throw new EventsError(
      "CONFLICT",
      `durable consumer ${durable} exists with filter "${existing.filter_subject}", not "${filter}"; ` +
        `use another name, or remove it (nats consumer rm ${STREAM_NAME} ${durable}) to start over`,
    );
  }
  if (existing.ack_wait !== tunable.ack_wait || existing.max_deliver !== tunable.max_deliver) {
    await jsm.consumers.update(STREAM_NAME, durable, tunable);
  }
}

function startAt(from: DeliverFrom): Partial<ConsumerConfig> {
  if (from === "all") return { deliver_policy: DeliverPolicy.All };
  if (from === "new") return { deliver_policy: DeliverPolicy.New };
  if ("fromSequence" in from)
    return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.fromSequence };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.fromTime.toISOString() };
}
