// Drift against the other apps (GetServiceStatus): every proxy route the registry holds must be
// in mc-proxy with its backend, every record in MCNS with its address, every certificate valid.
// A peer that cannot be reached shows as drift, not as an error.
import type { Peers } from "../clients/peers.js";
import type { Registry } from "../store/registry.js";
import type { Drift } from "./observe.js";

export async function peerDrift(registry: Registry, peers: Peers, service: string): Promise<Drift[]> {
  const drift: Drift[] = [];
  const routes = registry.bindings.proxyRoutes(service);
  if (routes.length > 0 && peers.mcproxy) {
    try {
      const live = await peers.mcproxy.list({ owner: service });
      for (const r of routes) {
        const found = live.find((l) => l.id === r.routeId);
        const observed = found ? found.backends.join(",") : "missing";
        if (observed !== r.backend) {
          drift.push({
            kind: "route",
            component: r.component,
            expected: r.backend,
            observed,
            message: `mc-proxy route ${r.hostname}:${r.listenerPort} ${found ? `goes to ${observed}` : "is missing"}, not to ${r.backend}`,
          });
        }
      }
    } catch (err) {
      drift.push(unreachable("route", "mc-proxy", err));
    }
  }
  const records = registry.bindings.records(service);
  if (records.length > 0 && peers.mcns) {
    try {
      for (const r of records) {
        const live = (await peers.mcns.find(r.name, service)).find((l) => l.id === r.recordId);
        const observed = live ? live.value : "missing";
        if (observed !== r.value) {
          drift.push({
            kind: "record",
            component: "",
            expected: `${r.name} ${r.type} ${r.value}`,
            observed,
            message: `MCNS record ${r.name} ${live ? `holds ${observed}` : "is missing"}, not ${r.value}`,
          });
        }
      }
    } catch (err) {
      drift.push(unreachable("record", "MCNS", err));
    }
  }
  for (const c of registry.bindings.certificates(service)) {
    if (c.notAfter.getTime() <= Date.now()) {
      drift.push({
        kind: "certificate",
        component: "",
        expected: `valid certificate for ${c.hostname}`,
        observed: `expired ${c.notAfter.toISOString()}`,
        message: `the certificate ${c.serial} for ${c.hostname} expired`,
      });
    }
  }
  return drift;
}

function unreachable(kind: Drift["kind"], peer: string, err: unknown): Drift {
  return {
    kind,
    component: "",
    expected: `${peer} reachable`,
    observed: "unreachable",
    message: `${peer} could not be asked: ${(err as Error).message}`,
  };
}
