// Port leases as rows. Choosing a free port is the allocator's job (ports/allocator.ts); this
// store only persists leases, and its primary key makes two owners of one port impossible.
import { type Database, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";

export interface LeaseOwner {
  service: string;
  component: string;
  /** The route name; "" for a legacy `ports` mapping. */
  route: string;
  deployId: string;
}

export interface PortLease extends LeaseOwner {
  hostPort: number;
  leasedAt: Date;
}

interface LeaseRow {
  host_port: number;
  service: string;
  component: string;
  route: string;
  deploy_id: string;
  leased_ms: number;
}

export class LeaseStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = statementCache(this.#db);
  }

  /** Persists a lease; false when the port is already leased (to anyone). */
  tryInsert(hostPort: number, owner: LeaseOwner, at = new Date()): boolean {
    const result = this.#sql(
      `INSERT INTO port_leases (host_port, service, component, route, deploy_id, leased_ms)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (host_port) DO NOTHING`,
    ).run(hostPort, owner.service, owner.component, owner.route, owner.deployId, at.getTime());
    return result.changes === 1;
  }

  get(hostPort: number): PortLease | undefined {
    const row = this.#sql<[number], LeaseRow>("SELECT * FROM port_leases WHERE host_port = ?").get(hostPort);
    return row && toLease(row);
  }

  /** Every lease, by port; or one service's. */
  list(service?: string): PortLease[] {
    const rows =
      service === undefined
        ? this.#sql<[], LeaseRow>("SELECT * FROM port_leases ORDER BY host_port").all()
        : this.#sql<[string], LeaseRow>("SELECT * FROM port_leases WHERE service = ? ORDER BY host_port").all(
            service,
          );
    return rows.map(toLease);
  }

  byDeploy(deployId: string): PortLease[] {
    return this.#sql<[string], LeaseRow>("SELECT * FROM port_leases WHERE deploy_id = ? ORDER BY host_port")
      .all(deployId)
      .map(toLease);
  }

  /** The set of leased ports within [min, max], for the allocator's candidate list. */
  leasedIn(min: number, max: number): Set<number> {
    const rows = this.#sql<[number, number], { host_port: number }>(
      "SELECT host_port FROM port_leases WHERE host_port BETWEEN ? AND ?",
    ).all(min, max);
    return new Set(rows.map((r) => r.host_port));
  }

  count(): number {
    return this.#sql<[], { n: number }>("SELECT count(*) AS n FROM port_leases").get()!.n;
  }

  /** Hands a lease to another deploy (a deploy that keeps a component's port takes it over). */
  transfer(hostPort: number, deployId: string): void {
    this.#sql("UPDATE port_leases SET deploy_id = ? WHERE host_port = ?").run(deployId, hostPort);
  }

  release(hostPort: number): boolean {
    return this.#sql("DELETE FROM port_leases WHERE host_port = ?").run(hostPort).changes > 0;
  }

  /** Releases every lease a deploy took (its rollback, or the retirement of an old version). */
  releaseDeploy(deployId: string): number {
    return this.#sql("DELETE FROM port_leases WHERE deploy_id = ?").run(deployId).changes;
  }

  /** Releases a service's leases (stop); with component, only that component's. */
  releaseService(service: string, component?: string): number {
    if (component === undefined) {
      return this.#sql("DELETE FROM port_leases WHERE service = ?").run(service).changes;
    }
    return this.#sql("DELETE FROM port_leases WHERE service = ? AND component = ?").run(service, component)
      .changes;
  }
}

function toLease(row: LeaseRow): PortLease {
  return {
    hostPort: row.host_port,
    service: row.service,
    component: row.component,
    route: row.route,
    deployId: row.deploy_id,
    leasedAt: new Date(row.leased_ms),
  };
}
