// From a component of a service definition and its leased ports to the container podman creates:
// the agent's defaults filled in, `$PORT`/`$PORT_<ROUTE>` set in the environment and expanded in
// cmd, each leased port published as 127.0.0.1:<port>:<port> (the app listens on the port it is
// told), and the labels that tie the container to its service, component and deploy.
import type { ComponentSpec } from "@mcp/mcdsl/servicedef";
import { agentLabels } from "./labels.js";
import { expandPortVariables, PortVariableError } from "./port-variables.js";

/** What podman is asked to create. Plain data: podman.ts turns it into arguments. */
export interface ContainerSpec {
  name: string;
  image: string;
  network: string;
  user: string;
  restart: string;
  /** podman -v specs: "source:target[:options]". */
  volumes: string[];
  cmd: string[];
  env: Record<string, string>;
  publish: PublishedPort[];
  labels: Record<string, string>;
  /** Seconds podman waits after SIGTERM before SIGKILL on stop. */
  stopTimeoutS?: number;
}

export interface PublishedPort {
  hostIp?: string;
  hostPort?: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
}

/** The agent's defaults for what a definition leaves out (DESIGN.md section 4). */
export interface ContainerDefaults {
  network: string;
  user: string;
  restart: string;
  stopTimeoutS?: number;
}

export const DEFAULT_CONTAINER_DEFAULTS: ContainerDefaults = {
  network: "mcpnet",
  user: "0:0",
  restart: "unless-stopped",
};

export interface ContainerSpecInput {
  service: string;
  component: ComponentSpec;
  deployId: string;
  /** Route name → leased host port; every route of the component needs one. */
  hostPorts: Record<string, number>;
  defaults: ContainerDefaults;
  /** Default `<service>-<component>`; a deploy starting a new version beside the old one names it. */
  name?: string;
  /** Added by the saga (e.g. TLS_*_FILE for L4 routes). */
  extraEnv?: Record<string, string>;
  extraVolumes?: string[];
}

export function containerName(service: string, component: string): string {
  return `${service}-${component}`;
}

export function buildContainerSpec(input: ContainerSpecInput): ContainerSpec {
  const { component } = input;
  const portEnv: Record<string, number> = {};
  const publish: PublishedPort[] = [];
  for (const route of component.routes) {
    const port = input.hostPorts[route.name];
    if (port === undefined) {
      throw new PortVariableError(`route ${route.name} of component ${component.name} has no leased port`);
    }
    portEnv[route.portVariable] = port;
    publish.push({ hostIp: "127.0.0.1", hostPort: port, containerPort: port, protocol: "tcp" });
  }
  for (const mapping of component.ports) {
    publish.push({
      hostIp: mapping.hostIp,
      hostPort: mapping.hostPort,
      containerPort: mapping.containerPort,
      protocol: mapping.protocol,
    });
  }
  const network = component.network ?? input.defaults.network;
  return {
    name: input.name ?? containerName(input.service, component.name),
    image: component.image,
    network,
    user: component.user ?? input.defaults.user,
    restart: component.restart ?? input.defaults.restart,
    volumes: [...component.volumes.map((v) => v.spec), ...(input.extraVolumes ?? [])],
    cmd: expandPortVariables(component.cmd, portEnv),
    env: {
      ...component.env,
      ...input.extraEnv,
      ...Object.fromEntries(Object.entries(portEnv).map(([k, v]) => [k, String(v)])),
    },
    // With the host's network the app's port is already the host's: nothing to publish.
    publish: network === "host" ? [] : publish,
    labels: agentLabels(input.service, component.name, input.deployId),
    stopTimeoutS: input.defaults.stopTimeoutS,
  };
}
