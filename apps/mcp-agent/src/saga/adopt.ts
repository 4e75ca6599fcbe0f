// AdoptContainers: containers made by hand (named <service> or <service>-<component>) taken into
// the registry. Each ComponentSpec is rebuilt from podman's view (image, volumes, cmd, env,
// published ports as the legacy `ports` form, network, user, restart policy) and checked like a
// definition file; later deploys then replace them as they would their own containers.
import { ConfigError } from "@mcp/mcdsl/config";
import { type ServiceDefinition, serviceDefinitionFromObject } from "@mcp/mcdsl/servicedef";
import type { ContainerInfo } from "../runtime/container-info.js";
import { LABEL_SERVICE } from "../runtime/labels.js";
import type { SagaDeps } from "./context.js";
import { OperationError } from "./operations.js";

export interface AdoptedContainer {
  containerName: string;
  containerId: string;
  component: string;
}

/** Variables every container has from its image or podman: not part of a definition. */
const IMPLICIT_ENV = new Set(["PATH", "HOSTNAME", "HOME", "TERM", "container"]);

export async function adoptContainers(
  deps: SagaDeps,
  service: string,
  names: string[],
): Promise<{ adopted: AdoptedContainer[]; definition: ServiceDefinition }> {
  const { registry, podman } = deps;
  const all = await podman.list();
  const candidates = all.filter((c) =>
    names.length > 0 ? names.includes(c.name) : c.name === service || c.name.startsWith(`${service}-`),
  );
  if (candidates.length === 0) {
    throw new OperationError(
      "NOT_FOUND",
      `no container named ${names.length ? names.join(", ") : `${service} or ${service}-*`}`,
    );
  }
  const infos: ContainerInfo[] = [];
  for (const c of candidates) {
    const owner = c.labels[LABEL_SERVICE] ?? registry.components.byContainer(c.name)?.service;
    if (owner && owner !== service) {
      throw new OperationError("ALREADY_EXISTS", `container ${c.name} is managed by service ${owner}`);
    }
    // The component is the name after `<service>-`: a listed container named otherwise would
    // get a made-up one ("<p>-xy-web" adopted into "<p>-ab" became its "web").
    if (c.name !== service && !c.name.startsWith(`${service}-`)) {
      throw new OperationError(
        "INVALID_ARGUMENT",
        `${c.name}: a container adopted into ${service} is named ${service} or ${service}-<component> (podman rename it first)`,
      );
    }
    const info = await podman.inspect(c.name);
    if (info) infos.push(info);
  }
  const stored = registry.services.get(service);
  const kept = (stored?.definition.components ?? []).filter(
    (c) => !infos.some((i) => componentOf(service, i.name) === c.name),
  );
  const data = {
    name: service,
    components: [
      ...kept.map((c) => ({ name: c.name, image: c.image })),
      ...infos.map((info) => componentFromContainer(service, info)),
    ],
  };
  let definition: ServiceDefinition;
  try {
    definition = serviceDefinitionFromObject(data, `adopting ${service}`);
  } catch (err) {
    if (err instanceof ConfigError) throw new OperationError("INVALID_ARGUMENT", err.message);
    throw err;
  }
  // Components the adoption does not touch keep their stored specs (only name and image were checked).
  definition = {
    ...definition,
    components: definition.components.map((c) => kept.find((k) => k.name === c.name) ?? c),
  };
  const running = infos.some((i) => i.state === "running");
  registry.transaction(() => {
    registry.services.put(definition, { adopted: true, desiredState: running ? "running" : "stopped" });
    for (const info of infos) {
      registry.components.bindContainer(service, componentOf(service, info.name), {
        containerName: info.name,
        containerId: info.id,
        deployId: "adopted",
        startedAt: info.startedAt,
      });
    }
  });
  return {
    adopted: infos.map((i) => ({
      containerName: i.name,
      containerId: i.id,
      component: componentOf(service, i.name),
    })),
    definition,
  };
}

export function componentOf(service: string, container: string): string {
  return container === service ? service : container.slice(service.length + 1);
}

function componentFromContainer(service: string, info: ContainerInfo): Record<string, unknown> {
  const env = Object.fromEntries(Object.entries(info.env).filter(([k]) => !IMPLICIT_ENV.has(k)));
  const ports = info.ports
    .filter((p) => p.hostPort !== undefined)
    .map(
      (p) =>
        `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}:${p.containerPort}${p.protocol === "tcp" ? "" : `/${p.protocol}`}`,
    );
  const network = info.networks[0];
  return {
    name: componentOf(service, info.name),
    image: info.image,
    ...(info.volumes.length ? { volumes: info.volumes } : {}),
    ...(info.cmd.length ? { cmd: info.cmd } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(ports.length ? { ports } : {}),
    ...(network ? { network } : {}),
    ...(info.user ? { user: info.user } : {}),
    ...(info.restartPolicy && info.restartPolicy !== "no" ? { restart: info.restartPolicy } : {}),
  };
}
