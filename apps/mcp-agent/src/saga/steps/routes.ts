// route.added: each (route, hostname) of a replaced component goes to its new container. A
// route mc-proxy already has for it is switched with SetBackend (new connections move at once,
// the old backend drains); a new one is added. L7 routes name the certificate files mc-proxy
// terminates TLS with. A route the registry knows but mc-proxy does not (SetBackend NotFound) is
// added again. Undo: switch back to the old backend, or remove the added route; a route mc-proxy
// no longer has leaves nothing to undo.
import type { RouteSpec } from "@mcp/mcdsl/servicedef";
import { isNotFound } from "../../clients/peer-error.js";
import type { SagaDeps } from "../context.js";
import type { Compensator, Step } from "../step.js";

export function routeStep(deps: SagaDeps, component: string, route: RouteSpec, hostname: string): Step {
  const find = (service: string) =>
    deps.registry.bindings
      .proxyRoutes(service)
      .find(
        (b) =>
          b.component === component &&
          b.route === route.name &&
          b.hostname === hostname &&
          b.listenerPort === route.port &&
          b.mode === route.mode,
      );
  return {
    name: "route.added",
    component,
    intent(state) {
      const port = state.ports.get(component)?.[route.name];
      const backend = `127.0.0.1:${port}`;
      const old = find(state.service);
      return old
        ? {
            kind: "switch",
            hostname,
            port: route.port,
            backend,
            routeId: old.routeId,
            oldBackend: old.backend,
            oldDeployId: old.deployId,
          }
        : { kind: "add", hostname, port: route.port, backend };
    },
    async run(state, intent, note) {
      const proxy = deps.peers.mcproxy;
      const backend = String(intent.backend);
      if (!proxy) {
        return {
          reports: [
            {
              step: "route.added",
              status: "skipped",
              component,
              subject: hostname,
              message: `no route for ${hostname}: no mc-proxy is configured ([mcproxy] socket)`,
              detail: { component, route: route.name, hostname, warning: "no mc-proxy configured" },
            },
          ],
        };
      }
      const add = async () => {
        const cert = deps.registry.bindings.certificates(state.service).find((c) => c.hostname === hostname);
        const added = await proxy.add({
          listenerPort: route.port,
          hostname,
          mode: route.mode,
          backend,
          owner: state.service,
          certificate:
            route.mode === "l7" && cert
              ? { certFile: cert.certFile, keyFile: cert.keyFile, serial: cert.serial }
              : undefined,
        });
        return added.id;
      };
      let routeId: string;
      let switched = intent.kind === "switch";
      if (switched) {
        routeId = String(intent.routeId);
        try {
          await proxy.setBackend(routeId, backend, state.service, deps.drainMs);
          state.switched.push(routeId);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          // The registry knows a route mc-proxy no longer has (restored from a backup, removed by
          // hand): add it again. Journalled as an add first, so its undo removes it.
          note({ kind: "add", routeId: "" });
          deps.registry.bindings.removeProxyRoute(routeId);
          routeId = await add();
          switched = false;
        }
      } else {
        routeId = await add();
      }
      deps.registry.bindings.putProxyRoute({
        routeId,
        service: state.service,
        component,
        route: route.name,
        hostname,
        listenerPort: route.port,
        mode: route.mode,
        backend,
        deployId: state.deploy.id,
      });
      return {
        payload: { routeId, kind: switched ? "switch" : "add" },
        reports: [
          {
            step: "route.added",
            status: "done",
            component,
            subject: hostname,
            message: switched
              ? `${hostname}:${route.port} switched from ${String(intent.oldBackend)} to ${backend}`
              : `${hostname}:${route.port} (${route.mode}) → ${backend} (route ${routeId})`,
            detail: { component, route: route.name, hostname, routeId, backend, switched },
          },
        ],
      };
    },
  };
}

export const undoRoute: Compensator = async (deps, deploy, payload) => {
  const proxy = deps.peers.mcproxy;
  if (!proxy) return;
  const service = deploy.service;
  if (payload.kind === "switch") {
    const routeId = String(payload.routeId);
    try {
      await proxy.setBackend(routeId, String(payload.oldBackend), service, 0);
    } catch (err) {
      // mc-proxy no longer has the route: nothing to switch back.
      if (!isNotFound(err)) throw err;
      deps.registry.bindings.removeProxyRoute(routeId);
      return;
    }
    const binding = deps.registry.bindings.proxyRoutes(service).find((b) => b.routeId === routeId);
    if (binding) {
      deps.registry.bindings.putProxyRoute({
        ...binding,
        backend: String(payload.oldBackend),
        deployId: String(payload.oldDeployId),
      });
    }
    return;
  }
  const ids = payload.routeId
    ? [String(payload.routeId)]
    : // Crashed mid-add: the service's route for this name and port with this deploy's backend.
      (
        await proxy.list({
          hostname: String(payload.hostname),
          listenerPort: Number(payload.port),
          owner: service,
        })
      )
        .filter((r) => r.backends.includes(String(payload.backend)))
        .map((r) => r.id);
  for (const id of ids) {
    await proxy.remove(id, service);
    deps.registry.bindings.removeProxyRoute(id);
  }
};
