// A listener that could not be opened, said for people ("cannot listen on 127.0.0.1:9093: address
// already in use"), with what it was (TCP or the Unix socket) so that the app can name its key.

const REASONS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports under 1024 need privileges)",
  EADDRNOTAVAIL: "no interface of this machine has that address",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve (yet)",
  ENOENT: "its directory does not exist",
};

export class ListenError extends Error {
  constructor(
    readonly kind: "tcp" | "socket",
    readonly address: string,
    readonly code: string,
    reason: string,
  ) {
    super(`cannot listen on ${address}: ${reason}`);
    this.name = "ListenError";
  }

  static from(kind: "tcp" | "socket", address: string, err: NodeJS.ErrnoException): ListenError {
    const code = err.code ?? "LISTEN";
    return new ListenError(kind, address, code, REASONS[code] ?? err.message);
  }
}
