// The monitor loop: podman's container events keep each component's observed state current and
// become `mcp.container.<service>.<component>.{died,restarted}` events; a component restarted
// `flapRestarts` times within `flapWindowMs` is flapping; a periodic look at every running
// service publishes new drift (`.drift`). Deaths of wanted containers, flapping and drift run the
// optional alert_command. Containers a saga is working on (the service's lock is held) are the
// saga's business and ignored here.
import type { EventOutbox } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import type { ContainerEvent, ContainerEventStream } from "../runtime/events.js";
import { LABEL_COMPONENT, LABEL_MANAGED, LABEL_SERVICE } from "../runtime/labels.js";
import type { Podman } from "../runtime/podman.js";
import type { ServiceLocks } from "../saga/locks.js";
import type { StatusReader } from "../status/observe.js";
import type { Registry } from "../store/registry.js";
import { type Alert, runAlert } from "./alert.js";

export interface MonitorOptions {
  flapRestarts: number;
  flapWindowMs: number;
  driftIntervalMs: number;
  alertCommand: string[];
}

export interface MonitorDeps {
  registry: Registry;
  podman: Podman;
  status: StatusReader;
  locks: ServiceLocks;
  /** The agent's event outbox: an event seen during a NATS outage goes out when NATS is back. */
  outbox?: EventOutbox;
  logger: Logger;
}

export class Monitor {
  readonly #deps: MonitorDeps;
  readonly #options: MonitorOptions;
  #stream: ContainerEventStream | undefined;
  #closed = false;
  #since = new Date();
  #driftTimer: NodeJS.Timeout | undefined;
  readonly #restarts = new Map<string, number[]>();
  readonly #flapping = new Set<string>();
  readonly #drift = new Set<string>();

  constructor(deps: MonitorDeps, options: MonitorOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  start(): void {
    void this.#watch();
    this.#driftTimer = setInterval(() => void this.#checkDrift(), this.#options.driftIntervalMs);
    this.#driftTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#driftTimer);
    await this.#stream?.close();
  }

  /** Follows podman's events; a broken stream is restarted from the last event's time. */
  async #watch(): Promise<void> {
    while (!this.#closed) {
      this.#stream = this.#deps.podman.watch({
        since: this.#since,
        labels: { [LABEL_MANAGED]: "true" },
        events: ["died", "restart"],
      });
      try {
        for await (const event of this.#stream) {
          if (event.time > this.#since) this.#since = event.time;
          await this.#handle(event).catch((err: unknown) =>
            this.#deps.logger.warn({ err: (err as Error).message }, "monitor: could not handle an event"),
          );
        }
      } catch (err) {
        this.#deps.logger.warn({ err: (err as Error).message }, "monitor: podman events failed; restarting");
      }
      if (!this.#closed) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async #handle(event: ContainerEvent): Promise<void> {
    const service = event.labels[LABEL_SERVICE];
    const name = event.labels[LABEL_COMPONENT];
    if (!service || !name || this.#deps.locks.busy(service)) return;
    const { registry } = this.#deps;
    const component = registry.components.get(service, name);
    if (!component || component.containerName !== event.containerName) return; // not the serving one
    const key = `${service}/${name}`;
    if (event.status === "died") {
      registry.components.observe(service, name, { state: "stopped", exitCode: event.exitCode });
      await this.#publish(`mcp.container.${service}.${name}.died`, {
        service,
        component: name,
        container: event.containerName,
        ...(event.exitCode === undefined ? {} : { exitCode: event.exitCode }),
      });
      if (component.desiredState === "running") {
        await this.#alert({
          kind: "died",
          service,
          component: name,
          message: `${event.containerName} died (exit code ${event.exitCode ?? "unknown"})`,
        });
      }
      return;
    }
    // restart: podman's restart policy brought it back.
    const restarts = registry.components.countRestart(service, name);
    registry.components.observe(service, name, { state: "running" });
    const now = event.time.getTime();
    const recent = [...(this.#restarts.get(key) ?? []), now].filter(
      (t) => now - t <= this.#options.flapWindowMs,
    );
    this.#restarts.set(key, recent);
    const flapping = recent.length >= this.#options.flapRestarts;
    await this.#publish(`mcp.container.${service}.${name}.restarted`, {
      service,
      component: name,
      container: event.containerName,
      restarts,
      ...(flapping ? { flapping: true } : {}),
    });
    if (flapping && !this.#flapping.has(key)) {
      this.#flapping.add(key);
      await this.#alert({
        kind: "flapping",
        service,
        component: name,
        message: `${event.containerName} restarted ${recent.length} times within ${this.#options.flapWindowMs / 1000} s`,
      });
    } else if (!flapping) {
      this.#flapping.delete(key);
    }
  }

  async #checkDrift(): Promise<void> {
    try {
      const seen = new Set<string>();
      for (const state of await this.#deps.status.services()) {
        if (state.service.desiredState !== "running" || this.#deps.locks.busy(state.service.name)) continue;
        for (const d of this.#deps.status.drift(state)) {
          const key = `${state.service.name}/${d.component}/${d.kind}/${d.observed}`;
          seen.add(key);
          if (this.#drift.has(key)) continue;
          this.#drift.add(key);
          await this.#publish(`mcp.container.${state.service.name}.${d.component}.drift`, {
            service: state.service.name,
            component: d.component,
            expected: d.expected,
            actual: d.observed,
          });
          await this.#alert({
            kind: "drift",
            service: state.service.name,
            component: d.component,
            message: d.message,
          });
        }
      }
      for (const key of this.#drift) if (!seen.has(key)) this.#drift.delete(key);
    } catch (err) {
      this.#deps.logger.warn({ err: (err as Error).message }, "monitor: drift check failed");
    }
  }

  async #publish(type: string, data: Record<string, string | number | boolean>): Promise<void> {
    this.#deps.logger.info({ type, ...data }, "container event");
    this.#deps.outbox?.record(type, data);
    await this.#deps.outbox?.flush();
  }

  async #alert(alert: Alert): Promise<void> {
    if (this.#options.alertCommand.length > 0)
      await runAlert(this.#options.alertCommand, alert, this.#deps.logger);
  }
}
