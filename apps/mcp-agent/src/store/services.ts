// Services: the stored definition (normalized, as JSON) and what the operator wants of it.
// Storing a definition also lays out its components and routes (components.ts), keeping each
// surviving component's container and each surviving route's host port.
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { type Database, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";
import type { DesiredState } from "./components.js";

export interface StoredService {
  name: string;
  definition: ServiceDefinition;
  active: boolean;
  desiredState: DesiredState;
  /** The last deploy that committed; undefined for a service never deployed (adopted, synced). */
  currentDeployId?: string;
  adopted: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface ServiceRow {
  name: string;
  spec_json: string;
  active: number;
  desired_state: DesiredState;
  current_deploy_id: string | null;
  adopted: number;
  created_ms: number;
  updated_ms: number;
}

export interface PutServiceOptions {
  /** Default: running when the definition is active, else stopped. */
  desiredState?: DesiredState;
  adopted?: boolean;
}

export class ServiceStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = statementCache(this.#db);
  }

  /** Stores (or replaces) a definition and lays out its component and route rows. */
  put(definition: ServiceDefinition, options: PutServiceOptions = {}): StoredService {
    const now = Date.now();
    const desired = options.desiredState ?? (definition.active ? "running" : "stopped");
    this.#db.transaction(() => {
      this.#sql(
        `INSERT INTO services (name, spec_json, active, desired_state, adopted, created_ms, updated_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET spec_json = excluded.spec_json, active = excluded.active,
             desired_state = excluded.desired_state, adopted = excluded.adopted,
             updated_ms = excluded.updated_ms`,
      ).run(
        definition.name,
        JSON.stringify(definition),
        definition.active ? 1 : 0,
        desired,
        options.adopted ? 1 : 0,
        now,
        now,
      );
      this.#layOut(definition, desired);
    })();
    return this.get(definition.name)!;
  }

  get(name: string): StoredService | undefined {
    const row = this.#sql<[string], ServiceRow>("SELECT * FROM services WHERE name = ?").get(name);
    return row && toService(row);
  }

  /** Every service, sorted by name. */
  list(): StoredService[] {
    return this.#sql<[], ServiceRow>("SELECT * FROM services ORDER BY name").all().map(toService);
  }

  setDesiredState(name: string, state: DesiredState): void {
    this.#db.transaction(() => {
      this.#sql("UPDATE services SET desired_state = ?, active = ?, updated_ms = ? WHERE name = ?").run(
        state,
        state === "running" ? 1 : 0,
        Date.now(),
        name,
      );
      this.#sql("UPDATE components SET desired_state = ? WHERE service = ?").run(state, name);
    })();
  }

  setCurrentDeploy(name: string, deployId: string): void {
    this.#sql("UPDATE services SET current_deploy_id = ?, updated_ms = ? WHERE name = ?").run(
      deployId,
      Date.now(),
      name,
    );
  }

  /** Forgets a service with its components and routes (leases and bindings are the caller's). */
  remove(name: string): boolean {
    return this.#sql("DELETE FROM services WHERE name = ?").run(name).changes > 0;
  }

  count(): number {
    return this.#sql<[], { n: number }>("SELECT count(*) AS n FROM services").get()!.n;
  }

  #layOut(definition: ServiceDefinition, desired: DesiredState): void {
    const service = definition.name;
    const names = definition.components.map((c) => c.name);
    this.#sql(
      `DELETE FROM components WHERE service = ? AND name NOT IN (SELECT value FROM json_each(?))`,
    ).run(service, JSON.stringify(names));
    const upsertComponent = this.#sql(
      `INSERT INTO components (service, name, image, desired_state) VALUES (?, ?, ?, ?)
       ON CONFLICT (service, name) DO UPDATE SET image = excluded.image,
         desired_state = excluded.desired_state`,
    );
    const upsertRoute = this.#sql(
      `INSERT INTO routes (service, component, name, mode, proxy_port, hostnames_json, port_variable)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (service, component, name) DO UPDATE SET mode = excluded.mode,
         proxy_port = excluded.proxy_port, hostnames_json = excluded.hostnames_json,
         port_variable = excluded.port_variable`,
    );
    for (const component of definition.components) {
      upsertComponent.run(service, component.name, component.image, desired);
      this.#sql(
        `DELETE FROM routes WHERE service = ? AND component = ?
             AND name NOT IN (SELECT value FROM json_each(?))`,
      ).run(service, component.name, JSON.stringify(component.routes.map((r) => r.name)));
      for (const route of component.routes) {
        upsertRoute.run(
          service,
          component.name,
          route.name,
          route.mode,
          route.port,
          JSON.stringify(route.hostnames),
          route.portVariable,
        );
      }
    }
  }
}

function toService(row: ServiceRow): StoredService {
  return {
    name: row.name,
    definition: JSON.parse(row.spec_json) as ServiceDefinition,
    active: row.active === 1,
    desiredState: row.desired_state,
    currentDeployId: row.current_deploy_id ?? undefined,
    adopted: row.adopted === 1,
    createdAt: new Date(row.created_ms),
    updatedAt: new Date(row.updated_ms),
  };
}
