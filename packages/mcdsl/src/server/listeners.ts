import { chmodSync, lstatSync, readFileSync, unlinkSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import { confirmContinue } from "./body.js";
import type { ConnectionTracker } from "./connections.js";
import type { NodeRequest, NodeResponse } from "./http-types.js";
import { ListenError } from "./listen-error.js";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle for client certificates; with `requireClientCert`, clients must present one it signed. */
  caFile?: string;
  requireClientCert?: boolean;
}

type Handler = (req: NodeRequest, res: NodeResponse) => void;

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Reads the first bytes of a cleartext connection until they either are the HTTP/2 connection preface
 * or cannot be, puts them back, and reports which it was.
 */
function sniffHttp2(socket: net.Socket, timeoutMs: number, decide: (isHttp2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onReadable = () => {
    for (let chunk = socket.read(); chunk !== null; chunk = socket.read())
      seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, preface.length);
    const looksLikeHttp2 = seen.subarray(0, n).equals(preface.subarray(0, n));
    if (looksLikeHttp2 && seen.length < preface.length) return; // need more bytes to be sure
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.unshift(seen);
    decide(looksLikeHttp2);
  };
  socket.on("readable", onReadable);
  socket.once("close", () => clearTimeout(timer));
}

/** The HTTP/1.1 and HTTP/2 (h2c) servers that cleartext listeners hand their connections to. */
export interface CleartextServers {
  http1: http.Server;
  http2: http2.Http2Server;
}

export function createCleartextServers(
  handler: Handler,
  tracker: ConnectionTracker,
  maxRequestBytes: number,
): CleartextServers {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    tracker.http1Request(req, res);
    handler(req, res);
  };
  const http1 = http.createServer(onRequest);
  http1.on("checkContinue", (req, res) =>
    confirmContinue(req, res, maxRequestBytes, () => onRequest(req, res)),
  );
  const h2 = http2.createServer({}, handler);
  h2.on("checkContinue", (req, res) => confirmContinue(req, res, maxRequestBytes, handler));
  h2.on("session", (session) => tracker.addSession(session));
  return { http1, http2: h2 };
}

/** A listener for cleartext connections (TCP or Unix) that serves HTTP/1.1 and h2c on the same socket. */
export function createCleartextListener(
  servers: CleartextServers,
  tracker: ConnectionTracker,
  sniffTimeoutMs: number,
): net.Server {
  return net.createServer((socket) => {
    socket.on("error", () => socket.destroy()); // resets before a protocol is chosen must not crash us
    tracker.addSocket(socket, true);
    sniffHttp2(socket, sniffTimeoutMs, (isHttp2) => {
      tracker.decided(socket);
      if (isHttp2) {
        servers.http2.emit("connection", socket);
      } else {
        tracker.addHttp1Socket(socket);
        servers.http1.emit("connection", socket);
      }
    });
  });
}

/** A TLS listener: ALPN picks h2 or http/1.1. */
export function createTlsListener(
  tls: TlsFiles,
  handler: Handler,
  tracker: ConnectionTracker,
  maxRequestBytes: number,
): http2.Http2SecureServer {
  const onRequest = (req: NodeRequest, res: NodeResponse) => {
    if (req.httpVersionMajor === 1) tracker.http1Request(req, res);
    handler(req, res);
  };
  const server = http2.createSecureServer(
    {
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ...(tls.caFile ? { ca: readFileSync(tls.caFile), requestCert: true } : {}),
      rejectUnauthorized: tls.requireClientCert ?? false,
      allowHTTP1: true,
    },
    onRequest,
  );
  server.on("checkContinue", (req, res) => confirmContinue(req, res, maxRequestBytes, onRequest));
  server.on("connection", (socket: net.Socket) => tracker.addSocket(socket));
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.alpnProtocol !== "h2") tracker.addHttp1Socket(socket);
  });
  server.on("session", (session) => tracker.addSession(session));
  return server;
}

/**
 * Removes a Unix socket file left by a process that is gone. Refuses to touch a path that is not a
 * socket, or a socket something still answers on.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`cannot listen on ${path}: it exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) throw new ListenError("socket", path, "EADDRINUSE", "another process is serving on it");
  unlinkSync(path);
}

export function listen(
  server: net.Server,
  target: { host: string; port: number } | { path: string },
): Promise<void> {
  const address =
    "path" in target
      ? target.path
      : `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) =>
      reject(ListenError.from("path" in target ? "socket" : "tcp", address, err));
    server.once("error", fail);
    const done = () => {
      server.off("error", fail);
      resolve();
    };
    if ("path" in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}

export function setSocketMode(path: string, mode: number): void {
  chmodSync(path, mode);
}
