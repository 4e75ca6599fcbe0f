// The edge between apps and the wire. Apps see McpEvent (plain TS); NATS carries the
// mcp.events.v1.Event message as its canonical protobuf JSON, readable with `nats sub`.
import { create, fromJsonString, type JsonObject, toJsonString } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Event, EventSchema } from "@mcp/proto/mcp/events/v1/event_pb.js";
import { EventsError, reasonOf } from "./errors.js";

export interface EventSource {
  /** The app, e.g. "mcp-agent". */
  app: string;
  /** The node it runs on. */
  node: string;
}

/** One event, as apps handle it. */
export interface McpEvent<T = JsonObject> {
  /** ULID: unique, sorts by time; also the JetStream message id (de-duplication). */
  id: string;
  time: Date;
  source: EventSource;
  /** The NATS subject, e.g. "mcp.deploy.hello.completed". */
  type: string;
  /** What the event is about when it cannot be a subject token: a hostname, a record name. */
  subject?: string;
  /** Set on every event of a deploy saga. */
  deployId?: string;
  data: T;
  /** The JetStream stream sequence; set on events read back, absent on the way out. */
  sequence?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(event: McpEvent<JsonObject>): Uint8Array {
  const message = create(EventSchema, {
    id: event.id,
    time: timestampFromDate(event.time),
    source: event.source,
    type: event.type,
    subject: event.subject ?? "",
    deployId: event.deployId ?? "",
    data: event.data,
  });
  return encoder.encode(toJsonString(EventSchema, message));
}

/** Reads a stored message back; `sequence` comes from JetStream, not from the payload. */
export function decodeEvent(payload: Uint8Array, sequence: number): McpEvent<JsonObject> {
  const text = decoder.decode(payload);
  let message: Event;
  try {
    // Unknown fields are skipped: a newer publisher may add some.
    message = fromJsonString(EventSchema, text, { ignoreUnknownFields: true });
  } catch (err) {
    throw badEnvelope(sequence, `${reasonOf(err)}: ${text.slice(0, 200)}`);
  }
  if (!message.id || !message.type || !message.time) {
    throw badEnvelope(sequence, `it lacks ${!message.id ? "an id" : !message.type ? "a type" : "a time"}`);
  }
  const event: McpEvent<JsonObject> = {
    id: message.id,
    time: timestampDate(message.time),
    source: { app: message.source?.app ?? "", node: message.source?.node ?? "" },
    type: message.type,
    data: message.data ?? {},
    sequence,
  };
  if (message.subject) event.subject = message.subject;
  if (message.deployId) event.deployId = message.deployId;
  return event;
}

function badEnvelope(sequence: number, why: string): EventsError {
  return new EventsError("BAD_ENVELOPE", `stream message ${sequence} is not an mcp.events.v1.Event: ${why}`);
}
