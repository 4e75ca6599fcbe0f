// The route model in plain TypeScript: what the store keeps, the data plane serves and the API shows.

export type RouteMode = "l4" | "l7";

export interface Backend {
  /** "host:port", e.g. "127.0.0.1:10423" or "[::1]:10423". */
  address: string;
  /** Relative share of new connections (at least 1). */
  weight: number;
}

export interface DrainingBackend extends Backend {
  /** When the backend's remaining connections are closed. */
  deadline: Date;
}

export interface CertificateRef {
  certFile: string;
  keyFile: string;
  /** cert-broker's serial (hex), when known. */
  serial: string;
}

export interface Route {
  id: string;
  listenerPort: number;
  /** Lower case, matched exactly against the client's SNI. */
  hostname: string;
  mode: RouteMode;
  backends: Backend[];
  /** L7 routes only. */
  certificate?: CertificateRef;
  owner: string;
  /** From the bootstrap file: the API cannot change or remove it. */
  bootstrap: boolean;
  proxyProtocol: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What a caller supplies to add a route (the store assigns id, times and the bootstrap mark). */
export type RouteSpec = Omit<Route, "id" | "bootstrap" | "createdAt" | "updatedAt">;

/** Why a route operation was refused; the API maps the code to a Connect code. */
export type RouteErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "UNAVAILABLE";

export class RouteError extends Error {
  constructor(
    readonly code: RouteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RouteError";
  }
}

export const backendKey = (backends: readonly Backend[]): string =>
  backends.map((b) => (b.weight === 1 ? b.address : `${b.address}*${b.weight}`)).join(",");
