// Record rule errors as Connect codes, at the API's edge.
import { Code, ConnectError } from "@connectrpc/connect";
import { RecordError, type RecordErrorCode } from "../records/errors.js";

const codes: Record<RecordErrorCode, Code> = {
  invalid: Code.InvalidArgument,
  not_found: Code.NotFound,
  conflict: Code.AlreadyExists,
  not_owner: Code.FailedPrecondition,
  unserved: Code.FailedPrecondition,
};

/** How long a change waits for another process's write lock before it is Unavailable. */
export const LOCK_WAIT_MS = 1000;

const isLocked = (err: unknown) => String((err as { code?: unknown }).code).startsWith("SQLITE_BUSY");

/** A RecordError as the ConnectError with its code, a locked database as Unavailable; others as they are. */
export function forClient(err: unknown): unknown {
  if (err instanceof RecordError) return new ConnectError(err.message, codes[err.code]);
  if (isLocked(err)) {
    return new ConnectError(
      "the record database is locked by a zone import (ImportZone, or an offline `mcns import`); nothing changed: retry",
      Code.Unavailable,
    );
  }
  return err;
}

/** Runs `fn`, its errors turned into ConnectErrors (forClient). */
export function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw forClient(err);
  }
}

/**
 * `run` for a change, on a store that fails at once when another process holds the write lock
 * (`failFastWhenLocked`): tries again after 5, 10, 20… ms (at most 100) until `waitMs` has passed,
 * answering DNS in between, where SQLite's own wait would have blocked the event loop. A locked
 * try changed nothing (the lock is taken before the first write), so trying again is safe.
 */
export async function runWhenUnlocked<T>(fn: () => T, waitMs = LOCK_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(2 * pause, 100)) {
    try {
      return fn();
    } catch (err) {
      if (!isLocked(err) || Date.now() >= deadline) throw forClient(err);
    }
    const left = Math.max(1, deadline - Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
  }
}
