import { type NodeRequest, type NodeResponse, sendJson } from "./http-types.js";

/** The request body exceeds the configured limit: HTTP 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the limit of ${limit} bytes`);
  }
}

/**
 * Reads a request body up to `limit` bytes. Refuses early from Content-Length; otherwise stops reading
 * as soon as the limit is passed (the caller answers with refuseTooLarge).
 */
export function readBody(req: NodeRequest, limit: number): Promise<Buffer> {
  const early = declaresTooLarge(req, limit);
  if (early) return Promise.reject(early);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading without destroying the request: destroying it would close an HTTP/1.1 socket
        // before the 413 answer goes out.
        cleanup();
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** What a client may still send after its body was refused, read and dropped before closing. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 30_000;

/**
 * Answers 413 to a body over the limit, then reads and drops what the client still sends (up to
 * 64 MiB or 30 s, as nginx's lingering close): closing with the body unread made the kernel reset
 * the connection, and a client still sending then saw "connection reset" or EPIPE instead of the
 * answer. A client done sending keeps its connection.
 */
export function refuseTooLarge(req: NodeRequest, res: NodeResponse, err: BodyTooLargeError): void {
  sendJson(res, 413, { code: "resource_exhausted", message: err.message });
  let left = LINGER_BYTES;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, LINGER_MS).unref();
  req.on("data", (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) cut();
  });
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  req.resume();
}

/** A request whose Content-Length is over `limit`, asked to confirm before sending it (Expect: 100-continue). */
export function declaresTooLarge(req: NodeRequest, limit: number): BodyTooLargeError | undefined {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  return declared > limit ? new BodyTooLargeError(limit) : undefined;
}

/**
 * A request asking to confirm before sending its body (Expect: 100-continue): one declared over
 * `limit` gets its 413 at once and sends nothing (curl asks so for bodies over 1 MiB); the rest
 * get 100 Continue and go to `handle`. The connection closes after a 413 (RFC 9110 10.1.1: the
 * body was never sent, so nothing is left to read and the next bytes would be ambiguous).
 */
export function confirmContinue(
  req: NodeRequest,
  res: NodeResponse,
  limit: number,
  handle: (req: NodeRequest, res: NodeResponse) => void,
): void {
  const tooLarge = declaresTooLarge(req, limit);
  if (!tooLarge) {
    res.writeContinue();
    handle(req, res);
    return;
  }
  const close: Record<string, string> = req.httpVersionMajor === 1 ? { connection: "close" } : {};
  sendJson(res, 413, { code: "resource_exhausted", message: tooLarge.message }, close);
}
