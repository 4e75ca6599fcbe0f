// container.started and health.passed: a new container per replaced component, started beside
// the old one (under a temporary name while the old one holds `<service>-<component>`), then held
// at the health gate. L4 routes get the certificate, its key and the root CA mounted read-only
// with TLS_CERT_FILE / TLS_KEY_FILE / TLS_CA_FILE. Undo: remove the new container.
import { type ComponentSpec, TLS_MOUNT_DIR as TLS_DIR } from "@mcp/mcdsl/servicedef";
import { buildContainerSpec, type ContainerSpec, containerName } from "../../runtime/container-spec.js";
import { PodmanError } from "../../runtime/errors.js";
import type { SagaDeps } from "../context.js";
import { waitHealthy } from "../health.js";
import type { Compensator, DeployState, Step } from "../step.js";

// podman's "the container name "x" is already in use by …"; not a port's "address already in use".
const NAME_IN_USE = /name "[^"]*" is already in use|that name is already in use/i;

export function containerStep(deps: SagaDeps, component: ComponentSpec): Step {
  return {
    name: "container.started",
    component: component.name,
    intent(state) {
      const canonical = containerName(state.service, component.name);
      // The old version keeps its name until it is retired (podman's view from the plan).
      const taken = state.plan.observed.some((c) => c.name === canonical);
      const name = taken ? `${canonical}-${state.deploy.id.slice(-6).toLowerCase()}` : canonical;
      return { name, image: component.image };
    },
    async run(state, intent, note) {
      let name = String(intent.name);
      const network = component.network ?? deps.containerDefaults.network;
      const tls = tlsMounts(deps, state, component);
      const build = () =>
        buildContainerSpec({
          service: state.service,
          component,
          deployId: state.deploy.id,
          hostPorts: state.ports.get(component.name) ?? {},
          defaults: deps.containerDefaults,
          name,
          extraEnv: tls.env,
          extraVolumes: tls.volumes,
        });
      let spec = build();
      // Legacy fixed host ports cannot be published twice: the old container stops first (the
      // one case with downtime; rollback starts it again).
      const old = deps.registry.components.get(state.service, component.name)?.containerName;
      const fixed = component.ports.some((p) => p.hostPort !== undefined);
      if (fixed && old && old !== name && (await deps.podman.inspect(old))?.state === "running") {
        note({ stoppedOld: old });
        await deps.podman.stop(old, deps.stopTimeoutS);
      }
      let id: string;
      try {
        id = await runContainer(deps, spec, network);
      } catch (err) {
        // A container the plan did not know holds the name: start beside it under another one.
        if (!(err instanceof PodmanError && NAME_IN_USE.test(err.podmanMessage))) throw err;
        name = `${name}-${state.deploy.id.slice(-6).toLowerCase()}`;
        note({ name });
        spec = build();
        id = await runContainer(deps, spec, network);
      }
      state.containers.set(component.name, { name, id });
      const ports = Object.values(state.ports.get(component.name) ?? {});
      return {
        payload: { id },
        reports: [
          {
            step: "container.started",
            status: "done",
            component: component.name,
            message: `started ${name} (${component.image})${ports.length ? ` on ${ports.map((p) => `127.0.0.1:${p}`).join(", ")}` : ""}`,
            detail: { component: component.name, container: name, containerId: id, image: component.image },
          },
        ],
      };
    },
  };
}

/**
 * `podman run -d` in one call (the deploy's hot path); a missing image is pulled (with the
 * registry credentials) and a missing network created, then it is tried once more.
 */
async function runContainer(deps: SagaDeps, spec: ContainerSpec, network: string): Promise<string> {
  try {
    return await deps.podman.runDetached(spec);
  } catch (err) {
    if (!(err instanceof PodmanError)) throw err;
    if (err.code === "IMAGE_NOT_FOUND") await deps.podman.pull(spec.image);
    else if (/network/i.test(err.podmanMessage)) await deps.podman.ensureNetwork(network);
    else throw err;
    return deps.podman.runDetached(spec); // nothing was created: podman checks both first
  }
}

export const undoContainer: Compensator = async (deps, _deploy, payload) => {
  if (payload.name) await deps.podman.remove(String(payload.name));
  if (payload.stoppedOld && (await deps.podman.inspect(String(payload.stoppedOld)))) {
    await deps.podman.start(String(payload.stoppedOld));
  }
};

export function healthStep(deps: SagaDeps, component: ComponentSpec): Step {
  return {
    name: "health.passed",
    component: component.name,
    intent: () => ({}),
    async run(state) {
      const container = state.containers.get(component.name);
      if (!container) throw new Error(`no new container for ${component.name}`);
      const check = component.health;
      const ports = state.ports.get(component.name) ?? {};
      const probed =
        check.kind === "none"
          ? []
          : check.route
            ? [ports[check.route]]
            : check.hostPort
              ? [check.hostPort]
              : Object.values(ports);
      const elapsedMs = await waitHealthy(deps.podman, {
        container: container.name,
        check,
        ports: probed.filter((p): p is number => p !== undefined),
      });
      deps.registry.components.setHealth(state.service, component.name, "healthy");
      return {
        payload: { elapsedMs },
        reports: [
          {
            step: "health.passed",
            status: "done",
            component: component.name,
            message: `${container.name} is healthy (${check.kind}${check.kind === "http" ? ` ${check.path}` : ""}) after ${elapsedMs} ms`,
            detail: { component: component.name, elapsedMs },
          },
        ],
      };
    },
  };
}

function tlsMounts(
  deps: SagaDeps,
  state: DeployState,
  component: ComponentSpec,
): { env: Record<string, string>; volumes: string[] } {
  const l4 = component.routes.find((r) => r.mode === "l4");
  if (!l4) return { env: {}, volumes: [] };
  const cert = deps.registry.bindings.certificates(state.service).find((c) => c.hostname === l4.hostnames[0]);
  if (!cert) return { env: {}, volumes: [] };
  return {
    env: {
      TLS_CERT_FILE: `${TLS_DIR}/cert.pem`,
      TLS_KEY_FILE: `${TLS_DIR}/key.pem`,
      TLS_CA_FILE: `${TLS_DIR}/ca.pem`,
    },
    volumes: [
      `${cert.certFile}:${TLS_DIR}/cert.pem:ro`,
      `${cert.keyFile}:${TLS_DIR}/key.pem:ro`,
      `${cert.caFile}:${TLS_DIR}/ca.pem:ro`,
    ],
  };
}
