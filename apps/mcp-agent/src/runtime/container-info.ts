// podman's JSON (inspect, ps) read into plain types: only the fields the agent uses, with podman's
// zero values ("0001-01-01…", null lists) turned into undefined and empty lists.
import type { PublishedPort } from "./container-spec.js";

/** podman's container states folded into the registry's observed states. */
export type ContainerState = "running" | "stopped" | "created" | "paused";

export interface ContainerInfo {
  id: string;
  name: string;
  /** The image as named at create ("localhost/hello:1"). */
  image: string;
  imageId: string;
  state: ContainerState;
  /** podman's own status word: running, exited, created, paused, stopping, … */
  status: string;
  exitCode: number;
  startedAt?: Date;
  finishedAt?: Date;
  restartCount: number;
  labels: Record<string, string>;
  cmd: string[];
  env: Record<string, string>;
  user: string;
  restartPolicy: string;
  networks: string[];
  ports: PublishedPort[];
  /** "source:target[:ro]" as podman's -v would take it. */
  volumes: string[];
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  status: string;
  exitCode: number;
  startedAt?: Date;
  labels: Record<string, string>;
  ports: PublishedPort[];
}

export function foldState(status: string): ContainerState {
  switch (status) {
    case "running":
    case "stopping":
      return "running";
    case "created":
    case "configured":
    case "initialized":
      return "created";
    case "paused":
      return "paused";
    default:
      return "stopped"; // exited, stopped, dead, removing
  }
}

/** One element of `podman inspect --type container --format json`. */
export function readInspect(raw: InspectJson): ContainerInfo {
  const status = raw.State?.Status ?? "unknown";
  return {
    id: raw.Id,
    name: raw.Name,
    image: raw.ImageName ?? raw.Config?.Image ?? "",
    imageId: raw.Image ?? "",
    state: foldState(status),
    status,
    exitCode: raw.State?.ExitCode ?? 0,
    startedAt: readTime(raw.State?.StartedAt),
    finishedAt: readTime(raw.State?.FinishedAt),
    restartCount: raw.RestartCount ?? 0,
    labels: raw.Config?.Labels ?? {},
    cmd: raw.Config?.Cmd ?? [],
    env: Object.fromEntries(
      (raw.Config?.Env ?? []).map((e) => {
        const eq = e.indexOf("=");
        return eq < 0 ? [e, ""] : [e.slice(0, eq), e.slice(eq + 1)];
      }),
    ),
    user: raw.Config?.User ?? "",
    restartPolicy: raw.HostConfig?.RestartPolicy?.Name || "no",
    networks: Object.keys(raw.NetworkSettings?.Networks ?? {}),
    ports: Object.entries(raw.HostConfig?.PortBindings ?? {}).flatMap(([key, bindings]) => {
      const [port, protocol] = key.split("/");
      return (bindings ?? []).map((b) => ({
        hostIp: b.HostIp || undefined,
        hostPort: b.HostPort ? Number(b.HostPort) : undefined,
        containerPort: Number(port),
        protocol: (protocol ?? "tcp") as PublishedPort["protocol"],
      }));
    }),
    volumes: (raw.Mounts ?? []).map(
      (m) =>
        `${m.Type === "volume" ? (m.Name ?? m.Source) : m.Source}:${m.Destination}${m.RW === false ? ":ro" : ""}`,
    ),
  };
}

/** One element of `podman ps --all --format json`. */
export function readSummary(raw: PsJson): ContainerSummary {
  return {
    id: raw.Id,
    name: raw.Names?.[0] ?? "",
    image: raw.Image ?? "",
    state: foldState(raw.State ?? "unknown"),
    status: raw.State ?? "unknown",
    exitCode: raw.ExitCode ?? 0,
    startedAt: raw.StartedAt && raw.StartedAt > 0 ? new Date(raw.StartedAt * 1000) : undefined,
    labels: raw.Labels ?? {},
    ports: (raw.Ports ?? []).flatMap((p) =>
      Array.from({ length: p.range ?? 1 }, (_, i) => ({
        hostIp: p.host_ip || undefined,
        hostPort: p.host_port + i,
        containerPort: p.container_port + i,
        protocol: (p.protocol ?? "tcp") as PublishedPort["protocol"],
      })),
    ),
  };
}

function readTime(value: string | undefined): Date | undefined {
  if (!value || value.startsWith("0001-")) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export interface InspectJson {
  Id: string;
  Name: string;
  ImageName?: string;
  Image?: string;
  RestartCount?: number;
  State?: { Status?: string; ExitCode?: number; StartedAt?: string; FinishedAt?: string };
  Config?: {
    Image?: string;
    Cmd?: string[] | null;
    Env?: string[] | null;
    User?: string;
    Labels?: Record<string, string> | null;
  };
  HostConfig?: {
    RestartPolicy?: { Name?: string };
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  };
  NetworkSettings?: { Networks?: Record<string, unknown> | null };
  Mounts?: { Type?: string; Name?: string; Source: string; Destination: string; RW?: boolean }[] | null;
}

export interface PsJson {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
  ExitCode?: number;
  StartedAt?: number;
  Labels?: Record<string, string> | null;
  Ports?:
    | { host_ip?: string; host_port: number; container_port: number; range?: number; protocol?: string }[]
    | null;
}
