// Runs one component of a service definition with podman the way the agent does (DESIGN.md
// section 4): its user, network, environment and cmd; a leased port per route published as
// 127.0.0.1:<port>:<port> and handed over as $PORT / $PORT_<ROUTE>; legacy ports published on
// free loopback ports instead of the node's; each volume's host folder replaced by a test folder.
// Not the agent: the test of the saga is the agent's. This checks that a definition and its image
// fit together (ports, listen addresses, paths, users).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ComponentSpec } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { type Container, runContainer } from "./podman.js";

export interface RunningComponent {
  container: Container;
  /** The port the agent's health check would probe, on 127.0.0.1. */
  probePort: number;
  /** host port by container port and protocol, e.g. "5353/udp" → 40123 */
  published: Map<string, number>;
}

/** `hostDir(source)` gives the test folder standing in for a volume's host folder. */
export async function runLikeAgent(
  service: string,
  component: ComponentSpec,
  hostDir: (source: string) => string,
): Promise<RunningComponent> {
  const args: string[] = [];
  if (component.user) args.push("--user", component.user);
  if (component.network) args.push("--network", component.network);
  for (const [key, value] of Object.entries(component.env)) args.push("-e", `${key}=${value}`);
  for (const volume of component.volumes) {
    const source = hostDir(volume.source);
    args.push(
      "-v",
      [source, volume.target, ...(volume.options.length ? [volume.options.join(",")] : [])].join(":"),
    );
  }
  const leased = new Map<string, number>();
  const cmd = [...component.cmd];
  for (const route of component.routes) {
    const port = await freePort();
    leased.set(route.name, port);
    args.push("-e", `${route.portVariable}=${port}`);
    if (component.network !== "host") args.push("-p", `127.0.0.1:${port}:${port}`);
    for (let i = 0; i < cmd.length; i += 1)
      cmd[i] = (cmd[i] ?? "").replaceAll(`$${route.portVariable}`, String(port));
  }
  const published = new Map<string, number>();
  const byHostPort = new Map<number, number>();
  for (const mapping of component.ports) {
    const original = mapping.hostPort ?? mapping.containerPort;
    const port = byHostPort.get(original) ?? (await freePort());
    byHostPort.set(original, port);
    published.set(`${mapping.containerPort}/${mapping.protocol}`, port);
    args.push("-p", `127.0.0.1:${port}:${mapping.containerPort}/${mapping.protocol}`);
  }
  const container = await runContainer(`${service}-${component.name}`, component.image, args, cmd);
  const health = component.health;
  const probePort = health.route
    ? (leased.get(health.route) as number)
    : health.hostPort !== undefined
      ? (byHostPort.get(health.hostPort) as number)
      : 0;
  return { container, probePort, published };
}

/** A function for runLikeAgent's `hostDir`: every host folder becomes a folder under `root` (made). */
export function under(root: string): (source: string) => string {
  return (source) => {
    const dir = join(root, source.replaceAll("/", "_"));
    mkdirSync(dir, { recursive: true });
    return dir;
  };
}
