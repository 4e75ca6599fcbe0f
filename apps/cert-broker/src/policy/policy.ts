// Who may have a certificate for which name (DESIGN.md section 6). A service gets
// <service>.<service domain> and the public hostnames its routes declare, and a public hostname only
// when the operator listed it. Names are normalised first (hostnames.ts); no wildcards; every refusal
// names the hostname and the reason.
import { BrokerError } from "../broker/errors.js";
import { isWildcard, normalizeHostname, normalizeHostnames } from "./hostnames.js";

export interface PolicyOptions {
  /** e.g. "svc.mcp.metacircular.net": the platform's zone for service names. */
  serviceDomain: string;
  /**
   * Public hostnames the platform may obtain: exact names ("www.example.org"), or ".example.org"
   * for every name under example.org (not example.org itself).
   */
  publicHostnames: string[];
}

export interface IssueSubject {
  service: string;
  hostnames: string[];
  /** The hostnames the service's routes declare (from its definition, passed by the agent). */
  routeHostnames: string[];
}

const SERVICE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names in one certificate: Let's Encrypt's limit. Also bounds the work one request can ask for. */
export const MAX_HOSTNAMES = 100;
/** Route hostnames one request may declare: far above any service's routes, and a bound on the work. */
export const MAX_ROUTE_HOSTNAMES = 1000;

export class Policy {
  readonly #domain: string;
  readonly #exact = new Set<string>();
  readonly #suffixes: string[] = [];

  constructor(options: PolicyOptions) {
    this.#domain = normalizeHostname(options.serviceDomain);
    for (const entry of options.publicHostnames) {
      if (entry.startsWith(".")) this.#suffixes.push(`.${normalizeHostname(entry.slice(1))}`);
      else this.#exact.add(normalizeHostname(entry));
    }
  }

  get serviceDomain(): string {
    return this.#domain;
  }

  /** The normalised hostnames when policy allows all of them; otherwise a BrokerError naming one. */
  check(subject: IssueSubject): string[] {
    if (!SERVICE.test(subject.service)) {
      throw new BrokerError(
        "invalid-argument",
        `service ${JSON.stringify(subject.service)} must be 1 to 63 of [a-z0-9-], not starting or ending with "-"`,
      );
    }
    if (subject.hostnames.length === 0) {
      throw new BrokerError("invalid-argument", "hostnames must list at least one DNS name");
    }
    if (subject.hostnames.length > MAX_HOSTNAMES) {
      throw new BrokerError(
        "invalid-argument",
        `hostnames lists ${subject.hostnames.length} names; a certificate may have at most ${MAX_HOSTNAMES}`,
      );
    }
    for (const name of subject.hostnames) {
      if (isWildcard(name)) {
        throw new BrokerError(
          "permission-denied",
          `hostname ${JSON.stringify(name)} is not allowed for service "${subject.service}": wildcard certificates are not issued`,
        );
      }
    }
    const declared = new Set(declaredHostnames(subject.routeHostnames));
    const hostnames: string[] = [];
    for (const given of subject.hostnames) {
      const name = normalizeHostname(given);
      if (hostnames.includes(name)) continue;
      this.#checkOne(subject.service, name, given, declared);
      hostnames.push(name);
    }
    return hostnames;
  }

  /** Whether policy still allows a stored certificate's names (renewal re-checks them). */
  recheck(service: string, hostnames: string[]): void {
    this.check({ service, hostnames, routeHostnames: hostnames });
  }

  #checkOne(service: string, name: string, given: string, declared: Set<string>): void {
    const own = `${service}.${this.#domain}`;
    if (name === own) return;
    // The message shows what was sent too when normalising changed it, so a smuggled name is visible.
    const shown = given === name ? `"${name}"` : `"${name}" (given as ${JSON.stringify(given)})`;
    const deny = (why: string) => {
      throw new BrokerError(
        "permission-denied",
        `hostname ${shown} is not allowed for service "${service}": ${why}`,
      );
    };
    if (name === this.#domain || name.endsWith(`.${this.#domain}`)) {
      const owner = name.slice(0, -this.#domain.length - 1);
      if (!owner.includes(".") && name !== this.#domain) deny(`it belongs to service "${owner}"`);
      deny(`under ${this.#domain} a service gets only its own name, ${own}`);
    }
    if (!this.#isListedPublic(name))
      deny("it is neither under the service domain nor a listed public hostname");
    if (!declared.has(name)) deny(`none of the service's routes declares it`);
  }

  #isListedPublic(name: string): boolean {
    return this.#exact.has(name) || this.#suffixes.some((s) => name.endsWith(s));
  }
}

/** route_hostnames normalised; a bad one is refused naming that field (the names asked for are in hostnames). */
function declaredHostnames(routeHostnames: string[]): string[] {
  if (routeHostnames.length > MAX_ROUTE_HOSTNAMES) {
    throw new BrokerError(
      "invalid-argument",
      `route_hostnames lists ${routeHostnames.length} names; a service may declare at most ${MAX_ROUTE_HOSTNAMES}`,
    );
  }
  try {
    return normalizeHostnames(routeHostnames);
  } catch (err) {
    if (err instanceof BrokerError) throw new BrokerError(err.code, `route_hostnames: ${err.message}`);
    throw err;
  }
}
