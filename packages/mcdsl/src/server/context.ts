import { type ContextValues, createContextKey } from "@connectrpc/connect";
import type { Logger } from "pino";

/** Per-request facts shared between the HTTP layer and the interceptors, for the request log line. */
export interface RequestInfo {
  requestId: string;
  /** A child logger bound to the request id. */
  logger: Logger;
  /** "package.Service/Method", once an RPC is known. */
  procedure?: string;
  /** The RPC's outcome as a Connect code string ("ok", "not_found", …). */
  code?: string;
}

export const requestInfoKey = createContextKey<RequestInfo | undefined>(undefined, {
  description: "request",
});

type Ctx = { values: ContextValues } | ContextValues;
const values = (ctx: Ctx) => ("values" in ctx ? ctx.values : ctx);

/** The request id of the call (from `x-request-id` or generated); undefined outside serve(). */
export function getRequestId(ctx: Ctx): string | undefined {
  return values(ctx).get(requestInfoKey)?.requestId;
}

/** A logger whose lines carry the call's request id; undefined outside serve(). */
export function getRequestLogger(ctx: Ctx): Logger | undefined {
  return values(ctx).get(requestInfoKey)?.logger;
}
