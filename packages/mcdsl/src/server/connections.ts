import type { Http2Session, Http2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { NodeRequest, NodeResponse } from "./http-types.js";

/**
 * Knows every open connection and what speaks on it, so close() can drain gracefully: HTTP/2 sessions
 * get a GOAWAY and finish their streams; HTTP/1.1 sockets close once their request is answered; the
 * rest is destroyed when the timeout runs out. An HTTP/2 session with no stream open for
 * `idleSessionMs` is closed (GOAWAY) too, as Node's HTTP/1.1 server closes an idle keep-alive
 * connection: otherwise anyone able to connect could hold connections (file descriptors) forever.
 */
export class ConnectionTracker {
  constructor(private readonly idleSessionMs = 120_000) {}

  private readonly sockets = new Set<Socket>();
  private readonly undecided = new Set<Socket>();
  /** HTTP/1.1 sockets (plain or TLS) and how many requests each is answering. */
  private readonly h1 = new Map<Socket, number>();
  private readonly sessions = new Set<Http2Session>();
  private closing = false;
  private onEmpty: (() => void) | undefined;

  get isClosing(): boolean {
    return this.closing;
  }

  /** Every accepted TCP or Unix socket, from its 'connection' event. */
  addSocket(socket: Socket, undecided = false): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    if (undecided) this.undecided.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.undecided.delete(socket);
      if (this.sockets.size === 0) this.onEmpty?.();
    });
  }

  decided(socket: Socket): void {
    this.undecided.delete(socket);
  }

  addHttp1Socket(socket: Socket): void {
    if (this.h1.has(socket)) return;
    this.h1.set(socket, 0);
    socket.once("close", () => this.h1.delete(socket));
  }

  addSession(session: Http2Session): void {
    this.sessions.add(session);
    if (this.closing) session.close();
    // Counted by streams, not frames: a quiet watch stream keeps its session, PINGs do not.
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      idle = setTimeout(() => session.close(), this.idleSessionMs);
      idle.unref();
    };
    session.on("stream", (stream: Http2Stream) => {
      open++;
      clearTimeout(idle);
      stream.once("close", () => {
        open--;
        if (open === 0 && !session.closed) arm();
      });
    });
    session.once("close", () => {
      clearTimeout(idle);
      this.sessions.delete(session);
    });
    arm();
  }

  /** Called for each HTTP/1.1 request, before it is handled. */
  http1Request(req: NodeRequest, res: NodeResponse): void {
    const socket = req.socket as Socket;
    this.addHttp1Socket(socket);
    this.h1.set(socket, (this.h1.get(socket) ?? 0) + 1);
    if (this.closing) res.setHeader("connection", "close");
    res.once("close", () => {
      const left = (this.h1.get(socket) ?? 1) - 1;
      this.h1.set(socket, left);
      if (this.closing && left === 0) socket.destroySoon();
    });
  }

  /**
   * Stops work on every connection gracefully; resolves true when all closed in time, false when the
   * timeout forced the rest closed (after `beforeForce` ran, so handlers can see an abort first).
   */
  async drain(timeoutMs: number, beforeForce: () => void): Promise<boolean> {
    this.closing = true;
    for (const socket of this.undecided) socket.destroy();
    for (const session of this.sessions) session.close();
    for (const [socket, active] of this.h1) if (active === 0) socket.destroySoon();
    if (this.sockets.size === 0) return true;
    const empty = new Promise<boolean>((resolve) => {
      this.onEmpty = () => resolve(true);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const graceful = await Promise.race([empty, timeout]);
    clearTimeout(timer);
    if (!graceful) {
      beforeForce();
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    }
    return graceful;
  }
}
