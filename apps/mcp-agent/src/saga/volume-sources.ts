// Volume sources as they are on this node, checked before a deploy (and a plan) does anything.
// mcdsl's servicedef refuses what is the same on every node (/, /etc, sockets…) as written; here
// the agent also checks where a source really leads (a symlink a service planted in its own
// directory, /srv/app/cfg → /etc, must not get /etc mounted, or chowned with `U`) and keeps its
// own state out of reach: its registry holds every service's definition (env values are often
// secrets) and the journal the saga trusts. A container could still swap a path between this
// check and podman's mount; this stops the plain case, not that race.
import { realpathSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { checkHostPath, type ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { SagaDeps } from "./context.js";
import { OperationError } from "./operations.js";

/** Throws INVALID_ARGUMENT naming each volume whose source leads somewhere it may not. */
export function checkVolumeSources(deps: SagaDeps, definition: ServiceDefinition): void {
  const file = deps.registry.db.name;
  // An in-memory registry (":memory:") has no directory.
  const state = isAbsolute(file) ? dirname(realpathOrSelf(file)) : undefined;
  const problems: string[] = [];
  definition.components.forEach((component, c) => {
    component.volumes.forEach((volume, v) => {
      if (!volume.source.startsWith("/")) return; // a named volume
      const real = realpathOrSelf(volume.source);
      const problem =
        (real !== volume.source ? checkHostPath(real) : undefined) ??
        (state && overlaps(real, state)
          ? `the agent's own state (${state}: its registry) cannot be mounted`
          : undefined);
      if (problem) {
        const leads = real !== volume.source ? ` leads to ${real} on this node` : "";
        problems.push(
          `service ${definition.name}: [components[${c}]] volumes[${v}]: ${volume.source}${leads}: ${problem}, got ${JSON.stringify(volume.spec)}`,
        );
      }
    });
  });
  if (problems.length > 0) throw new OperationError("INVALID_ARGUMENT", problems.join("\n"));
}

/** The path with every symlink resolved; as written when it does not exist (podman says so). */
function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** One path is the other or holds it. */
function overlaps(a: string, b: string): boolean {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);
  return within(a, b) || within(b, a);
}
