import type { JsonObject } from "@bufbuild/protobuf";
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type OrderedConsumerOptions,
} from "@nats-io/jetstream";
import { decodeEvent, type McpEvent } from "./envelope.js";
import { EventsError } from "./errors.js";
import { isNotFound } from "./nats-errors.js";
import { STREAM_NAME } from "./stream.js";
import { validateFilter } from "./subjects.js";
import { reportToStderr } from "./subscribe.js";

export interface ReplayOptions {
  /** Start at this stream sequence (inclusive). Default: the oldest stored event. */
  fromSequence?: number;
  /** Start at the first event stored at or after this time. */
  fromTime?: Date;
  /** Which events (default "mcp.>"). */
  filter?: string;
  /** Keep waiting for new events instead of ending at the last one stored when replay began. */
  follow?: boolean;
  /** Told about unreadable messages, which are skipped (default: a line on stderr). */
  onError?: (error: EventsError) => void;
}

/**
 * Past events in stream order, through an ordered consumer (ephemeral, no acks, recreated by the
 * client if a message goes missing). Without `follow` it ends at the stream's last sequence as of
 * the call. Breaking out of the loop releases the consumer.
 */
export async function* replayEvents<T = JsonObject>(
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: ReplayOptions = {},
): AsyncGenerator<McpEvent<T>> {
  const { fromSequence, fromTime, follow = false } = options;
  const filter = options.filter ?? "mcp.>";
  const report = options.onError ?? reportToStderr;
  validateFilter(filter);
  if (fromSequence !== undefined && fromTime !== undefined) {
    throw new EventsError("INVALID_OPTIONS", "replay: give fromSequence or fromTime, not both");
  }
  if (fromSequence !== undefined && !(Number.isInteger(fromSequence) && fromSequence >= 1)) {
    throw new EventsError(
      "INVALID_OPTIONS",
      `replay: fromSequence must be a whole number ≥ 1, got ${fromSequence}`,
    );
  }

  // No stream yet (no app has connected since NATS started empty): no events so far; a follower
  // waits for the stream to be made.
  let stored = await storedUpTo(jsm);
  if (follow) {
    while (stored === undefined) {
      await new Promise((r) => setTimeout(r, 500));
      stored = await storedUpTo(jsm);
    }
  }
  const lastSequence = follow ? Number.POSITIVE_INFINITY : (stored ?? 0);
  if (lastSequence === 0 || (fromSequence ?? 1) > lastSequence) return;

  const start: Partial<OrderedConsumerOptions> = {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.All,
  };
  if (fromSequence !== undefined) {
    Object.assign(start, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSequence });
  } else if (fromTime !== undefined) {
    Object.assign(start, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: fromTime.toISOString() });
  }
  const consumer = await js.consumers.get(STREAM_NAME, start);
  const messages = await consumer.consume();
  try {
    if (!follow) {
      // Nothing matches from the start point: end now instead of waiting for a message that will not come.
      const info = await consumer.info();
      if (info.num_pending === 0 && info.delivered.consumer_seq === 0) return;
    }
    for await (const m of messages) {
      if (m.seq > lastSequence) return;
      let event: McpEvent<JsonObject> | undefined;
      try {
        event = decodeEvent(m.data, m.seq);
      } catch (err) {
        // Skip a message that is not an event: the rest of the stream is still worth reading.
        report(err as EventsError);
      }
      if (event) yield event as McpEvent<T>;
      if (!follow && (m.seq >= lastSequence || m.info.pending === 0)) return;
    }
  } finally {
    messages.stop();
  }
}

/** The stream's last sequence, or undefined when there is no stream. */
async function storedUpTo(jsm: JetStreamManager): Promise<number | undefined> {
  try {
    return (await jsm.streams.info(STREAM_NAME)).state.last_seq;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
