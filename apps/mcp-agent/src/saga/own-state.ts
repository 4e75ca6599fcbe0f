// The agent's own state is out of a service's reach: its registry holds every service's
// definition (env values are often secrets) and the journal the saga trusts, so a volume that
// mounts the registry's directory, a folder inside it or one holding it would hand a container
// (root by default) every other service's secrets and the agent's memory. mcdsl's servicedef
// refuses what is the same on every node (/, /etc, sockets…); this is what only the agent knows.
import { dirname, isAbsolute } from "node:path";
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { SagaDeps } from "./context.js";
import { OperationError } from "./operations.js";

/** Throws INVALID_ARGUMENT naming each volume that reaches the agent's registry directory. */
export function checkOwnState(deps: SagaDeps, definition: ServiceDefinition): void {
  const file = deps.registry.db.name;
  if (!isAbsolute(file)) return; // an in-memory registry (":memory:") has no directory
  const state = dirname(file);
  const problems: string[] = [];
  definition.components.forEach((component, c) => {
    component.volumes.forEach((volume, v) => {
      if (!volume.source.startsWith("/") || !overlaps(volume.source, state)) return;
      problems.push(
        `[components[${c}]] volumes[${v}]: ${volume.source} reaches the agent's own state (${state}: its registry), got ${JSON.stringify(volume.spec)}`,
      );
    });
  });
  if (problems.length > 0) {
    throw new OperationError(
      "INVALID_ARGUMENT",
      problems.map((problem) => `service ${definition.name}: ${problem}`).join("\n"),
    );
  }
}

/** One path is the other or holds it. */
function overlaps(a: string, b: string): boolean {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);
  return within(a, b) || within(b, a);
}
