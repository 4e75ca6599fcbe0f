// Who owns a lease, judged from the registry at start-up: a lease lives while its deploy is in
// progress (crash recovery decides its fate) or is the committed deploy of a service that should
// run. Anything else (a rolled-back deploy, a retired version, a stopped or forgotten service) is
// an orphan left by a crash, and its port goes back to the pool.

import type { PortLease } from "../store/leases.js";
import type { Registry } from "../store/registry.js";

export function leaseOwnerAlive(registry: Registry): (lease: PortLease) => boolean {
  return (lease) => {
    if (registry.journal.get(lease.deployId)?.outcome === "in_progress") return true;
    const service = registry.services.get(lease.service);
    return service?.desiredState === "running" && service.currentDeployId === lease.deployId;
  };
}
