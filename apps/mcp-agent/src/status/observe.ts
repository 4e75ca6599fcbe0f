// A service's desired state (the registry) beside its observed state (podman), and the drift
// between them. Observations are written back to the registry, so `observed_state` is as fresh
// as the last look. Plain types: the API converts them.

import type { ContainerSummary } from "../runtime/container-info.js";
import { LABEL_COMPONENT, LABEL_MANAGED, LABEL_SERVICE } from "../runtime/labels.js";
import type { Podman } from "../runtime/podman.js";
import type { ObservedState, StoredComponent } from "../store/components.js";
import type { Deploy } from "../store/journal.js";
import type { Registry } from "../store/registry.js";
import type { StoredService } from "../store/services.js";

export interface ObservedComponent extends StoredComponent {
  /** podman's view of the component's container; undefined when it has none. */
  container?: ContainerSummary;
}

export interface ServiceState {
  service: StoredService;
  components: ObservedComponent[];
  lastDeploy?: Deploy;
}

export type DriftKind = "container_state" | "image" | "port" | "route" | "record" | "certificate";

export interface Drift {
  kind: DriftKind;
  component: string;
  expected: string;
  observed: string;
  message: string;
}

export class StatusReader {
  readonly #registry: Registry;
  readonly #podman: Podman;

  constructor(registry: Registry, podman: Podman) {
    this.#registry = registry;
    this.#podman = podman;
  }

  /** Every service (or one), observed now with one `podman ps` (all containers: adopted ones carry no labels). */
  async services(name?: string): Promise<ServiceState[]> {
    const containers = await this.#podman.list();
    const services =
      name === undefined ? this.#registry.services.list() : [this.#registry.services.get(name)];
    return services.filter((s) => s !== undefined).map((service) => this.#observe(service, containers));
  }

  /** The agent's running containers (for node info). */
  async runningContainers(): Promise<number> {
    const containers = await this.#podman.list({ [LABEL_MANAGED]: "true" });
    return containers.filter((c) => c.state === "running").length;
  }

  #observe(service: StoredService, containers: ContainerSummary[]): ServiceState {
    const components = this.#registry.components.list(service.name).map((component) => {
      const container =
        containers.find((c) => component.containerName !== undefined && c.name === component.containerName) ??
        containers.find(
          (c) => c.labels[LABEL_SERVICE] === service.name && c.labels[LABEL_COMPONENT] === component.name,
        );
      const state: ObservedState = container ? container.state : "missing";
      this.#registry.components.observe(service.name, component.name, {
        state,
        exitCode: container?.exitCode,
        containerId: container?.id,
        startedAt: container?.startedAt,
      });
      return { ...this.#registry.components.get(service.name, component.name)!, container };
    });
    const lastDeploy = this.#registry.journal.history(service.name, 1)[0];
    return { service, components, lastDeploy };
  }

  /** Where the world disagrees with the registry for one observed service. */
  drift(state: ServiceState): Drift[] {
    const drift: Drift[] = [];
    const spec = new Map(state.service.definition.components.map((c) => [c.name, c]));
    for (const component of state.components) {
      const observed = component.container ? describe(component.container) : "missing";
      const expected = component.desiredState;
      const running = component.container?.state === "running";
      if ((expected === "running") !== running) {
        drift.push({
          kind: "container_state",
          component: component.name,
          expected,
          observed,
          message: `${state.service.name}/${component.name} should be ${expected} but is ${observed}`,
        });
      }
      const image = spec.get(component.name)?.image;
      if (component.container && image && component.container.image !== image) {
        drift.push({
          kind: "image",
          component: component.name,
          expected: image,
          observed: component.container.image,
          message: `${state.service.name}/${component.name} runs ${component.container.image} instead of ${image}`,
        });
      }
      if (!running) continue;
      for (const route of this.#registry.components.routes(state.service.name, component.name)) {
        if (route.hostPort === undefined) continue;
        const published = component.container!.ports.some((p) => p.hostPort === route.hostPort);
        if (!published) {
          drift.push({
            kind: "port",
            component: component.name,
            expected: `127.0.0.1:${route.hostPort}`,
            observed: "not published",
            message: `${state.service.name}/${component.name} does not publish the leased port ${route.hostPort} of route ${route.name}`,
          });
        }
      }
    }
    return drift;
  }
}

function describe(container: ContainerSummary): string {
  return container.state === "stopped"
    ? `${container.status} (code ${container.exitCode})`
    : container.status;
}
