import { Code, ConnectError, type ContextValues, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ulid } from "ulidx";
import { identityKey } from "../auth/identity.js";
import { callWithJsonBody, isConnectUnaryJson, readConnectJsonBody } from "./connect-json.js";
import { type RequestInfo, requestInfoKey } from "./context.js";
import { type NodeRequest, type NodeResponse, sendJson, sendText } from "./http-types.js";
import { nestsTooDeep, tooDeepMessage } from "./json-depth.js";
import type { RestHandler } from "./rest/handler.js";
import { cutStalled } from "./stall-timeout.js";

export interface RequestHandlerOptions {
  connectHandlers: UniversalHandler[];
  rest: RestHandler;
  registry: Registry;
  logger: Logger;
  /** Whether the server wants traffic (false while starting or draining). */
  ready: () => Promise<boolean>;
  /** A call stalled this long (HTTP/2: body incomplete; both: response not taken) is cut (stall-timeout.ts). */
  stallTimeoutMs: number;
  /** The largest request body read (Connect's readMaxBytes and REST's limit). */
  maxRequestBytes: number;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const probePaths = new Set(["/healthz", "/readyz", "/metrics"]);

function protocolOf(contentType: string | undefined, isRpc: boolean): string {
  if (!isRpc) return "rest";
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/**
 * The one request listener behind every listener: request id and log line, probes and metrics,
 * Connect/gRPC/gRPC-Web procedures, then REST routes.
 */
export function createRequestHandler(
  options: RequestHandlerOptions,
): (req: NodeRequest, res: NodeResponse) => void {
  const rpcByPath = new Map(options.connectHandlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const started = performance.now();
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && requestIdPattern.test(header) ? header : ulid();
    res.setHeader("x-request-id", requestId);
    const logger = options.logger.child({ requestId });
    const info: RequestInfo = { requestId, logger };
    const contextValues = createContextValues().set(requestInfoKey, info);
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const rpc = rpcByPath.get(path);
    cutStalled(req, res, options.stallTimeoutMs);

    res.once("close", () => {
      const line = {
        method: req.method,
        path,
        status: res.statusCode,
        protocol: protocolOf(req.headers["content-type"], rpc !== undefined),
        httpVersion: req.httpVersion,
        procedure: info.procedure,
        code: info.code,
        identity: contextValues.get(identityKey)?.name,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        aborted: !res.writableEnded || undefined,
      };
      if (probePaths.has(path)) logger.debug(line, "probe");
      else if (res.statusCode >= 500 || (info.code && /internal|unknown|data_loss/.test(info.code)))
        logger.error(line, "request");
      else logger.info(line, "request");
    });

    if (probePaths.has(path) && (req.method === "GET" || req.method === "HEAD")) {
      void serveProbe(path, res, options);
      return;
    }
    if (rpc) {
      serveRpc(req, res, rpc, contextValues, options.maxRequestBytes).catch((err) => {
        if (ConnectError.from(err).code === Code.Aborted) return; // the client went away
        logger.error({ err, procedure: info.procedure }, "handler failed");
        // Not left waiting: a failure before any answer is an internal error, said so.
        sendJson(res, 500, { code: "internal", message: "internal error" });
      });
      return;
    }
    if (options.rest(req, res, contextValues)) return;
    sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${path}` });
  };
}

async function serveRpc(
  req: NodeRequest,
  res: NodeResponse,
  rpc: UniversalHandler,
  contextValues: ContextValues,
  maxRequestBytes: number,
): Promise<void> {
  const uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
  let uRes: UniversalServerResponse;
  if (isConnectUnaryJson(req, rpc)) {
    // Read here so that a refused decode can name the field (connect-json.ts).
    const body = await readConnectJsonBody(req, res, maxRequestBytes);
    if (body === undefined) return;
    if (nestsTooDeep(body)) return sendJson(res, 400, { code: "invalid_argument", message: tooDeepMessage });
    uRes = await callWithJsonBody(rpc, uReq, body);
  } else {
    uRes = await rpc(uReq);
  }
  await universalResponseToNodeResponse(uRes, res);
}

async function serveProbe(path: string, res: NodeResponse, options: RequestHandlerOptions): Promise<void> {
  if (path === "/healthz") {
    sendText(res, 200, "ok\n");
  } else if (path === "/readyz") {
    let ready = false;
    let why = "not ready";
    try {
      ready = await options.ready();
    } catch (err) {
      why = `readiness check failed: ${(err as Error).message}`;
    }
    sendText(res, ready ? 200 : 503, ready ? "ready\n" : `${why}\n`);
  } else {
    try {
      sendText(res, 200, await options.registry.metrics(), options.registry.contentType);
    } catch (err) {
      sendText(res, 500, `metrics failed: ${(err as Error).message}\n`);
    }
  }
}
