// Connect transports to the agent's peers: TCP with a bearer token read from a file (MCNS,
// cert-broker), or mc-proxy's Unix socket (no token: the socket's mode is the access control).
// HTTP/1.1 Connect protocol: every peer's mcdsl server speaks it, and it needs no h2 session.
import { readFileSync } from "node:fs";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerTokenInterceptor } from "@mcp/mcdsl/auth";

/** Per-call time limit: a peer that hangs fails the step instead of the deploy waiting forever. */
export const PEER_TIMEOUT_MS = 15_000;

export function tcpTransport(url: string, tokenFile: string | undefined, what: string): Transport {
  let token: string | undefined;
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      throw new Error(`${what} token_file ${tokenFile}: ${(err as Error).message}`);
    }
    if (!token) throw new Error(`${what} token_file ${tokenFile} is empty`);
  }
  return createConnectTransport({
    baseUrl: url,
    httpVersion: "1.1",
    defaultTimeoutMs: PEER_TIMEOUT_MS,
    interceptors: token ? [bearerTokenInterceptor(token)] : [],
  });
}

export function socketTransport(socketPath: string): Transport {
  return createConnectTransport({
    baseUrl: "http://localhost",
    httpVersion: "1.1",
    defaultTimeoutMs: PEER_TIMEOUT_MS,
    nodeOptions: { socketPath },
  });
}
