// The route registry: every change goes to SQLite, then to the data plane, then out as an event,
// so what the API answered is what is persisted and served.
import type { Logger } from "@mcp/mcdsl/log";
import type { CertStore } from "../certs/cert-store.js";
import { certificateProblems } from "../certs/certificate-checks.js";
import type { DataPlane } from "../dataplane/data-plane.js";
import type { ProxyMetrics } from "../dataplane/metrics.js";
import type { RouteTable } from "../dataplane/route-table.js";
import type { RouteFilter, RouteStore } from "../store/route-store.js";
import { bootstrapChanges, sameExceptBackends } from "./bootstrap-reload.js";
import type { RouteEvents } from "./route-events.js";
import {
  type Backend,
  backendKey,
  type CertificateRef,
  type DrainingBackend,
  type Route,
  RouteError,
  type RouteSpec,
} from "./types.js";
import { checkBackends, checkRouteSpec } from "./validate.js";

export interface RegistryDeps {
  store: RouteStore;
  table: RouteTable;
  dataPlane: DataPlane;
  certs: CertStore;
  events: RouteEvents;
  metrics: ProxyMetrics;
  logger: Logger;
  certDir: string;
  /** Where certificate files named over the API may be: cert_dir and [proxy] extra_cert_dirs. */
  certDirs: readonly string[];
  defaultDrainMs: number;
}

export interface RouteView extends Route {
  draining: DrainingBackend[];
  /** Why the data plane does not serve the route; "" when it does. */
  notServed: string;
}

export class RouteRegistry {
  /**
   * Changes run one at a time. Each reads the store and the open ports, then may wait (a listener
   * opening); another change in that gap acted on what it had read: a removal closed the port a
   * new route was being added to, and two first routes of a port both tried to bind it.
   */
  #queue: Promise<unknown> = Promise.resolve();

  #oneAtATime<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(change);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Settled when start() is done: changes that arrive during the start wait for it. */
  #markStarted!: () => void;
  readonly #started = new Promise<void>((resolve) => {
    this.#markStarted = resolve;
  });

  /** Stored routes the start could not serve, with the reason (until they are served). */
  readonly #notServed = new Map<string, string>();

  constructor(private readonly deps: RegistryDeps) {}

  /**
   * Replaces the stored bootstrap routes with the file's, then serves every stored route. A route
   * whose certificate cannot be loaded or whose port cannot be bound is logged and left out of the
   * data plane (it stays stored), so one bad route does not keep the others down.
   */
  async start(bootstrap: RouteSpec[]): Promise<void> {
    try {
      await this.#start(bootstrap);
    } finally {
      this.#markStarted();
    }
  }

  /** Stores a bootstrap route; an API route on its port and hostname gives way, with a warning. */
  #insertBootstrap(spec: RouteSpec): { route: Route; replaced?: string } {
    const { store, logger } = this.deps;
    const clash = store.find(spec.listenerPort, spec.hostname);
    if (clash) {
      logger.warn(
        { route: clash.id, owner: clash.owner, hostname: spec.hostname },
        "bootstrap route replaces an API route",
      );
      store.delete(clash.id);
    }
    return { route: store.insert(spec, true), replaced: clash?.id };
  }

  async #start(bootstrap: RouteSpec[]): Promise<void> {
    const { store, logger } = this.deps;
    store.transaction(() => {
      for (const route of store.list()) if (route.bootstrap) store.delete(route.id);
      for (const spec of bootstrap) this.#insertBootstrap(spec);
    });
    for (const route of store.list()) {
      try {
        await this.#serve(route);
      } catch (err) {
        logger.error(
          { route: route.id, hostname: route.hostname, err: (err as Error).message },
          "route not served",
        );
      }
    }
  }

  /**
   * The bootstrap file again (SIGHUP): routes it dropped are removed, new ones served, changed
   * backends switched with the default drain, other changes replaced; unchanged routes (and their
   * connections) are left alone. A route that cannot be served is kept with its reason, as at start.
   */
  async reloadBootstrap(bootstrap: RouteSpec[]): Promise<Record<string, number>> {
    await this.#started;
    return this.#oneAtATime(() => this.#reloadBootstrap(bootstrap));
  }

  async #reloadBootstrap(bootstrap: RouteSpec[]): Promise<Record<string, number>> {
    const { store, table, logger } = this.deps;
    const changes = bootstrapChanges(store.list(), bootstrap);
    const toServe: Route[] = [];
    const dropped: string[] = [];
    store.transaction(() => {
      for (const route of [...changes.remove, ...changes.replace.map((c) => c.route)]) {
        store.delete(route.id);
        dropped.push(route.id);
      }
      for (const spec of [...changes.add, ...changes.replace.map((c) => c.spec)]) {
        const { route, replaced } = this.#insertBootstrap(spec);
        if (replaced) dropped.push(replaced);
        toServe.push(route);
      }
      for (const { route, spec } of changes.switchBackends) store.setBackends(route.id, spec.backends);
    });
    for (const id of dropped) {
      table.remove(id);
      this.#notServed.delete(id);
    }
    for (const { route } of changes.switchBackends) {
      const switched = this.#find(route.id);
      const live = table.get(route.id);
      if (live) live.switchTo(switched, this.deps.defaultDrainMs);
      else toServe.push(switched);
    }
    // Unchanged routes the start could not serve get another try (a certificate now in place).
    toServe.push(...changes.keep.filter((r) => !table.get(r.id)));
    for (const route of toServe) {
      await this.#serve(route).catch((err: unknown) =>
        logger.error(
          { route: route.id, hostname: route.hostname, err: (err as Error).message },
          "route not served",
        ),
      );
    }
    this.deps.dataPlane.sync();
    this.#count();
    return {
      added: changes.add.length,
      removed: changes.remove.length,
      switched: changes.switchBackends.length,
      replaced: changes.replace.length,
      unchanged: changes.keep.length,
    };
  }

  list(filter: RouteFilter): RouteView[] {
    return this.deps.store
      .list({ ...filter, hostname: filter.hostname?.toLowerCase() })
      .map((r) => this.#view(r));
  }

  get(id: string): RouteView {
    return this.#view(this.#find(id));
  }

  /**
   * Adds a route. The same route again from the same owner is answered with the stored one; for an
   * L7 route that also reloads its certificate (and records a new serial), which is how a renewal
   * is applied by API call.
   */
  async add(input: RouteSpec): Promise<RouteView> {
    await this.#started;
    const view = await this.#oneAtATime(() => this.#add(input));
    await this.deps.events.flush();
    return view;
  }

  async #add(input: RouteSpec): Promise<RouteView> {
    const { store, table, events } = this.deps;
    const spec = checkRouteSpec(input, this.deps.certDir, this.deps.certDirs);
    const existing = store.find(spec.listenerPort, spec.hostname);
    if (existing) {
      if (existing.owner !== spec.owner || existing.bootstrap) {
        throw new RouteError(
          "ALREADY_EXISTS",
          `${spec.hostname} on port ${spec.listenerPort} is taken by ${existing.bootstrap ? "a bootstrap route" : `owner "${existing.owner}"`}`,
        );
      }
      if (!sameSettings(existing, spec)) {
        throw new RouteError(
          "ALREADY_EXISTS",
          `${spec.hostname} on port ${spec.listenerPort} exists with other settings (route ${existing.id}); use SetBackend to move it or remove it first`,
        );
      }
      if (existing.certificate && spec.certificate) {
        this.#loadCertificate(existing.hostname, existing.certificate);
        if (spec.certificate.serial && spec.certificate.serial !== existing.certificate.serial) {
          store.setCertSerial(existing.id, spec.certificate.serial);
        }
        const live = table.get(existing.id);
        if (live) live.route = this.#find(existing.id);
      }
      // Stored but not served (its port could not be bound at start): the repeated call serves it.
      if (!table.get(existing.id)) await this.#serve(this.#find(existing.id));
      return this.get(existing.id);
    }
    if (spec.certificate) this.#loadCertificate(spec.hostname, spec.certificate);
    const isNewPort = !this.deps.dataPlane.ports.includes(spec.listenerPort);
    await this.#openPort(spec.listenerPort);
    let route: Route;
    try {
      route = store.transaction(() => {
        const inserted = store.insert(spec);
        events.added(inserted);
        return inserted;
      });
    } catch (err) {
      if (isNewPort) this.deps.dataPlane.sync();
      throw err;
    }
    table.put(route);
    this.#count();
    this.deps.logger.info(
      { route: route.id, hostname: route.hostname, port: route.listenerPort },
      "route added",
    );
    return this.#view(route);
  }

  async remove(id: string, owner: string, allowMissing: boolean): Promise<void> {
    await this.#started;
    await this.#oneAtATime(async () => this.#remove(id, owner, allowMissing));
    await this.deps.events.flush();
  }

  #remove(id: string, owner: string, allowMissing: boolean): void {
    const route = this.deps.store.get(id);
    if (!route) {
      if (allowMissing) return;
      throw new RouteError("NOT_FOUND", `route "${id}" not found`);
    }
    this.#checkChangeable(route, owner);
    this.deps.store.transaction(() => {
      this.deps.store.delete(id);
      this.deps.events.removed(route);
    });
    this.deps.table.remove(id);
    this.#notServed.delete(id);
    // Forgotten unless another route serves the same files (a wildcard pair, a name on two ports).
    const cert = route.certificate;
    const shared = this.deps.table
      .all()
      .some(
        (l) =>
          l.route.certificate?.certFile === cert?.certFile && l.route.certificate?.keyFile === cert?.keyFile,
      );
    if (cert && !shared) this.deps.certs.forget(cert);
    this.deps.dataPlane.sync();
    this.#count();
    this.deps.logger.info({ route: id, hostname: route.hostname }, "route removed");
  }

  async setBackend(
    id: string,
    input: Backend[],
    drainMs: number | undefined,
    owner: string,
  ): Promise<RouteView> {
    await this.#started;
    const view = await this.#oneAtATime(() => this.#setBackend(id, input, drainMs, owner));
    await this.deps.events.flush();
    return view;
  }

  async #setBackend(
    id: string,
    input: Backend[],
    drainMs: number | undefined,
    owner: string,
  ): Promise<RouteView> {
    const before = this.#find(id);
    this.#checkChangeable(before, owner);
    const backends = checkBackends(input);
    if (backendKey(backends) === backendKey(before.backends)) return this.#view(before);
    const route = this.deps.store.transaction(() => {
      const switched = this.deps.store.setBackends(id, backends)!;
      this.deps.events.switched(switched, before.backends);
      return switched;
    });
    const live = this.deps.table.get(id);
    if (live) live.switchTo(route, drainMs ?? this.deps.defaultDrainMs);
    // Stored but not served (its port could not be bound at start): served now, or the call says why.
    else await this.#serve(route);
    this.deps.logger.info(
      { route: id, from: backendKey(before.backends), to: backendKey(backends) },
      "route switched",
    );
    return this.#view(route);
  }

  /** Re-reads the certificate of every L7 route for `hostname` (mcp.cert.renewed). */
  reloadCertificates(hostname: string, serial?: string): number {
    let reloaded = 0;
    for (const route of this.deps.store.list({ hostname: hostname.toLowerCase() })) {
      if (!route.certificate) continue;
      this.#loadCertificate(route.hostname, route.certificate);
      if (serial) this.deps.store.setCertSerial(route.id, serial);
      const live = this.deps.table.get(route.id);
      if (live) live.route = this.#find(route.id);
      reloaded++;
    }
    return reloaded;
  }

  /** Serves a stored route; on failure its reason is kept for ListRoutes until it is served. */
  async #serve(route: Route): Promise<void> {
    try {
      if (route.certificate) this.#loadCertificate(route.hostname, route.certificate);
      await this.#openPort(route.listenerPort);
    } catch (err) {
      this.#notServed.set(route.id, (err as Error).message);
      throw err;
    }
    this.deps.table.put(route);
    this.#notServed.delete(route.id);
    this.#count();
  }

  /** Loads (or reloads) a route's certificate; one clients would refuse is served, with a warning. */
  #loadCertificate(hostname: string, ref: CertificateRef): void {
    const { leaf } = this.deps.certs.load(ref);
    const problems = certificateProblems(leaf, hostname);
    if (problems.length === 0) return;
    this.deps.logger.warn(
      { hostname, cert_file: ref.certFile, serial: leaf.serialNumber, problems },
      `certificate for ${hostname}: ${problems.join("; ")}`,
    );
  }

  async #openPort(port: number): Promise<void> {
    try {
      await this.deps.dataPlane.open(port);
    } catch (err) {
      throw new RouteError("FAILED_PRECONDITION", `cannot listen on port ${port}: ${(err as Error).message}`);
    }
  }

  #find(id: string): Route {
    if (id === "") throw new RouteError("INVALID_ARGUMENT", "id: must not be empty");
    const route = this.deps.store.get(id);
    if (!route) throw new RouteError("NOT_FOUND", `route "${id}" not found`);
    return route;
  }

  #checkChangeable(route: Route, owner: string): void {
    if (route.bootstrap) {
      throw new RouteError(
        "FAILED_PRECONDITION",
        `route ${route.id} comes from the bootstrap file; edit the file instead`,
      );
    }
    if (route.owner !== owner) {
      throw new RouteError(
        "FAILED_PRECONDITION",
        `route ${route.id} belongs to owner "${route.owner}", not "${owner}"`,
      );
    }
  }

  #view(route: Route): RouteView {
    const notServed = this.deps.table.get(route.id) ? "" : (this.#notServed.get(route.id) ?? "");
    return { ...route, draining: this.deps.table.draining(route.id), notServed };
  }

  #count(): void {
    this.deps.metrics.routes.set(this.deps.table.size);
  }
}

function sameSettings(a: Route, b: RouteSpec): boolean {
  return sameExceptBackends(a, b) && backendKey(a.backends) === backendKey(b.backends);
}
