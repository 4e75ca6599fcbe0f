import type { JetStreamClient } from "@nats-io/jetstream";
import { isValid as isUlid, monotonicFactory } from "ulidx";
import { type EventSource, encodeEvent } from "./envelope.js";
import { EventsError, reasonOf } from "./errors.js";
import { toJsonObject } from "./json-data.js";
import { isNoStream, isTimeout } from "./nats-errors.js";
import { validateEventType } from "./subjects.js";

export interface PublishOptions {
  /** What the event is about when it cannot be a subject token: a hostname, a record name. */
  subject?: string;
  deployId?: string;
  /**
   * Re-publishing an event recorded earlier (e.g. from a journal after a crash)? Pass its id and
   * time: within the stream's de-duplication window JetStream stores it once.
   */
  id?: string;
  time?: Date;
  /** How long to wait for JetStream's acknowledgement per attempt (default 5 s). */
  timeoutMs?: number;
}

export interface Published {
  id: string;
  /** The stream sequence JetStream stored the event at. */
  sequence: number;
  /** True if JetStream already had an event with this id (it was not stored twice). */
  duplicate: boolean;
}

// Monotonic: two events of one process in the same millisecond still sort in publishing order.
const ulid = monotonicFactory();

// A lost acknowledgement is retried with the same message id, so JetStream stores the event once.
const ATTEMPTS = 3;

export async function publishEvent(
  js: JetStreamClient,
  source: EventSource,
  type: string,
  data: unknown,
  options: PublishOptions = {},
): Promise<Published> {
  validateEventType(type);
  const id = options.id ?? ulid();
  if (!isUlid(id)) throw new EventsError("INVALID_OPTIONS", `event ${type}: id "${id}" is not a ULID`);
  const payload = encodeEvent({
    id,
    time: options.time ?? new Date(),
    source,
    type,
    subject: options.subject,
    deployId: options.deployId,
    data: toJsonObject(type, data),
  });
  try {
    const ack = await js.publish(type, payload, {
      msgID: id,
      timeout: options.timeoutMs ?? 5_000,
      retries: ATTEMPTS,
    });
    return { id, sequence: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (isNoStream(err)) {
      throw new EventsError(
        "NO_JETSTREAM",
        `event ${type} was not stored: no JetStream stream takes it (is JetStream enabled, and was ensureStream() called?)`,
        { cause: err },
      );
    }
    const why = isTimeout(err) ? `no acknowledgement after ${ATTEMPTS} attempts` : reasonOf(err);
    throw new EventsError("PUBLISH_FAILED", `event ${type} (${id}) was not stored: ${why}`, { cause: err });
  }
}
