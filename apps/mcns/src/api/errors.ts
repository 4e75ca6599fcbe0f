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

/** Runs `fn`, turning a RecordError into the ConnectError with its code, and a locked database into Unavailable. */
export function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RecordError) throw new ConnectError(err.message, codes[err.code]);
    if (String((err as { code?: unknown }).code).startsWith("SQLITE_BUSY")) {
      throw new ConnectError(
        "the record database is locked by another process (an offline `mcns import`?); nothing changed: retry",
        Code.Unavailable,
      );
    }
    throw err;
  }
}
