/** What went wrong on the event bus. */
export type EventsErrorCode =
  /** An event type (NATS subject) that is not a valid `mcp.*` type. */
  | "INVALID_TYPE"
  /** A subscription or replay filter that is not a valid subject pattern under `mcp.`. */
  | "INVALID_FILTER"
  /** Event data that is not a plain JSON object. */
  | "INVALID_DATA"
  /** Options that contradict each other or are out of range. */
  | "INVALID_OPTIONS"
  /** NATS could not be reached (the message names the server URLs). */
  | "UNREACHABLE"
  /** NATS refused the credentials (token). */
  | "UNAUTHORIZED"
  /** The NATS server has no JetStream, or no stream stores `mcp.>` yet. */
  | "NO_JETSTREAM"
  /** The stream or a durable consumer exists with settings that cannot be changed in place. */
  | "CONFLICT"
  /** JetStream did not acknowledge a publish. */
  | "PUBLISH_FAILED"
  /** A message in the stream is not an `mcp.events.v1.Event`. */
  | "BAD_ENVELOPE"
  /** A subscription handler threw; the event will be delivered again. */
  | "HANDLER_FAILED"
  /** The bus was closed. */
  | "CLOSED";

/** An error from mcdsl/events: `code` for programs, `message` for people. */
export class EventsError extends Error {
  override name = "EventsError";
  constructor(
    readonly code: EventsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
