// What both L7 exchanges (HTTP/1.1 and HTTP/2 clients) do when a backend request fails: count and
// log it, choose the client's answer, and decide whether the request may be sent once more.
import type { ProxyContext } from "./context.js";
import { HeadError } from "./http1/message-head.js";
import { backendFailure } from "./metrics.js";

/** Safe to send twice: a request that failed on a pooled connection the backend had closed. */
const RETRIABLE = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT"]);

export interface FailureAnswer {
  status: 502 | 504;
  body: string;
}

/** Counts and logs the failure; the client gets 504 when the backend was too slow, else 502. */
export function recordFailure(
  ctx: ProxyContext,
  route: string,
  backend: string,
  err: NodeJS.ErrnoException | HeadError,
): FailureAnswer {
  // A backend speaking malformed HTTP counts as unreachable: it cannot be talked to.
  const reason = err instanceof HeadError ? "unreachable" : backendFailure(err);
  ctx.metrics.backendErrors.inc({ route, reason });
  ctx.logger.warn({ route, backend, err: err.message }, "backend request failed");
  return reason === "timeout"
    ? { status: 504, body: "gateway timeout: the backend did not answer in time\n" }
    : { status: 502, body: "bad gateway: the backend is unreachable\n" };
}

/**
 * A request that failed on a reused keep-alive connection before any byte of an answer (the
 * backend closed it as we sent) may go once more on a new connection, if it has no body and an
 * idempotent method.
 */
export function mayResend(
  method: string,
  hasBody: boolean,
  reusedConnection: boolean,
  answerStarted: boolean,
): boolean {
  return reusedConnection && !answerStarted && !hasBody && RETRIABLE.has(method);
}
