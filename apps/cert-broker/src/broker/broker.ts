// The broker: policy, issuance, storage, published files and events for every certificate. The API
// and the renewal scheduler both go through here. Write order for a new certificate (crash safety):
// key file (0600, fsynced) → database row (superseding the old one) and its event, in one transaction
// → published files → event published (flush). A crash leaves at most a key without a row (deleted at
// start), stale published files (rewritten at start) or an unpublished event (published at start).
import type { Logger } from "@mcp/mcdsl/log";
import type { CertEvents } from "../events/cert-events.js";
import type { KeyType } from "../issuer/crypto.js";
import { type IssuedCertificate, type Issuer, IssuerUnavailableError } from "../issuer/issuer.js";
import type { Policy } from "../policy/policy.js";
import type { CertFiles } from "../store/cert-files.js";
import type { CertificateRecord, CertificateStore, ListFilter } from "../store/certificates.js";
import type { Clock } from "./clock.js";
import { unpublishDropped } from "./dropped-names.js";
import { BrokerError } from "./errors.js";
import { failpoint } from "./failpoint.js";
import { KeyedLock } from "./keyed-lock.js";

export interface BrokerOptions {
  store: CertificateStore;
  files: CertFiles;
  issuer: Issuer;
  policy: Policy;
  events: CertEvents;
  clock: Clock;
  logger: Logger;
  /** Leaf validity. */
  lifetimeMs: number;
  /** Renewal happens at 2/3 of the lifetime minus up to this fraction of the lifetime (spreads load). */
  renewJitter: number;
}

export interface IssueInput {
  service: string;
  hostnames: string[];
  routeHostnames: string[];
  keyType: KeyType;
  clientAuth: boolean;
}

export interface IssueResult {
  certificate: CertificateRecord;
  reused: boolean;
  /** The private key (PEM). The API returns it only when the caller asked. */
  keyPem: string;
}

export class Broker {
  readonly #o: BrokerOptions;
  readonly #lock = new KeyedLock();

  constructor(options: BrokerOptions) {
    this.#o = options;
  }

  get issuerKind(): string {
    return this.#o.issuer.kind;
  }

  /** Repairs what a crash may have left: stray temporaries, keys without rows, stale published files. */
  recover(): void {
    const { store, files, logger } = this.#o;
    const stray = files.removeStrayTemporaries();
    // A revocation cut short leaves its files published (and its key, removed below): never serve them.
    for (const cert of store.revokedUnexpired(this.#o.clock.now())) {
      const key = files.readKey(cert.serial);
      for (const hostname of cert.hostnames) files.unpublish(hostname, cert, key);
    }
    const current = new Map(store.current().map((c) => [c.serial, c]));
    const known = store.serials();
    let orphans = 0;
    for (const serial of files.keySerials()) {
      if (!current.has(serial)) {
        files.deleteKey(serial);
        if (!known.has(serial)) orphans++;
      }
    }
    const republished = this.republishStale();
    // An issuance cut short after its commit leaves a dropped name's files (dropped-names.ts).
    const dropped = unpublishDropped(this.#o, store.supersededUnexpired(this.#o.clock.now()));
    if (stray + orphans + republished + dropped > 0) {
      logger.warn(
        { stray, orphans, republished, dropped },
        "repaired certificate files left by an interrupted issuance",
      );
    }
  }

  /**
   * Publishes each current certificate whose files do not hold it (a crash, a publish that failed,
   * files removed) and announces it again: the event stored with it may have gone out while the old
   * files were still in place, and mc-proxy swaps on the event. Returns how many; the caller
   * flushes the events. At start, and on every renewal pass, so a publish refused while the broker
   * runs (a full disk, a file in the way) catches up once the cause is gone.
   */
  republishStale(): number {
    const { store, files, logger } = this.#o;
    let republished = 0;
    // Newest first, each name once: should two current certificates share a name (a database from
    // before the holder was checked in the storing transaction), the newest keeps it and the two
    // do not overwrite each other on every pass.
    const claimed = new Set<string>();
    for (const cert of store.current().reverse()) {
      const hostnames = cert.hostnames.filter((h) => !claimed.has(h));
      for (const h of hostnames) claimed.add(h);
      const key = files.readKey(cert.serial);
      if (key === undefined) {
        logger.error({ serial: cert.serial }, "current certificate has no key file; renew or revoke it");
        continue;
      }
      if (hostnames.every((h) => files.isPublished(h, cert, key))) continue;
      try {
        this.#republish(cert, key, hostnames);
        republished++;
      } catch (err) {
        // One blocked name must not stop the others (nor a start); the next pass tries again.
        logger.error(
          { err, serial: cert.serial },
          `could not republish a current certificate: ${message(err)}`,
        );
      }
    }
    return republished;
  }

  async issue(input: IssueInput): Promise<IssueResult> {
    const hostnames = this.#o.policy.check(input);
    return this.#lock.run(input.service, async () => {
      const now = this.#o.clock.now();
      const current = this.#currentOwnedBy(input.service, hostnames);
      const same = current.find(
        (c) =>
          sameNames(c.hostnames, hostnames) &&
          c.keyType === input.keyType &&
          c.clientAuth === input.clientAuth &&
          now < c.renewAt &&
          now < c.notAfter,
      );
      const key = same && this.#o.files.readKey(same.serial);
      if (same && key !== undefined) {
        // A retry after a failed publish (or files removed by hand) puts them back.
        if (!hostnames.every((h) => this.#o.files.isPublished(h, same, key))) {
          this.#republish(same, key, hostnames);
          await this.#o.events.flush();
        }
        return { certificate: same, reused: true, keyPem: key };
      }

      this.#o.files.checkPublishable(hostnames);
      const issued = await this.#callIssuer(hostnames, input.keyType, input.clientAuth, now);
      const record = this.#persist(issued, {
        service: input.service,
        hostnames,
        keyType: input.keyType,
        clientAuth: input.clientAuth,
        supersedes: current.map((c) => c.serial),
        now,
      });
      unpublishDropped(this.#o, current);
      await this.#o.events.flush();
      return { certificate: record, reused: false, keyPem: issued.keyPem };
    });
  }

  async renew(serial: string): Promise<IssueResult> {
    const old = this.#find(serial);
    return this.#lock.run(old.service, async () => {
      const cert = this.#find(serial);
      if (cert.status !== "valid") {
        throw new BrokerError(
          "failed-precondition",
          `certificate ${serial} is ${cert.status}${cert.replacedBy ? ` (by ${cert.replacedBy})` : ""}; only a current certificate can be renewed`,
        );
      }
      this.#o.policy.recheck(cert.service, cert.hostnames);
      this.#o.files.checkPublishable(cert.hostnames);
      const now = this.#o.clock.now();
      const issued = await this.#callIssuer(cert.hostnames, cert.keyType, cert.clientAuth, now);
      const others = this.#o.store.currentFor(cert.hostnames).filter((c) => c.service === cert.service);
      const record = this.#persist(issued, {
        service: cert.service,
        hostnames: cert.hostnames,
        keyType: cert.keyType,
        clientAuth: cert.clientAuth,
        supersedes: others.map((c) => c.serial),
        renews: cert.serial,
        now,
      });
      await this.#o.events.flush();
      return { certificate: record, reused: false, keyPem: issued.keyPem };
    });
  }

  async revoke(serial: string, reasonCode: number): Promise<CertificateRecord> {
    const cert = this.#find(serial);
    return this.#lock.run(cert.service, async () => {
      const latest = this.#find(serial);
      if (latest.status === "revoked") return latest;
      try {
        await this.#o.issuer.revoke(latest.certPem, reasonCode);
      } catch (err) {
        throw new BrokerError(
          "unavailable",
          `the ${this.#o.issuer.kind} CA refused or missed the revocation: ${message(err)}`,
        );
      }
      const { store, events, files } = this.#o;
      store.transaction(() => {
        store.revoke(serial, reasonCode, this.#o.clock.now());
        events.revoked(latest, reasonCode);
      });
      failpoint("after-revoke-row");
      const key = files.readKey(serial);
      for (const hostname of latest.hostnames) files.unpublish(hostname, latest, key);
      files.deleteKey(serial);
      await events.flush();
      return this.#find(serial);
    });
  }

  get(serial: string): CertificateRecord {
    return this.#find(serial);
  }

  list(filter: ListFilter): CertificateRecord[] {
    return this.#o.store.list(filter, this.#o.clock.now());
  }

  trustBundle(): Promise<string[]> {
    return this.#o.issuer.trustBundle();
  }

  /** The DER CRL of the local CA; undefined for an issuer without one. */
  async crl(): Promise<Uint8Array | undefined> {
    const { issuer, store, clock } = this.#o;
    if (!issuer.crl) return undefined;
    const now = clock.now();
    const entries = store.revokedUnexpired(now).map((c) => ({
      serial: c.serial,
      revokedAt: c.revokedAt ?? now,
      reasonCode: c.revocationReason ?? 0,
    }));
    return issuer.crl(entries, now);
  }

  /** Publishes a stored certificate's files for `hostnames` and announces it again (caller flushes). */
  #republish(cert: CertificateRecord, key: string, hostnames: string[]): void {
    const { store, files, events } = this.#o;
    for (const hostname of hostnames) files.publishHostname(hostname, cert, key);
    store.transaction(() => (cert.renews ? events.renewed(cert, cert.renews) : events.issued(cert)));
  }

  /**
   * The current certificates holding any of `hostnames`, all of them `service`'s; PermissionDenied
   * naming the holder when another service holds one. Issuance for different services runs in
   * parallel, so #persist asks again in the transaction that stores the new certificate.
   */
  #currentOwnedBy(service: string, hostnames: string[]): CertificateRecord[] {
    const current = this.#o.store.currentFor(hostnames);
    const foreign = current.find((c) => c.service !== service);
    if (foreign) {
      const name = hostnames.find((h) => foreign.hostnames.includes(h));
      throw new BrokerError(
        "permission-denied",
        `hostname "${name}" is not allowed for service "${service}": service "${foreign.service}" holds ` +
          `its current certificate (serial ${foreign.serial}); revoke that first`,
      );
    }
    return current;
  }

  #find(serial: string): CertificateRecord {
    const normalized = serial.toLowerCase().replace(/:/g, "");
    if (!/^[0-9a-f]{1,64}$/.test(normalized)) {
      throw new BrokerError("invalid-argument", `serial ${JSON.stringify(serial)} must be hexadecimal`);
    }
    const cert = this.#o.store.get(normalized);
    if (!cert) throw new BrokerError("not-found", `certificate ${normalized} not found`);
    return cert;
  }

  async #callIssuer(
    hostnames: string[],
    keyType: KeyType,
    clientAuth: boolean,
    now: Date,
  ): Promise<IssuedCertificate> {
    try {
      return await this.#o.issuer.issue({
        hostnames,
        keyType,
        clientAuth,
        lifetimeMs: this.#o.lifetimeMs,
        now,
      });
    } catch (err) {
      if (!(err instanceof IssuerUnavailableError)) throw err;
      this.#o.logger.warn({ err, hostnames }, "the issuer failed");
      throw new BrokerError(
        "unavailable",
        `the ${this.#o.issuer.kind} issuer failed for ${hostnames.join(", ")}: ${err.message}`,
      );
    }
  }

  #persist(
    issued: IssuedCertificate,
    meta: {
      service: string;
      hostnames: string[];
      keyType: KeyType;
      clientAuth: boolean;
      supersedes: string[];
      renews?: string;
      now: Date;
    },
  ): CertificateRecord {
    const { store, files, events } = this.#o;
    // The lifetime counts from now: the local CA backdates notBefore a little for clock skew.
    const start = Math.max(meta.now.getTime(), issued.notBefore.getTime());
    const lifetime = issued.notAfter.getTime() - start;
    const jitter = Math.random() * this.#o.renewJitter * lifetime;
    const record: CertificateRecord = {
      serial: issued.serial,
      service: meta.service,
      hostnames: meta.hostnames,
      keyType: meta.keyType,
      clientAuth: meta.clientAuth,
      issuer: issued.issuer,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      issuedAt: meta.now,
      status: "valid",
      renews: meta.renews,
      fingerprint: issued.fingerprint,
      certPem: issued.certPem,
      chainPem: issued.chainPem,
      renewAt: new Date(start + (lifetime * 2) / 3 - jitter),
      renewalFailures: 0,
      expiringNotified: false,
    };
    files.saveKey(record.serial, issued.keyPem);
    failpoint("after-key");
    // The event commits with the row: a stored renewal always gets its mcp.cert.renewed.
    try {
      store.transaction(() => {
        // Another service may have stored one of these names while the issuer worked.
        this.#currentOwnedBy(meta.service, meta.hostnames);
        store.insert(record, meta.supersedes);
        if (meta.renews) events.renewed(record, meta.renews);
        else events.issued(record);
      });
    } catch (err) {
      files.deleteKey(record.serial);
      throw err;
    }
    failpoint("after-row");
    try {
      for (const [i, hostname] of record.hostnames.entries()) {
        if (i === 1) failpoint("mid-publish");
        files.publishHostname(hostname, record, issued.keyPem);
      }
    } catch (err) {
      // Stored but not (all) published: asking for it again, or the next start, publishes it.
      if (!(err instanceof BrokerError)) throw err;
      throw new BrokerError(err.code, `certificate ${record.serial} is stored, but ${err.message}`);
    }
    // A superseded certificate stays valid until it expires, but nothing serves it any more.
    for (const serial of meta.supersedes) files.deleteKey(serial);
    return record;
  }
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
