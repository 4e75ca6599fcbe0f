// Connect's JSON protocol refuses a bad request body in protobuf's words ("cannot decode enum
// mcproxy.v1.RouteMode from JSON: \"l5\""): a type, not a place in the body. REST callers get
// "route.mode: \"l5\" is not one of: ROUTE_MODE_L4, ROUTE_MODE_L7" (rest/json-error.ts); this gives
// callers of the Connect JSON protocol (buf curl, curl -d, a browser) the same. The body is read
// here, within the same limit, and handed to Connect as the same bytes, so it decodes as before;
// only a decode refusal is reworded, and only when the body says where the fault is.
import type { DescMethod } from "@bufbuild/protobuf";
import type {
  UniversalHandler,
  UniversalServerRequest,
  UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { BodyTooLargeError, readBody, refuseTooLarge } from "./body.js";
import type { NodeRequest, NodeResponse } from "./http-types.js";
import { explainMessage } from "./rest/json-error.js";

/** A unary call in the Connect protocol with a JSON body Connect would read itself (not compressed). */
export function isConnectUnaryJson(req: NodeRequest, handler: UniversalHandler): boolean {
  const type = req.headers["content-type"] ?? "";
  return (
    req.method === "POST" &&
    handler.method.methodKind === "unary" &&
    /^application\/json(;|$)/i.test(type) &&
    req.headers["content-encoding"] === undefined
  );
}

/**
 * Reads the body (answering 413 itself when it is over `limit`, as Connect's own limit would
 * refuse it); undefined when the answer is sent.
 */
export async function readConnectJsonBody(
  req: NodeRequest,
  res: NodeResponse,
  limit: number,
): Promise<Buffer | undefined> {
  try {
    return await readBody(req, limit);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    refuseTooLarge(req, res, err);
    return undefined;
  }
}

/** Runs `handler` on the body read above; a refused decode is reworded to name the field. */
export async function callWithJsonBody(
  handler: UniversalHandler,
  request: UniversalServerRequest,
  body: Buffer,
): Promise<UniversalServerResponse> {
  const response = await handler({ ...request, body: asyncOf(body) });
  if (response.status !== 400) return response;
  const bytes = await collect(response.body);
  const reworded = reword(handler.method, bytes, body);
  if (reworded === undefined) return { ...response, body: asyncOf(bytes) };
  const header = new Headers(response.header);
  header.set("content-length", String(reworded.byteLength));
  return { ...response, header, body: asyncOf(reworded) };
}

function reword(method: DescMethod, errorBytes: Uint8Array, body: Buffer): Uint8Array | undefined {
  let error: { code?: string; message?: string };
  let json: unknown;
  try {
    error = JSON.parse(new TextDecoder().decode(errorBytes));
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined; // not JSON (Connect said so already)
  }
  // A compressed answer does not parse above; neither does a refusal other than a decode.
  if (error.code !== "invalid_argument" || !error.message?.startsWith("cannot decode")) return undefined;
  let explained: string | undefined;
  try {
    explained = explainMessage(method.input, json as Parameters<typeof explainMessage>[1]);
  } catch {
    return undefined; // Connect's own words, rather than none
  }
  if (explained === undefined) return undefined;
  return new TextEncoder().encode(JSON.stringify({ ...error, message: explained }));
}

async function collect(body: UniversalServerResponse["body"]): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

async function* asyncOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
