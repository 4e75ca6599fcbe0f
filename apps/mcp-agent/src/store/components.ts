// Components and their routes: desired vs observed state, the container serving each component
// now, and the host port each route's current container publishes.
import { type Database, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";

export type DesiredState = "running" | "stopped";
/** What podman last said (the monitor and status refresh it); "unknown" before the first look. */
export type ObservedState = "unknown" | "running" | "stopped" | "created" | "paused" | "missing";
export type Health = "unknown" | "healthy" | "unhealthy";

export interface StoredComponent {
  service: string;
  name: string;
  image: string;
  desiredState: DesiredState;
  observedState: ObservedState;
  observedAt?: Date;
  exitCode?: number;
  containerName?: string;
  containerId?: string;
  deployId?: string;
  startedAt?: Date;
  restartCount: number;
  health: Health;
}

export interface StoredRoute {
  service: string;
  component: string;
  name: string;
  mode: "l4" | "l7";
  proxyPort: number;
  hostnames: string[];
  portVariable: string;
  hostPort?: number;
  deployId?: string;
}

export interface ContainerBinding {
  containerName: string;
  containerId: string;
  deployId: string;
  startedAt?: Date;
}

export interface Observation {
  state: ObservedState;
  exitCode?: number;
  containerId?: string;
  startedAt?: Date;
}

interface ComponentRow {
  service: string;
  name: string;
  image: string;
  desired_state: DesiredState;
  observed_state: ObservedState;
  observed_ms: number | null;
  exit_code: number | null;
  container_name: string | null;
  container_id: string | null;
  deploy_id: string | null;
  started_ms: number | null;
  restart_count: number;
  health: Health;
}

interface RouteRow {
  service: string;
  component: string;
  name: string;
  mode: "l4" | "l7";
  proxy_port: number;
  hostnames_json: string;
  port_variable: string;
  host_port: number | null;
  deploy_id: string | null;
}

export class ComponentStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = statementCache(this.#db);
  }

  /** A service's components in definition order of insertion (by name). */
  list(service: string): StoredComponent[] {
    return this.#sql<[string], ComponentRow>("SELECT * FROM components WHERE service = ? ORDER BY name")
      .all(service)
      .map(toComponent);
  }

  get(service: string, name: string): StoredComponent | undefined {
    const row = this.#sql<[string, string], ComponentRow>(
      "SELECT * FROM components WHERE service = ? AND name = ?",
    ).get(service, name);
    return row && toComponent(row);
  }

  /** The component a container serves, found by the container's name. */
  byContainer(containerName: string): StoredComponent | undefined {
    const row = this.#sql<[string], ComponentRow>("SELECT * FROM components WHERE container_name = ?").get(
      containerName,
    );
    return row && toComponent(row);
  }

  /** Records the container that now serves the component (a deploy's commit); resets restarts. */
  bindContainer(service: string, name: string, binding: ContainerBinding): void {
    this.#sql(
      `UPDATE components SET container_name = ?, container_id = ?, deploy_id = ?, started_ms = ?,
           restart_count = 0, health = 'unknown' WHERE service = ? AND name = ?`,
    ).run(
      binding.containerName,
      binding.containerId,
      binding.deployId,
      binding.startedAt?.getTime() ?? null,
      service,
      name,
    );
  }

  unbindContainer(service: string, name: string): void {
    this.#sql(
      `UPDATE components SET container_name = NULL, container_id = NULL, started_ms = NULL,
           health = 'unknown' WHERE service = ? AND name = ?`,
    ).run(service, name);
  }

  setDesiredState(service: string, name: string, state: DesiredState): void {
    this.#sql("UPDATE components SET desired_state = ? WHERE service = ? AND name = ?").run(
      state,
      service,
      name,
    );
  }

  /** What podman reported, with when; a container id that changed is recorded too. */
  observe(service: string, name: string, observation: Observation, at = new Date()): void {
    this.#sql(
      `UPDATE components SET observed_state = ?, exit_code = ?, observed_ms = ?,
           container_id = coalesce(?, container_id), started_ms = coalesce(?, started_ms)
         WHERE service = ? AND name = ?`,
    ).run(
      observation.state,
      observation.exitCode ?? null,
      at.getTime(),
      observation.containerId ?? null,
      observation.startedAt?.getTime() ?? null,
      service,
      name,
    );
  }

  setHealth(service: string, name: string, health: Health): void {
    this.#sql("UPDATE components SET health = ? WHERE service = ? AND name = ?").run(health, service, name);
  }

  /** Counts a restart the monitor saw; returns the new count. */
  countRestart(service: string, name: string): number {
    this.#sql("UPDATE components SET restart_count = restart_count + 1 WHERE service = ? AND name = ?").run(
      service,
      name,
    );
    return this.get(service, name)?.restartCount ?? 0;
  }

  routes(service: string, component?: string): StoredRoute[] {
    const rows =
      component === undefined
        ? this.#sql<[string], RouteRow>(
            "SELECT * FROM routes WHERE service = ? ORDER BY component, name",
          ).all(service)
        : this.#sql<[string, string], RouteRow>(
            "SELECT * FROM routes WHERE service = ? AND component = ? ORDER BY name",
          ).all(service, component);
    return rows.map(toRoute);
  }

  /** Points a route at the host port its current container publishes (undefined: none). */
  setRouteHostPort(
    service: string,
    component: string,
    route: string,
    hostPort: number | undefined,
    deployId: string | undefined,
  ): void {
    this.#sql(
      "UPDATE routes SET host_port = ?, deploy_id = ? WHERE service = ? AND component = ? AND name = ?",
    ).run(hostPort ?? null, deployId ?? null, service, component, route);
  }

  /** Running components across all services (for node info). */
  countObserved(state: ObservedState): number {
    return this.#sql<[string], { n: number }>(
      "SELECT count(*) AS n FROM components WHERE observed_state = ?",
    ).get(state)!.n;
  }
}

function toComponent(row: ComponentRow): StoredComponent {
  return {
    service: row.service,
    name: row.name,
    image: row.image,
    desiredState: row.desired_state,
    observedState: row.observed_state,
    observedAt: row.observed_ms === null ? undefined : new Date(row.observed_ms),
    exitCode: row.exit_code ?? undefined,
    containerName: row.container_name ?? undefined,
    containerId: row.container_id ?? undefined,
    deployId: row.deploy_id ?? undefined,
    startedAt: row.started_ms === null ? undefined : new Date(row.started_ms),
    restartCount: row.restart_count,
    health: row.health,
  };
}

function toRoute(row: RouteRow): StoredRoute {
  return {
    service: row.service,
    component: row.component,
    name: row.name,
    mode: row.mode,
    proxyPort: row.proxy_port,
    hostnames: JSON.parse(row.hostnames_json) as string[],
    portVariable: row.port_variable,
    hostPort: row.host_port ?? undefined,
    deployId: row.deploy_id ?? undefined,
  };
}
