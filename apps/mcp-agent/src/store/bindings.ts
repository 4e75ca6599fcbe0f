// What a deploy made in other apps, by their ids: certificates (cert-broker), DNS records (MCNS)
// and proxy routes (mc-proxy). Stop and rollback read these to undo exactly what was made.
import { type Database, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";

export interface CertificateBinding {
  service: string;
  hostname: string;
  serial: string;
  notAfter: Date;
  certFile: string;
  keyFile: string;
  caFile: string;
  deployId: string;
}

export interface RecordBinding {
  recordId: string;
  service: string;
  name: string;
  type: string;
  value: string;
  deployId: string;
}

export interface ProxyRouteBinding {
  routeId: string;
  service: string;
  component: string;
  route: string;
  hostname: string;
  listenerPort: number;
  mode: "l4" | "l7";
  /** "127.0.0.1:<host port>" */
  backend: string;
  deployId: string;
}

type Row = Record<string, string | number>;

export class BindingStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = statementCache(this.#db);
  }

  /** One certificate per hostname per service: a new one replaces the old row. */
  putCertificate(c: CertificateBinding): void {
    this.#sql(
      `INSERT OR REPLACE INTO certificates
           (service, hostname, serial, not_after_ms, cert_file, key_file, ca_file, deploy_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.service, c.hostname, c.serial, c.notAfter.getTime(), c.certFile, c.keyFile, c.caFile, c.deployId);
  }

  certificates(service: string): CertificateBinding[] {
    return this.#rows("SELECT * FROM certificates WHERE service = ? ORDER BY hostname", service).map((r) => ({
      service: String(r.service),
      hostname: String(r.hostname),
      serial: String(r.serial),
      notAfter: new Date(Number(r.not_after_ms)),
      certFile: String(r.cert_file),
      keyFile: String(r.key_file),
      caFile: String(r.ca_file),
      deployId: String(r.deploy_id),
    }));
  }

  removeCertificate(service: string, hostname: string): boolean {
    return (
      this.#sql("DELETE FROM certificates WHERE service = ? AND hostname = ?").run(service, hostname)
        .changes > 0
    );
  }

  putRecord(r: RecordBinding): void {
    this.#sql(
      `INSERT OR REPLACE INTO dns_records (record_id, service, name, type, value, deploy_id)
         VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(r.recordId, r.service, r.name, r.type, r.value, r.deployId);
  }

  records(service: string): RecordBinding[] {
    return this.#rows("SELECT * FROM dns_records WHERE service = ? ORDER BY name, record_id", service).map(
      (r) => ({
        recordId: String(r.record_id),
        service: String(r.service),
        name: String(r.name),
        type: String(r.type),
        value: String(r.value),
        deployId: String(r.deploy_id),
      }),
    );
  }

  removeRecord(recordId: string): boolean {
    return this.#sql("DELETE FROM dns_records WHERE record_id = ?").run(recordId).changes > 0;
  }

  putProxyRoute(r: ProxyRouteBinding): void {
    this.#sql(
      `INSERT OR REPLACE INTO proxy_routes
           (route_id, service, component, route, hostname, listener_port, mode, backend, deploy_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.routeId,
      r.service,
      r.component,
      r.route,
      r.hostname,
      r.listenerPort,
      r.mode,
      r.backend,
      r.deployId,
    );
  }

  proxyRoutes(service: string): ProxyRouteBinding[] {
    return this.#rows(
      "SELECT * FROM proxy_routes WHERE service = ? ORDER BY component, route, hostname",
      service,
    ).map((r) => ({
      routeId: String(r.route_id),
      service: String(r.service),
      component: String(r.component),
      route: String(r.route),
      hostname: String(r.hostname),
      listenerPort: Number(r.listener_port),
      mode: r.mode === "l4" ? "l4" : "l7",
      backend: String(r.backend),
      deployId: String(r.deploy_id),
    }));
  }

  removeProxyRoute(routeId: string): boolean {
    return this.#sql("DELETE FROM proxy_routes WHERE route_id = ?").run(routeId).changes > 0;
  }

  #rows(sql: string, service: string): Row[] {
    return this.#sql<[string], Row>(sql).all(service);
  }
}
