// Record rule errors as Connect codes, at the API's edge.
import { Code, ConnectError } from "@connectrpc/connect";
import { RecordError, type RecordErrorCode } from "../records/errors.js";

const codes: Record<RecordErrorCode, Code> = {
  invalid: Code.InvalidArgument,
  not_found: Code.NotFound,
  conflict: Code.AlreadyExists,
  not_owner: Code.FailedPrecondition,
};

/** Runs `fn`, turning a RecordError into the ConnectError with its code. */
export function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RecordError) throw new ConnectError(err.message, codes[err.code]);
    throw err;
  }
}
