// Errors from the apps a deploy calls (MCNS, cert-broker, mc-proxy), as plain values: which peer,
// what it was asked, the Connect code, and its message. The API passes the code on to the caller
// (PermissionDenied from cert-broker's policy stays PermissionDenied), so the CLI can say why.
import { Code, ConnectError } from "@connectrpc/connect";

export type Peer = "mcns" | "cert-broker" | "mc-proxy";

export class PeerError extends Error {
  readonly peer: Peer;
  readonly code: Code;
  /** The peer's own message, without Connect's "[code]" prefix. */
  readonly reason: string;

  constructor(peer: Peer, action: string, code: Code, reason: string) {
    super(`${peer}: ${action}: ${reason}`);
    this.name = "PeerError";
    this.peer = peer;
    this.code = code;
    this.reason = reason;
  }

  /** The connection was refused (or the socket is missing): the call never reached the peer. */
  get notDelivered(): boolean {
    return this.code === Code.Unavailable && /ECONNREFUSED|ENOENT/.test(this.reason);
  }

  /** A peer that cannot be reached (or timed out) rather than one that refused. */
  get unreachable(): boolean {
    return this.code === Code.Unavailable || this.code === Code.DeadlineExceeded;
  }
}

/** Runs one call of a peer, turning its failure into a PeerError naming the action. */
export async function callPeer<T>(peer: Peer, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const connect = ConnectError.from(err);
    // connect-node reports a refused TCP connection as Unavailable but a missing Unix socket as
    // Internal: both mean the peer is not there.
    const unreachable = /ECONNREFUSED|ENOENT|ECONNRESET|EHOSTUNREACH/.test(connect.rawMessage);
    const code = unreachable ? Code.Unavailable : connect.code;
    const reason = unreachable ? `unreachable (${connect.rawMessage})` : connect.rawMessage;
    throw new PeerError(peer, action, code, reason);
  }
}

/** Whether a peer error means "the thing is already gone" (idempotent deletes). */
export function isNotFound(err: unknown): boolean {
  return err instanceof PeerError && err.code === Code.NotFound;
}
