import { type JsonObject, type JsonValue, toJson } from "@bufbuild/protobuf";
import { Code, type ContextValues } from "@connectrpc/connect";
import { BodyTooLargeError, readBody, refuseTooLarge } from "../body.js";
import { type NodeRequest, type NodeResponse, requestHeaders, sendJson } from "../http-types.js";
import { nestsTooDeep, tooDeepMessage } from "../json-depth.js";
import { invokeUnary } from "./invoke.js";
import { BadRequestError, buildRequest } from "./request.js";
import { matchRoute, type RestRoute } from "./routes.js";
import { httpStatusFromCode } from "./status.js";

export interface RestHandlerOptions {
  routes: RestRoute[];
  maxRequestBytes: number;
}

/** Handles a REST request; returns false when no route's path matches (the caller answers 404). */
export type RestHandler = (req: NodeRequest, res: NodeResponse, contextValues: ContextValues) => boolean;

// Response headers that belong to the in-process Connect exchange, not to the REST answer.
const dropResponseHeaders = /^(content-|connect-|trailer-|grpc-)/;

function sendError(res: NodeResponse, status: number, code: string, message: string, headers = {}) {
  sendJson(res, status, { code, message }, headers);
}

// JSON, or no type, or curl's default for `-d` (form-encoded), so `curl -d '{…}'` works as typed.
function isJson(contentType: string | undefined): boolean {
  return (
    contentType === undefined ||
    /^application\/([\w.+-]*\+)?json\b/i.test(contentType) ||
    /^application\/x-www-form-urlencoded\b/i.test(contentType)
  );
}

export function createRestHandler(options: RestHandlerOptions): RestHandler {
  return (req, res, contextValues) => {
    const url = new URL(req.url ?? "/", "http://rest.invalid");
    let match: ReturnType<typeof matchRoute>;
    try {
      match = matchRoute(options.routes, (req.method ?? "GET").toUpperCase(), url.pathname);
    } catch {
      sendError(res, 400, "invalid_argument", `malformed percent-encoding in path ${url.pathname}`);
      return true;
    }
    if (!match) return false;
    if (!match.route) {
      const allow = [...new Set(match.allowed)].join(", ");
      sendError(
        res,
        405,
        "unimplemented",
        `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`,
        {
          allow,
        },
      );
      return true;
    }
    void serveRoute(match.route, match.pathVariables, url, req, res, contextValues, options.maxRequestBytes);
    return true;
  };
}

async function serveRoute(
  route: RestRoute,
  pathVariables: Map<string, string>,
  url: URL,
  req: NodeRequest,
  res: NodeResponse,
  contextValues: ContextValues,
  maxRequestBytes: number,
): Promise<void> {
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  try {
    let body: JsonValue | undefined;
    if (route.bodyField !== "") {
      const bytes = await readBody(req, maxRequestBytes);
      if (bytes.length > 0) {
        if (!isJson(req.headers["content-type"])) {
          sendError(res, 415, "invalid_argument", `request body must be application/json`);
          return;
        }
        if (nestsTooDeep(bytes)) {
          sendError(res, 400, "invalid_argument", tooDeepMessage);
          return;
        }
        try {
          body = JSON.parse(bytes.toString("utf8"));
        } catch (err) {
          sendError(
            res,
            400,
            "invalid_argument",
            `request body is not valid JSON: ${(err as Error).message}`,
          );
          return;
        }
      }
    } else {
      req.resume(); // no body expected: drain whatever came
    }
    const input = buildRequest(route.handler.method.input, {
      pathVariables,
      query: url.searchParams,
      body,
      bodyField: route.bodyField,
    });
    const result = await invokeUnary(route.handler, input, requestHeaders(req), contextValues, abort.signal);
    const headers: Record<string, string> = {};
    result.header.forEach((value, name) => {
      if (!dropResponseHeaders.test(name)) headers[name] = value;
    });
    if (!result.ok) {
      sendJson(res, httpStatusFromCode(result.code), result.error, headers);
      return;
    }
    const json = toJson(route.handler.method.output, result.message, {
      alwaysEmitImplicit: true,
    }) as JsonObject;
    const field = route.handler.method.output.fields.find((f) => f.name === route.responseBody);
    sendJson(res, 200, field ? json[field.jsonName] : json, headers);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      refuseTooLarge(req, res, err);
    } else if (err instanceof BadRequestError) {
      sendError(res, 400, "invalid_argument", err.message);
    } else {
      sendError(
        res,
        httpStatusFromCode(Code.Internal),
        "internal",
        `REST transcoding failed: ${String(err)}`,
      );
    }
  }
}
