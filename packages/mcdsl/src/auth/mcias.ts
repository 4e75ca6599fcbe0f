import { Code, ConnectError } from "@connectrpc/connect";
import type { Authenticator, Identity } from "./identity.js";
import { hashToken } from "./tokens.js";

export interface MciasOptions {
  /** Base URL of MCIAS, e.g. "https://mcias.example:8443"; the validate path is appended. */
  url: string;
  /** Path of the validation endpoint; default "/v1/token/validate". */
  validatePath?: string;
  /** How long a positive answer is reused; default 30 s. Negative answers are never cached. */
  cacheTtlMs?: number;
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number;
  /** Most cached identities kept; default 10 000. */
  maxCacheEntries?: number;
}

const validResponse = (body: unknown): body is { valid: boolean; username?: unknown; roles?: unknown } =>
  typeof body === "object" && body !== null && typeof (body as { valid?: unknown }).valid === "boolean";

/**
 * The `mcias` authenticator: asks MCIAS whether a token is valid. Protocol (a stand-in for MCIAS's own):
 * `POST <url>/v1/token/validate {"token": "..."}` → 200 `{"valid": true, "username", "roles"}`. A 401 or
 * `valid: false` means unauthenticated; anything else (an outage, a 500, garbage) is Unavailable, so a
 * down MCIAS never looks like a wrong token.
 */
export function createMciasAuthenticator(options: MciasOptions): Authenticator {
  const endpoint = new URL(options.validatePath ?? "/v1/token/validate", options.url).toString();
  const ttl = options.cacheTtlMs ?? 30_000;
  const timeout = options.timeoutMs ?? 5_000;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  // Keyed by the token's hash, so the cache never holds a usable token.
  const cache = new Map<string, { identity: Identity; expires: number }>();

  const unavailable = (why: string) =>
    new ConnectError(`MCIAS at ${endpoint} unavailable: ${why}`, Code.Unavailable);

  async function ask(token: string): Promise<Identity | undefined> {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      throw unavailable((err as Error).message);
    }
    if (res.status === 401) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw unavailable(`HTTP ${res.status}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw unavailable("response is not JSON");
    }
    if (!validResponse(body)) throw unavailable('response has no boolean "valid"');
    if (!body.valid) return undefined;
    const { username, roles } = body;
    if (typeof username !== "string" || username === "")
      throw unavailable('valid response has no "username"');
    if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === "string"))) {
      throw unavailable('"roles" is not a list of strings');
    }
    return { name: username, roles: (roles as string[] | undefined) ?? [] };
  }

  return {
    async authenticate(token) {
      const key = hashToken(token);
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && hit.expires > now) return { name: hit.identity.name, roles: [...hit.identity.roles] };
      cache.delete(key);
      const identity = await ask(token);
      if (identity && ttl > 0) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(key, { identity, expires: now + ttl });
      }
      return identity;
    },
  };
}
