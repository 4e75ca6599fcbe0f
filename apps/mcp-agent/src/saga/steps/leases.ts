// port.leased: one host port per route of a replaced component, persisted before anything uses
// it (the allocator writes the lease row first). Undo: release the port if this deploy holds it.
import type { SagaDeps } from "../context.js";
import type { Compensator, Step } from "../step.js";

export function leaseStep(deps: SagaDeps, component: string, route: string): Step {
  return {
    name: "port.leased",
    component,
    intent: () => ({ route }),
    async run(state) {
      const lease = await deps.allocator.lease({
        service: state.service,
        component,
        route,
        deployId: state.deploy.id,
      });
      const ports = state.ports.get(component) ?? {};
      ports[route] = lease.hostPort;
      state.ports.set(component, ports);
      return {
        payload: { port: lease.hostPort },
        reports: [
          {
            step: "port.leased",
            status: "done",
            component,
            message: `leased 127.0.0.1:${lease.hostPort} for ${component}/${route}`,
            detail: { component, route, port: lease.hostPort },
          },
        ],
      };
    },
  };
}

export const undoLease: Compensator = async (deps, deploy, payload) => {
  const port = Number(payload.port);
  if (!port) return; // never leased; the deploy-wide sweep releases a lease taken mid-step
  if (deps.registry.leases.get(port)?.deployId === deploy.id) deps.registry.leases.release(port);
};
