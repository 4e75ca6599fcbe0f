import { readFileSync } from "node:fs";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerTokenInterceptor } from "@mcp/mcdsl/auth";
import { CliError } from "../errors.js";
import type { Target } from "./endpoints.js";

/**
 * A Connect client for one API: the Connect protocol over HTTP/1.1 (unary and server streams,
 * through any proxy; HTTP/2 with `streaming`, as client streams need it), TLS trusting `ca_file`
 * for https addresses, the bearer token when there is one, and errors that name the API when it
 * cannot be reached.
 */
export function connectClient<S extends DescService>(
  service: S,
  target: Target,
  options: { streaming?: boolean } = {},
): Client<S> {
  const interceptors: Interceptor[] = [unreachableNamesTarget(target)];
  if (target.token) interceptors.push(bearerTokenInterceptor(target.token));
  const https = target.address.startsWith("https:");
  return createClient(
    service,
    createConnectTransport({
      baseUrl: target.address,
      httpVersion: options.streaming ? "2" : "1.1",
      interceptors,
      nodeOptions: https && target.caFile ? { ca: readCa(target.caFile) } : undefined,
    }),
  );
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ca_file ${file}: ${(error as Error).message}`);
  }
}

/** "cannot reach mcns at http://…: connect ECONNREFUSED …", for unary calls and streams alike. */
function unreachableNamesTarget(target: Target): Interceptor {
  const describe = (error: unknown): unknown => {
    const e = ConnectError.from(error);
    if (e.code !== Code.Unavailable || e.rawMessage.startsWith("cannot reach")) return error;
    return new ConnectError(
      `cannot reach the ${target.label} at ${target.address}: ${e.rawMessage}`,
      e.code,
      e.metadata,
      undefined,
      e.cause,
    );
  };
  return (next) => async (request) => {
    try {
      const response = await next(request);
      if (!response.stream) return response;
      const messages = response.message;
      return {
        ...response,
        message: (async function* () {
          try {
            yield* messages;
          } catch (error) {
            throw describe(error);
          }
        })(),
      };
    } catch (error) {
      throw describe(error);
    }
  };
}

/** A Connect error for people: "permission denied: identity 'x' lacks role 'admin' …". */
export function describeConnectError(error: ConnectError): string {
  const words = (Code[error.code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  const hint =
    error.code === Code.Unauthenticated ? " (store a token with `mcp login`, or set token_file)" : "";
  return error.code === Code.Unavailable
    ? `${error.rawMessage}${hint}`
    : `${words}: ${error.rawMessage}${hint}`;
}
