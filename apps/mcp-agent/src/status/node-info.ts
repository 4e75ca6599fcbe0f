// What GetNodeInfo reports: the machine, the agent, podman and the registry's counts.
import { readFileSync } from "node:fs";
import { availableParallelism, freemem, hostname, totalmem } from "node:os";
import type { PortRange } from "../ports/local-range.js";
import type { Podman } from "../runtime/podman.js";
import type { Registry } from "../store/registry.js";
import type { StatusReader } from "./observe.js";

export interface NodeInfo {
  name: string;
  hostname: string;
  agentVersion: string;
  os: string;
  arch: string;
  podmanVersion: string;
  cpuCount: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  agentStartTime: Date;
  portRange: PortRange;
  leasedPortCount: number;
  serviceCount: number;
  runningContainerCount: number;
  eventsConnected: boolean;
}

export interface NodeContext {
  name: string;
  startTime: Date;
  portRange: PortRange;
  registry: Registry;
  podman: Podman;
  status: StatusReader;
  eventsConnected: () => boolean;
}

const AGENT_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function nodeInfo(context: NodeContext): Promise<NodeInfo> {
  const [podmanVersion, running] = await Promise.all([
    context.podman.version().catch(() => "unavailable"),
    context.status.runningContainers().catch(() => 0),
  ]);
  return {
    name: context.name,
    hostname: hostname(),
    agentVersion: AGENT_VERSION,
    os: process.platform,
    arch: process.arch,
    podmanVersion,
    cpuCount: availableParallelism(),
    memoryTotalBytes: totalmem(),
    memoryAvailableBytes: freemem(),
    agentStartTime: context.startTime,
    portRange: context.portRange,
    leasedPortCount: context.registry.leases.count(),
    serviceCount: context.registry.services.count(),
    runningContainerCount: running,
    eventsConnected: context.eventsConnected(),
  };
}
