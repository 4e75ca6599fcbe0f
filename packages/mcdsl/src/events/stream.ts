import { type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { EventsError, reasonOf } from "./errors.js";
import { isNotFound } from "./nats-errors.js";

export const STREAM_NAME = "MCP_EVENTS";
export const STREAM_SUBJECTS = ["mcp.>"];

export interface StreamOptions {
  /** How long events are kept (default 30 days). */
  maxAgeMs?: number;
  /**
   * How long a message id is remembered for de-duplication (default 1 hour, not JetStream's 2
   * minutes): an outbox sends an event again after an outage or a restart, and one JetStream had
   * stored (its ack lost) is kept once if that comes within the window. Events here are few (a
   * deploy's steps, record and certificate changes), so the ids remembered cost little.
   */
  duplicateWindowMs?: number;
  /** Copies in a NATS cluster (default 1). */
  replicas?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What ensureStream did. */
export type StreamOutcome = "created" | "updated" | "unchanged";

/**
 * Creates the MCP_EVENTS stream (subjects mcp.>, file storage, limits retention) or brings an
 * existing one to these settings. Age, de-duplication window, replicas and subjects are changed in
 * place; storage and retention cannot be, so a stream that differs there is refused, not recreated
 * (recreating would drop every stored event).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  options: StreamOptions = {},
): Promise<StreamOutcome> {
  const maxAgeMs = options.maxAgeMs ?? 30 * DAY_MS;
  const duplicateWindowMs = options.duplicateWindowMs ?? 60 * 60 * 1000;
  const replicas = options.replicas ?? 1;
  if (!(maxAgeMs > 0) || !(duplicateWindowMs > 0) || duplicateWindowMs > maxAgeMs) {
    throw new EventsError(
      "INVALID_OPTIONS",
      `stream ${STREAM_NAME}: maxAgeMs (${maxAgeMs}) and duplicateWindowMs (${duplicateWindowMs}) must be > 0, ` +
        "and the window no longer than the age",
    );
  }
  const wanted = {
    subjects: STREAM_SUBJECTS,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
  };

  let existing: StreamConfig;
  try {
    existing = (await jsm.streams.info(STREAM_NAME)).config;
  } catch (err) {
    if (!isNotFound(err)) throw streamError("read", err);
    try {
      await jsm.streams.add({
        name: STREAM_NAME,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        ...wanted,
      });
      return "created";
    } catch (addErr) {
      // Another process created it between our info and add: fall through to the comparison.
      existing = await jsm.streams.info(STREAM_NAME).then(
        (i) => i.config,
        () => Promise.reject(streamError("create", addErr)),
      );
    }
  }

  if (existing.storage !== StorageType.File || existing.retention !== RetentionPolicy.Limits) {
    throw new EventsError(
      "CONFLICT",
      `stream ${STREAM_NAME} exists with ${existing.storage} storage and ${existing.retention} retention; ` +
        "mcp needs file storage and limits retention, which NATS cannot change in place: back up and " +
        `remove it (nats stream rm ${STREAM_NAME}) to let it be recreated`,
    );
  }
  const same =
    existing.subjects?.length === 1 &&
    existing.subjects[0] === STREAM_SUBJECTS[0] &&
    existing.max_age === wanted.max_age &&
    existing.duplicate_window === wanted.duplicate_window &&
    existing.num_replicas === wanted.num_replicas;
  if (same) return "unchanged";
  try {
    await jsm.streams.update(STREAM_NAME, { ...existing, ...wanted });
    return "updated";
  } catch (err) {
    throw streamError("update", err);
  }
}

function streamError(action: string, err: unknown): EventsError {
  return new EventsError("CONFLICT", `cannot ${action} stream ${STREAM_NAME}: ${reasonOf(err)}`, {
    cause: err,
  });
}
