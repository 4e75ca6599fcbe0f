// What the API asks of the saga, with its rules: one saga per service at a time, a definition
// for another node refused, components named that the definition lacks refused, stop/start/
// restart of a stored service. Errors are OperationError values with a Connect-style code.
import { ConfigError } from "@mcp/mcdsl/config";
import {
  type ServiceDefinition,
  serviceDefinitionFromObject,
  serviceSpecObject,
  toServiceSpec,
} from "@mcp/mcdsl/servicedef";
import type { SagaDeps } from "./context.js";
import { type DeployOptions, runDeploy } from "./deploy.js";
import { ServiceLocks } from "./locks.js";
import { makePlan, type Plan } from "./plan.js";
import { recoverSagas } from "./recovery.js";
import { runStop } from "./stop.js";
import { checkVolumeSources } from "./volume-sources.js";

export class OperationError extends Error {
  readonly code: "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "NOT_FOUND" | "ALREADY_EXISTS";

  constructor(code: OperationError["code"], message: string) {
    super(message);
    this.name = "OperationError";
    this.code = code;
  }
}

export class Operations {
  readonly deps: SagaDeps;
  readonly locks = new ServiceLocks();

  constructor(deps: SagaDeps) {
    this.deps = deps;
  }

  async deploy(definition: ServiceDefinition, options: DeployOptions = {}): Promise<string> {
    this.#check(definition, options.components);
    if (!definition.active) {
      throw new OperationError(
        "FAILED_PRECONDITION",
        `${definition.name} is inactive (active = false): set active = true to deploy it, or sync to stop it`,
      );
    }
    return this.locks.with(definition.name, "a deploy", async () => {
      await this.#finishUnfinished(definition.name);
      return runDeploy(this.deps, definition, options);
    });
  }

  async plan(definition: ServiceDefinition, components: string[] = []): Promise<Plan> {
    this.#check(definition, components);
    return makePlan(this.deps, definition, components);
  }

  // Stop, start and restart take the lock before reading the stored service: during a first
  // deploy the service is not stored yet, and the answer is "busy", not "not found".
  async stop(name: string, components: string[] = []): Promise<string> {
    return this.locks.with(name, "a stop", async () => {
      const definition = this.#stored(name);
      this.#checkComponents(definition, components);
      await this.#finishUnfinished(name);
      return runStop(this.deps, definition, components);
    });
  }

  /**
   * Deploys the stored definition again (active again). It was checked when it was stored, maybe
   * by an older agent or in a registry restored from a backup: it is checked again by today's
   * rules, as a deploy would be.
   */
  async start(name: string, components: string[] = [], options: DeployOptions = {}): Promise<string> {
    return this.locks.with(name, "a start", async () => {
      const definition = { ...this.#recheck(this.#stored(name)), active: true };
      this.#check(definition, components);
      await this.#finishUnfinished(name);
      return runDeploy(this.deps, definition, { ...options, components, kind: "start" });
    });
  }

  /** Restarts the running containers in place: same ports, routes and records. */
  async restart(name: string, components: string[] = []): Promise<void> {
    await this.locks.with(name, "a restart", async () => {
      const stored = this.deps.registry.services.get(name);
      if (!stored) throw new OperationError("NOT_FOUND", `service "${name}" is not in the registry`);
      this.#checkComponents(stored.definition, components);
      if (stored.desiredState !== "running") {
        throw new OperationError("FAILED_PRECONDITION", `${name} is stopped; use start`);
      }
      const { registry, podman } = this.deps;
      const deploy = registry.journal.begin({
        service: name,
        definition: stored.definition,
        kind: "restart",
      });
      try {
        for (const component of registry.components.list(name)) {
          if (components.length > 0 && !components.includes(component.name)) continue;
          if (!component.containerName) continue;
          await podman.restart(component.containerName, this.deps.stopTimeoutS);
        }
      } finally {
        registry.journal.finish(deploy.id, "completed");
      }
    });
  }

  /** Removes a stopped service from the registry (its certificates' rows go with it). */
  forget(name: string): void {
    const { registry } = this.deps;
    registry.transaction(() => {
      for (const cert of registry.bindings.certificates(name))
        registry.bindings.removeCertificate(name, cert.hostname);
      registry.services.remove(name);
    });
  }

  #stored(name: string): ServiceDefinition {
    const stored = this.deps.registry.services.get(name);
    if (!stored) throw new OperationError("NOT_FOUND", `service "${name}" is not in the registry`);
    return stored.definition;
  }

  /**
   * A saga of the service that did not finish (its rollback failed: a peer was down) is finished
   * first, under the lock the caller holds. Left behind, its rollback (retried every 10 s) would
   * undo what the new saga then relies on: remove the route or record the new deploy took over,
   * switch a route back to a retired container. When it still cannot finish, nothing starts.
   */
  async #finishUnfinished(service: string): Promise<void> {
    const pending = this.deps.registry.journal.inProgress(service);
    if (pending.length === 0) return;
    const failed = (await recoverSagas(this.deps, new Set(pending.map((d) => d.id)))).filter(
      (r) => r.outcome === "failed",
    );
    if (failed.length > 0) {
      const [first] = failed;
      throw new OperationError(
        "FAILED_PRECONDITION",
        `${service}: deploy ${first?.deployId} is not rolled back yet (${first?.error}); it is retried every 10 s, try again once it is`,
      );
    }
  }

  /** The stored definition through today's parser; INVALID_ARGUMENT with every problem. */
  #recheck(stored: ServiceDefinition): ServiceDefinition {
    try {
      // As a Deploy request would carry it: the same conversion and rules as api/spec-in.ts.
      return serviceDefinitionFromObject(
        serviceSpecObject(toServiceSpec(stored)),
        `the stored definition of ${stored.name} (deploy a corrected one)`,
      );
    } catch (err) {
      if (err instanceof ConfigError) throw new OperationError("INVALID_ARGUMENT", err.message);
      throw err;
    }
  }

  #check(definition: ServiceDefinition, components: string[] = []): void {
    if (definition.node && definition.node !== this.deps.node.name) {
      throw new OperationError(
        "FAILED_PRECONDITION",
        `${definition.name} is defined for node "${definition.node}", and this agent is node "${this.deps.node.name}"`,
      );
    }
    this.#checkComponents(definition, components);
    checkVolumeSources(this.deps, definition);
  }

  #checkComponents(definition: ServiceDefinition, components: string[]): void {
    const known = definition.components.map((c) => c.name);
    const unknown = components.filter((c) => !known.includes(c));
    if (unknown.length > 0) {
      throw new OperationError(
        "INVALID_ARGUMENT",
        `${definition.name} has no component ${unknown.join(", ")} (it has: ${known.join(", ")})`,
      );
    }
  }
}
