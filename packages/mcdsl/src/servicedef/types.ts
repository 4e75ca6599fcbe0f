/**
 * A service definition after validation: every default filled, every derived value (port
 * variables, hostnames, health timings) computed, so the CLI and the agent read the same thing.
 */
export interface ServiceDefinition {
  name: string;
  /** The node that runs it; undefined lets the CLI use its default node. */
  node?: string;
  /** False keeps the definition but does not run it (default true). */
  active: boolean;
  /** Working path under the agent's service root (relative). */
  path?: string;
  build?: BuildSpec;
  components: ComponentSpec[];
}

/** How the service's images are built (`mcp build`); the agent ignores it. */
export interface BuildSpec {
  /** Build context directory, relative to the definition's path. */
  context?: string;
  /** The Containerfile of a single-image service. */
  containerfile?: string;
  /** The image tag a single-image build produces. */
  image?: string;
  /** Image name → Containerfile, for services with several images (`[build.images]`). */
  images: Record<string, string>;
  /** The service's code uses mcdsl (kept from the v1 format). */
  usesMcdsl: boolean;
}

export interface ComponentSpec {
  name: string;
  image: string;
  volumes: VolumeMount[];
  /** The container command; `$PORT`/`$PORT_<ROUTE>` in it are the agent's to expand. */
  cmd: string[];
  env: Record<string, string>;
  /** Undefined: the agent's default (`mcpnet`). */
  network?: string;
  /** Undefined: the agent's default (`0:0`). */
  user?: string;
  /** Undefined: the agent's default (`unless-stopped`). */
  restart?: string;
  /** Legacy fixed port mappings; a component has these or routes, never both. */
  ports: PortMapping[];
  routes: RouteSpec[];
  health: HealthCheck;
}

export interface RouteSpec {
  name: string;
  /** The port mc-proxy listens on for this route. */
  port: number;
  /** l7: mc-proxy terminates TLS; l4: TLS passes through to the container. */
  mode: "l4" | "l7";
  /** The optional public hostname as written. */
  hostname?: string;
  /** Every name the route serves: `<service>.<domain>` first, then the public one. */
  hostnames: string[];
  /** The variable that carries the leased host port: `PORT` for a lone route, else `PORT_<NAME>`. */
  portVariable: string;
}

export interface VolumeMount {
  /** As written, for podman's -v and for export. */
  spec: string;
  /** Absolute host path or named volume. */
  source: string;
  target: string;
  options: string[];
}

export interface PortMapping {
  /** As written, for podman's -p and for export. */
  spec: string;
  hostIp?: string;
  /** Undefined: podman picks one. */
  hostPort?: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
}

export interface HealthCheck {
  /** tcp: connect; http: GET `path` expecting 2xx/3xx; none: running counts as healthy. */
  kind: "tcp" | "http" | "none";
  /** HTTP path (kind http). */
  path?: string;
  /** The route whose leased port is probed (components with routes). */
  route?: string;
  /** The host port probed (components with legacy ports). */
  hostPort?: number;
  /** Probes back off from 50 ms up to this interval. */
  intervalMs: number;
  /** Per-probe timeout. */
  timeoutMs: number;
  /** Give up (and roll back) when not healthy by then. */
  deadlineMs: number;
}

/** The platform's service domain: each service is `<name>.svc.mcp.metacircular.net`. */
export const DEFAULT_SERVICE_DOMAIN = "svc.mcp.metacircular.net";

/** DESIGN.md section 5: 1 s interval cap, 5 s per probe, 30 s deadline. */
export const DEFAULT_HEALTH = { intervalMs: 1000, timeoutMs: 5000, deadlineMs: 30_000 } as const;
