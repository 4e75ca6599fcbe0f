// Recognising the NATS client's errors, so callers get EventsErrors that say what to do.
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

export function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

export function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === "TimeoutError";
}

/** "jetstream is not enabled" is also what a publish to a subject no stream stores reports. */
export function isNoStream(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === "JetStreamNotEnabled" || err.message.includes("no responders"))
  );
}
