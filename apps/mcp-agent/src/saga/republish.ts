// At start-up: deploy events that a crash (or a NATS outage) kept from being acknowledged are
// published again from the registry's outbox, with their original ULID and time, so JetStream
// stores each once (it drops an id it already has) and nothing reported is lost.
import type { SagaDeps } from "./context.js";
import { publishPending } from "./progress.js";

/** Publishes the outbox in order; stops at the first failure (the rest wait for the next start). */
export async function republishDeployEvents(deps: SagaDeps): Promise<number> {
  const bus = deps.bus;
  if (!bus) return 0;
  let published = 0;
  for (const event of deps.registry.deployEvents.unpublished()) {
    if (!(await publishPending(bus, deps.registry.deployEvents, deps.logger, event))) break;
    published++;
  }
  return published;
}
